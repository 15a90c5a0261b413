package stsops

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/authmsg"
	"awsflow-sts/sidecar/internal/protocol"
)

// DecodeAuthorizationMessage decodes an encoded authorization failure message and explains it:
// the decision, the action, the resource, the deciding statements and the request context.
func DecodeAuthorizationMessage(ctx context.Context, c Call[protocol.DecodeAuthorizationMessageParams]) (*Result, error) {
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cl.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{
		EncodedMessage: c.Params.EncodedMessage,
	})
	if err != nil {
		return nil, fmt.Errorf("decode authorization message: %w", err)
	}
	r := &Result{RequestID: requestID(out.ResultMetadata)}
	decoded := aws.ToString(out.DecodedMessage)
	msg, err := authmsg.Parse(decoded)
	if err != nil {
		// Still useful: show what STS decoded even if it is not the JSON we know.
		r.Markdown = "STS decoded the message, but not into the JSON it usually returns:\n\n```\n" + decoded + "\n```"
		r.Data = map[string]any{"decodedMessage": decoded}
		return r, nil
	}
	r.ARN = msg.Principal.ARN
	r.Markdown = strings.TrimSpace(msg.Markdown()) + "\n\nDecoded message:\n\n```json\n" + string(msg.Raw) + "\n```"
	r.Data = map[string]any{
		"allowed":        msg.Allowed,
		"explicitDeny":   msg.ExplicitDeny,
		"decision":       msg.Decision,
		"action":         msg.Action,
		"resource":       msg.Resource,
		"principal":      msg.Principal,
		"matched":        msg.Matched,
		"context":        msg.Context,
		"decodedMessage": msg.Raw,
	}
	return r, nil
}
