package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// GetSessionToken mints session credentials for the calling IAM user, MFA-authenticated when a
// serial number and code are given.
func GetSessionToken(ctx context.Context, c Call) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	a := c.Args
	out, err := cl.GetSessionToken(ctx, &sts.GetSessionTokenInput{
		DurationSeconds: a.Int32("DurationSeconds"),
		SerialNumber:    a.Ptr("SerialNumber"),
		TokenCode:       a.Ptr("TokenCode"),
	})
	if err != nil {
		return nil, fmt.Errorf("get session token: %w", err)
	}
	r := credentialsResult(out.Credentials)
	if a.Str("SerialNumber") != "" {
		r.fact("MFA", "mfaSerial", a.Str("SerialNumber"))
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
