package localsts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"awsflow-sts/sidecar/internal/keyid"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "localsts.json")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// configJSON is DefaultConfig as JSON, with edit applied to the decoded object first.
func configJSON(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	b, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if edit != nil {
		edit(m)
	}
	out, _ := json.MarshalIndent(m, "", "  ")
	return string(out)
}

func entry(m map[string]any, list string, i int) map[string]any {
	return m[list].([]any)[i].(map[string]any)
}

func TestLoadConfig(t *testing.T) {
	t.Run("the default config round-trips through JSON", func(t *testing.T) {
		cfg, err := LoadConfig(writeConfig(t, configJSON(t, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Roles) != len(DefaultConfig().Roles) || cfg.Demo != DefaultConfig().Demo {
			t.Fatalf("lost content: %+v", cfg)
		}
	})
	tests := []struct {
		name string
		text string
		want []string // all must appear in the error
	}{
		{"not JSON", "{\n  \"accounts\": [\n    {\"id\": \"123456789012\",}\n  ]\n}", []string{"invalid JSON at line 3"}},
		{"trailing data", configJSON(t, nil) + "{}", []string{"unexpected data after the JSON object"}},
		{"unknown top-level field", configJSON(t, func(m map[string]any) { m["acounts"] = 1 }), []string{`unknown field "acounts"`}},
		{"unknown nested field", configJSON(t, func(m map[string]any) { entry(m, "users", 0)["acessKeys"] = []any{} }), []string{`unknown field "acessKeys"`}},
		{"wrong type", configJSON(t, func(m map[string]any) { entry(m, "roles", 0)["maxSessionDuration"] = "1h" }), []string{"invalid JSON at line", "maxSessionDuration"}},
		{"no accounts", `{"accounts": []}`, []string{"at least one account"}},
		{"bad account id", configJSON(t, func(m map[string]any) { entry(m, "accounts", 1)["id"] = "1111-2222-3333" }),
			[]string{`accounts[1]: id "1111-2222-3333" is not a 12-digit account id`}},
		{"duplicate account", configJSON(t, func(m map[string]any) { entry(m, "accounts", 1)["id"] = DemoAccount }), []string{"defined twice"}},
		{"user in an undefined account", configJSON(t, func(m map[string]any) { entry(m, "users", 1)["account"] = "999999999999" }),
			[]string{`users[1] (bob): account "999999999999" is not in accounts`}},
		{"bad access key id", configJSON(t, func(m map[string]any) {
			entry(m, "users", 1)["accessKeys"] = []any{map[string]any{"id": "AKIA123", "secret": "0123456789abcdefghij"}}
		}), []string{`access key id "AKIA123" must be AKIA followed by 16 characters`}},
		{"duplicate access key", configJSON(t, func(m map[string]any) {
			entry(m, "users", 1)["accessKeys"] = []any{map[string]any{"id": DemoAccessKeyID, "secret": "0123456789abcdefghij"}}
		}), []string{"is already used by"}},
		{"MFA code not six digits", configJSON(t, func(m map[string]any) {
			entry(m, "users", 0)["mfa"] = []any{map[string]any{"serial": DemoMFASerial, "code": "12345"}}
		}), []string{"code must be exactly 6 digits"}},
		{"max session duration out of range", configJSON(t, func(m map[string]any) { entry(m, "roles", 0)["maxSessionDuration"] = 100000 }),
			[]string{"roles[0] (Dev): maxSessionDuration 100000 must be between 3600 and 43200 seconds"}},
		{"trust policy with a misspelt effect", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": []any{map[string]any{"Effect": "Alow", "Principal": "*", "Action": "sts:AssumeRole"}}}
		}), []string{`roles[0] (Dev): trust: Statement[0]: Effect must be "Allow" or "Deny"`}},
		{"trust policy with a Resource", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}}
		}), []string{"must not have Resource"}},
		{"trust policy with an unknown operator", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
				"Condition": map[string]any{"StringEqualz": map[string]any{"sts:ExternalId": "x"}}}}
		}), []string{`unsupported condition operator "StringEqualz"`}},
		{"trust policy without a principal", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole"}}
		}), []string{"exactly one of Principal and NotPrincipal"}},
		{"trust policy naming an undefined user", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:user/mallory"}, "Action": "sts:AssumeRole"}}
		}), []string{`invalid principal "arn:aws:iam::123456789012:user/mallory": no such user`}},
		{"trust policy naming an undefined SAML provider", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": "arn:aws:iam::123456789012:saml-provider/Nope"}, "Action": "sts:AssumeRoleWithSAML"}}
		}), []string{"no such SAML provider"}},
		{"trust policy with a bad AWS principal", configJSON(t, func(m map[string]any) {
			entry(m, "roles", 0)["trust"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "alice"}, "Action": "sts:AssumeRole"}}
		}), []string{`invalid AWS principal "alice"`}},
		{"trust policy missing", configJSON(t, func(m map[string]any) { delete(entry(m, "roles", 0), "trust") }), []string{"trust policy is required"}},
		{"OIDC provider without https", configJSON(t, func(m map[string]any) { entry(m, "oidcProviders", 0)["url"] = "idp.example.com" }), []string{"must be an https:// issuer URL"}},
		{"OIDC provider without client ids", configJSON(t, func(m map[string]any) { entry(m, "oidcProviders", 0)["clientIds"] = []any{} }), []string{"at least one client id"}},
		{"bad certificate", configJSON(t, func(m map[string]any) { entry(m, "samlProviders", 0)["certificatePem"] = "not a certificate" }), []string{"no PEM CERTIFICATE block"}},
		{"trade-in token for an undefined role", configJSON(t, func(m map[string]any) {
			entry(m, "tradeInTokens", 0)["roleArn"] = "arn:aws:iam::123456789012:role/Nope"
		}),
			[]string{"is not a role in roles"}},
		{"demo user undefined", configJSON(t, func(m map[string]any) { m["demo"].(map[string]any)["user"] = "123456789012/zed" }), []string{"demo.user"}},
		{"organization member undefined", configJSON(t, func(m map[string]any) { m["organization"].(map[string]any)["members"] = []any{"444455556666"} }),
			[]string{`organization.members: account "444455556666" is not in accounts`}},
		{"every problem at once", configJSON(t, func(m map[string]any) {
			entry(m, "accounts", 1)["id"] = "x"
			entry(m, "roles", 0)["maxSessionDuration"] = 1
		}), []string{`id "x" is not a 12-digit account id`, "maxSessionDuration 1 must be between"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tt.text))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("New validates too", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Roles[0].MaxSessionDuration = 5
		if _, err := New(cfg, Options{}); err == nil {
			t.Fatal("New accepted an invalid config")
		}
	})
}

