package integration

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// faultBound is how long a call against a broken endpoint may take before the test calls it hung:
// generous, the request timeout under test is 1 s.
const faultBound = 30 * time.Second

// maxHugeRSS is the most memory the sidecar may have used after a 200 MB answer.
const maxHugeRSS = 150 << 20

// faultSettings point the sidecar at fake with retries on (so a retry would show in the fake's
// request count) and a 1-s request timeout.
func faultSettings(fake *ststest.Server) map[string]any {
	s := fakeSettings(fake)
	s["maxAttempts"] = 3
	s["requestTimeoutSeconds"] = 1
	return s
}

// invokeErr runs tool/invoke, fails the test unless it is answered within faultBound with an
// error of kind, and returns the error's message and hint.
func invokeErr(t *testing.T, p *proc, command string, params any, code int, kind string) (msg, hint string, took time.Duration) {
	t.Helper()
	start := time.Now()
	_, ch := p.request("tool/invoke", invokeParams(command, params))
	timer := time.NewTimer(faultBound)
	defer timer.Stop()
	var m *message
	select {
	case m = <-ch:
	case <-timer.C:
		t.Fatalf("%s was not answered within %v: the call hangs%s", command, faultBound, p.diag())
	}
	took = time.Since(start)
	e, d := mustError(t, m, code)
	if d.Kind != kind {
		t.Fatalf("%s answered kind %q, want %q: %s", command, d.Kind, kind, m.Raw)
	}
	return e.Message, d.Hint, took
}

// peakRSS is the most resident memory the process has used (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to measure memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestEndpointFaults: an endpoint that hangs or drips is given up on after the request timeout (kind
// network); one that answers HTML, garbage, XML cut short or 200 MB is reported as not STS (kind
// endpoint) after one request, not retried, and without the answer reaching memory.
func TestEndpointFaults(t *testing.T) {
	tests := []struct {
		fault ststest.Fault
		name  string
		code  int
		kind  string
		// want are fragments the message or hint must hold.
		want []string
		// once: the answer is final, so the endpoint is asked exactly once.
		once bool
	}{
		{ststest.Hang, "Hang", 1005, "network", []string{"did not answer within 1 s", "awsflowSts.requestTimeoutSeconds"}, false},
		{ststest.Drip, "Drip", 1005, "network", []string{"did not answer within 1 s", "awsflowSts.requestTimeoutSeconds"}, false},
		{ststest.Huge, "Huge", 1006, "endpoint", []string{"larger than", "awsflowSts.endpointUrl", "does not implement GetCallerIdentity"}, true},
		{ststest.Garbage, "Garbage", 1006, "endpoint", []string{"not XML", "awsflowSts.endpointUrl", "does not implement GetCallerIdentity"}, true},
		{ststest.Truncated, "Truncated", 1006, "endpoint", []string{"cut short", "awsflowSts.endpointUrl"}, true},
		{ststest.HTML500, "HTML500", 1006, "endpoint", []string{"HTML page", "HTTP 500", "awsflowSts.endpointUrl"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t)
			p := startServe(t, scratchEnv(t))
			settings := faultSettings(fake)
			if tt.kind != "network" {
				settings["requestTimeoutSeconds"] = 30 // a fast answer, even on a loaded machine
			}
			p.initialize(settings)
			fake.Inject("GetCallerIdentity", tt.fault)

			msg, hint, took := invokeErr(t, p, "GetCallerIdentity", nil, tt.code, tt.kind)
			t.Logf("%s: answered kind %q after %v: %s", tt.name, tt.kind, took.Round(time.Millisecond), msg)
			for _, w := range tt.want {
				if !strings.Contains(msg+"\n"+hint, w) {
					t.Errorf("the error does not say %q:\n%s\nhint: %s", w, msg, hint)
				}
			}
			if !strings.Contains(msg, fake.URL) {
				t.Errorf("the error does not name the endpoint %s:\n%s", fake.URL, msg)
			}
			if n := len(fake.Requests()); tt.once && n != 1 {
				t.Errorf("the endpoint was asked %d times, want once: an answer that is not STS is not retried", n)
			}
			if tt.fault == ststest.Huge {
				rss := peakRSS(t, p.cmd.Process.Pid)
				t.Logf("peak RSS after a %d MB answer: %.1f MB", ststest.HugeBytes>>20, float64(rss)/(1<<20))
				if rss > maxHugeRSS {
					t.Errorf("peak RSS %d MB after a huge answer, want under %d MB", rss>>20, maxHugeRSS>>20)
				}
			}
			// The sidecar still works once the endpoint behaves again (given time for a loaded machine).
			fake.Inject("GetCallerIdentity", ststest.NoFault)
			s := faultSettings(fake)
			s["requestTimeoutSeconds"] = 30
			if m := p.call("settings/update", map[string]any{"settings": s}); m.Error != nil {
				t.Fatalf("settings/update: %s", m.Raw)
			}
			if r := p.invoke("GetCallerIdentity", nil); !strings.Contains(r.Text, ststest.Account) {
				t.Errorf("GetCallerIdentity after the fault does not name the account:\n%s", r.Text)
			}
		})
	}
}

