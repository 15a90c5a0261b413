package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
)

// GetDelegatedAccessToken trades a trade-in token for delegated credentials.
func GetDelegatedAccessToken(ctx context.Context, c Call[protocol.GetDelegatedAccessTokenParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cl.GetDelegatedAccessToken(ctx, &sts.GetDelegatedAccessTokenInput{
		TradeInToken: c.Params.TradeInToken,
	})
	if err != nil {
		return nil, fmt.Errorf("get delegated access token: %w", err)
	}
	r := credentialsResult(out.Credentials)
	r.ARN = aws.ToString(out.AssumedPrincipal)
	r.Account = AccountOf(r.ARN)
	r.PackedPolicySize = out.PackedPolicySize
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
