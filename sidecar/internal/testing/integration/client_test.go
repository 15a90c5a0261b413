package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/rpctest"
)

// message is one JSON-RPC message read from the sidecar's stdout; raw is its body as it arrived.
type message = rpctest.Message

// rpcError is a JSON-RPC error object.
type rpcError = rpctest.Error

// errorData is the data member of the sidecar's errors.
type errorData struct {
	Kind      string `json:"kind"`
	AWSCode   string `json:"awsCode"`
	RequestID string `json:"requestId"`
	Hint      string `json:"hint"`
	Command   string `json:"command"`
}

// invokeResult is the result of tool/invoke.
type invokeResult struct {
	Text string          `json:"text"`
	Data json.RawMessage `json:"data"`
}

// proc is a running `awsflow-sts serve` with the framed JSON-RPC test client on its stdin and
// stdout (package rpctest), failing the test where the client returns an error.
type proc struct {
	*rpctest.Process
	t      *testing.T
	cmd    *exec.Cmd
	stdout *rpctest.Buffer // every byte the child wrote to stdout
	stderr *rpctest.Buffer // every byte the child wrote to stderr
	exited <-chan struct{}

	mu sync.Mutex
	// answer replies to the sidecar's mfa/tokenCode requests; nil answers MethodNotFound, as a
	// client that cannot prompt does.
	answer   func(m *message) (result any, err *rpcError)
	stopOnce sync.Once
}

// startServe starts `awsflow-sts serve args...` with env; it is stopped when the test ends.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stderr: &rpctest.Buffer{}}
	cmd := exec.Command(binPath, append([]string{"serve"}, args...)...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	cmd.Stderr = p.stderr
	started, err := rpctest.Start(cmd, rpctest.Options{Handler: p.reply, IDBase: 100, WriteTimeout: writeTimeout})
	if err != nil {
		t.Fatalf("start awsflow-sts serve: %v", err)
	}
	p.Process, p.cmd, p.stdout, p.exited = started, cmd, started.Stdout, started.Exited()
	t.Cleanup(p.stop)
	return p
}

// frame wraps body in a Content-Length header.
func frame(body []byte) []byte { return rpctest.Frame(body) }

// writeRaw writes bytes to the child's stdin as they are.
func (p *proc) writeRaw(b []byte) error { return p.WriteRaw(b) }

// mustWrite writes raw bytes, failing the test if the child does not take them.
func (p *proc) mustWrite(b []byte) {
	p.t.Helper()
	if err := p.writeRaw(b); err != nil {
		p.t.Fatalf("write to the sidecar: %v%s", err, p.diag())
	}
}

