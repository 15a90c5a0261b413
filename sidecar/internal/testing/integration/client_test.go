package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// message is one JSON-RPC message read from the sidecar's stdout.
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcError       `json:"error"`

	// raw is the frame's body exactly as it arrived.
	raw []byte
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

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

// proc is a running `awsflow-sts serve` with a framed JSON-RPC client on its stdin and stdout: a
// reader goroutine parses every frame the child writes, keeps it, and routes responses to the
// request waiting for their id.
type proc struct {
	t   *testing.T
	cmd *exec.Cmd
	in  *os.File // our end of the child's stdin
	out *os.File // our end of the child's stdout

	stdout lockedBuffer // every byte the child wrote to stdout
	stderr lockedBuffer // every byte the child wrote to stderr

	wmu       sync.Mutex // one frame at a time
	answering sync.WaitGroup
	inClosed  bool

	mu       sync.Mutex
	pending  map[string]chan *message // by the id's JSON text
	frames   []*message               // every message, in arrival order
	unrouted []*message               // responses nobody waited for (or a second one for an id)
	notes    []*message               // notifications the sidecar sent (sessions/changed)
	// answer replies to the sidecar's own requests (mfa/tokenCode); nil answers MethodNotFound,
	// as a client that cannot prompt does.
	answer  func(m *message) (result any, err *rpcError)
	readErr error // a framing or JSON error in the child's output

	nextID     atomic.Int64
	readerDone chan struct{}
	exited     chan struct{}
	stopOnce   sync.Once
}

// startServe starts `awsflow-sts serve args...` with env; it is stopped when the test ends.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{
		t:          t,
		in:         inW,
		out:        outR,
		pending:    map[string]chan *message{},
		readerDone: make(chan struct{}),
		exited:     make(chan struct{}),
	}
	p.nextID.Store(100)
	p.cmd = exec.Command(binPath, append([]string{"serve"}, args...)...)
	p.cmd.Env = env
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdin = inR
	p.cmd.Stdout = outW
	p.cmd.Stderr = &p.stderr
	err = p.cmd.Start()
	// The child has its own copies now; ours would keep its stdin open and hide its stdout's EOF.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		t.Fatalf("start awsflow-sts serve: %v", err)
	}
	go p.readLoop()
	go func() {
		_ = p.cmd.Wait() // the exit status is read from ProcessState
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p
}

// readLoop reads frames until the child's stdout ends.
func (p *proc) readLoop() {
	defer close(p.readerDone)
	r := bufio.NewReader(io.TeeReader(p.out, &p.stdout))
	for {
		body, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				p.mu.Lock()
				p.readErr = fmt.Errorf("reading the sidecar's stdout: %w", err)
				p.mu.Unlock()
			}
			_, _ = io.Copy(io.Discard, r) // never leave the child blocked on a full pipe
			return
		}
		m := &message{}
		if err := json.Unmarshal(body, m); err != nil {
			p.mu.Lock()
			p.readErr = fmt.Errorf("the sidecar wrote a frame that is not JSON: %v: %q", err, body)
			p.mu.Unlock()
			continue
		}
		m.raw = body
		p.route(m)
	}
}

func (p *proc) route(m *message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames = append(p.frames, m)
	switch {
	case m.Method == "sessions/changed" && len(m.ID) == 0:
		p.notes = append(p.notes, m)
		return
	case m.Method == "mfa/tokenCode" && len(m.ID) != 0:
		p.notes = append(p.notes, m)
		answer := p.answer
		// Answered off the reader goroutine, which must go on reading while the reply is written.
		p.answering.Go(func() { p.reply(m, answer) })
		return
	case m.Method != "":
		p.unrouted = append(p.unrouted, m)
		return
	}
	key := idKey(m.ID)
	if ch, ok := p.pending[key]; ok && key != "" {
		delete(p.pending, key)
		ch <- m // buffered
		return
	}
	p.unrouted = append(p.unrouted, m)
}

func idKey(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil || buf.String() == "null" {
		return ""
	}
	return buf.String()
}

