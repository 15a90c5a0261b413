package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/peers"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

const motoAccount = "123456789012"

// startMoto starts moto's STS for the test (skipping or failing per peers when moto is missing).
func startMoto(t *testing.T) string {
	t.Helper()
	// Registered first, so it runs after moto has stopped: drops the connection peers used to see
	// whether moto was up, so no transport goroutine outlives the test.
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	return peers.Moto(t)
}

func motoSettings(endpoint string) map[string]any {
	return map[string]any{"endpointUrl": endpoint, "region": "us-east-1", "maxAttempts": 1, "profile": "test"}
}

func TestMoto(t *testing.T) {
	endpoint := startMoto(t)
	env := scratchEnv(t)

	t.Run("CallGetCallerIdentity", func(t *testing.T) {
		r := runCall(t, env, "GetCallerIdentity", "--endpoint-url", endpoint, "--profile", "test", "--region", "us-east-1")
		if r.code != 0 {
			t.Fatalf("exit code %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		out := string(r.stdout)
		if !strings.Contains(out, motoAccount) || !strings.Contains(out, "arn:aws:") {
			t.Errorf("output lacks the account %s or an ARN:\n%s", motoAccount, out)
		}
		if strings.Contains(out, baseSecret) || strings.Contains(string(r.stderr), baseSecret) {
			t.Error("the base profile's secret key was printed")
		}
	})

	t.Run("CallGetCallerIdentityJSON", func(t *testing.T) {
		r := runCall(t, env, "GetCallerIdentity", "--endpoint-url", endpoint, "--profile", "test", "--region", "us-east-1", "--json")
		if r.code != 0 {
			t.Fatalf("exit code %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		var res invokeResult
		if err := json.Unmarshal(r.stdout, &res); err != nil {
			t.Fatalf("--json output is not {text, data}: %v\n%s", err, r.stdout)
		}
		if got := str(t, res.Data, "account"); got != motoAccount {
			t.Errorf("data.account = %q, want %q", got, motoAccount)
		}
		if arn := str(t, res.Data, "arn"); !strings.HasPrefix(arn, "arn:aws:") {
			t.Errorf("data.arn = %q, want an ARN", arn)
		}
		if !strings.Contains(res.Text, motoAccount) {
			t.Errorf("text lacks the account: %q", res.Text)
		}
	})

	t.Run("CallUnknownCommandFails", func(t *testing.T) {
		r := runCall(t, env, "WhoAmI", "--endpoint-url", endpoint, "--profile", "test", "--region", "us-east-1", "--json")
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		var out struct {
			Error rpcError `json:"error"`
		}
		if err := json.Unmarshal(r.stdout, &out); err != nil || out.Error.Code != -32602 {
			t.Errorf("want a JSON error with code -32602, got (%v):\n%s", err, r.stdout)
		}
	})

	t.Run("ServeSession", func(t *testing.T) { motoServeSession(t, endpoint, env) })

	t.Run("ValidationKeepsServing", func(t *testing.T) {
		p := startServe(t, env)
		p.initialize(motoSettings(endpoint))
		bad := []struct {
			name    string
			command string
			params  any
			mention string
		}{
			{"misspelt param", "AssumeRole", map[string]any{"roleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"}, "RoleArn"},
			{"missing required", "AssumeRole", map[string]any{}, "RoleSessionName"},
			{"duration out of range", "AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 50000}, "43200"},
			{"wrong type", "GetAccessKeyInfo", map[string]any{"AccessKeyId": 12345}, "AccessKeyId"},
			{"unknown command", "WhoAmI", nil, "GetCallerIdentity"},
			{"bad enum", "GetWebIdentityToken", map[string]any{"Audience": []string{"a"}, "SigningAlgorithm": "HS256"}, "RS256"},
		}
		for _, c := range bad {
			m := p.call("tool/invoke", invokeParams(c.command, c.params))
			e, d := mustError(t, m, -32602)
			if d.Kind != "validation" {
				t.Errorf("%s: data.kind = %q, want validation: %s", c.name, d.Kind, m.Raw)
			}
			if !strings.Contains(e.Message, c.mention) {
				t.Errorf("%s: message does not mention %q: %q", c.name, c.mention, e.Message)
			}
			// The process keeps serving: the next call works.
			r := p.invoke("GetCallerIdentity", nil)
			if got := str(t, r.Data, "account"); got != motoAccount {
				t.Fatalf("after %s: GetCallerIdentity account %q, want %q", c.name, got, motoAccount)
			}
		}
		// Wrong method params (not tool params) are validation errors too.
		_, d := mustError(t, p.call("sessions/use", map[string]any{}), -32602)
		if d.Kind != "validation" {
			t.Errorf("sessions/use without name: data.kind = %q, want validation", d.Kind)
		}
		var l sessionList
		mustResult(t, p.call("sessions/list", nil), &l)
		if len(l.Sessions) != 0 || l.Active != "base" {
			t.Errorf("failed validations changed the sessions: %+v", l)
		}
		if !p.alive() {
			t.Fatal("the sidecar exited")
		}
		if code := p.shutdownAndExit(); code != 0 {
			t.Errorf("exit code %d after shutdown and exit, want 0", code)
		}
	})

	t.Run("StdinClosedWithoutShutdown", func(t *testing.T) {
		p := startServe(t, env)
		p.initialize(motoSettings(endpoint))
		p.invoke("GetCallerIdentity", nil)
		p.closeStdin()
		if code := p.waitExit(); code != 1 {
			t.Errorf("exit code %d after stdin closed without shutdown, want 1", code)
		}
	})

	t.Run("ExitWithoutShutdown", func(t *testing.T) {
		p := startServe(t, env)
		p.initialize(motoSettings(endpoint))
		p.notify("exit", nil)
		if code := p.waitExit(); code != 1 {
			t.Errorf("exit code %d after exit without shutdown, want 1", code)
		}
	})
}

// storedAs checks that a minting command's result names the session it was stored under and that
// data.session agrees, and returns the name.
func storedAs(t *testing.T, command string, r invokeResult, want string) string {
	t.Helper()
	name := str(t, r.Data, "session.name")
	if want != "" && name != want {
		t.Errorf("%s stored session %q, want %q", command, name, want)
	}
	if !strings.Contains(r.Text, "stored as session `"+name+"`") {
		t.Errorf("%s: text does not name the stored session %q:\n%s", command, name, r.Text)
	}
	return name
}

func motoServeSession(t *testing.T, endpoint string, env []string) {
	p := startServe(t, env)
	p.initialize(motoSettings(endpoint))

	r := p.invoke("GetCallerIdentity", nil)
	if !strings.Contains(r.Text, motoAccount) || str(t, r.Data, "account") != motoAccount {
		t.Errorf("GetCallerIdentity does not name account %s: %s", motoAccount, r.Text)
	}

	var sessions []string
	r = p.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"})
	sessions = append(sessions, storedAs(t, "AssumeRole", r, "dev"))
	if arn := str(t, r.Data, "session.arn"); !strings.Contains(arn, "assumed-role/Dev/dev") {
		t.Errorf("AssumeRole session ARN %q", arn)
	}

	saml := ststest.SAMLResponse(time.Now().Add(time.Hour), "arn:aws:iam::123456789012:role/Saml,arn:aws:iam::123456789012:saml-provider/Idp")
	r = p.invoke("AssumeRoleWithSAML", map[string]any{"SAMLAssertion": saml, "SessionName": "saml"})
	sessions = append(sessions, storedAs(t, "AssumeRoleWithSAML", r, "saml"))
	if arn := str(t, r.Data, "session.arn"); !strings.Contains(arn, "assumed-role/Saml/") {
		t.Errorf("AssumeRoleWithSAML session ARN %q, want the Saml role from the assertion", arn)
	}

	jwt := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "user-1", "aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}, "RS256")
	r = p.invoke("AssumeRoleWithWebIdentity", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "web", "WebIdentityToken": jwt})
	sessions = append(sessions, storedAs(t, "AssumeRoleWithWebIdentity", r, "web"))
	if arn := str(t, r.Data, "session.arn"); !strings.Contains(arn, "assumed-role/Web/web") {
		t.Errorf("AssumeRoleWithWebIdentity session ARN %q", arn)
	}

	r = p.invoke("GetAccessKeyInfo", map[string]any{"AccessKeyId": baseKeyID})
	if !strings.Contains(r.Text, motoAccount) || str(t, r.Data, "account") != motoAccount {
		t.Errorf("GetAccessKeyInfo does not name account %s: %s", motoAccount, r.Text)
	}

	r = p.invoke("GetFederationToken", map[string]any{"Name": "bob", "PolicyArns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}})
	sessions = append(sessions, storedAs(t, "GetFederationToken", r, "bob"))
	if arn := str(t, r.Data, "session.arn"); !strings.Contains(arn, "federated-user/bob") {
		t.Errorf("GetFederationToken session ARN %q", arn)
	}

	r = p.invoke("GetSessionToken", nil)
	sessions = append(sessions, storedAs(t, "GetSessionToken", r, ""))

	for _, s := range sessions {
		if s == "" {
			t.Fatalf("a minting command stored no session: %q", sessions)
		}
	}

	r = p.invoke("GetCallerIdentity", map[string]any{"Session": "dev"})
	if arn := str(t, r.Data, "arn"); !strings.Contains(arn, "assumed-role/Dev/dev") {
		t.Errorf("GetCallerIdentity as session dev: ARN %q, want assumed-role/Dev/dev", arn)
	}
	if !strings.Contains(r.Text, "assumed-role/Dev/dev") {
		t.Errorf("GetCallerIdentity as session dev: text lacks the ARN:\n%s", r.Text)
	}

	var l sessionList
	mustResult(t, p.call("sessions/list", nil), &l)
	for _, s := range sessions {
		if !slices.Contains(l.names(), s) {
			t.Errorf("sessions/list lacks %q: %q", s, l.names())
		}
	}
	if l.Active != "base" {
		t.Errorf("active session %q before sessions/use, want base", l.Active)
	}

	mustResult(t, p.call("sessions/use", map[string]any{"name": "dev"}), &l)
	if l.Active != "dev" {
		t.Errorf("active session %q after sessions/use dev", l.Active)
	}
	// Later calls without Session now run as dev.
	r = p.invoke("GetCallerIdentity", nil)
	if arn := str(t, r.Data, "arn"); !strings.Contains(arn, "assumed-role/Dev/dev") {
		t.Errorf("GetCallerIdentity after sessions/use dev: ARN %q", arn)
	}

	exportID, exportCh := p.request("sessions/export", map[string]any{"name": "dev"})
	em := p.await(exportID, exportCh)
	var ex exported
	mustResult(t, em, &ex)
	if ex.SecretAccessKey == "" || ex.SessionToken == "" || ex.AccessKeyID == "" {
		t.Fatalf("sessions/export dev lacks credentials: %s", em.Raw)
	}
	// What export returned was never shown anywhere else.
	for _, m := range p.messages() {
		if m == em {
			continue
		}
		for _, s := range []string{ex.SecretAccessKey, ex.SessionToken} {
			if bytes.Contains(m.Raw, []byte(s)) {
				t.Errorf("a secret of session dev appears outside sessions/export: %s", m.Raw)
			}
		}
	}
	for _, s := range []string{ex.SecretAccessKey, ex.SessionToken, saml, jwt, baseSecret} {
		if strings.Contains(p.stderr.String(), s) {
			t.Errorf("stderr carries a secret (%.12s…)", s)
		}
	}

	t.Run("AWSCLIWithExportedCredentials", func(t *testing.T) {
		aws := peers.AWSCLI(t)
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, aws, "sts", "get-caller-identity", "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json")
		cmd.Env = append(scratchEnv(t), "AWS_ACCESS_KEY_ID="+ex.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+ex.SecretAccessKey, "AWS_SESSION_TOKEN="+ex.SessionToken)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
		}
		var id struct{ Account, Arn string }
		if err := json.Unmarshal(out, &id); err != nil {
			t.Fatalf("aws output: %v\n%s", err, out)
		}
		if id.Account != motoAccount || !strings.Contains(id.Arn, "assumed-role/Dev/dev") {
			t.Errorf("the exported credentials are %+v to the AWS CLI, want the Dev role session", id)
		}
	})

	mustResult(t, p.call("sessions/forget", map[string]any{"name": "dev"}), &l)
	if slices.Contains(l.names(), "dev") {
		t.Errorf("sessions/forget dev: still listed: %q", l.names())
	}
	if l.Active != "base" {
		t.Errorf("active %q after forgetting the active session, want base", l.Active)
	}
	if _, d := mustError(t, p.call("sessions/export", map[string]any{"name": "dev"}), 1002); d.Kind != "session" {
		t.Errorf("export of a forgotten session: data.kind %q, want session", d.Kind)
	}

	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}
	if extra := p.extra(); len(extra) != 0 {
		t.Errorf("unexpected messages from the sidecar: %d, first %s", len(extra), extra[0].Raw)
	}
}
