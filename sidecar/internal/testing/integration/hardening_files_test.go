//go:build unix

package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecretFilesCannotWedge points the secret-file parameters at the sidecar's own stdin and at
// FIFOs, more of them at once than there are run slots: each is refused at once, nothing reaches
// STS, and the sidecar still answers sessions/list and shutdown, and exits on exit.
func TestSecretFilesCannotWedge(t *testing.T) {
	fake := startFake(t)
	p := startServe(t, scratchEnv(t))
	p.initialize(fakeSettings(fake))
	dir := t.TempDir()
	fifo := filepath.Join(dir, "token.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	web := func(path string) map[string]any {
		return map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "web", "WebIdentityTokenFile": path}
	}
	saml := func(path string) map[string]any { return map[string]any{"SAMLAssertionFile": path} }
	calls := []struct {
		command string
		params  map[string]any
		want    string
	}{
		{"AssumeRoleWithWebIdentity", web("/proc/self/fd/0"), "is in /proc"},
		{"AssumeRoleWithWebIdentity", web("/dev/stdin"), "is in /dev"},
		{"AssumeRoleWithWebIdentity", web(fifo), "named pipe (FIFO)"},
		{"AssumeRoleWithSAML", saml("/proc/self/fd/0"), "is in /proc"},
		{"AssumeRoleWithSAML", saml(fifo), "named pipe (FIFO)"},
	}
	// Twice over, all in flight together: more than the run slots a blocked read would fill.
	type pending struct {
		id   int64
		ch   <-chan *message
		want string
	}
	var sent []pending
	start := time.Now()
	for range 2 {
		for _, c := range calls {
			id, ch := p.request("tool/invoke", invokeParams(c.command, c.params))
			sent = append(sent, pending{id, ch, c.want})
		}
	}
	for _, s := range sent {
		e, d := mustError(t, p.await(s.id, s.ch), -32602)
		if d.Kind != "validation" || !strings.Contains(e.Message, s.want) || d.Hint == "" {
			t.Errorf("answered %q (data %+v), want a validation error saying %q with a hint", e.Message, d, s.want)
		}
	}
	// Generous: only a hang fails it.
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the refusals took %v", elapsed)
	}
	var l sessionList
	mustResult(t, p.call("sessions/list", nil), &l)
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the fake STS got %d requests", n)
	}
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// TestSecretFilesThatAreNotTokens points WebIdentityTokenFile and SAMLAssertionFile at files a
// prompt-injected model would like to read: the sidecar's own credentials file, a copy of it, the
// process environment. Each is refused before anything is sent, and neither the answer nor the log
// holds the file's content or its size.
func TestSecretFilesThatAreNotTokens(t *testing.T) {
	fake := startFake(t)
	env := scratchEnv(t)
	home := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	const canary = "CREDFILECANARY/q8Zr4Tn2Vw6Xy0Kd3Lm5Pj7Hg9Fs1AbExample"
	creds := "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + canary + "\n"
	dir := t.TempDir()
	copied := filepath.Join(dir, "credentials")
	if err := os.WriteFile(copied, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	oneWord := filepath.Join(dir, "one-word")
	if err := os.WriteFile(oneWord, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := filepath.Join(dir, "environ")
	if err := os.Symlink("/proc/self/environ", environ); err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile(filepath.Join(home, "credentials"))
	if err != nil {
		t.Fatal(err)
	}

	const envCanary = "ENVCANARY-5c1f0e9d7b3a"
	p := startServe(t, append(env, "SECRET_IN_ENV="+envCanary), "--log-level", "debug")
	settings := fakeSettings(fake)
	settings["logLevel"] = "debug"
	p.initialize(settings)
	web := func(path string, extra ...string) map[string]any {
		m := map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "web", "WebIdentityTokenFile": path}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		command string
		params  map[string]any
		size    int
		want    string
	}{
		{"the sidecar's own credentials", "AssumeRoleWithWebIdentity", web("~/credentials"), len(own), "WebIdentityTokenFile does not hold a JWT"},
		{"a credentials file", "AssumeRoleWithWebIdentity", web(copied), len(creds), "WebIdentityTokenFile does not hold a JWT"},
		{"one word", "AssumeRoleWithWebIdentity", web(oneWord), len(canary), "WebIdentityTokenFile does not hold a JWT"},
		{"a credentials file with ProviderId", "AssumeRoleWithWebIdentity", web(copied, "ProviderId", "www.amazon.com"), len(creds), "does not hold an OAuth 2.0 access token"},
		{"a credentials file as SAML", "AssumeRoleWithSAML", map[string]any{"SAMLAssertionFile": copied}, len(creds), "SAMLAssertionFile does not hold a SAML response"},
		{"the environment", "AssumeRoleWithWebIdentity", web(environ), 0, "into /proc"},
		{"the environment as SAML", "AssumeRoleWithSAML", map[string]any{"SAMLAssertionFile": "/proc/self/environ"}, 0, "is in /proc"},
	}
	var answers []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := p.call("tool/invoke", invokeParams(tt.command, tt.params))
			e, d := mustError(t, m, -32602)
			if !strings.Contains(e.Message, tt.want) || d.Hint == "" {
				t.Errorf("answered %q (data %+v), want %q and a hint", e.Message, d, tt.want)
			}
			if tt.size > 0 && regexp.MustCompile(`\b`+strconv.Itoa(tt.size)+`\b`).Match(m.Raw) {
				t.Errorf("the answer gives the file's size %d: %s", tt.size, m.Raw)
			}
			answers = append(answers, string(m.Raw))
		})
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the fake STS got %d requests", n)
	}
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	var check leakCheck
	check.add(canary, baseSecret, "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key", envCanary)
	for _, a := range answers {
		if s, ok := check.find([]byte(a)); ok {
			t.Errorf("an answer carries %.16q: %s", s, a)
		}
	}
	check.checkLines(t, "stderr", p.stderr.Bytes())
	if !strings.Contains(p.stderr.String(), `"command":"AssumeRoleWithWebIdentity"`) {
		t.Errorf("the log does not cover the calls, so its check means nothing")
	}
}
