package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// AssumeRoot gets task-scoped root credentials for a member account.
func AssumeRoot(ctx context.Context, c Call[protocol.AssumeRootParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	p := c.Params
	out, err := cl.AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: p.TargetPrincipal,
		TaskPolicyArn:   &types.PolicyDescriptorType{Arn: p.TaskPolicyArn},
		DurationSeconds: p.DurationSeconds,
	})
	if err != nil {
		return nil, fmt.Errorf("assume root: %w", err)
	}
	r := credentialsResult(out.Credentials)
	target := aws.ToString(p.TargetPrincipal)
	r.Account = target
	if acct := AccountOf(target); acct != "" {
		r.Account = acct
	}
	r.ARN = "arn:aws:iam::" + r.Account + ":root"
	r.SourceIdentity = aws.ToString(out.SourceIdentity)
	r.fact("Task policy", "taskPolicyArn", aws.ToString(p.TaskPolicyArn))
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
