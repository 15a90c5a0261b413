package integration

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
)

// localSTSProc is a running `awsflow-sts localsts` and what its first stdout line announced.
type localSTSProc struct {
	endpoint        string
	region          string
	account         string
	accessKeyID     string
	secretAccessKey string
	stderr          *lockedBuffer // its debug log, checked for secrets
}

// startLocalSTS starts `awsflow-sts localsts` with the built-in demo world, logging at debug level,
// and with any further flags in args; it is stopped when the test ends.
func startLocalSTS(t *testing.T, args ...string) *localSTSProc {
	t.Helper()
	ls := &localSTSProc{stderr: &lockedBuffer{}}
	cmd := exec.Command(binPath, append([]string{"localsts", "--addr", "127.0.0.1:0", "--log-level", "debug"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = ls.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start awsflow-sts localsts: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait() // ends once the signal lands; its status says nothing here
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("awsflow-sts localsts printed no first line: %v\n%s", err, ls.stderr.String())
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("the first line of awsflow-sts localsts is not JSON: %v: %q", err, line)
	}
	ls.endpoint, ls.region, ls.account = info["endpoint"], info["region"], info["account"]
	ls.accessKeyID, ls.secretAccessKey = info["accessKeyId"], info["secretAccessKey"]
	if ls.endpoint == "" || ls.accessKeyID == "" || ls.secretAccessKey == "" || ls.account == "" {
		t.Fatalf("the first line lacks the endpoint or the demo identity: %s", line)
	}
	return ls
}

// profileHome is a scratch HOME with an AWS config file of its own, for profiles whose base
// identity comes from a credential_process script or from IAM Identity Center.
type profileHome struct {
	dir    string // scripts live here
	home   string
	config string
}

func newProfileHome(t *testing.T) *profileHome {
	t.Helper()
	dir := t.TempDir()
	h := &profileHome{dir: dir, home: filepath.Join(dir, "home"), config: filepath.Join(dir, "config")}
	if err := os.MkdirAll(filepath.Join(h.home, ".aws", "sso", "cache"), 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

// env is scratchEnv's clean environment with this HOME and config file, and extra variables.
func (h *profileHome) env(t *testing.T, extra ...string) []string {
	return append(append(scratchEnv(t), "HOME="+h.home, "AWS_CONFIG_FILE="+h.config), extra...)
}

// writeConfig writes the AWS config file.
func (h *profileHome) writeConfig(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(h.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// script writes an executable /bin/sh script and returns its path. It writes a new file and renames
// it into place, so a script replaced mid-test is never executed half-written.
func (h *profileHome) script(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(h.dir, name)
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// cacheSSOToken writes the token cache file `aws sso login` leaves for an sso-session: the SDK
// reads ~/.aws/sso/cache/<hex SHA-1 of the session name>.json (for a legacy profile without
// sso_session the key is its sso_start_url instead).
func (h *profileHome) cacheSSOToken(t *testing.T, session, token, startURL string, expiresAt time.Time) {
	t.Helper()
	sum := sha1.Sum([]byte(session))
	b, err := json.Marshal(map[string]string{
		"accessToken": token,
		"expiresAt":   expiresAt.UTC().Format(time.RFC3339),
		"region":      "us-east-1",
		"startUrl":    startURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// callerARN runs GetCallerIdentity through tool/invoke and returns the ARN it answers.
func callerARN(t *testing.T, p *proc) string {
	t.Helper()
	return str(t, p.invoke("GetCallerIdentity", nil).Data, "arn")
}

// useProfile switches the running sidecar to another profile, as the extension does when the user
// changes the setting.
func useProfile(t *testing.T, p *proc, endpoint, profile string) {
	t.Helper()
	mustResult(t, p.call("settings/update", map[string]any{"settings": map[string]any{"profile": profile, "endpointUrl": endpoint}}), nil)
}

// checkNoSecrets fails if any secret reached the sidecar's responses or stderr.
func checkNoSecrets(t *testing.T, p *proc, secrets ...string) {
	t.Helper()
	var check leakCheck
	check.add(secrets...)
	for _, m := range p.messages() {
		if s, ok := check.find(m.Raw); ok {
			t.Errorf("a response carries a secret (%.16s…): %s", s, tail(string(m.Raw), 600))
		}
	}
	check.checkLines(t, "the sidecar's stderr", p.stderr.Bytes())
}

// TestCredentialProcessProfile runs the sidecar on profiles whose base identity is a
// credential_process, against a local STS process: a script printing the demo user's keys, one that
// fails, and one that prints broken JSON around the secret.
func TestCredentialProcessProfile(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("credential_process scripts need /bin/sh, which this machine lacks")
	}
	ls := startLocalSTS(t)
	h := newProfileHome(t)
	keys := `{"Version":1,"AccessKeyId":"` + ls.accessKeyID + `","SecretAccessKey":"` + ls.secretAccessKey + `"}`
	good := h.script(t, "alice-creds", "printf '%s\\n' '"+keys+"'\n")
	flaky := h.script(t, "flaky-creds", "echo 'credential helper: not signed in' >&2\nexit 1\n")
	garbled := h.script(t, "garbled-creds", "printf '%s\\n' '"+strings.TrimSuffix(keys, "}")+",}'\n")
	// A helper that reads its stdin and talks on stderr must get neither the protocol's input nor
	// the sidecar's log.
	chatty := h.script(t, "chatty-creds", "read -r line || true\necho 'chatty helper says: "+ls.secretAccessKey+"' >&2\nprintf '%s\\n' '"+keys+"'\n")
	h.writeConfig(t, "[profile cp-alice]\ncredential_process = "+good+"\nregion = us-east-1\n\n"+
		"[profile cp-chatty]\ncredential_process = "+chatty+"\nregion = us-east-1\n\n"+
		"[profile cp-flaky]\ncredential_process = "+flaky+"\nregion = us-east-1\n\n"+
		"[profile cp-garbled]\ncredential_process = "+garbled+"\nregion = us-east-1\n")
	env := h.env(t)
	aliceARN := "arn:aws:iam::" + ls.account + ":user/alice"

	p := startServe(t, env, "--log-level", "debug")
	p.initialize(map[string]any{"profile": "cp-alice", "endpointUrl": ls.endpoint})

	t.Run("the process's keys sign the call", func(t *testing.T) {
		if arn := callerARN(t, p); arn != aliceARN {
			t.Fatalf("GetCallerIdentity answered %s, want %s", arn, aliceARN)
		}
	})

	t.Run("a process that reads stdin and writes stderr gets neither of the sidecar's", func(t *testing.T) {
		useProfile(t, p, ls.endpoint, "cp-chatty")
		for range 2 { // a helper holding the protocol's stdin would swallow the second request
			if arn := callerARN(t, p); arn != aliceARN {
				t.Fatalf("GetCallerIdentity answered %s, want %s", arn, aliceARN)
			}
		}
		if strings.Contains(p.stderr.String(), "chatty helper says") {
			t.Error("the helper's stderr reached the sidecar's log")
		}
		useProfile(t, p, ls.endpoint, "cp-alice")
	})

	t.Run("a failing process is CredentialsUnavailable, and a fixed one works without a restart", func(t *testing.T) {
		useProfile(t, p, ls.endpoint, "cp-flaky")
		e, d := mustError(t, p.call("tool/invoke", invokeParams("GetCallerIdentity", nil)), int(protocol.CodeCredentialsUnavailable))
		if d.Kind != "credentials" || !strings.Contains(d.Hint, "credential_process command in a terminal") || !strings.Contains(e.Message, "cp-flaky") {
			t.Errorf("error %q, data %+v; want kind credentials, a hint, and the profile named", e.Message, d)
		}
		if !p.alive() {
			t.Fatal("the sidecar exited after the credential_process failed")
		}
		h.script(t, "flaky-creds", "printf '%s\\n' '"+keys+"'\n") // the user signs in to the helper
		if arn := callerARN(t, p); arn != aliceARN {
			t.Fatalf("after the helper recovered, GetCallerIdentity answered %s, want %s", arn, aliceARN)
		}
	})

	t.Run("output that is not JSON is CredentialsUnavailable without quoting it", func(t *testing.T) {
		useProfile(t, p, ls.endpoint, "cp-garbled")
		e, d := mustError(t, p.call("tool/invoke", invokeParams("GetCallerIdentity", nil)), int(protocol.CodeCredentialsUnavailable))
		if d.Kind != "credentials" || !strings.Contains(e.Message, "cp-garbled") {
			t.Errorf("error %q, data %+v; want kind credentials and the profile named", e.Message, d)
		}
		useProfile(t, p, ls.endpoint, "cp-alice")
		if arn := callerARN(t, p); arn != aliceARN {
			t.Fatalf("back on cp-alice, GetCallerIdentity answered %s", arn)
		}
	})

	t.Run("the call subcommand uses the profile too", func(t *testing.T) {
		res := runCall(t, env, "GetCallerIdentity", "--profile", "cp-alice", "--endpoint-url", ls.endpoint, "--json")
		if res.code != 0 || !strings.Contains(string(res.stdout), aliceARN) {
			t.Fatalf("call exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		var check leakCheck
		check.add(ls.secretAccessKey)
		check.checkLines(t, "call's stdout", res.stdout)
		check.checkLines(t, "call's stderr", res.stderr)
	})

	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("the sidecar exited %d", code)
	}
	checkNoSecrets(t, p, ls.secretAccessKey)
}

// TestSSOProfile runs the sidecar on IAM Identity Center profiles (sso_session, sso_account_id,
// sso_role_name) whose token cache holds the local STS's demo access token, with the portal's
// endpoint taken from AWS_ENDPOINT_URL_SSO (or a services section) and STS's from the settings.
func TestSSOProfile(t *testing.T) {
	ls := startLocalSTS(t)
	h := newProfileHome(t)
	const startURL = "https://localsts.example/start"
	session := func(name string) string {
		return "[sso-session " + name + "]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n"
	}
	profile := func(name, sess, account string, more ...string) string {
		return "[profile " + name + "]\nsso_session = " + sess + "\nsso_account_id = " + account +
			"\nsso_role_name = " + localsts.DemoSSOPermissionSet + "\nregion = us-east-1\n" + strings.Join(more, "") + "\n"
	}
	h.writeConfig(t, profile("sso-dev", "dev", localsts.MemberAccount)+
		profile("sso-lapsed", "lapsed", localsts.MemberAccount)+
		profile("sso-unassigned", "dev", localsts.DemoAccount)+
		profile("sso-services", "dev", localsts.MemberAccount, "services = localsts\n")+
		session("dev")+session("lapsed")+
		"[services localsts]\nsso =\n  endpoint_url = "+ls.endpoint+"\n")
	h.cacheSSOToken(t, "dev", localsts.DemoSSOAccessToken, startURL, time.Now().Add(8*time.Hour))
	h.cacheSSOToken(t, "lapsed", localsts.DemoSSOAccessToken, startURL, time.Now().Add(-time.Hour))
	wantARN := "arn:aws:sts::" + localsts.MemberAccount + ":assumed-role/" + localsts.DemoSSORole + "/" + localsts.DemoSSOUser

	callEnv := h.env(t) // no AWS_ENDPOINT_URL_SSO: the sso-services profile names the endpoint itself
	p := startServe(t, h.env(t, "AWS_ENDPOINT_URL_SSO="+ls.endpoint), "--log-level", "debug")
	p.initialize(map[string]any{"profile": "sso-dev", "endpointUrl": ls.endpoint})

	t.Run("the cached token gets the permission set's role", func(t *testing.T) {
		r := p.invoke("GetCallerIdentity", nil)
		if arn, acct := str(t, r.Data, "arn"), str(t, r.Data, "account"); arn != wantARN || acct != localsts.MemberAccount {
			t.Fatalf("GetCallerIdentity answered %s in %s, want %s", arn, acct, wantARN)
		}
	})

	t.Run("an expired token is SignInRequired, and a new login works without a restart", func(t *testing.T) {
		useProfile(t, p, ls.endpoint, "sso-lapsed")
		e, d := mustError(t, p.call("tool/invoke", invokeParams("GetCallerIdentity", nil)), int(protocol.CodeSignInRequired))
		if d.Kind != protocol.KindSignin || !strings.Contains(e.Message, "sso-lapsed") || !strings.Contains(e.Message, "(lapsed)") || !strings.Contains(d.Hint, "signed in") {
			t.Errorf("error %q, data %+v; want kind signin, the profile and its sso-session named and a hint to retry once signed in", e.Message, d)
		}
		if !p.alive() {
			t.Fatal("the sidecar exited after the SSO token expired")
		}
		h.cacheSSOToken(t, "lapsed", localsts.DemoSSOAccessToken, startURL, time.Now().Add(8*time.Hour)) // aws sso login
		if arn := callerARN(t, p); arn != wantARN {
			t.Fatalf("after a new login, GetCallerIdentity answered %s, want %s", arn, wantARN)
		}
	})

	t.Run("an account the user is not assigned is refused, and the sidecar carries on", func(t *testing.T) {
		useProfile(t, p, ls.endpoint, "sso-unassigned")
		m := p.call("tool/invoke", invokeParams("GetCallerIdentity", nil))
		if m.Error == nil || m.Error.Code != int(protocol.CodeCredentialsUnavailable) || !strings.Contains(m.Error.Message, "No access") ||
			!strings.Contains(m.Error.Message, "sso-unassigned") {
			t.Fatalf("want CredentialsUnavailable naming the profile and the portal's refusal (ForbiddenException: No access), got %s", m.Raw)
		}
		useProfile(t, p, ls.endpoint, "sso-dev")
		if arn := callerARN(t, p); arn != wantARN {
			t.Fatalf("back on sso-dev, GetCallerIdentity answered %s", arn)
		}
	})

	t.Run("a services section instead of AWS_ENDPOINT_URL_SSO", func(t *testing.T) {
		res := runCall(t, callEnv, "GetCallerIdentity", "--profile", "sso-services", "--endpoint-url", ls.endpoint, "--json")
		if res.code != 0 || !strings.Contains(string(res.stdout), wantARN) {
			t.Fatalf("call exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		var check leakCheck
		check.add(localsts.DemoSSOAccessToken)
		check.checkLines(t, "call's stdout", res.stdout)
		check.checkLines(t, "call's stderr", res.stderr)
	})

	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("the sidecar exited %d", code)
	}
	checkNoSecrets(t, p, localsts.DemoSSOAccessToken)
	var check leakCheck
	check.add(localsts.DemoSSOAccessToken)
	check.checkLines(t, "the local STS's debug log", ls.stderr.Bytes())
}
