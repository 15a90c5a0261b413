package tool

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

const (
	mfaDevice    = "arn:aws:iam::123456789012:mfa/alice"
	adminRoleArn = "arn:aws:iam::123456789012:role/Admin"
)

// jsonObject normalizes a JSON object for comparison.
func jsonObject(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		raw, err = json.Marshal(v)
		must(t, err)
	}
	var out map[string]any
	must(t, json.Unmarshal(raw, &out))
	return out
}

func TestRecipeFor(t *testing.T) {
	mfaSession := &session.Session{Name: "mfa-alice", Command: protocol.CmdGetSessionToken, Class: session.ClassSessionToken, MFASerial: mfaDevice}
	plainToken := &session.Session{Name: "session-token", Command: protocol.CmdGetSessionToken, Class: session.ClassSessionToken}
	roleSrc := &session.Session{Name: "dev", Command: protocol.CmdAssumeRole, Class: session.ClassRole}
	policy := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}
	jwt := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "u", "aud": "a", "exp": now.Add(time.Hour).Unix()}, "RS256")

	tests := []struct {
		name    string
		command string
		params  map[string]any
		// prepare is what Runner.prepare did to the args before STS was called (a file read, a
		// role profile applied, an MFA code asked for or an MFA session used instead).
		prepare func(a stsops.Args)
		src     *session.Session
		want    map[string]any // the recipe's params; nil: no recipe
		source  string
	}{
		{
			name:    "AssumeRole from base",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "DurationSeconds": 900, "ExternalId": "ext-123", "SessionName": "my-dev", "Session": "base", "Region": "eu-west-1"},
			want:    map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "DurationSeconds": 900, "ExternalId": "ext-123", "Region": "eu-west-1"},
			source:  protocol.ReservedSessionName,
		},
		{
			name:    "AssumeRole from a profile keeps the profile, not what it resolved to",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"Profile": "dev-role"},
			prepare: func(a stsops.Args) { a["RoleArn"], a["RoleSessionName"] = roleArn, "awsflow-sts-dev-role" },
			want:    map[string]any{"Profile": "dev-role"},
			source:  protocol.ReservedSessionName,
		},
		{
			name:    "AssumeRole chained from a role session",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"RoleArn": roleArn, "RoleSessionName": "ops", "Session": "dev"},
			src:     roleSrc,
			want:    map[string]any{"RoleArn": roleArn, "RoleSessionName": "ops"},
			source:  "dev",
		},
		{
			name:    "AssumeRole with TokenCode given",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "SerialNumber": mfaDevice, "TokenCode": "123456"},
		},
		{
			name:    "AssumeRole with a code the user entered",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "SerialNumber": mfaDevice},
			prepare: func(a stsops.Args) { a["TokenCode"] = "123456" },
		},
		{
			name:    "AssumeRole signed by an MFA session",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"RoleArn": adminRoleArn, "RoleSessionName": "admin", "SerialNumber": mfaDevice, "Session": "mfa-alice"},
			prepare: func(a stsops.Args) { delete(a, "SerialNumber") },
			src:     mfaSession,
			want:    map[string]any{"RoleArn": adminRoleArn, "RoleSessionName": "admin"},
			source:  "mfa-alice",
		},
		{
			name:    "AssumeRole through a stored MFA session found for the device",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"RoleArn": adminRoleArn, "RoleSessionName": "admin", "SerialNumber": mfaDevice},
			prepare: func(a stsops.Args) { delete(a, "SerialNumber") },
			src:     mfaSession,
			want:    map[string]any{"RoleArn": adminRoleArn, "RoleSessionName": "admin"},
			source:  "mfa-alice",
		},
		{
			name:    "AssumeRole signed by a session token without MFA keeps the profile",
			command: protocol.CmdAssumeRole,
			params:  map[string]any{"Profile": "dev-role", "Session": "session-token"},
			src:     plainToken,
			want:    map[string]any{"Profile": "dev-role"},
			source:  "session-token",
		},
		{
			name:    "AssumeRoleWithWebIdentity from a token file",
			command: protocol.CmdAssumeRoleWithWebIdentity,
			params:  map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": "/var/run/token", "SessionName": "web-s"},
			prepare: func(a stsops.Args) { a["WebIdentityToken"] = jwt; delete(a, "WebIdentityTokenFile") },
			want:    map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": "/var/run/token"},
			source:  protocol.ReservedSessionName,
		},
		{
			name:    "AssumeRoleWithWebIdentity with the token inline",
			command: protocol.CmdAssumeRoleWithWebIdentity,
			params:  map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityToken": jwt},
		},
		{
			name:    "GetSessionToken with SerialNumber",
			command: protocol.CmdGetSessionToken,
			params:  map[string]any{"SerialNumber": mfaDevice},
		},
		{
			name:    "GetSessionToken with SerialNumber and the code entered",
			command: protocol.CmdGetSessionToken,
			params:  map[string]any{"SerialNumber": mfaDevice, "SessionName": "mfa"},
			prepare: func(a stsops.Args) { a["TokenCode"] = "123456" },
		},
		{
			name:    "GetSessionToken without MFA",
			command: protocol.CmdGetSessionToken,
			params:  map[string]any{"DurationSeconds": 3600, "SessionName": "st"},
			want:    map[string]any{"DurationSeconds": 3600},
			source:  protocol.ReservedSessionName,
		},
		{
			name:    "GetFederationToken",
			command: protocol.CmdGetFederationToken,
			params:  map[string]any{"Name": "bob", "DurationSeconds": 900, "Policy": policy, "SessionName": "fed"},
			want:    map[string]any{"Name": "bob", "DurationSeconds": 900, "Policy": policy},
			source:  protocol.ReservedSessionName,
		},
		{
			name:    "AssumeRoleWithSAML",
			command: protocol.CmdAssumeRoleWithSAML,
			params:  map[string]any{"SAMLAssertionFile": "/tmp/saml"},
			prepare: func(a stsops.Args) { a["SAMLAssertion"] = "PHNhbWxwOlJlc3BvbnNl"; delete(a, "SAMLAssertionFile") },
		},
		{
			name:    "AssumeRoot",
			command: protocol.CmdAssumeRoot,
			params:  map[string]any{"TargetPrincipal": "111122223333", "TaskPolicyArn": "IAMAuditRootUserCredentials"},
		},
		{
			name:    "GetDelegatedAccessToken",
			command: protocol.CmdGetDelegatedAccessToken,
			params:  map[string]any{"TradeInToken": "TRADEIN-TOKEN-SECRET-123456"},
		},
		{
			name:    "GetWebIdentityToken",
			command: protocol.CmdGetWebIdentityToken,
			params:  map[string]any{"Audience": "https://api.example.com", "SigningAlgorithm": "ES384"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, ok := protocol.Command(tt.command)
			if !ok {
				t.Fatalf("no command %s", tt.command)
			}
			raw, err := json.Marshal(tt.params)
			must(t, err)
			a, err := Validate(spec, raw)
			must(t, err)
			if tt.prepare != nil {
				tt.prepare(a)
			}
			got := recipeFor(spec, raw, a, tt.src)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("recipe %s %s, want none", got.Command, got.Params)
				}
				return
			}
			if got == nil {
				t.Fatal("no recipe")
			}
			if got.Command != tt.command || got.Source != tt.source {
				t.Fatalf("recipe command %q source %q, want %q %q", got.Command, got.Source, tt.command, tt.source)
			}
			if params, want := jsonObject(t, got.Params), jsonObject(t, tt.want); !reflect.DeepEqual(params, want) {
				t.Fatalf("recipe params %s, want %v", got.Params, want)
			}
			// What Remake will send must pass validation as it stands.
			replay := jsonObject(t, got.Params)
			replay["Session"] = got.Source
			raw, err = json.Marshal(replay)
			must(t, err)
			if _, err := Validate(spec, raw); err != nil {
				t.Fatalf("recipe params do not validate: %v", err)
			}
		})
	}
}

