package integration

import (
	"os"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// withCredentials returns env with the base profile's keys replaced by keyID and secret.
func withCredentials(t *testing.T, env []string, keyID, secret string) []string {
	t.Helper()
	creds := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE="); ok {
			creds = v
		}
	}
	key := "aws_access_key_id = " + keyID + "\naws_secret_access_key = " + secret + "\n"
	if err := os.WriteFile(creds, []byte("[default]\n"+key), 0o600); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestHintsTellTheCause: an error's hint names what is really wrong. A wrong secret key or an
// unknown key id (as the local STS, which checks SigV4, answers them) sends the user to the keys,
// not to a trust policy; an unsigned call's AccessDenied does not blame "no AWS credentials"; an
// AccessDenied that carries a signature failure is a key problem too.
func TestHintsTellTheCause(t *testing.T) {
	const keys = "check the secret key / key id of the base identity"
	ls := startLocalSTS(t)
	localSettings := map[string]any{"endpointUrl": ls.endpoint, "region": ls.region, "maxAttempts": 1}
	role := "arn:aws:iam::" + ls.account + ":role/Ops"
	signed := []struct {
		name, keyID, secret, command string
		params                       map[string]any
	}{
		{"wrong secret key", ls.accessKeyID, strings.Repeat("x", 40), "GetCallerIdentity", nil},
		{"wrong secret key assuming a role", ls.accessKeyID, strings.Repeat("x", 40), "AssumeRole", map[string]any{"RoleArn": role, "RoleSessionName": "hint"}},
		{"unknown key id", "AKIA" + strings.Repeat("Q", 16), ls.secretAccessKey, "AssumeRole", map[string]any{"RoleArn": role, "RoleSessionName": "hint"}},
	}
	for _, tt := range signed {
		t.Run(tt.name, func(t *testing.T) {
			p := startServe(t, withCredentials(t, scratchEnv(t), tt.keyID, tt.secret))
			p.initialize(localSettings)
			e, d := mustError(t, p.call("tool/invoke", invokeParams(tt.command, tt.params)), 1001)
			if !strings.Contains(d.Hint, keys) {
				t.Errorf("%s (%s): hint %q does not send the user to the keys", tt.command, d.AWSCode, d.Hint)
			}
			for _, wrong := range []string{"trust policy", "is not allowed to assume", "lacks permission"} {
				if strings.Contains(d.Hint, wrong) || strings.Contains(e.Message, wrong) {
					t.Errorf("%s (%s) points at %q: %s / %s", tt.command, d.AWSCode, wrong, e.Message, d.Hint)
				}
			}
		})
	}

	fake := startFake(t)
	p := startServe(t, scratchEnv(t))
	p.initialize(fakeSettings(fake))
	t.Run("unsigned AccessDenied", func(t *testing.T) {
		fake.Fail("AssumeRoleWithWebIdentity", ststest.Failure{Status: 403, Code: "AccessDenied", Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"})
		defer fake.Fail("AssumeRoleWithWebIdentity", ststest.Failure{})
		token := ststest.JWT(map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix()}, "")
		e, d := mustError(t, p.call("tool/invoke", invokeParams("AssumeRoleWithWebIdentity", map[string]any{
			"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "hint", "WebIdentityToken": token})), 1001)
		if !strings.Contains(d.Hint, "unsigned") || !strings.Contains(d.Hint, "trust policy") {
			t.Errorf("hint %q does not say the call is unsigned and the trust policy decides", d.Hint)
		}
		for _, text := range []string{e.Message, d.Hint} {
			if strings.Contains(text, "no AWS credentials") {
				t.Errorf("names no AWS credentials as the principal: %s", text)
			}
		}
	})
	t.Run("AccessDenied carrying a signature failure", func(t *testing.T) {
		fake.Fail("AssumeRole", ststest.Failure{Status: 403, Code: "AccessDenied", Message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."})
		defer fake.Fail("AssumeRole", ststest.Failure{})
		_, d := mustError(t, p.call("tool/invoke", invokeParams("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Ops", "RoleSessionName": "hint"})), 1001)
		if !strings.Contains(d.Hint, keys) || strings.Contains(d.Hint, "trust policy") {
			t.Errorf("hint %q: want the keys, not the trust policy", d.Hint)
		}
	})
}
