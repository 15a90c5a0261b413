package tool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

const roleArn = "arn:aws:iam::123456789012:role/Dev"

func TestEveryCommand(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	webToken := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "user-1", "aud": "sts.amazonaws.com", "exp": now.Add(time.Hour).Unix()}, "RS256")
	must(t, os.WriteFile(tokenFile, []byte(webToken+"\n"), 0o600))
	samlFile := filepath.Join(dir, "saml")
	must(t, os.WriteFile(samlFile, []byte(ststest.SAMLResponse(now.Add(time.Hour), roleArn+",arn:aws:iam::123456789012:saml-provider/Okta")), 0o600))

	tests := []struct {
		command string
		params  map[string]any
		want    []string
	}{
		{protocol.CmdGetCallerIdentity, nil, []string{"IAM user", "arn:aws:iam::123456789012:user/alice", "`123456789012`"}},
		{protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "DurationSeconds": 900, "ExternalId": "ext-123",
			"Tags": []map[string]string{{"Key": "team", "Value": "a"}}, "TransitiveTagKeys": []string{"team"}, "SourceIdentity": "alice"},
			[]string{"stored as session `dev`", "ASIA…", "assumed-role/Dev/dev", "Packed policy size: 6%", `"Session": "dev"`}},
		{protocol.CmdAssumeRoleWithSAML, map[string]any{"SAMLAssertionFile": samlFile}, []string{"stored as session `alice@example.com`", "Okta", "Issuer: https://idp.example.com"}},
		{protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": tokenFile},
			[]string{"stored as session `web`", "Token issuer: https://issuer.example.com", "Token subject: user-1"}},
		{protocol.CmdAssumeRoot, map[string]any{"TargetPrincipal": "111122223333", "TaskPolicyArn": "IAMAuditRootUserCredentials"},
			[]string{"stored as session `root-111122223333`", "arn:aws:iam::111122223333:root", "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}},
		{protocol.CmdDecodeAuthorizationMessage, map[string]any{"EncodedMessage": "encoded-message-abc"}, []string{"ec2:RunInstances", "mplicit deny"}},
		{protocol.CmdGetAccessKeyInfo, map[string]any{"AccessKeyId": "ASIAY34FZKBOKMUTVV7A"}, []string{"account `123456789012`", "temporary", "609629065308", "ASIA…VV7A"}},
		{protocol.CmdGetDelegatedAccessToken, map[string]any{"TradeInToken": "TRADEIN-TOKEN-SECRET-123456", "SessionName": "delegated"}, []string{"stored as session `delegated`"}},
		{protocol.CmdGetFederationToken, map[string]any{"Name": "bob", "Policy": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}},
			[]string{"federated-user/bob", "stored as session `bob`"}},
		{protocol.CmdGetSessionToken, map[string]any{"DurationSeconds": "3600", "SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "987654"},
			[]string{"stored as session `mfa-session`"}},
		{protocol.CmdGetWebIdentityToken, map[string]any{"Audience": "https://api.example.com", "SigningAlgorithm": "ES384"},
			[]string{"stored as session `web-identity-token`", "Token audience: https://api.example.com", "Token algorithm: ES384"}},
		{protocol.CmdListSessions, nil, []string{"| `dev` |", "| `web-identity-token` | token |"}},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			res := h.invoke(tt.command, tt.params)
			contains(t, res.Text, tt.want...)
			if strings.Contains(res.Text, "987654") || strings.Contains(string(res.Data), "987654") {
				t.Fatalf("MFA code in output")
			}
			if strings.Contains(res.Text, "TRADEIN-TOKEN-SECRET") || strings.Contains(string(res.Data), webToken) {
				t.Fatalf("input secret in output")
			}
			var data map[string]any
			must(t, json.Unmarshal(res.Data, &data))
			if tt.command != protocol.CmdListSessions && data["command"] != tt.command {
				t.Fatalf("data.command = %v", data["command"])
			}
		})
	}
	// Every STS call after the first was made; the unsigned ones carried no signature.
	for _, r := range h.fake.Requests() {
		signed := r.KeyID != ""
		if unsigned := r.Action == "AssumeRoleWithSAML" || r.Action == "AssumeRoleWithWebIdentity"; signed == unsigned {
			t.Errorf("%s signed=%v", r.Action, signed)
		}
	}
}

