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

// AssumeRoleWithSAML trades a SAML assertion for a role session. The role pair comes from the
// assertion when the model names none and the assertion offers exactly one. The call is unsigned.
func AssumeRoleWithSAML(ctx context.Context, c Call[protocol.AssumeRoleWithSAMLParams]) (*Result, error) {
	p := c.Params
	assertion := aws.ToString(p.SAMLAssertion)
	info, err := federation.ParseSAML(assertion)
	if err != nil {
		return nil, &InputError{Msg: "SAMLAssertion is not a readable SAML response: " + err.Error()}
	}
	pair, err := info.PickRole(aws.ToString(p.RoleArn), aws.ToString(p.PrincipalArn))
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	if !info.NotOnOrAfter.IsZero() && !c.Now.Before(info.NotOnOrAfter) {
		return nil, &InputError{Msg: fmt.Sprintf("the SAML assertion expired at %s (NotOnOrAfter); sign in to the identity provider again for a fresh one",
			info.NotOnOrAfter.UTC().Format(time.RFC3339))}
	}
	cl, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cl.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{
		RoleArn:         aws.String(pair.RoleArn),
		PrincipalArn:    aws.String(pair.PrincipalArn),
		SAMLAssertion:   aws.String(assertion),
		DurationSeconds: p.DurationSeconds,
		Policy:          p.Policy,
		PolicyArns:      policyArns(p.PolicyArns),
	})
	if err != nil {
		return nil, fmt.Errorf("assume role with SAML: %w", err)
	}
	r := roleResult(out.Credentials, out.AssumedRoleUser, out.PackedPolicySize, out.SourceIdentity)
	r.fact("Role", "roleArn", pair.RoleArn)
	r.fact("SAML provider", "principalArn", pair.PrincipalArn)
	r.fact("Issuer", "issuer", aws.ToString(out.Issuer))
	r.fact("Subject", "subject", aws.ToString(out.Subject))
	r.fact("Subject type", "subjectType", aws.ToString(out.SubjectType))
	r.fact("Audience", "audience", aws.ToString(out.Audience))
	if len(info.Roles) > 1 {
		roles := make([]string, len(info.Roles))
		for i, p := range info.Roles {
			roles[i] = p.RoleArn
		}
		r.fact("Roles in the assertion", "assertionRoles", strings.Join(roles, ", "))
	}
	r.RequestID = requestID(out.ResultMetadata)
	return r, nil
}
