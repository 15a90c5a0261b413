package tool

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// TestEchoedSecretsAreScrubbed runs every command that carries a secret against an endpoint that
// quotes its request back, in an error and in a success, and looks for any fragment of the secrets
// in what the model sees.
func TestEchoedSecretsAreScrubbed(t *testing.T) {
	const code = "864209"
	tradeIn := "TRADEIN-" + strings.Repeat("q7Zx2Lm9", 8)
	jwt := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "echo-user", "aud": "sts.amazonaws.com", "exp": now.Add(time.Hour).Unix()}, "RS256")
	saml := ststest.SAMLResponse(now.Add(time.Hour), roleArn+",arn:aws:iam::123456789012:saml-provider/Okta")
	tokenFile := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(tokenFile, []byte(jwt), 0o600))
	serial := "arn:aws:iam::123456789012:mfa/alice"
	tests := []struct {
		name    string
		command string
		action  string
		params  map[string]any
		// shown says a success shows fields the endpoint fills with the request.
		shown bool
	}{
		{"web identity token", protocol.CmdAssumeRoleWithWebIdentity, "AssumeRoleWithWebIdentity", map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityToken": jwt}, true},
		{"web identity token file", protocol.CmdAssumeRoleWithWebIdentity, "AssumeRoleWithWebIdentity", map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": tokenFile}, true},
		{"SAML assertion", protocol.CmdAssumeRoleWithSAML, "AssumeRoleWithSAML", map[string]any{"SAMLAssertion": saml, "SessionName": "saml"}, true},
		{"trade-in token", protocol.CmdGetDelegatedAccessToken, "GetDelegatedAccessToken", map[string]any{"TradeInToken": tradeIn, "SessionName": "delegated"}, false},
		{"MFA code as a param", protocol.CmdGetSessionToken, "GetSessionToken", map[string]any{"SerialNumber": serial, "TokenCode": code}, false},
		{"MFA code typed by the user", protocol.CmdGetSessionToken, "GetSessionToken", map[string]any{"SerialNumber": serial}, false},
	}
	for _, fault := range []ststest.Fault{ststest.Echo, ststest.EchoSuccess} {
		for _, tt := range tests {
			t.Run(faultName(fault)+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t)
				h.runner.Prompt = func(context.Context, protocol.MfaTokenCodeParams) (string, error) { return code, nil }
				h.fake.Inject(tt.action, fault)
				res, err := h.try(tt.command, tt.params)
				var texts []string
				if fault == ststest.Echo {
					te := toolErr(t, err, protocol.CodeAWSError)
					texts = append(texts, te.Error(), te.AWSCode, te.RequestID)
				} else {
					must(t, err)
					texts = append(texts, res.Text, string(res.Data))
				}
				var seen bool
				for _, req := range h.fake.Requests() {
					seen = seen || req.Action == tt.action
				}
				if !seen {
					t.Fatalf("the fake never saw %s", tt.action)
				}
				for _, text := range texts {
					for _, secret := range append([]string{jwt, saml, tradeIn}, h.fake.Secrets()...) {
						if f, ok := fragment(text, secret); ok {
							t.Errorf("fragment %q of a secret in:\n%s", f, text)
						}
					}
					if regexp.MustCompile(`(^|[^0-9.])` + code + `([^0-9]|$)`).MatchString(text) {
						t.Errorf("the MFA code in:\n%s", text)
					}
				}
				if (fault == ststest.Echo || tt.shown) && !strings.Contains(strings.Join(texts, "\n"), redact.Placeholder) {
					t.Errorf("nothing was scrubbed, so the endpoint echoed nothing:\n%s", strings.Join(texts, "\n"))
				}
			})
		}
	}
}

func faultName(f ststest.Fault) string {
	if f == ststest.Echo {
		return "error"
	}
	return "success"
}

// fragment returns a run of redact.FragmentLen characters of secret found in text, in any case.
func fragment(text, secret string) (string, bool) {
	low := strings.ToLower(text)
	for i := 0; i+redact.FragmentLen <= len(secret); i++ {
		if f := strings.ToLower(secret[i : i+redact.FragmentLen]); strings.Contains(low, f) {
			return f, true
		}
	}
	return "", false
}
