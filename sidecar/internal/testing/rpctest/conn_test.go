package rpctest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// childEnv makes the test binary, started by TestStartAndStop, an echo peer instead of tests.
const childEnv = "RPCTEST_ECHO_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		echo(os.Stdin, os.Stdout)
		os.Exit(3)
	}
	goleak.VerifyTestMain(m)
}

// echo answers every request with its params as the result, until end of input.
func echo(r io.Reader, w io.Writer) {
	br := bufio.NewReader(r)
	for {
		body, err := ReadFrame(br)
		if err != nil {
			return
		}
		var m Message
		if json.Unmarshal(body, &m) != nil || len(m.ID) == 0 {
			continue
		}
		out, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": m.Params})
		if _, err := w.Write(Frame(out)); err != nil {
			return
		}
	}
}

// peer is the server's end of a net.Pipe, scripted by the test.
type peer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func pipe(t *testing.T, opts Options) (*Conn, *peer) {
	t.Helper()
	serverEnd, clientEnd := net.Pipe()
	c := New(clientEnd, opts)
	t.Cleanup(func() {
		c.Close()
		serverEnd.Close()
	})
	return c, &peer{t: t, conn: serverEnd, r: bufio.NewReader(serverEnd)}
}

func (p *peer) read() Message {
	p.t.Helper()
	body, err := ReadFrame(p.r)
	if err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		p.t.Fatal(err)
	}
	return m
}

func (p *peer) write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.conn, s); err != nil {
		p.t.Fatalf("peer write: %v", err)
	}
}

func (p *peer) send(body string) { p.write(string(Frame([]byte(body)))) }

func TestCallResultAndError(t *testing.T) {
	c, p := pipe(t, Options{IDBase: 100})
	type res struct {
		Greeting string `json:"greeting"`
	}
	done := make(chan error, 1)
	var got res
	go func() { done <- c.Call(context.Background(), "greet", map[string]string{"name": "Ada"}, &got) }()
	req := p.read()
	if req.Method != "greet" || string(req.ID) != "101" || string(req.Params) != `{"name":"Ada"}` {
		t.Fatalf("request %+v", req)
	}
	p.send(`{"jsonrpc":"2.0","id":101,"result":{"greeting":"Hello, Ada"}}`)
	if err := <-done; err != nil || got.Greeting != "Hello, Ada" {
		t.Fatalf("Call = %v, %+v", err, got)
	}

	go func() { done <- c.Call(context.Background(), "greet", nil, nil) }()
	if req := p.read(); req.Params != nil {
		t.Fatalf("nil params sent as %s", req.Params)
	}
	p.send(`{"jsonrpc":"2.0","id":102,"error":{"code":-32602,"message":"no name","data":{"kind":"validation"}}}`)
	var e *Error
	if err := <-done; !errors.As(err, &e) || e.Code != -32602 || e.Message != "no name" || string(e.Data) != `{"kind":"validation"}` {
		t.Fatalf("Call = %v, want the typed error with its data", err)
	}
}