func TestDefaultConfigKeys(t *testing.T) {
	cfg := DefaultConfig()
	var keys []AccessKey
	var accounts []string
	for _, u := range cfg.Users {
		for _, k := range u.AccessKeys {
			keys, accounts = append(keys, k), append(accounts, u.Account)
		}
	}
	for i, k := range keys {
		t.Run(k.ID, func(t *testing.T) {
			if acct, ok := keyid.AccountOffline(k.ID); !ok || acct != accounts[i] {
				t.Fatalf("decodes offline to %q, want %s", acct, accounts[i])
			}
			if len(k.Secret) != 40 {
				t.Fatalf("secret is %d characters", len(k.Secret))
			}
		})
	}
	t.Run("issued keys decode too", func(t *testing.T) {
		for _, acct := range []string{DemoAccount, MemberAccount, "000000000001", "999999999999"} {
			id := newTempKeyID(acct)
			if got, ok := keyid.AccountOffline(id); !ok || got != acct || len(id) != 20 {
				t.Fatalf("%s decodes to %s", id, got)
			}
			if got, _ := keyid.AccountOffline(id); got != acct {
				t.Fatalf("keyid.AccountOffline(%s) = %s", id, got)
			}
		}
	})
	t.Run("demo identity", func(t *testing.T) {
		s, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		d := s.Demo()
		want := DemoIdentity{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey, RoleArn: role("Dev"), Region: "us-east-1", Account: DemoAccount,
			SSOStartURL: DemoSSOStartURL, SSOUser: DemoSSOUser, SSOAccount: MemberAccount, SSOPermissionSet: DemoSSOPermissionSet}
		if d != want {
			t.Fatalf("Demo() = %+v", d)
		}
	})
}