// TestThrottlingIsRetried: a throttled call is retried by the SDK's retryer, as before.
func TestThrottlingIsRetried(t *testing.T) {
	fake := startFake(t)
	p := startServe(t, scratchEnv(t))
	s := fakeSettings(fake)
	s["maxAttempts"] = 3
	p.initialize(s)
	fake.Fail("GetCallerIdentity", ststest.Failure{Status: 400, Code: "Throttling", Message: "Rate exceeded"})

	_, hint, _ := invokeErr(t, p, "GetCallerIdentity", nil, 1001, "aws")
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("a throttled call was sent %d times, want 3 (maxAttempts)", n)
	}
	if !strings.Contains(hint, "throttling") {
		t.Errorf("hint does not say STS is throttling: %s", hint)
	}
}

// TestDecodeAuthorizationMessageOnMoto: moto lacks DecodeAuthorizationMessage and answers an HTML
// 500 page; that is reported as an endpoint without the operation, after one request.
func TestDecodeAuthorizationMessageOnMoto(t *testing.T) {
	moto := startMoto(t)
	target, err := url.Parse(moto)
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{}
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		counting.Close()
		proxy.Transport.(*http.Transport).CloseIdleConnections()
	})

	p := startServe(t, scratchEnv(t))
	s := motoSettings(counting.URL)
	s["maxAttempts"] = 3
	p.initialize(s)
	msg, hint, _ := invokeErr(t, p, "DecodeAuthorizationMessage", map[string]any{"EncodedMessage": "abc123encoded"}, 1006, "endpoint")
	if !strings.Contains(msg, counting.URL) || !strings.Contains(hint, "does not implement DecodeAuthorizationMessage") {
		t.Errorf("the error does not name the endpoint and the operation:\n%s\nhint: %s", msg, hint)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("moto was asked %d times, want once", n)
	}
}

// TestCredentialProcessDiesWithSidecar: a credential_process still running when the sidecar is
// killed with SIGKILL dies with it, and so does what it started.
func TestCredentialProcessDiesWithSidecar(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	// The script and the sleep it starts each write their pid, then wait far longer than the test.
	body := fmt.Sprintf("#!/bin/sh\nsleep 300 &\necho $! > %[1]s/sleep.pid\necho $$ > %[1]s/script.tmp && mv %[1]s/script.tmp %[1]s/script.pid\nwait\n", dir)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	env := scratchEnv(t)
	conf := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_CONFIG_FILE="); ok {
			conf = v
		}
	}
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, "\n[profile proc]\nregion = us-east-1\ncredential_process = %s\n", script)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	fake := startFake(t)
	p := startServe(t, env)
	s := fakeSettings(fake)
	s["profile"] = "proc"
	p.initialize(s)
	p.request("tool/invoke", invokeParams("GetCallerIdentity", nil)) // never answered: the sidecar is killed

	var pids []int
	deadline := time.Now().Add(faultBound)
	for _, name := range []string{"script.pid", "sleep.pid"} {
		for {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
				pids = append(pids, pid)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the credential_process did not start within %v%s", faultBound, p.diag())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Cleanup(func() {
		for _, pid := range pids {
			if proc, err := os.FindProcess(pid); err == nil && running(pid) {
				_ = proc.Kill() // a survivor of a failed run
			}
		}
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited

	deadline = time.Now().Add(faultBound)
	for _, pid := range pids {
		for running(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d of the credential_process still runs %v after the sidecar was killed", pid, faultBound)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// running tells whether pid is a live process (a zombie waiting for its reaper is dead).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(b), ')'); err == nil && i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return err == nil
}
