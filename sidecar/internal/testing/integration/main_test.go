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
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

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
	bin, tmp, err := binary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
		os.Exit(1)
	}
	binPath = bin
	// Every test stops its children, reader goroutines, fake STS and moto before it returns, so
	// nothing may be left running here.
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
		os.Exit(code)
	}))
}

// binary returns $AWSFLOW_STS_BIN, or builds the sidecar into a temporary directory (returned so
// that it can be removed).
func binary() (bin, tmp string, err error) {
	if b := os.Getenv("AWSFLOW_STS_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			return "", "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", "", fmt.Errorf("AWSFLOW_STS_BIN: %w", err)
		}
		return abs, "", nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", "", err
	}
	tmp, err = os.MkdirTemp("", "awsflow-sts-integration-")
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(tmp, "awsflow-sts")
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	} else if gr := os.Getenv("GOROOT"); gr != "" {
		goTool = filepath.Join(gr, "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./sidecar/cmd/awsflow-sts")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", tmp, fmt.Errorf("go build ./sidecar/cmd/awsflow-sts: %v\n%s", err, out)
	}
	return bin, tmp, nil
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

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
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "AWS_") || strings.HasSuffix(upper, "_PROXY") || upper == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+dir,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_CONFIG_FILE="+conf,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *lockedBuffer) String() string { return string(b.Bytes()) }

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