func TestSessionSignsLaterCalls(t *testing.T) {
	h := newHarness(t)
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
	res := h.invoke(protocol.CmdGetCallerIdentity, map[string]any{"Session": "dev"})
	contains(t, res.Text, "assumed role", "arn:aws:sts::123456789012:assumed-role/Dev/dev", "session `dev`")

	// Role chaining from the session, within the cap.
	res = h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Ops", "RoleSessionName": "ops", "Session": "dev", "DurationSeconds": 3600})
	contains(t, res.Text, "Made from: session `dev` (role chaining)")

	// UseSession makes it the default; GetCallerIdentity without Session then runs as it.
	h.invoke(protocol.CmdUseSession, map[string]any{"SessionName": "ops"})
	res = h.invoke(protocol.CmdGetCallerIdentity, nil)
	contains(t, res.Text, "assumed-role/Ops/ops")
	h.invoke(protocol.CmdUseSession, map[string]any{"SessionName": "base"})
	res = h.invoke(protocol.CmdGetCallerIdentity, nil)
	contains(t, res.Text, "user/alice")

	// ForgetSession removes it; using it is then a session error listing what exists.
	h.invoke(protocol.CmdForgetSession, map[string]any{"SessionName": "dev"})
	_, err := h.try(protocol.CmdGetCallerIdentity, map[string]any{"Session": "dev"})
	te := toolErr(t, err, protocol.CodeSessionError)
	contains(t, te.Error(), `no session "dev"`, "ops")
}

func TestExpiredSessionIsRefused(t *testing.T) {
	h := newHarness(t)
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
	h.clock = ststest.Expiration.Add(time.Second)
	calls := len(h.fake.Requests())
	_, err := h.try(protocol.CmdGetCallerIdentity, map[string]any{"Session": "dev"})
	te := toolErr(t, err, protocol.CodeSessionError)
	contains(t, te.Error(), "expired at 2030-01-01T00:00:00Z", "run AssumeRole again")
	if len(h.fake.Requests()) != calls {
		t.Fatal("an expired session still called STS")
	}
	res := h.invoke(protocol.CmdListSessions, nil)
	contains(t, res.Text, "expired")
}

func TestRulesBeforeCalling(t *testing.T) {
	h := newHarness(t)
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
	h.invoke(protocol.CmdGetFederationToken, map[string]any{"Name": "fed", "PolicyArns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}})
	h.invoke(protocol.CmdGetSessionToken, nil)
	h.invoke(protocol.CmdGetWebIdentityToken, map[string]any{"Audience": []string{"a"}, "SigningAlgorithm": "RS256", "SessionName": "jwt"})
	tests := []struct {
		name, command string
		params        map[string]any
		want          string
	}{
		{"chained over 3600", protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "xx", "Session": "dev", "DurationSeconds": 7200}, "3600-second cap for role chaining"},
		{"role creds cannot GetSessionToken", protocol.CmdGetSessionToken, map[string]any{"Session": "dev"}, "STS refuses GetSessionToken"},
		{"role creds cannot GetFederationToken", protocol.CmdGetFederationToken, map[string]any{"Name": "xx", "Session": "dev"}, "role credentials"},
		{"federated creds only GetCallerIdentity", protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "xx", "Session": "fed"}, "federated user"},
		{"session-token creds cannot GetFederationToken", protocol.CmdGetFederationToken, map[string]any{"Name": "xx", "Session": "session-token"}, "GetSessionToken credentials"},
		{"token session cannot sign", protocol.CmdGetCallerIdentity, map[string]any{"Session": "jwt"}, "not credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.fake.Requests())
			_, err := h.try(tt.command, tt.params)
			te := toolErr(t, err, protocol.CodeRuleViolation)
			contains(t, te.Error(), tt.want)
			if len(h.fake.Requests()) != before {
				t.Fatal("STS was called despite the rule")
			}
		})
	}
	// Session-token credentials may still assume a role (the MFA-then-role pattern).
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "via-mfa", "Session": "session-token", "DurationSeconds": 7200})
}

