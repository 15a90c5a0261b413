package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// prompter is a client that answers "prompt" requests and records what else it receives.
type prompter struct {
	answer    func(*jsonrpc2.Request) (any, *jsonrpc2.Error) // nil: never answer
	prompts   chan jsonrpc2.ID
	cancels   chan json.RawMessage
	notifies  chan string
	replyErrs chan error
}

func newPrompter(answer func(*jsonrpc2.Request) (any, *jsonrpc2.Error)) *prompter {
	return &prompter{
		answer:    answer,
		prompts:   make(chan jsonrpc2.ID, 4),
		cancels:   make(chan json.RawMessage, 4),
		notifies:  make(chan string, 4),
		replyErrs: make(chan error, 4),
	}
}

func (p *prompter) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	switch {
	case req.Method == "$/cancelRequest":
		p.cancels <- *req.Params
	case req.Notif:
		p.notifies <- req.Method + " " + string(*req.Params)
	case req.Method == "prompt":
		p.prompts <- req.ID
		if p.answer == nil {
			return
		}
		result, rerr := p.answer(req)
		if rerr != nil {
			p.replyErrs <- conn.ReplyWithError(ctx, req.ID, rerr)
			return
		}
		p.replyErrs <- conn.Reply(ctx, req.ID, result)
	}
}

// loginMethod asks the client for an MFA code through srv.
func loginMethod(srv **Server) Method {
	return Method{Handle: func(ctx context.Context, _ json.RawMessage) (any, error) {
		var code string
		if err := (*srv).Call(ctx, "prompt", map[string]string{"question": "MFA code"}, &code); err != nil {
			return nil, err
		}
		return "logged in with " + code, nil
	}}
}

func TestServerCallAnswered(t *testing.T) {
	var srv *Server
	p := newPrompter(func(*jsonrpc2.Request) (any, *jsonrpc2.Error) { return "123456", nil })
	h := newHarness(t, Options{Methods: map[string]Method{"login": loginMethod(&srv)}}, p)
	srv = h.srv
	var got string
	if err := h.call(t, "login", nil, &got); err != nil || got != "logged in with 123456" {
		t.Fatalf("login = %q, %v", got, err)
	}
	if err := recv(t, p.replyErrs, "the client's reply"); err != nil {
		t.Fatalf("client reply: %v", err)
	}
}

func TestServerCallErrorResponse(t *testing.T) {
	var srv *Server
	p := newPrompter(func(*jsonrpc2.Request) (any, *jsonrpc2.Error) {
		return nil, &jsonrpc2.Error{Code: 4242, Message: "user dismissed the prompt"}
	})
	h := newHarness(t, Options{Methods: map[string]Method{"login": loginMethod(&srv)}}, p)
	srv = h.srv
	// The handler returns Call's *Error as is, so the client sees the prompt's own error.
	je := wantCode(t, h.call(t, "login", nil, nil), 4242)
	if je.Message != "user dismissed the prompt" {
		t.Errorf("message %q", je.Message)
	}
}

func TestServerCallCancelled(t *testing.T) {
	p := newPrompter(nil)
	h := newHarness(t, Options{Methods: map[string]Method{"echo": echoMethod}}, p)
	if err := h.call(t, "echo", nil, nil); err != nil { // Serve is running once this is answered
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- h.srv.Call(ctx, "prompt", nil, nil) }()
	id := recv(t, p.prompts, "the prompt")
	cancel()
	if err := recv(t, errc, "Call to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Call = %v, want context.Canceled", err)
	}
	var params struct{ ID jsonrpc2.ID }
	raw := recv(t, p.cancels, "the $/cancelRequest notification")
	if err := json.Unmarshal(raw, &params); err != nil {
		t.Fatalf("cancel params %s: %v", raw, err)
	}
	if params.ID != id {
		t.Errorf("cancel names id %v, want the prompt's id %v", params.ID, id)
	}
}

func TestServerCallConnectionClosed(t *testing.T) {
	p := newPrompter(nil)
	h := newHarness(t, Options{Methods: map[string]Method{"echo": echoMethod}}, p)
	if err := h.call(t, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- h.srv.Call(context.Background(), "prompt", nil, nil) }()
	recv(t, p.prompts, "the prompt")
	if err := h.client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, errc, "Call to return"); !errors.Is(err, jsonrpc2.ErrClosed) {
		t.Errorf("Call = %v, want jsonrpc2.ErrClosed", err)
	}
}

func TestServerNotify(t *testing.T) {
	p := newPrompter(nil)
	h := newHarness(t, Options{Methods: map[string]Method{"echo": echoMethod}}, p)
	if err := h.call(t, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Notify(context.Background(), "window/logMessage", map[string]string{"message": "hi"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, p.notifies, "the notification"); got != `window/logMessage {"message":"hi"}` {
		t.Errorf("client got %q", got)
	}
}
