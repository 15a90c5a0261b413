package stsops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/federation"
	"awsflow-sts/sidecar/internal/protocol"
)

// AssumeRoleWithWebIdentity trades an OIDC or OAuth 2.0 token for a role session. It shows the
// token's claims, never the token, and refuses a JWT that has already expired. The call is unsigned.
func AssumeRoleWithWebIdentity(ctx context.Context, c Call[protocol.AssumeRoleWithWebIdentityParams]) (*Result, error) {
	p := c.Params
	token := aws.ToString(p.WebIdentityToken)
	// OAuth 2.0 access tokens may be opaque; only a JWT has claims to show and check.
	claims, jwtErr := federation.ParseJWT(token)
	if jwtErr == nil && claims.Expired(c.Now) {
		return nil, &InputError{Msg: fmt.Sprintf("the web identity token expired at %s; get a fresh token from the identity provider (issuer %s)",
			claims.ExpiresAt.UTC().Format(time.RFC3339), claims.Issuer)}
	}
	sessionName := aws.ToString(p.RoleSessionName)
	var notes []string
	if sessionName == "" {
		sessionName = fmt.Sprintf("awsflow-sts-%d", c.Now.Unix())
		notes = append(notes, "RoleSessionName was not given, so "+sessionName+" was used.")
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cl.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          p.RoleArn,
		RoleSessionName:  aws.String(sessionName),
		WebIdentityToken: aws.String(token),
		ProviderId:       p.ProviderId,
		DurationSeconds:  p.DurationSeconds,
		Policy:           p.Policy,
		PolicyArns:       policyArns(p.PolicyArns),
	})
	if err != nil {
		return nil, fmt.Errorf("assume role with web identity: %w", err)
	}
	r := roleResult(out.Credentials, out.AssumedRoleUser, out.PackedPolicySize, out.SourceIdentity)
	r.Notes = notes
	r.fact("Role", "roleArn", aws.ToString(p.RoleArn))
	r.fact("Provider", "provider", aws.ToString(out.Provider))
	r.fact("Audience", "audience", aws.ToString(out.Audience))
	r.fact("Subject", "subject", aws.ToString(out.SubjectFromWebIdentityToken))
	if jwtErr == nil {
		addJWTFacts(r, "Token", claims)
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}

// addJWTFacts shows a token's claims (never the token).
func addJWTFacts(r *Result, label string, j *federation.JWTInfo) {
	r.fact(label+" issuer", "tokenIssuer", j.Issuer)
	r.fact(label+" subject", "tokenSubject", j.Subject)
	r.fact(label+" audience", "tokenAudience", strings.Join(j.Audience, ", "))
	if !j.ExpiresAt.IsZero() {
		r.fact(label+" expires", "tokenExpires", j.ExpiresAt.UTC().Format(time.RFC3339))
	}
	r.fact(label+" algorithm", "tokenAlgorithm", j.Algorithm)
	r.fact(label+" key id", "tokenKeyId", j.KeyID)
}