func TestAWSErrorsAreActionable(t *testing.T) {
	tests := []struct {
		action  string
		command string
		params  map[string]any
		fail    ststest.Failure
		want    []string
	}{
		{"AssumeRole", protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"},
			ststest.Failure{Code: "AccessDenied", Message: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: " + roleArn},
			[]string{"STS refused AssumeRole with AccessDenied", "trust policy", roleArn, "request id 00000000-0000-4000-8000-"}},
		{"GetCallerIdentity", protocol.CmdGetCallerIdentity, nil, ststest.Failure{Code: "ExpiredToken", Message: "The security token included in the request is expired"},
			[]string{"have expired", "aws sso login"}},
		{"GetCallerIdentity", protocol.CmdGetCallerIdentity, nil, ststest.Failure{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
			[]string{"does not know the access key"}},
		{"GetSessionToken", protocol.CmdGetSessionToken, map[string]any{"Region": "ap-east-1"}, ststest.Failure{Code: "RegionDisabledException", Message: "STS is not activated in this region for account:123456789012."},
			[]string{"not activated in Region ap-east-1", "IAM > Account settings"}},
		{"AssumeRole", protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "Policy": `{"Statement":[]}`}, ststest.Failure{Status: 400, Code: "MalformedPolicyDocument", Message: "Syntax errors in policy."},
			[]string{"not a valid IAM policy"}},
		{"AssumeRole", protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"}, ststest.Failure{Status: 400, Code: "PackedPolicyTooLarge", Message: "Packed policy consumes 112% of allotted space"},
			[]string{"too large once packed"}},
		{"AssumeRoleWithWebIdentity", protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "WebIdentityToken": "opaque-oauth-token-value"}, ststest.Failure{Code: "IDPRejectedClaim", Message: "Incorrect token audience"},
			[]string{"rejected the token"}},
		{"AssumeRoleWithWebIdentity", protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "WebIdentityToken": "opaque-oauth-token-value"}, ststest.Failure{Status: 400, Code: "InvalidIdentityToken", Message: "No OpenIDConnect provider found"},
			[]string{"Get a fresh token"}},
		{"GetCallerIdentity", protocol.CmdGetCallerIdentity, nil, ststest.Failure{Status: 400, Code: "Throttling", Message: "Rate exceeded"},
			[]string{"throttling", "maxAttempts"}},
		{"AssumeRole", protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"}, ststest.Failure{Status: 400, Code: "ValidationError", Message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
			[]string{"at most 3600"}},
		{"GetCallerIdentity", protocol.CmdGetCallerIdentity, nil, ststest.Failure{Code: "AccessDenied", Message: "You are not authorized to perform this operation. Encoded authorization failure message: AbCdEf0123456789-_xyz"},
			[]string{"DecodeAuthorizationMessage", `"AbCdEf0123456789-_xyz"`}},
	}
	for _, tt := range tests {
		t.Run(tt.action+"/"+tt.fail.Code, func(t *testing.T) {
			h := newHarness(t)
			h.fake.Fail(tt.action, tt.fail)
			_, err := h.try(tt.command, tt.params)
			te := toolErr(t, err, protocol.CodeAWSError)
			contains(t, te.Error(), tt.want...)
			if te.AWSCode != tt.fail.Code || te.RequestID == "" || te.Hint == "" {
				t.Fatalf("data = %+v", te.Data())
			}
		})
	}
}

func TestInputChecksBeforeCalling(t *testing.T) {
	h := newHarness(t)
	expired := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "u", "aud": "a", "exp": now.Add(-time.Minute).Unix()}, "RS256")
	provider := "arn:aws:iam::123456789012:saml-provider/Okta"
	tests := []struct {
		name, command string
		params        map[string]any
		want          string
	}{
		{"expired JWT", protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "WebIdentityToken": expired}, "token expired at"},
		{"expired SAML", protocol.CmdAssumeRoleWithSAML, map[string]any{"SAMLAssertion": ststest.SAMLResponse(now.Add(-time.Minute), roleArn+","+provider)}, "assertion expired"},
		{"several SAML roles", protocol.CmdAssumeRoleWithSAML, map[string]any{"SAMLAssertion": ststest.SAMLResponse(now.Add(time.Hour), roleArn+","+provider, "arn:aws:iam::123456789012:role/Ops,"+provider)}, "pass RoleArn"},
		{"missing token file", protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "WebIdentityTokenFile": "/nonexistent/token"}, "cannot read WebIdentityTokenFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.fake.Requests())
			_, err := h.try(tt.command, tt.params)
			te := toolErr(t, err, protocol.CodeInvalidParams)
			contains(t, te.Error(), tt.want)
			if len(h.fake.Requests()) != before {
				t.Fatal("STS was called")
			}
			if strings.Contains(te.Error(), expired) {
				t.Fatal("token echoed")
			}
		})
	}
}

func TestGetAccessKeyInfoOffline(t *testing.T) {
	h := newHarness(t)
	h.fake.Close() // nothing listens there now
	res := h.invoke(protocol.CmdGetAccessKeyInfo, map[string]any{"AccessKeyId": "ASIAY34FZKBOKMUTVV7A"})
	contains(t, res.Text, "account `609629065308`", "decoded offline", "not authoritative")
	_, err := h.try(protocol.CmdGetCallerIdentity, nil)
	te := toolErr(t, err, protocol.CodeNetworkError)
	contains(t, te.Error(), "could not be reached", h.fake.URL)
}

func TestNoCredentials(t *testing.T) {
	h := newHarness(t)
	h.runner.Clients.Update(protocol.Settings{Profile: "missing-profile", EndpointURL: h.fake.URL, MaxAttempts: 1})
	_, err := h.try(protocol.CmdGetCallerIdentity, nil)
	te := toolErr(t, err, protocol.CodeCredentialsUnavailable)
	contains(t, te.Error(), "missing-profile", "awsflowSts.profile")
	// Unsigned operations still work without any profile.
	h.invoke(protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "WebIdentityToken": "opaque-oauth-token-value"})
}

func TestUnknownCommand(t *testing.T) {
	h := newHarness(t)
	_, err := h.try("GetCallerIdentiy", nil)
	te := toolErr(t, err, protocol.CodeInvalidParams)
	contains(t, te.Error(), `Did you mean "GetCallerIdentity"?`, "AssumeRole, AssumeRoleWithSAML")
}
