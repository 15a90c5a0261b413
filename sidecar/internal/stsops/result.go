package stsops

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// Result is what an operation learned, ready to be stored and shown. Only Credentials and Token
// are secret; the tool stores them and shows the rest.
type Result struct {
	// Credentials are minted temporary credentials.
	Credentials *aws.Credentials
	// Token is a minted JWT.
	Token string
	// Expiration is when the credentials or token expire.
	Expiration time.Time
	// ARN is the identity the result is about (assumed role, federated user, root, caller).
	ARN string
	// Account is that identity's account.
	Account string
	// PrincipalID is the assumed-role id, federated user id or caller user id.
	PrincipalID string
	// SourceIdentity is the source identity STS recorded.
	SourceIdentity string
	// PackedPolicySize is the percentage of the packed policy and tags limit used.
	PackedPolicySize *int32
	// Facts are extra lines to show, in order; none is secret.
	Facts []Fact
	// Markdown is an extra block to show after the facts.
	Markdown string
	// Data is extra structured data.
	Data map[string]any
	// RequestID is STS's request id.
	RequestID string
	// Notes are caveats to show (an offline answer, a generated session name).
	Notes []string
}

// Fact is one labelled value.
type Fact struct {
	// Label is shown to the model; Key names the value in structured data.
	Label, Key string
	// Value is the text shown.
	Value string
}

func (r *Result) fact(label, key, value string) {
	if value != "" {
		r.Facts = append(r.Facts, Fact{Label: label, Key: key, Value: value})
	}
}

// credentialsResult starts a Result for minted credentials.
func credentialsResult(c *types.Credentials) *Result {
	r := &Result{}
	if c == nil {
		return r
	}
	r.Credentials = &aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		CanExpire:       c.Expiration != nil,
		Expires:         aws.ToTime(c.Expiration),
	}
	r.Expiration = aws.ToTime(c.Expiration)
	return r
}

// roleResult fills in an assumed-role answer.
func roleResult(c *types.Credentials, user *types.AssumedRoleUser, packed *int32, sourceIdentity *string) *Result {
	r := credentialsResult(c)
	if user != nil {
		r.ARN = aws.ToString(user.Arn)
		r.PrincipalID = aws.ToString(user.AssumedRoleId)
	}
	r.Account = AccountOf(r.ARN)
	r.PackedPolicySize = packed
	r.SourceIdentity = aws.ToString(sourceIdentity)
	return r
}

// AccountOf returns the account field of an ARN ("" when it has none).
func AccountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
