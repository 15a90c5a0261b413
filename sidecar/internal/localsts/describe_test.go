package localsts

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestEnvLines(t *testing.T) {
	srv, err := New(DefaultConfig(), Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := Env("http://127.0.0.1:18900", srv.Demo())
	for _, want := range []string{
		"export AWS_ENDPOINT_URL_STS=http://127.0.0.1:18900\n",
		"export AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:18900\n",
		"export AWS_ENDPOINT_URL_SSO=http://127.0.0.1:18900\n",
		"export AWS_REGION=eu-west-1\n",
		"export AWS_ACCESS_KEY_ID=" + DemoAccessKeyID + "\n",
		"export AWS_SECRET_ACCESS_KEY=" + DemoSecretAccessKey + "\n",
		"unset AWS_SESSION_TOKEN AWS_PROFILE\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Env lacks %q:\n%s", want, got)
		}
	}
	// Without Identity Center, no SSO endpoints.
	cfg := DefaultConfig()
	cfg.SSO = nil
	srv, err = New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := Env("http://127.0.0.1:1", srv.Demo()); strings.Contains(got, "SSO") {
		t.Errorf("Env names SSO endpoints for a world without Identity Center:\n%s", got)
	}
}

// TestEnvEvaluates runs the lines through sh: the values it exports are the ones meant, whatever
// characters they hold.
func TestEnvEvaluates(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	demo := DemoIdentity{Region: "us-east-1", AccessKeyID: DemoAccessKeyID, SecretAccessKey: `a'b c$d"e/f+g`}
	cmd := exec.Command(sh, "-c", Env("http://127.0.0.1:18900", demo)+`printf %s "$AWS_SECRET_ACCESS_KEY"`)
	cmd.Env = append(os.Environ(), "AWS_SESSION_TOKEN=stale", "AWS_PROFILE=work")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != demo.SecretAccessKey {
		t.Errorf("sh evaluated the secret to %q, want %q", out, demo.SecretAccessKey)
	}
}

func TestDescribe(t *testing.T) {
	var b strings.Builder
	if err := DefaultConfig().Describe(&b, "http://127.0.0.1:18900"); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"arn:aws:iam::123456789012:user/alice",
		"access key " + DemoAccessKeyID,
		"MFA device " + DemoMFASerial + ", accepts code " + DemoMFACode,
		"arn:aws:iam::123456789012:role/Admin (max session 43200s)",
		`if {"Bool":{"aws:MultiFactorAuthPresent":"true"}}`,
		`"sts:ExternalId":"` + DemoExternalID + `"`,
		DemoSAMLProvider,
		"oidc-provider/127.0.0.1:18900/_localsts/oidc",
		"localsts-demo-trade-in-1 → arn:aws:iam::123456789012:role/Dev",
		"start URL " + DemoSSOStartURL,
		`fixed access token "` + DemoSSOAccessToken + `"`,
		"the organization's management account",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{DemoSecretAccessKey, bobSecretAccessKey, carolSecretAccessKey, OIDCPlaceholder} {
		if strings.Contains(got, secret) {
			t.Errorf("Describe holds %q", secret)
		}
	}
}