// readFrame reads one Content-Length frame strictly, as the extension does.
func readFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	for n := 0; ; n++ {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && (n > 0 || line != "") {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if !strings.HasSuffix(line, "\r\n") {
			return nil, fmt.Errorf("header line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			if length, err = strconv.Atoi(strings.TrimSpace(value)); err != nil || length < 0 {
				return nil, fmt.Errorf("bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return nil, errors.New("frame without Content-Length")
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("frame body: %w", err)
	}
	return body, nil
}

// frame wraps body in a Content-Length header.
func frame(body []byte) []byte {
	return append([]byte(fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))), body...)
}

// writeRaw writes bytes to the child's stdin as they are.
func (p *proc) writeRaw(b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.inClosed {
		return errors.New("stdin is closed")
	}
	if err := p.in.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err := p.in.Write(b)
	return err
}

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
func (p *proc) expect(id int64) <-chan *message {
	ch := make(chan *message, 1)
	p.mu.Lock()
	p.pending[strconv.FormatInt(id, 10)] = ch
	p.mu.Unlock()
	return ch
}

// request sends a request with a fresh id and returns the id and where its response will arrive.
func (p *proc) request(method string, params any) (int64, <-chan *message) {
	p.t.Helper()
	id := p.nextID.Add(1)
	ch := p.expect(id)
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	p.send(msg)
	return id, ch
}

// notify sends a notification.
func (p *proc) notify(method string, params any) {
	p.t.Helper()
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	p.send(msg)
}

// await waits for the response on ch.
func (p *proc) await(id int64, ch <-chan *message) *message {
	p.t.Helper()
	timer := time.NewTimer(callTimeout)
	defer timer.Stop()
	select {
	case m := <-ch:
		return m
	case <-p.readerDone:
		select {
		case m := <-ch:
			return m
		default:
		}
		p.t.Fatalf("the sidecar's stdout ended before the response to id %d%s", id, p.diag())
	case <-timer.C:
		p.t.Fatalf("no response to id %d within %v%s", id, callTimeout, p.diag())
	}
	return nil
}

// call sends a request and waits for its response.
func (p *proc) call(method string, params any) *message {
	p.t.Helper()
	id, ch := p.request(method, params)
	m := p.await(id, ch)
	if m.JSONRPC != "2.0" {
		p.t.Errorf("response %s lacks \"jsonrpc\": \"2.0\"", m.raw)
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
		p.t.Errorf("shutdown answered %s, want a null result", m.raw)
	}
	p.notify("exit", nil)
	return p.waitExit()
}

// closeStdin closes the child's stdin (end of input).
func (p *proc) closeStdin() {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if !p.inClosed {
		p.inClosed = true
		_ = p.in.Close()
	}
}

// waitExit waits for the child to exit and returns its exit code.
func (p *proc) waitExit() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(exitTimeout):
		p.t.Fatalf("the sidecar did not exit within %v%s", exitTimeout, p.diag())
	}
	p.answering.Wait()
	return p.cmd.ProcessState.ExitCode()
}

// alive reports whether the child is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop ends the child (closing stdin, killing it if it will not exit) and waits for the reader.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		p.closeStdin()
		select {
		case <-p.exited:
		case <-time.After(exitTimeout):
			p.t.Errorf("the sidecar did not exit within %v of its stdin closing; killed", exitTimeout)
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		select {
		case <-p.readerDone:
		case <-time.After(exitTimeout):
			p.t.Errorf("the sidecar's stdout stayed open after it exited")
			_ = p.out.Close() // unblocks the reader
			<-p.readerDone
		}
		_ = p.out.Close()
		if err := p.framingError(); err != nil {
			p.t.Errorf("%v", err)
		}
		if p.t.Failed() {
			p.t.Logf("sidecar stderr:\n%s", tail(p.stderr.String(), 8000))
		}
	})
}

// framingError is the first framing or JSON error seen in the child's output.
func (p *proc) framingError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readErr
}

// messages returns every message read so far.
func (p *proc) messages() []*message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*message(nil), p.frames...)
}

// reply answers one request of the sidecar.
func (p *proc) reply(m *message, answer func(*message) (any, *rpcError)) {
	msg := map[string]any{"jsonrpc": "2.0", "id": m.ID}
	res, rerr := any(nil), &rpcError{Code: -32601, Message: "method not found: " + m.Method}
	if answer != nil {
		res, rerr = answer(m)
	}
	if rerr != nil {
		msg["error"] = rerr
	} else {
		msg["result"] = res
	}
	body, err := json.Marshal(msg)
	if err == nil {
		err = p.writeRaw(frame(body))
	}
	if err != nil {
		p.mu.Lock()
		p.readErr = fmt.Errorf("answering %s: %w", m.Method, err)
		p.mu.Unlock()
	}
}

// notifications returns the sidecar's notifications and requests so far.
func (p *proc) notifications() []*message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*message(nil), p.notes...)
}

// setAnswer installs how the sidecar's requests are answered.
func (p *proc) setAnswer(f func(m *message) (any, *rpcError)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = f
}

// extra returns the responses no request waited for.
func (p *proc) extra() []*message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*message(nil), p.unrouted...)
}

func (p *proc) diag() string {
	state := "running"
	if !p.alive() {
		state = p.cmd.ProcessState.String()
	}
	return fmt.Sprintf("\nsidecar: %s\nstderr (tail):\n%s", state, tail(p.stderr.String(), 4000))
}

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
		t.Fatalf("error response: %s", m.raw)
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
		t.Fatalf("%s failed: %s", command, m.raw)
	}
	mustResult(t, m, &r)
	if strings.TrimSpace(r.Text) == "" {
		t.Errorf("%s: empty text in %s", command, m.raw)
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
		t.Fatalf("want error %d, got %s", code, m.raw)
	}
	if m.Error.Code != code {
		t.Fatalf("want error code %d, got %s", code, m.raw)
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
