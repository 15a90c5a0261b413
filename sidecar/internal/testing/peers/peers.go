// Package peers starts the real peers integration tests run against: moto's STS and the AWS CLI.
// Where a peer is missing the test skips and says why, unless AWSFLOW_REQUIRE_PEERS=1 (set by CI),
// where a missing peer fails the test instead.
package peers

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// missing skips, or fails where peers are required.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("AWSFLOW_REQUIRE_PEERS") == "1" {
		t.Fatalf("required peer missing: %s", msg)
	}
	t.Skipf("skipped: %s", msg)
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Python is the interpreter that has moto: $AWSFLOW_PYTHON, else python3.
func Python() string {
	if p := os.Getenv("AWSFLOW_PYTHON"); p != "" {
		return p
	}
	return "python3"
}

// Moto starts `python3 -m moto.server` on a free loopback port and returns its endpoint URL; it is
// stopped (with its process group) when the test ends.
func Moto(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath(Python())
	if err != nil {
		missing(t, "%s is not on PATH, so moto cannot run", Python())
	}
	if out, err := exec.Command(py, "-c", "import moto.server").CombinedOutput(); err != nil {
		missing(t, "moto is not installed for %s (pip install 'moto[server]'): %s", py, firstLine(out))
	}
	port := FreePort(t)
	cmd := exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // reaped here; the exit status of a killed server says nothing
		close(done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatal("moto exited before it was ready")
		default:
		}
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("moto did not answer within 30 s")
	return ""
}

// AWSCLI returns the path of the aws command.
func AWSCLI(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		missing(t, "the AWS CLI (aws) is not on PATH")
	}
	return p
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}