func TestServerRequestsAndNotifications(t *testing.T) {
	c, p := pipe(t, Options{Handler: func(_ context.Context, m *Message) (any, *Error) {
		if m.Method == "mfa/tokenCode" {
			return map[string]string{"tokenCode": "123456"}, nil
		}
		return nil, &Error{Code: CodeMethodNotFound, Message: "method not found"}
	}})
	p.send(`{"jsonrpc":"2.0","method":"sessions/changed","params":{"reason":"created","session":"dev"}}`)
	p.send(`{"jsonrpc":"2.0","id":"s1","method":"mfa/tokenCode","params":{}}`)
	if a := p.read(); string(a.ID) != `"s1"` || string(a.Result) != `{"tokenCode":"123456"}` {
		t.Fatalf("answer %s", a.Raw)
	}
	p.send(`{"jsonrpc":"2.0","id":"s2","method":"other"}`)
	if a := p.read(); a.Error == nil || a.Error.Code != CodeMethodNotFound {
		t.Fatalf("answer %+v", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.WaitEvent(ctx, func(m *Message) bool { return m.Method == "other" })
	if err != nil || !m.IsRequest() {
		t.Fatalf("WaitEvent = %v, %v", m, err)
	}
	var methods []string
	for _, e := range c.Events() {
		methods = append(methods, e.Method)
	}
	if strings.Join(methods, " ") != "sessions/changed mfa/tokenCode other" || !c.Events()[0].IsNotification() {
		t.Fatalf("events %v, want the three in order", methods)
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

func TestLockstepAndRaw(t *testing.T) {
	c, p := pipe(t, Options{})
	go func() {
		// Broken bytes reach the peer exactly as written.
		_ = c.WriteRaw([]byte("Content-Length: lots\r\n\r\n"))
		_ = c.Send(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "m"})
	}()
	line, _ := p.r.ReadString('\n')
	blank, _ := p.r.ReadString('\n')
	if line+blank != "Content-Length: lots\r\n\r\n" {
		t.Fatalf("raw bytes arrived as %q", line+blank)
	}
	p.read()
	// A request of the server's left for the test to answer (no Handler), then a response.
	p.send(`{"jsonrpc":"2.0","id":1,"method":"mfa/tokenCode"}`)
	p.send(`{"jsonrpc":"2.0","id":7,"result":null}`)
	ctx := context.Background()
	first, err := c.Next(ctx)
	if err != nil || first.Method != "mfa/tokenCode" {
		t.Fatalf("Next = %v, %v", first, err)
	}
	second, err := c.Next(ctx)
	if err != nil || string(second.ID) != "7" || string(second.Raw) != `{"jsonrpc":"2.0","id":7,"result":null}` {
		t.Fatalf("Next = %v, %v", second, err)
	}
	if u := c.Unrouted(); len(u) != 1 || u[0] != second {
		t.Fatalf("unrouted %v, want the response nobody awaited", u)
	}
	go func() { _ = c.Reply(first.ID, nil, &Error{Code: -32800, Message: "cancelled"}) }()
	if a := p.read(); a.Error == nil || a.Error.Code != -32800 || string(a.ID) != "1" {
		t.Fatalf("reply %s", a.Raw)
	}
}

func TestFramingErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Content-Length: 2\n\n{}", "does not end in CRLF"},
		{"X: 1\r\n\r\n{}", "without Content-Length"},
		{"Content-Length: -1\r\n\r\n", "bad Content-Length"},
		{"Content-Length: 10\r\n\r\n{}", "unexpected EOF"},
		{"Content-Le", "unexpected EOF"},
	} {
		_, err := ReadFrame(bufio.NewReader(strings.NewReader(tt.in)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadFrame(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := ReadFrame(bufio.NewReader(strings.NewReader(""))); err != io.EOF {
		t.Errorf("ReadFrame of nothing = %v, want io.EOF", err)
	}

	c, p := pipe(t, Options{})
	p.send(`not json`)
	p.write("Content-Length: x\r\n\r\n")
	p.conn.Close()
	<-c.Done()
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("Err = %v, want the first error", err)
	}
	if _, err := c.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after the end = %v", err)
	}
}

// TestCloseIsQuiet closes while a call waits: no error anywhere but the call's.
func TestCloseIsQuiet(t *testing.T) {
	c, p := pipe(t, Options{})
	p.send(`{"jsonrpc":"2.0","method":"sessions/changed"}`)
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "held", nil, nil) }()
	p.read()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("the waiting call got %v, want ErrClosed", err)
	}
	if c.Err() != nil {
		t.Fatalf("closing recorded %v", c.Err())
	}
}

func TestStartAndStop(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1")
	p, err := Start(cmd, Options{WriteTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	if err := p.Call(context.Background(), "echo", []int{1, 2}, &got); err != nil || len(got) != 2 {
		t.Fatalf("Call = %v, %v", got, err)
	}
	if !strings.Contains(p.Stdout.String(), `"result":[1,2]`) {
		t.Errorf("stdout %q lacks the answer", p.Stdout.String())
	}
	if err := p.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	code, err := p.Wait(30 * time.Second)
	if err != nil || code != 3 {
		t.Fatalf("Wait = %d, %v, want the child's exit code 3", code, err)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}
