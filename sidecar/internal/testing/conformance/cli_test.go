package conformance

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/testing/peers"
)

// creds are what the CLI signs with.
type creds struct{ id, secret, token string }

// aws runs one `aws sts` subcommand against the local STS and returns its JSON output, or its
// stderr and exit status when it fails.
func awsCLI(t *testing.T, l *local, c creds, args ...string) (map[string]any, string, error) {
	t.Helper()
	cli := peers.AWSCLI(t)
	home := t.TempDir()
	cmd := exec.Command(cli, append(append([]string{"sts"}, args...), "--endpoint-url", l.url, "--region", "us-east-1", "--output", "json")...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard", "AWS_PAGER=",
		"AWS_ACCESS_KEY_ID=" + c.id, "AWS_SECRET_ACCESS_KEY=" + c.secret,
	}
	if c.token != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+c.token)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, stderr.String(), err
	}
	var v map[string]any
	if len(strings.TrimSpace(string(out))) > 0 {
		if jerr := json.Unmarshal(out, &v); jerr != nil {
			t.Fatalf("aws sts %s printed non-JSON: %v\n%s", args[0], jerr, out)
		}
	}
	return v, stderr.String(), nil
}

func get(v map[string]any, path string) string {
	var cur any = v
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	switch x := cur.(type) {
	case string:
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimRight(strings.TrimRight(json.Number(jsonNum(x)).String(), "0"), "."), ".")
	case nil:
		return ""
	}
	b, _ := json.Marshal(cur)
	return string(b)
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

