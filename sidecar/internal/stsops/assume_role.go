package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AssumeRole assumes a role with the caller's credentials.
func AssumeRole(ctx context.Context, c Call) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	a := c.Args
	out, err := cl.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:           a.Ptr("RoleArn"),
		RoleSessionName:   a.Ptr("RoleSessionName"),
		DurationSeconds:   a.Int32("DurationSeconds"),
		ExternalId:        a.Ptr("ExternalId"),
		Policy:            a.Ptr("Policy"),
		PolicyArns:        a.PolicyArns(),
		SerialNumber:      a.Ptr("SerialNumber"),
		TokenCode:         a.Ptr("TokenCode"),
		SourceIdentity:    a.Ptr("SourceIdentity"),
		Tags:              a.Tags(),
		TransitiveTagKeys: a.Strings("TransitiveTagKeys"),
	})
	if err != nil {
		return nil, fmt.Errorf("assume role: %w", err)
	}
	r := roleResult(out.Credentials, out.AssumedRoleUser, out.PackedPolicySize, out.SourceIdentity)
	r.fact("Role", "roleArn", a.Str("RoleArn"))
	if a.Str("SerialNumber") != "" {
		r.fact("MFA", "mfaSerial", a.Str("SerialNumber"))
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
