package stsops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/keyid"
	"awsflow-sts/sidecar/internal/protocol"
)

// GetAccessKeyInfo finds a key's account. It adds the key type from the prefix and the account
// decoded offline from the key itself, which it answers with (labelled as such) when STS cannot
// be reached or no credentials are available to ask it.
func GetAccessKeyInfo(ctx context.Context, c Call[protocol.GetAccessKeyInfoParams]) (*Result, error) {
	id := aws.ToString(c.Params.AccessKeyId)
	r := &Result{}
	kind, known := keyid.Classify(id)
	if known {
		r.fact("Key type", "keyType", fmt.Sprintf("%s (%s)", kind.Name, kind.Prefix))
	} else {
		r.fact("Key type", "keyType", "unknown prefix "+id[:min(4, len(id))])
	}
	offline, offlineOK := keyid.AccountOffline(id)
	if offlineOK {
		r.fact("Account decoded offline", "offlineAccount", offline)
	}
	r.fact("Key", "accessKeyId", keyid.Mask(id))

	cl, err := c.Client(ctx)
	var out *sts.GetAccessKeyInfoOutput
	if err == nil {
		out, err = cl.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(id)})
	}
	switch {
	case err == nil:
		r.Account = aws.ToString(out.Account)
		r.RequestID = requestID(out.ResultMetadata)
		if offlineOK && offline != r.Account {
			r.Notes = append(r.Notes, "The offline decoding disagrees with STS (older keys do not encode their account); STS's answer is authoritative.")
		}
		return r, nil
	case offlineOK && ctx.Err() == nil && IsUnreachable(err):
		r.Account = offline
		r.Notes = append(r.Notes, fmt.Sprintf("STS could not be asked (%s), so the account was decoded offline from the key id; this is reliable for keys made since 2019 but not authoritative.", Brief(err)))
		return r, nil
	default:
		return nil, fmt.Errorf("get access key info: %w", err)
	}
}