// send writes msg as one frame.
func (p *proc) send(msg any) {
	p.t.Helper()
	body, err := json.Marshal(msg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mustWrite(frame(body))
}

// expect registers interest in the response with this id; call it before writing the request.
func (p *proc) expect(id int64) <-chan *message { return p.Expect(id) }

// request sends a request with a fresh id and returns the id and where its response will arrive.
func (p *proc) request(method string, params any) (int64, <-chan *message) {
	p.t.Helper()
	id, ch, err := p.Request(method, params)
	if err != nil {
		p.t.Fatalf("write to the sidecar: %v%s", err, p.diag())
	}
	return id, ch
}

// notify sends a notification.
func (p *proc) notify(method string, params any) {
	p.t.Helper()
	if err := p.Notify(method, params); err != nil {
		p.t.Fatalf("write to the sidecar: %v%s", err, p.diag())
	}
}

// await waits for the response on ch.
func (p *proc) await(id int64, ch <-chan *message) *message {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	m, err := p.Await(ctx, ch)
	switch {
	case errors.Is(err, rpctest.ErrClosed):
		p.t.Fatalf("the sidecar's stdout ended before the response to id %d%s", id, p.diag())
	case err != nil:
		p.t.Fatalf("no response to id %d within %v%s", id, callTimeout, p.diag())
	}
	return m
}

// call sends a request and waits for its response.
func (p *proc) call(method string, params any) *message {
	p.t.Helper()
	id, ch := p.request(method, params)
	m := p.await(id, ch)
	if m.JSONRPC != "2.0" {
		p.t.Errorf("response %s lacks \"jsonrpc\": \"2.0\"", m.Raw)
	}
	return m
}

// invoke runs tool/invoke and returns the successful result.
func (p *proc) invoke(command string, params any) invokeResult {
	p.t.Helper()
	return mustInvokeResult(p.t, p.call("tool/invoke", invokeParams(command, params)), command)
}

func invokeParams(command string, params any) map[string]any {
	in := map[string]any{"command": command}
	if params != nil {
		in["params"] = params
	}
	return in
}

// initialize sends initialize with settings and checks the answer.
func (p *proc) initialize(settings map[string]any) {
	p.t.Helper()
	var res struct {
		ServerInfo struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
		ProtocolVersion int      `json:"protocolVersion"`
		Commands        []string `json:"commands"`
	}
	mustResult(p.t, p.call("initialize", map[string]any{
		"clientInfo": map[string]any{"name": "integration-test", "version": "1"},
		"settings":   settings,
	}), &res)
	if res.ServerInfo.Name != "awsflow-sts" || res.ServerInfo.Version == "" || res.ProtocolVersion != 1 || len(res.Commands) != 14 {
		p.t.Fatalf("initialize answered %+v; want server awsflow-sts with a version, protocol 1 and 14 commands", res)
	}
}

// shutdownAndExit sends shutdown and exit and returns the exit code.
func (p *proc) shutdownAndExit() int {
	p.t.Helper()
	m := p.call("shutdown", nil)
	if m.Error != nil || string(m.Result) != "null" {
		p.t.Errorf("shutdown answered %s, want a null result", m.Raw)
	}
	p.notify("exit", nil)
	return p.waitExit()
}

// closeStdin closes the child's stdin (end of input).
func (p *proc) closeStdin() { _ = p.CloseWrite() }

// waitExit waits for the child to exit and returns its exit code.
func (p *proc) waitExit() int {
	p.t.Helper()
	code, err := p.Wait(exitTimeout)
	if err != nil {
		p.t.Fatalf("the sidecar did not exit within %v%s", exitTimeout, p.diag())
	}
	return code
}

// alive reports whether the child is still running.
func (p *proc) alive() bool { return p.Alive() }

// stop ends the child (closing stdin, killing it if it will not exit) and waits for the reader.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		if err := p.Stop(exitTimeout); err != nil {
			p.t.Errorf("%v", err)
		}
		if p.t.Failed() {
			p.t.Logf("sidecar stderr:\n%s", tail(p.stderr.String(), 8000))
		}
	})
}

// framingError is the first framing or JSON error seen in the child's output.
func (p *proc) framingError() error { return p.Err() }

// messages returns every message read so far.
func (p *proc) messages() []*message { return p.Messages() }

// reply answers one mfa/tokenCode request of the sidecar.
func (p *proc) reply(_ context.Context, m *message) (any, *rpcError) {
	p.mu.Lock()
	answer := p.answer
	p.mu.Unlock()
	if m.Method != protocol.MethodMfaTokenCode || answer == nil {
		return nil, &rpcError{Code: rpctest.CodeMethodNotFound, Message: "method not found: " + m.Method}
	}
	return answer(m)
}

// expected is true for what the sidecar may send of its own: sessions/changed notifications and
// mfa/tokenCode requests.
func expected(m *message) bool {
	return (m.Method == protocol.MethodSessionsChanged && m.IsNotification()) || (m.Method == protocol.MethodMfaTokenCode && m.IsRequest())
}

// notifications returns the sidecar's notifications and requests so far.
func (p *proc) notifications() []*message {
	var out []*message
	for _, m := range p.Events() {
		if expected(m) {
			out = append(out, m)
		}
	}
	return out
}

// setAnswer installs how the sidecar's requests are answered.
func (p *proc) setAnswer(f func(m *message) (any, *rpcError)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = f
}

// extra returns the responses no request waited for, and any other message the sidecar sent of
// its own, in arrival order.
func (p *proc) extra() []*message {
	unrouted := map[*message]bool{}
	for _, m := range p.Unrouted() {
		unrouted[m] = true
	}
	var out []*message
	for _, m := range p.Messages() {
		if unrouted[m] || (m.Method != "" && !expected(m)) {
			out = append(out, m)
		}
	}
	return out
}