// lastRequest is the fake's last call, which must be action.
func lastRequest(t *testing.T, h *harness, action string) ststest.Request {
	t.Helper()
	reqs := h.fake.Requests()
	if len(reqs) == 0 {
		t.Fatal("no STS call")
	}
	r := reqs[len(reqs)-1]
	if r.Action != action {
		t.Fatalf("last STS call %s, want %s", r.Action, action)
	}
	return r
}

func stored(t *testing.T, h *harness, name string) *session.Session {
	t.Helper()
	s, err := h.runner.Store.Get(name)
	must(t, err)
	return s
}

// noPrompt makes every way of asking for an MFA code fail the test.
func noPrompt(t *testing.T, h *harness) *atomic.Int32 {
	asked := &atomic.Int32{}
	h.runner.Prompt = func(_ context.Context, p protocol.MfaTokenCodeParams) (string, error) {
		asked.Add(1)
		t.Errorf("Prompter asked for a code: %+v", p)
		return "", errors.New("no one is there")
	}
	h.runner.Clients.SetPrompt(func(_ context.Context, serial, reason string) (string, error) {
		asked.Add(1)
		t.Errorf("the SDK's prompt asked for a code of %s: %s", serial, reason)
		return "", errors.New("no one is there")
	})
	return asked
}