// TestAWSCLI runs every `aws sts` subcommand against the local STS.
func TestAWSCLI(t *testing.T) {
	l := startLocal(t)
	base := creds{id: l.demo.AccessKeyID, secret: l.demo.SecretAccessKey}
	dir := t.TempDir()
	cfg := localsts.DefaultConfig()
	mfaSerial, mfaCode := cfg.DemoMFA()

	mustCLI := func(t *testing.T, c creds, args ...string) map[string]any {
		t.Helper()
		v, stderr, err := awsCLI(t, l, c, args...)
		if err != nil {
			t.Fatalf("aws sts %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return v
	}
	credsOf := func(v map[string]any) creds {
		return creds{id: get(v, "Credentials.AccessKeyId"), secret: get(v, "Credentials.SecretAccessKey"), token: get(v, "Credentials.SessionToken")}
	}

	t.Run("get-caller-identity", func(t *testing.T) {
		v := mustCLI(t, base, "get-caller-identity")
		if get(v, "Account") != l.demo.Account || !strings.Contains(get(v, "Arn"), ":user/") || get(v, "UserId") == "" {
			t.Fatalf("got %v", v)
		}
	})
	var dev creds
	t.Run("assume-role", func(t *testing.T) {
		v := mustCLI(t, base, "assume-role", "--role-arn", l.role("Dev"), "--role-session-name", "cli", "--duration-seconds", "900",
			"--tags", "Key=team,Value=blue", "--transitive-tag-keys", "team", "--source-identity", "alice")
		if !strings.HasPrefix(get(v, "Credentials.AccessKeyId"), "ASIA") || !strings.HasSuffix(get(v, "AssumedRoleUser.Arn"), ":assumed-role/Dev/cli") ||
			get(v, "Credentials.Expiration") == "" || get(v, "SourceIdentity") != "alice" {
			t.Fatalf("got %v", v)
		}
		dev = credsOf(v)
		who := mustCLI(t, dev, "get-caller-identity")
		if !strings.HasSuffix(get(who, "Arn"), ":assumed-role/Dev/cli") {
			t.Fatalf("issued credentials act as %v", who)
		}
	})
	t.Run("assume-role-with-saml", func(t *testing.T) {
		file := filepath.Join(dir, "saml.b64")
		if err := os.WriteFile(file, []byte(l.samlAssertion(t, "SamlDev")), 0o600); err != nil {
			t.Fatal(err)
		}
		v := mustCLI(t, creds{}, "assume-role-with-saml", "--role-arn", l.role("SamlDev"),
			"--principal-arn", "arn:aws:iam::"+l.demo.Account+":saml-provider/DemoIdP", "--saml-assertion", "file://"+file)
		if !strings.Contains(get(v, "AssumedRoleUser.Arn"), ":assumed-role/SamlDev/") || get(v, "Subject") != "alice@example.com" || get(v, "Issuer") == "" {
			t.Fatalf("got %v", v)
		}
	})
	t.Run("assume-role-with-web-identity", func(t *testing.T) {
		v := mustCLI(t, creds{}, "assume-role-with-web-identity", "--role-arn", l.role("WebDev"), "--role-session-name", "ci",
			"--web-identity-token", l.webIdentityToken(t, "demo-client"))
		if !strings.HasSuffix(get(v, "AssumedRoleUser.Arn"), ":assumed-role/WebDev/ci") || get(v, "SubjectFromWebIdentityToken") != "user-1" || get(v, "Audience") != "demo-client" {
			t.Fatalf("got %v", v)
		}
	})
	t.Run("assume-root", func(t *testing.T) {
		v := mustCLI(t, base, "assume-root", "--target-principal", cfg.DemoMember(), "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
		root := credsOf(v)
		who := mustCLI(t, root, "get-caller-identity")
		if get(who, "Arn") != "arn:aws:iam::"+cfg.DemoMember()+":root" {
			t.Fatalf("root credentials act as %v", who)
		}
	})
	t.Run("decode-authorization-message", func(t *testing.T) {
		enc := l.encoded(t, localsts.DenialMessage{Account: l.demo.Account, PrincipalArn: "arn:aws:iam::" + l.demo.Account + ":user/alice",
			Action: "ec2:RunInstances", Resource: "*", ExplicitDeny: true, StatementID: "Deny1"})
		v := mustCLI(t, base, "decode-authorization-message", "--encoded-message", enc)
		var msg map[string]any
		if err := json.Unmarshal([]byte(get(v, "DecodedMessage")), &msg); err != nil {
			t.Fatalf("DecodedMessage is not JSON: %v", v)
		}
		if msg["explicitDeny"] != true || get(msg, "context.action") != "ec2:RunInstances" {
			t.Fatalf("decoded %v", msg)
		}
	})
	t.Run("get-access-key-info", func(t *testing.T) {
		v := mustCLI(t, base, "get-access-key-info", "--access-key-id", l.demo.AccessKeyID)
		if get(v, "Account") != l.demo.Account {
			t.Fatalf("got %v", v)
		}
	})
	t.Run("get-delegated-access-token", func(t *testing.T) {
		v := mustCLI(t, base, "get-delegated-access-token", "--trade-in-token", cfg.DemoTradeInToken())
		if get(v, "AssumedPrincipal") == "" || !strings.HasPrefix(get(v, "Credentials.AccessKeyId"), "ASIA") {
			t.Fatalf("got %v", v)
		}
	})
	var fed creds
	t.Run("get-federation-token", func(t *testing.T) {
		v := mustCLI(t, base, "get-federation-token", "--name", "bob", "--policy-arns", "arn=arn:aws:iam::aws:policy/ReadOnlyAccess")
		if !strings.HasSuffix(get(v, "FederatedUser.Arn"), ":federated-user/bob") || get(v, "PackedPolicySize") == "" {
			t.Fatalf("got %v", v)
		}
		fed = credsOf(v)
	})
	t.Run("get-session-token", func(t *testing.T) {
		v := mustCLI(t, base, "get-session-token", "--duration-seconds", "900", "--serial-number", mfaSerial, "--token-code", mfaCode)
		mfa := credsOf(v)
		// MFA-authenticated session credentials satisfy the Admin role's MFA condition.
		admin := mustCLI(t, mfa, "assume-role", "--role-arn", l.role("Admin"), "--role-session-name", "admin")
		if !strings.HasSuffix(get(admin, "AssumedRoleUser.Arn"), ":assumed-role/Admin/admin") {
			t.Fatalf("got %v", admin)
		}
	})
	t.Run("get-web-identity-token", func(t *testing.T) {
		for _, alg := range []string{"RS256", "ES384"} {
			v := mustCLI(t, base, "get-web-identity-token", "--audience", "urn:example:api", "--signing-algorithm", alg, "--duration-seconds", "60")
			if strings.Count(get(v, "WebIdentityToken"), ".") != 2 || get(v, "Expiration") == "" {
				t.Fatalf("got %v", v)
			}
		}
	})

	// Errors: the CLI sees STS's own codes.
	fails := []struct {
		name string
		c    creds
		args []string
		code string
	}{
		{"wrong secret", creds{id: base.id, secret: strings.Repeat("x", 40)}, []string{"get-caller-identity"}, "SignatureDoesNotMatch"},
		{"unknown key", creds{id: "AKIAZZZZZZZZZZZZZZZZ", secret: base.secret}, []string{"get-caller-identity"}, "InvalidClientTokenId"},
		{"temporary key without its token", creds{id: dev.id, secret: dev.secret}, []string{"get-caller-identity"}, "InvalidClientTokenId"},
		{"untrusted role", base, []string{"assume-role", "--role-arn", l.role("Locked"), "--role-session-name", "x1"}, "AccessDenied"},
		{"session name with a space", base, []string{"assume-role", "--role-arn", l.role("Dev"), "--role-session-name", "a b"}, "ValidationError"},
		{"duration over the role's maximum", base, []string{"assume-role", "--role-arn", l.role("Dev"), "--role-session-name", "x1", "--duration-seconds", "43200"}, "ValidationError"},
		{"chained over an hour", dev, []string{"assume-role", "--role-arn", l.role("Ops"), "--role-session-name", "x1", "--duration-seconds", "7200"}, "ValidationError"},
		{"session token from role credentials", dev, []string{"get-session-token"}, "AccessDenied"},
		{"federated user assuming a role", fed, []string{"assume-role", "--role-arn", l.role("Dev"), "--role-session-name", "x1"}, "AccessDenied"},
		{"missing external id", base, []string{"assume-role", "--role-arn", l.role("Partner"), "--role-session-name", "x1"}, "AccessDenied"},
		{"wrong MFA code", base, []string{"get-session-token", "--serial-number", mfaSerial, "--token-code", "000000"}, "AccessDenied"},
		{"malformed policy", base, []string{"assume-role", "--role-arn", l.role("Dev"), "--role-session-name", "x1", "--policy", "not json"}, "MalformedPolicyDocument"},
		{"message with a line break", base, []string{"decode-authorization-message", "--encoded-message", "abc\ndef"}, "InvalidAuthorizationMessageException"},
		{"wrong web identity audience", creds{}, []string{"assume-role-with-web-identity", "--role-arn", l.role("WebDev"), "--role-session-name", "ci", "--web-identity-token", l.webIdentityToken(t, "other-client")}, ""},
	}
	for _, f := range fails {
		t.Run("fails/"+f.name, func(t *testing.T) {
			_, stderr, err := awsCLI(t, l, f.c, f.args...)
			if err == nil {
				t.Fatal("the CLI succeeded")
			}
			want := f.code
			if want == "" {
				want = "An error occurred ("
			} else {
				want = "(" + want + ")"
			}
			if !strings.Contains(stderr, want) {
				t.Fatalf("stderr lacks %s:\n%s", want, stderr)
			}
		})
	}
	t.Run("fails/expired token", func(t *testing.T) {
		l.clock.Advance(2 * time.Hour)
		_, stderr, err := awsCLI(t, l, dev, "get-caller-identity")
		if err == nil || !strings.Contains(stderr, "(ExpiredToken)") {
			t.Fatalf("err %v, stderr:\n%s", err, stderr)
		}
	})
}
