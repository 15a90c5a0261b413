package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
)

// AssumeRole assumes a role with the caller's credentials.
func AssumeRole(ctx context.Context, c Call[protocol.AssumeRoleParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	p := c.Params
	out, err := cl.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:           p.RoleArn,
		RoleSessionName:   p.RoleSessionName,
		DurationSeconds:   p.DurationSeconds,
		ExternalId:        p.ExternalId,
		Policy:            p.Policy,
		PolicyArns:        policyArns(p.PolicyArns),
		SerialNumber:      p.SerialNumber,
		TokenCode:         p.TokenCode,
		SourceIdentity:    p.SourceIdentity,
		Tags:              tags(p.Tags),
		TransitiveTagKeys: p.TransitiveTagKeys,
	})
	if err != nil {
		return nil, fmt.Errorf("assume role: %w", err)
	}
	r := roleResult(out.Credentials, out.AssumedRoleUser, out.PackedPolicySize, out.SourceIdentity)
	r.fact("Role", "roleArn", aws.ToString(p.RoleArn))
	if aws.ToString(p.SerialNumber) != "" {
		r.fact("MFA", "mfaSerial", aws.ToString(p.SerialNumber))
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