func TestRemakeAgainstFakeSTS(t *testing.T) {
	t.Run("AssumeRole from base", func(t *testing.T) {
		h := newHarness(t)
		h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "DurationSeconds": 900, "ExternalId": "ext-123"})
		old := stored(t, h, "dev")
		if old.Recipe == nil || old.Recipe.Source != protocol.ReservedSessionName || old.Recipe.Command != protocol.CmdAssumeRole {
			t.Fatalf("minted recipe = %+v", old.Recipe)
		}
		noPrompt(t, h)
		fresh, err := h.runner.Remake(context.Background(), old)
		must(t, err)
		if fresh.Credentials.AccessKeyID == "" || fresh.Credentials.AccessKeyID == old.Credentials.AccessKeyID ||
			fresh.Credentials.SecretAccessKey == old.Credentials.SecretAccessKey {
			t.Fatalf("Remake kept the old credentials %s", fresh.Credentials.AccessKeyID)
		}
		if fresh.Recipe != old.Recipe || fresh.Name != "dev" || fresh.Command != protocol.CmdAssumeRole || fresh.Class != session.ClassRole ||
			fresh.Source != protocol.ReservedSessionName || fresh.Chained || fresh.ARN != old.ARN || fresh.Region != old.Region {
			t.Fatalf("re-made session %+v differs from %+v", fresh, old)
		}
		r := lastRequest(t, h, "AssumeRole")
		if r.KeyID != ststest.BaseKeyID || r.Form.Get("RoleArn") != roleArn || r.Form.Get("RoleSessionName") != "dev" ||
			r.Form.Get("DurationSeconds") != "900" || r.Form.Get("ExternalId") != "ext-123" {
			t.Fatalf("Remake sent %s signed by %s: %v", r.Action, r.KeyID, r.Form)
		}
		if stored(t, h, "dev") != old {
			t.Fatal("Remake stored the session itself; the store does that")
		}
	})

	t.Run("chained session signed by its source", func(t *testing.T) {
		h := newHarness(t)
		h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
		h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Ops", "RoleSessionName": "ops", "Session": "dev"})
		dev, ops := stored(t, h, "dev"), stored(t, h, "ops")
		if ops.Recipe == nil || ops.Recipe.Source != "dev" || !ops.Chained {
			t.Fatalf("chained session %+v, recipe %+v", ops, ops.Recipe)
		}
		noPrompt(t, h)
		fresh, err := h.runner.Remake(context.Background(), ops)
		must(t, err)
		r := lastRequest(t, h, "AssumeRole")
		if r.KeyID != dev.Credentials.AccessKeyID || r.Form.Get("RoleSessionName") != "ops" {
			t.Fatalf("re-made with key %s (%v), want dev's %s", r.KeyID, r.Form, dev.Credentials.AccessKeyID)
		}
		if fresh.Source != "dev" || !fresh.Chained || fresh.Recipe != ops.Recipe || fresh.Credentials.AccessKeyID == ops.Credentials.AccessKeyID {
			t.Fatalf("re-made %+v", fresh)
		}
	})

	t.Run("chained session whose source is gone", func(t *testing.T) {
		h := newHarness(t)
		h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
		h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Ops", "RoleSessionName": "ops", "Session": "dev"})
		ops := stored(t, h, "ops")
		must(t, h.runner.Store.Forget("dev"))
		noPrompt(t, h)
		calls := len(h.fake.Requests())
		_, err := h.runner.Remake(context.Background(), ops)
		te := toolErr(t, err, protocol.CodeSessionError)
		contains(t, te.Error(), `no session "dev"`)
		if len(h.fake.Requests()) != calls {
			t.Fatal("STS was called")
		}
	})

	t.Run("web identity token read again from its file", func(t *testing.T) {
		h := newHarness(t)
		file := filepath.Join(t.TempDir(), "token")
		first := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "first", "aud": "sts.amazonaws.com", "exp": now.Add(time.Hour).Unix()}, "RS256")
		must(t, os.WriteFile(file, []byte(first), 0o600))
		h.invoke(protocol.CmdAssumeRoleWithWebIdentity, map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": file})
		old := stored(t, h, "web")
		if old.Recipe == nil || strings.Contains(string(old.Recipe.Params), first) {
			t.Fatalf("recipe %+v", old.Recipe)
		}
		second := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "second", "aud": "sts.amazonaws.com", "exp": now.Add(2 * time.Hour).Unix()}, "RS256")
		must(t, os.WriteFile(file, []byte(second+"\n"), 0o600))
		noPrompt(t, h)
		fresh, err := h.runner.Remake(context.Background(), old)
		must(t, err)
		r := lastRequest(t, h, "AssumeRoleWithWebIdentity")
		if r.Form.Get("WebIdentityToken") != second || r.KeyID != "" {
			t.Fatalf("Remake sent token %q signed by %q", r.Form.Get("WebIdentityToken"), r.KeyID)
		}
		if fresh.Recipe != old.Recipe || fresh.Name != "web" {
			t.Fatalf("re-made %+v", fresh)
		}
		if got := h.runner.Secrets.Scrub(second); got != "[redacted]" {
			t.Fatal("the token read again is not registered as a secret")
		}
	})

	t.Run("the store refreshes through it on use", func(t *testing.T) {
		h := newHarness(t)
		st := h.runner.Store
		st.SetWindow(aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute}, func() float64 { return 0 })
		st.SetHooks(session.Hooks{Remake: h.runner.Remake})
		h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
		old := stored(t, h, "dev")
		noPrompt(t, h)
		h.clock = ststest.Expiration.Add(-4 * time.Minute)
		h.invoke(protocol.CmdGetCallerIdentity, map[string]any{"Session": "dev"})
		reqs := h.fake.Requests()
		if len(reqs) < 2 || reqs[len(reqs)-2].Action != "AssumeRole" {
			t.Fatalf("no AssumeRole before GetCallerIdentity: %v", reqs)
		}
		fresh := stored(t, h, "dev")
		r := lastRequest(t, h, "GetCallerIdentity")
		if fresh == old || r.KeyID != fresh.Credentials.AccessKeyID || r.KeyID == old.Credentials.AccessKeyID {
			t.Fatalf("GetCallerIdentity signed by %s; old %s, re-made %s", r.KeyID, old.Credentials.AccessKeyID, fresh.Credentials.AccessKeyID)
		}
		if !fresh.RefreshedAt.Equal(h.clock) || fresh.Recipe == nil {
			t.Fatalf("re-made session %+v", fresh)
		}
	})
}

