package rpctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// pipes joins a process's stdout (read) and stdin (write) into one stream whose CloseWrite ends
// the stdin alone. Close closes both.
type pipes struct {
	R *os.File // our end of the child's stdout
	W *os.File // our end of the child's stdin
}

// Read reads from the child's stdout.
func (p pipes) Read(b []byte) (int, error) { return p.R.Read(b) }

// Write writes to the child's stdin.
func (p pipes) Write(b []byte) (int, error) { return p.W.Write(b) }

// SetWriteDeadline bounds writes to the child's stdin.
func (p pipes) SetWriteDeadline(t time.Time) error { return p.W.SetWriteDeadline(t) }

// CloseWrite closes the child's stdin: it reads end of input.
func (p pipes) CloseWrite() error { return p.W.Close() }

// Close closes both ends; closing one already closed is no error.
func (p pipes) Close() error {
	errW, errR := p.W.Close(), p.R.Close()
	if errors.Is(errW, os.ErrClosed) {
		errW = nil
	}
	if errors.Is(errR, os.ErrClosed) {
		errR = nil
	}
	return errors.Join(errW, errR)
}

// Process is a started child process (awsflow-sts serve) with a Conn on its stdin and stdout.
type Process struct {
	*Conn
	// Cmd is the started command; read its ProcessState only after Exited is closed.
	Cmd *exec.Cmd
	// Stdout holds every byte the child wrote to its stdout.
	Stdout *Buffer

	exited chan struct{}
}

// Start starts cmd (its Path, Args, Env, Dir, Stderr and SysProcAttr as the caller set them)
// with OS pipes as its stdin and stdout and a Conn on our ends. Options.Tee, when set, receives
// the child's stdout beside Process.Stdout.
func Start(cmd *exec.Cmd, opts Options) (*Process, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin = inR
	cmd.Stdout = outW
	err = cmd.Start()
	// The child has its own copies now; ours would keep its stdin open and hide its stdout's EOF.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	p := &Process{Cmd: cmd, Stdout: &Buffer{}, exited: make(chan struct{})}
	if opts.Tee != nil {
		opts.Tee = io.MultiWriter(p.Stdout, opts.Tee)
	} else {
		opts.Tee = p.Stdout
	}
	p.Conn = New(pipes{R: outR, W: inW}, opts)
	go func() {
		_ = cmd.Wait() // the exit status is read from ProcessState
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed once the child has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Alive reports whether the child is still running.
func (p *Process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Wait waits up to timeout for the child to exit, then for the Handler's answers in progress,
// and returns its exit code (-1 when a signal ended it).
func (p *Process) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.exited:
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s did not exit within %v", filepath.Base(p.Cmd.Path), timeout)
	}
	p.WaitAnswers()
	return p.Cmd.ProcessState.ExitCode(), nil
}

// Stop ends the child the way the extension does when it goes away: it closes the child's stdin
// and waits up to timeout for it to exit, killing it if it will not, then waits for the end of
// its stdout and closes the Conn. The error says what did not go as expected, including a framing
// error in the child's output.
func (p *Process) Stop(timeout time.Duration) error {
	var errs []error
	_ = p.CloseWrite() // a second close is a no-op
	select {
	case <-p.exited:
	case <-time.After(timeout):
		errs = append(errs, fmt.Errorf("%s did not exit within %v of its stdin closing; killed", filepath.Base(p.Cmd.Path), timeout))
		_ = p.Cmd.Process.Kill()
		<-p.exited
	}
	select {
	case <-p.Done():
	case <-time.After(timeout):
		errs = append(errs, fmt.Errorf("%s's stdout stayed open after it exited", filepath.Base(p.Cmd.Path)))
	}
	_ = p.Close() // unblocks the reader if it is still reading
	if err := p.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Binary returns the awsflow-sts binary to test: $AWSFLOW_STS_BIN when set, else one built from
// the module containing the working directory into a temporary directory, which cleanup removes.
func Binary(ctx context.Context) (bin string, cleanup func(), err error) {
	cleanup = func() {}
	if b := os.Getenv("AWSFLOW_STS_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			return "", cleanup, err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", cleanup, fmt.Errorf("AWSFLOW_STS_BIN: %w", err)
		}
		return abs, cleanup, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", cleanup, err
	}
	tmp, err := os.MkdirTemp("", "awsflow-sts-test-")
	if err != nil {
		return "", cleanup, err
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	bin = filepath.Join(tmp, "awsflow-sts")
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	} else if gr := os.Getenv("GOROOT"); gr != "" {
		goTool = filepath.Join(gr, "bin", "go")
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./sidecar/cmd/awsflow-sts")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", cleanup, fmt.Errorf("go build ./sidecar/cmd/awsflow-sts: %v\n%s", err, out)
	}
	return bin, cleanup, nil
}

// ModuleRoot walks up from the working directory to the directory holding go.mod.
func ModuleRoot() (string, error) {
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

// Buffer is a bytes.Buffer safe for one writer and concurrent readers: a child's stdout or
// stderr, read while the child runs.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends b.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// String returns what was written.
func (b *Buffer) String() string { return string(b.Bytes()) }

// Reset drops what was written.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = bytes.Buffer{}
}

// TestBinary is Binary for a test: the binary of AWSFLOW_STS_BIN, or one built for the test and
// removed after it. Under -short, a test that would have to build one is skipped, saying so.
func TestBinary(t testing.TB) string {
	t.Helper()
	if os.Getenv("AWSFLOW_STS_BIN") == "" && testing.Short() {
		t.Skip("builds the binary; set AWSFLOW_STS_BIN or run without -short")
	}
	bin, cleanup, err := Binary(context.Background())
	if err != nil {
		t.Fatalf("awsflow-sts binary: %v", err)
	}
	t.Cleanup(cleanup)
	return bin
}
