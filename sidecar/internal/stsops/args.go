package stsops

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/middleware"
)

// Args are a command's validated parameters by their STS names. Values are string, int64,
// []string or []types.Tag, as the tool's validation leaves them.
type Args map[string]any

// Ptr returns a string parameter, or nil when it was not given.
func (a Args) Ptr(name string) *string {
	if v, ok := a[name].(string); ok {
		return &v
	}
	return nil
}

// Str returns a string parameter, or "".
func (a Args) Str(name string) string {
	v, _ := a[name].(string)
	return v
}

// Int32 returns an integer parameter, or nil when it was not given.
func (a Args) Int32(name string) *int32 {
	if v, ok := a[name].(int64); ok {
		return aws.Int32(int32(v))
	}
	return nil
}

// Strings returns a list parameter.
func (a Args) Strings(name string) []string {
	v, _ := a[name].([]string)
	return v
}

// Tags returns the Tags parameter.
func (a Args) Tags() []types.Tag {
	v, _ := a["Tags"].([]types.Tag)
	return v
}

// PolicyArns returns the PolicyArns parameter as STS takes it.
func (a Args) PolicyArns() []types.PolicyDescriptorType {
	arns := a.Strings("PolicyArns")
	if len(arns) == 0 {
		return nil
	}
	out := make([]types.PolicyDescriptorType, len(arns))
	for i, arn := range arns {
		out[i] = types.PolicyDescriptorType{Arn: aws.String(arn)}
	}
	return out
}

// Call is what an operation needs: its arguments, a way to get its client, and the time.
type Call struct {
	// Args are the validated parameters.
	Args Args
	// Client returns the STS client to call; it fails when no credentials can be had.
	Client func(context.Context) (*sts.Client, error)
	// Now is the current time, for checks on expiry.
	Now time.Time
}

func requestID(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}