// writeRoleProfile adds a role profile to the scratch config file newHarness set up.
func writeRoleProfile(t *testing.T, name, body string) {
	t.Helper()
	f, err := os.OpenFile(os.Getenv("AWS_CONFIG_FILE"), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	defer f.Close()
	_, err = f.WriteString("\n[profile " + name + "]\n" + body)
	must(t, err)
}

func TestRemakeNeverPrompts(t *testing.T) {
	const adminProfile = "role_arn = " + adminRoleArn + "\nsource_profile = test\nmfa_serial = " + mfaDevice + "\n"
	recipe := func(command, source string, params map[string]any) *protocol.Recipe {
		raw, _ := json.Marshal(params)
		return &protocol.Recipe{Command: command, Params: raw, Source: source}
	}
	tests := []struct {
		name      string
		recipe    *protocol.Recipe // nil: the one Invoke stored for the admin session
		forgetMFA bool
		wantErr   string // "": it is re-made, signed by the MFA session
	}{
		{name: "made through an MFA session"},
		{name: "its MFA session forgotten", forgetMFA: true, wantErr: `no session "mfa-alice"`},
		{name: "profile needing MFA from base, MFA session stored", recipe: recipe(protocol.CmdAssumeRole, "base", map[string]any{"Profile": "admin"})},
		{name: "profile needing MFA from base, no MFA session", recipe: recipe(protocol.CmdAssumeRole, "base", map[string]any{"Profile": "admin"}),
			forgetMFA: true, wantErr: "no one can be asked"},
		{name: "SerialNumber in the recipe, no MFA session", recipe: recipe(protocol.CmdAssumeRole, "base", map[string]any{"RoleArn": adminRoleArn, "RoleSessionName": "admin", "SerialNumber": mfaDevice}),
			forgetMFA: true, wantErr: "no one can be asked"},
		{name: "GetSessionToken with SerialNumber", recipe: recipe(protocol.CmdGetSessionToken, "base", map[string]any{"SerialNumber": mfaDevice}),
			wantErr: "no one can be asked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			writeRoleProfile(t, "admin", adminProfile)
			var asked atomic.Int32
			h.runner.Prompt = func(_ context.Context, p protocol.MfaTokenCodeParams) (string, error) {
				asked.Add(1)
				return "123456", nil
			}
			h.invoke(protocol.CmdAssumeRole, map[string]any{"Profile": "admin"})
			if asked.Load() != 1 {
				t.Fatalf("Invoke asked for %d codes, want 1", asked.Load())
			}
			mfa := stored(t, h, "mfa-alice")
			admin := stored(t, h, "awsflow-sts-admin")
			if admin.Recipe == nil || admin.Recipe.Source != "mfa-alice" || string(admin.Recipe.Params) != `{"Profile":"admin"}` {
				t.Fatalf("admin recipe %+v", admin.Recipe)
			}
			old := *admin
			if tt.recipe != nil {
				old.Recipe = tt.recipe
			}
			if tt.forgetMFA {
				must(t, h.runner.Store.Forget("mfa-alice"))
			}
			noPrompt(t, h)
			calls := len(h.fake.Requests())
			fresh, err := h.runner.Remake(context.Background(), &old)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("re-made %+v", fresh)
				}
				contains(t, err.Error(), tt.wantErr)
				if len(h.fake.Requests()) != calls {
					t.Fatalf("STS was called: %+v", h.fake.Requests()[calls:])
				}
				return
			}
			must(t, err)
			r := lastRequest(t, h, "AssumeRole")
			if r.KeyID != mfa.Credentials.AccessKeyID || r.Form.Get("RoleArn") != adminRoleArn || r.Form.Get("SerialNumber") != "" || r.Form.Get("TokenCode") != "" {
				t.Fatalf("re-made with %s (MFA session %s): %v", r.KeyID, mfa.Credentials.AccessKeyID, r.Form)
			}
			if fresh.Source != "mfa-alice" || fresh.MFASerial != mfaDevice || fresh.Profile != "admin" {
				t.Fatalf("re-made %+v", fresh)
			}
		})
	}
}

