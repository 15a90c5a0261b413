package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait in the tests, so a bug fails a test instead of hanging it.
const waitLimit = 5 * time.Second

type serveResult struct {
	shutdown bool
	err      error
}

// served runs s.Serve on one end of a pipe and returns the other end and a way to await Serve.
func served(t *testing.T, ctx context.Context, s *Server) (net.Conn, func() serveResult) {
	t.Helper()
	srvEnd, peerEnd := net.Pipe()
	done := make(chan serveResult, 1)
	go func() {
		requested, err := s.Serve(ctx, srvEnd)
		done <- serveResult{requested, err}
	}()
	var once sync.Once
	var res serveResult
	wait := func() serveResult {
		once.Do(func() {
			select {
			case res = <-done:
			case <-time.After(waitLimit):
				t.Errorf("Serve did not return within %v", waitLimit)
				_ = srvEnd.Close()
				res = <-done
			}
		})
		return res
	}
	return peerEnd, wait
}

// harness is a server with a jsonrpc2 client on the other end of a pipe.
type harness struct {
	srv    *Server
	client *jsonrpc2.Conn
	wait   func() serveResult
}

func newHarness(t *testing.T, opts Options, clientHandler jsonrpc2.Handler) *harness {
	t.Helper()
	return newHarnessCtx(t, context.Background(), opts, clientHandler)
}

func newHarnessCtx(t *testing.T, ctx context.Context, opts Options, clientHandler jsonrpc2.Handler) *harness {
	t.Helper()
	s := NewServer(opts)
	peer, wait := served(t, ctx, s)
	if clientHandler == nil {
		clientHandler = handlerFunc(func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) {})
	}
	client := jsonrpc2.NewConn(context.Background(),
		jsonrpc2.NewBufferedStream(peer, jsonrpc2.VSCodeObjectCodec{}), clientHandler,
		jsonrpc2.SetLogger(log.New(io.Discard, "", 0)))
	t.Cleanup(func() {
		_ = client.Close()
		wait()
	})
	return &harness{srv: s, client: client, wait: wait}
}

// call makes a request with a bounded wait.
func (h *harness) call(t *testing.T, method string, params, result any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	return h.client.Call(ctx, method, params, result)
}

type handlerFunc func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request)

func (f handlerFunc) Handle(ctx context.Context, c *jsonrpc2.Conn, r *jsonrpc2.Request) { f(ctx, c, r) }

// wantCode asserts that err is a JSON-RPC error with code and returns it.
func wantCode(t *testing.T, err error, code int64) *jsonrpc2.Error {
	t.Helper()
	var je *jsonrpc2.Error
	if !errors.As(err, &je) {
		t.Fatalf("got error %v, want a JSON-RPC error with code %d", err, code)
	}
	if je.Code != code {
		t.Fatalf("got code %d (%q), want %d", je.Code, je.Message, code)
	}
	return je
}

// echoMethod answers its params.
var echoMethod = Method{Handle: func(_ context.Context, params json.RawMessage) (any, error) {
	if params == nil {
		return "no params", nil
	}
	return params, nil
}}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// observed returns a logger recording everything from debug level up.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// rawPeer writes hand-made frames to a server and reads its replies frame by frame.
type rawPeer struct {
	conn   net.Conn
	frames chan []byte
	wait   func() serveResult
}

func newRawPeer(t *testing.T, opts Options) *rawPeer {
	t.Helper()
	s := NewServer(opts)
	conn, wait := served(t, context.Background(), s)
	p := &rawPeer{conn: conn, frames: make(chan []byte, 16), wait: wait}
	quit := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		r := bufio.NewReader(conn)
		for {
			body, err := readFrame(r)
			if err != nil {
				return
			}
			select {
			case p.frames <- body:
			case <-quit:
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		wait()
		close(quit)
		<-readerDone
	})
	return p
}

// readFrame reads one Content-Length frame as the extension would.
func readFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			if length, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("bad Content-Length %q: %w", v, err)
			}
		}
	}
	if length < 0 {
		return nil, errors.New("frame without Content-Length")
	}
	body := make([]byte, length)
	_, err := io.ReadFull(r, body)
	return body, err
}

func frame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

func (p *rawPeer) write(t *testing.T, s string) {
	t.Helper()
	if err := p.conn.SetWriteDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(p.conn, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// reply is a response as read off the wire.
type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func (p *rawPeer) next(t *testing.T) reply {
	t.Helper()
	body := recv(t, p.frames, "a reply frame")
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("reply %s: %v", body, err)
	}
	if r.JSONRPC != "2.0" {
		t.Fatalf("reply %s lacks jsonrpc 2.0", body)
	}
	return r
}

func zapString(key, value string) zap.Field { return zap.String(key, value) }

// encoded renders an observed entry as a JSON log sink would write it, so that checks see field
// contents (not, say, the address of a reflected pointer).
func encoded(t *testing.T, e observer.LoggedEntry) string {
	t.Helper()
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	buf, err := enc.EncodeEntry(e.Entry, e.Context)
	if err != nil {
		t.Fatalf("encode log entry %q: %v", e.Message, err)
	}
	defer buf.Free()
	return buf.String()
}
