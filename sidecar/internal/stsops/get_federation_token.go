package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
)

// GetFederationToken mints federated-user credentials from an IAM user's long-term keys.
func GetFederationToken(ctx context.Context, c Call[protocol.GetFederationTokenParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	p := c.Params
	out, err := cl.GetFederationToken(ctx, &sts.GetFederationTokenInput{
		Name:            p.Name,
		DurationSeconds: p.DurationSeconds,
		Policy:          p.Policy,
		PolicyArns:      policyArns(p.PolicyArns),
		Tags:            tags(p.Tags),
	})
	if err != nil {
		return nil, fmt.Errorf("get federation token: %w", err)
	}
	r := credentialsResult(out.Credentials)
	if out.FederatedUser != nil {
		r.ARN = aws.ToString(out.FederatedUser.Arn)
		r.PrincipalID = aws.ToString(out.FederatedUser.FederatedUserId)
	}
	r.Account = AccountOf(r.ARN)
	r.PackedPolicySize = out.PackedPolicySize
	if aws.ToString(p.Policy) == "" && len(p.PolicyArns) == 0 {
		r.Notes = append(r.Notes, "No Policy or PolicyArns was given, so these credentials have no permissions (STS grants a federated user only what a session policy allows).")
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