// TestRemakeWithRoleProfileBaseNeverPrompts: when the base identity is a role profile with
// mfa_serial, the SDK assumes it itself; a refresh must not make it ask for a code either.
func TestRemakeWithRoleProfileBaseNeverPrompts(t *testing.T) {
	h := newHarness(t)
	writeRoleProfile(t, "mfa-base", "role_arn = "+adminRoleArn+"\nsource_profile = test\nmfa_serial = "+mfaDevice+"\n")
	h.runner.Clients.Update(protocol.Settings{Profile: "mfa-base", Region: "us-east-1", EndpointURL: h.fake.URL, MaxAttempts: 1})
	asked := noPrompt(t, h)
	// As after a restart: the session comes back through import, the SDK has no credentials yet.
	old := &session.Session{
		Name: "dev", Command: protocol.CmdAssumeRole, Class: session.ClassRole, Expiration: now.Add(time.Minute),
		Credentials: aws.Credentials{AccessKeyID: "ASIAEXAMPLEKEY0WXYZ", SecretAccessKey: "secret-dev-0123456789", SessionToken: "token-dev-0123456789"},
		Source:      protocol.ReservedSessionName,
		Recipe:      &protocol.Recipe{Command: protocol.CmdAssumeRole, Params: json.RawMessage(`{"RoleArn":"` + roleArn + `","RoleSessionName":"dev"}`), Source: protocol.ReservedSessionName},
	}
	h.runner.Store.Put(old)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := h.runner.Remake(ctx, old)
	if asked.Load() != 0 {
		t.Fatalf("a refresh asked for %d MFA codes (Remake returned %v)", asked.Load(), err)
	}
	if err == nil {
		t.Fatal("re-made without the MFA code the base profile needs")
	}
}

