package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"awsflow-sts/sidecar/internal/testing/rpctest"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// Generous bounds: the tests must not flake on a loaded two-core machine. They only bound waits so
// that a hang fails a test instead of the whole run; they measure nothing.
const (
	callTimeout  = 60 * time.Second // one request's response
	writeTimeout = 30 * time.Second // one frame written to the child's stdin
	exitTimeout  = 30 * time.Second // the child exiting once told to (or once stdin closes)
)

// binPath is the awsflow-sts binary under test.
var binPath string

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	bin, cleanup, err := rpctest.Binary(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		cleanup()
		os.Exit(1)
	}
	binPath = bin
	// Every test stops its children, reader goroutines, fake STS and moto before it returns, so
	// nothing may be left running here.
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		cleanup()
		os.Exit(code)
	}))
}

// repoRoot is the directory holding go.mod.
func repoRoot() (string, error) { return rpctest.ModuleRoot() }

// baseKeyID and baseSecret are the scratch profile's long-term key. The fake STS maps baseKeyID to
// the IAM user alice; moto accepts any key. The secret is a canary: it must never be printed.
const (
	baseKeyID  = ststest.BaseKeyID
	baseSecret = "BASESECRETCANARY/q8Zr4Tn2Vw6Xy0Kd3Lm5Pj7Hg9Fs1Ab"
)

// scratchEnv writes shared config and credentials files with a [default] and a [test] profile into
// a temporary directory and returns a child environment that uses only them: no AWS variables,
// proxies or home directory of the machine running the tests leak into the sidecar.
func scratchEnv(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	key := "aws_access_key_id = " + baseKeyID + "\naws_secret_access_key = " + baseSecret + "\n"
	if err := os.WriteFile(creds, []byte("[default]\n"+key+"\n[test]\n"+key), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[default]\nregion = us-east-1\n\n[profile test]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := cleanEnviron()
	return append(env,
		"HOME="+dir,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_CONFIG_FILE="+conf,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer = rpctest.Buffer

// callResult is what one `awsflow-sts call` run printed.
type callResult struct {
	code   int
	stdout []byte
	stderr []byte
}

// runCall runs `awsflow-sts call args...` to completion.
func runCall(t *testing.T, env []string, args ...string) callResult {
	t.Helper()
	return runCallInput(t, env, "", args...)
}

// runCallInput is runCall with stdin holding input.
func runCallInput(t *testing.T, env []string, input string, args ...string) callResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		// Never the developer's own OS keychain: the keychain path has its own test.
		args = append([]string{args[0], "--no-keychain"}, args[1:]...)
	}
	cmd := exec.CommandContext(ctx, binPath, append([]string{"call"}, args...)...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(input)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("awsflow-sts call %s did not finish within %v; stderr:\n%s", strings.Join(args, " "), callTimeout, stderr.Bytes())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run awsflow-sts call: %v", err)
	}
	return callResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.Bytes(), stderr: stderr.Bytes()}
}

// startFake starts the in-process fake STS; it is closed when the test ends, after the children
// started later have stopped.
func startFake(t *testing.T) *ststest.Server {
	t.Helper()
	fake := ststest.New()
	t.Cleanup(fake.Close)
	return fake
}

// fakeSettings are initialize settings pointing the sidecar at the fake STS.
func fakeSettings(fake *ststest.Server) map[string]any {
	return map[string]any{"endpointUrl": fake.URL, "region": "us-east-1", "maxAttempts": 1}
}

// cleanEnviron is this process's environment without what would point a child at this machine's
// own AWS identity or through a proxy: every AWS_ variable, *_PROXY and HOME.
func cleanEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "AWS_") || strings.HasSuffix(upper, "_PROXY") || upper == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return env
}
