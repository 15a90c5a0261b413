package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// AssumeRoot gets task-scoped root credentials for a member account.
func AssumeRoot(ctx context.Context, c Call) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	a := c.Args
	out, err := cl.AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: a.Ptr("TargetPrincipal"),
		TaskPolicyArn:   &types.PolicyDescriptorType{Arn: a.Ptr("TaskPolicyArn")},
		DurationSeconds: a.Int32("DurationSeconds"),
	})
	if err != nil {
		return nil, fmt.Errorf("assume root: %w", err)
	}
	r := credentialsResult(out.Credentials)
	target := a.Str("TargetPrincipal")
	r.Account = target
	if acct := AccountOf(target); acct != "" {
		r.Account = acct
	}
	r.ARN = "arn:aws:iam::" + r.Account + ":root"
	r.SourceIdentity = aws.ToString(out.SourceIdentity)
	r.fact("Task policy", "taskPolicyArn", a.Str("TaskPolicyArn"))
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
