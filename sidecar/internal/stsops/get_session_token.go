package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
)

// GetSessionToken mints session credentials for the calling IAM user, MFA-authenticated when a
// serial number and code are given.
func GetSessionToken(ctx context.Context, c Call[protocol.GetSessionTokenParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	p := c.Params
	out, err := cl.GetSessionToken(ctx, &sts.GetSessionTokenInput{
		DurationSeconds: p.DurationSeconds,
		SerialNumber:    p.SerialNumber,
		TokenCode:       p.TokenCode,
	})
	if err != nil {
		return nil, fmt.Errorf("get session token: %w", err)
	}
	r := credentialsResult(out.Credentials)
	if aws.ToString(p.SerialNumber) != "" {
		r.fact("MFA", "mfaSerial", aws.ToString(p.SerialNumber))
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
