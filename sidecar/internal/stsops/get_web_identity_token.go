package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/federation"
	"awsflow-sts/sidecar/internal/protocol"
)

// GetWebIdentityToken has STS issue a signed JWT for the caller. The token is returned for storing
// only; its claims are what gets shown.
func GetWebIdentityToken(ctx context.Context, c Call[protocol.GetWebIdentityTokenParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	p := c.Params
	out, err := cl.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{
		Audience:         p.Audience,
		SigningAlgorithm: p.SigningAlgorithm,
		DurationSeconds:  p.DurationSeconds,
		Tags:             tags(p.Tags),
	})
	if err != nil {
		return nil, fmt.Errorf("get web identity token: %w", err)
	}
	r := &Result{Token: aws.ToString(out.WebIdentityToken), Expiration: aws.ToTime(out.Expiration)}
	if claims, err := federation.ParseJWT(r.Token); err == nil {
		r.ARN = claims.Subject
		r.Account = AccountOf(claims.Subject)
		addJWTFacts(r, "Token", claims)
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
