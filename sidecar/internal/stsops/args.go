package stsops

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/middleware"

	"awsflow-sts/sidecar/internal/protocol"
)

// Args are a command's validated parameters by their STS names. Values are string, int64,
// []string or []protocol.Tag, as the tool's validation leaves them; an operation reads them
// through its command's generated params struct (protocol.AssumeRoleParams and the like), which
// Fill sets from them.
type Args map[string]any

// Str returns a string parameter, or "".
func (a Args) Str(name string) string {
	v, _ := a[name].(string)
	return v
}

// Strings returns a list parameter.
func (a Args) Strings(name string) []string {
	v, _ := a[name].([]string)
	return v
}

// Call is what an operation needs: its typed params, a way to get its client, and the time.
type Call[P any] struct {
	// Params are the command's validated parameters.
	Params P
	// Client returns the STS client to call; it fails when no credentials can be had.
	Client func(context.Context) (*sts.Client, error)
	// Now is the current time, for checks on expiry.
	Now time.Time
}

// policyArns is the PolicyArns parameter as STS takes it.
func policyArns(arns []string) []types.PolicyDescriptorType {
	if len(arns) == 0 {
		return nil
	}
	out := make([]types.PolicyDescriptorType, len(arns))
	for i, arn := range arns {
		out[i] = types.PolicyDescriptorType{Arn: aws.String(arn)}
	}
	return out
}

// tags is the Tags parameter as STS takes it.
func tags(in []protocol.Tag) []types.Tag {
	if len(in) == 0 {
		return nil
	}
	out := make([]types.Tag, len(in))
	for i, t := range in {
		out[i] = types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)}
	}
	return out
}

func requestID(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}
