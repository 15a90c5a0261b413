package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
)

// GetCallerIdentity reports who the caller is and what kind of principal that is.
func GetCallerIdentity(ctx context.Context, c Call[protocol.GetCallerIdentityParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cl.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("get caller identity: %w", err)
	}
	r := &Result{
		ARN:         aws.ToString(out.Arn),
		Account:     aws.ToString(out.Account),
		PrincipalID: aws.ToString(out.UserId),
		RequestID:   requestID(out.ResultMetadata),
	}
	p := PrincipalOf(r.ARN)
	r.fact("Principal", "principalKind", p.Kind)
	switch p.Kind {
	case "assumed role":
		r.fact("Role", "roleName", p.Name)
		r.fact("Role session", "roleSessionName", p.SessionName)
	case "IAM user", "federated user":
		r.fact("Name", "name", p.Name)
	}
	return r, nil
}