func (p *proc) diag() string {
	state := "running"
	if !p.alive() {
		state = p.cmd.ProcessState.String()
	}
	return fmt.Sprintf("\nsidecar: %s\nstderr (tail):\n%s", state, tail(p.stderr.String(), 4000))
}

// idKey is an id's compact JSON text ("" for none or null).
func idKey(raw json.RawMessage) string { return rpctest.IDKey(raw) }

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// mustResult fails unless m is a successful response, and decodes its result into out.
func mustResult(t *testing.T, m *message, out any) {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("error response: %s", m.Raw)
	}
	if out != nil {
		if err := json.Unmarshal(m.Result, out); err != nil {
			t.Fatalf("result %s: %v", m.Result, err)
		}
	}
}

// mustInvokeResult fails unless m is a successful tool/invoke response with text and an object as
// data.
func mustInvokeResult(t *testing.T, m *message, command string) invokeResult {
	t.Helper()
	var r invokeResult
	if m.Error != nil {
		t.Fatalf("%s failed: %s", command, m.Raw)
	}
	mustResult(t, m, &r)
	if strings.TrimSpace(r.Text) == "" {
		t.Errorf("%s: empty text in %s", command, m.Raw)
	}
	if d := bytes.TrimSpace(r.Data); len(d) == 0 || d[0] != '{' {
		t.Errorf("%s: data is not an object: %s", command, r.Data)
	}
	return r
}

// mustError fails unless m is an error response with code, and returns its error and data.
func mustError(t *testing.T, m *message, code int) (*rpcError, errorData) {
	t.Helper()
	if m.Error == nil {
		t.Fatalf("want error %d, got %s", code, m.Raw)
	}
	if m.Error.Code != code {
		t.Fatalf("want error code %d, got %s", code, m.Raw)
	}
	var d errorData
	if len(m.Error.Data) > 0 && string(m.Error.Data) != "null" {
		if err := json.Unmarshal(m.Error.Data, &d); err != nil {
			t.Fatalf("error data %s: %v", m.Error.Data, err)
		}
	}
	return m.Error, d
}

// field decodes one member of a JSON object (a dotted path) into out.
func field(t *testing.T, obj json.RawMessage, path string, out any) {
	t.Helper()
	cur := obj
	for _, k := range strings.Split(path, ".") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(cur, &m); err != nil {
			t.Fatalf("%s: %s is not an object: %v", path, cur, err)
		}
		v, ok := m[k]
		if !ok {
			t.Fatalf("%s: no member %q in %s", path, k, cur)
		}
		cur = v
	}
	if err := json.Unmarshal(cur, out); err != nil {
		t.Fatalf("%s: %s: %v", path, cur, err)
	}
}

// str returns a string member of a JSON object (a dotted path).
func str(t *testing.T, obj json.RawMessage, path string) string {
	t.Helper()
	var s string
	field(t, obj, path, &s)
	return s
}

// sessionList is the result of sessions/list, sessions/use and sessions/forget.
type sessionList struct {
	Active   string `json:"active"`
	Sessions []struct {
		Name        string `json:"name"`
		Kind        string `json:"kind"`
		Command     string `json:"command"`
		AccessKeyID string `json:"accessKeyId"`
		ARN         string `json:"arn"`
		Active      bool   `json:"active"`
	} `json:"sessions"`
}

func (l sessionList) names() []string {
	var out []string
	for _, s := range l.Sessions {
		out = append(out, s.Name)
	}
	return out
}

// exported is the result of sessions/export.
type exported struct {
	Name             string `json:"name"`
	Kind             string `json:"kind"`
	Command          string `json:"command"`
	ARN              string `json:"arn"`
	AccessKeyID      string `json:"accessKeyId"`
	SecretAccessKey  string `json:"secretAccessKey"`
	SessionToken     string `json:"sessionToken"`
	WebIdentityToken string `json:"webIdentityToken"`
	Expiration       string `json:"expiration"`
}
