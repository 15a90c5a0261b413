package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// GetFederationToken mints federated-user credentials from an IAM user's long-term keys.
func GetFederationToken(ctx context.Context, c Call) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	a := c.Args
	out, err := cl.GetFederationToken(ctx, &sts.GetFederationTokenInput{
		Name:            a.Ptr("Name"),
		DurationSeconds: a.Int32("DurationSeconds"),
		Policy:          a.Ptr("Policy"),
		PolicyArns:      a.PolicyArns(),
		Tags:            a.Tags(),
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
	if a.Str("Policy") == "" && len(a.PolicyArns()) == 0 {
		r.Notes = append(r.Notes, "No Policy or PolicyArns was given, so these credentials have no permissions (STS grants a federated user only what a session policy allows).")
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