// TestRemakeOfSelfSourcedSession: a session re-made from itself (AssumeRole with Session naming
// the session it replaces) has a recipe whose source is its own name. Refreshing it must not wait
// on its own refresh.
func TestRemakeOfSelfSourcedSession(t *testing.T) {
	h := newHarness(t)
	st := h.runner.Store
	st.SetWindow(aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute}, func() float64 { return 0 })
	st.SetHooks(session.Hooks{Remake: h.runner.Remake})
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev"})
	// A session that replaces the one that signed it has nothing left to be re-made with.
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "dev", "Session": "dev"})
	if old := stored(t, h, "dev"); old.Recipe != nil {
		t.Fatalf("self-sourced session has recipe %+v, want none", old.Recipe)
	}
	// Two sessions made from each other: a refresh signs with the other as it is, never waits on it.
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "aa"})
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "bb", "Session": "aa"})
	h.invoke(protocol.CmdAssumeRole, map[string]any{"RoleArn": roleArn, "RoleSessionName": "aa", "Session": "bb"})
	a, b := stored(t, h, "aa"), stored(t, h, "bb")
	if a.Recipe == nil || a.Recipe.Source != "bb" || b.Recipe == nil || b.Recipe.Source != "aa" {
		t.Fatalf("recipes a=%+v b=%+v, want each made from the other", a.Recipe, b.Recipe)
	}
	h.clock = ststest.Expiration.Add(-4 * time.Minute)
	done := make(chan error, 1)
	go func() {
		_, err := st.Fresh(context.Background(), "aa")
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Fresh of sessions made from each other never returned")
	}
	if r := lastRequest(t, h, "AssumeRole"); r.KeyID != b.Credentials.AccessKeyID {
		t.Fatalf("a re-made with key %s, want b's %s as it was", r.KeyID, b.Credentials.AccessKeyID)
	}
}
