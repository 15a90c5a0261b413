package server

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/testing/rpctest"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// testVersion is the version the test server reports; goldens show it as {{VERSION}}.
const testVersion = "0.0.0-test"

// baseSecret is the base profile's secret key.
const baseSecret = "BASESECRETwJalrXUtnFEMI/K7MDENG/bPxRfiCY"

// now is the fixed clock: an hour before the fake's credentials expire.
var now = ststest.Expiration.Add(-time.Hour)

// conn is the extension's end of a JSON-RPC connection, read in lockstep: the test client (package
// rpctest) reads every frame as it comes, so the server never waits for a test to read, and recv
// hands them over in arrival order.
type conn struct {
	t *testing.T
	c *rpctest.Conn
	// events are the notifications and requests the sidecar sent, in order.
	events []map[string]any
	// reply answers the sidecar's requests during call (see answer).
	reply json.RawMessage
}

type running struct {
	*conn
	srv      *Server
	fake     *ststest.Server
	logs     *observer.ObservedLogs
	served   chan serveResult
	cancel   context.CancelFunc
	shutdown bool
}

type serveResult struct {
	shutdown bool
	err      error
}

// start serves a new Server over net.Pipe with a base profile in scratch AWS config files and a
// fake STS; everything stops when the test ends.
func start(t *testing.T) *running {
	t.Helper()
	fake := ststest.New()
	t.Cleanup(fake.Close)
	ststest.UseProfile(t, "default", ststest.BaseKeyID, baseSecret)
	r := serve(t, func() time.Time { return now })
	r.fake = fake
	return r
}

// serve serves a new Server reading the clock now over net.Pipe, with no background maintenance
// (tests call Store().Maintain); everything stops when the test ends.
func serve(t *testing.T, now func() time.Time) *running {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	log := &logging.Logger{Logger: zap.New(core), Level: zap.NewAtomicLevelAt(zapcore.DebugLevel)}
	srv := New(Config{Version: testVersion, Logger: log, Now: now, MaintainEvery: -1})
	serverEnd, clientEnd := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{
		// No Handler: the sidecar's requests are answered in lockstep, by response.
		conn:   &conn{t: t, c: rpctest.New(clientEnd, rpctest.Options{})},
		srv:    srv,
		logs:   logs,
		served: make(chan serveResult, 1),
		cancel: cancel,
	}
	go func() {
		sd, err := srv.Serve(ctx, serverEnd)
		r.served <- serveResult{sd, err}
	}()
	t.Cleanup(func() {
		cancel()
		r.c.Close()
		select {
		case <-r.served:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after the connection closed")
		}
	})
	return r
}

// send writes one framed message.
func (c *conn) send(msg any) {
	c.t.Helper()
	if err := c.c.Send(msg); err != nil {
		c.t.Fatal(err)
	}
}

func (c *conn) sendRaw(frame string) {
	c.t.Helper()
	if err := c.c.WriteRaw([]byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

// frame wraps body in a Content-Length header.
func frame(body string) string { return string(rpctest.Frame([]byte(body))) }

// recv reads one framed message.
func (c *conn) recv() map[string]any {
	c.t.Helper()
	m, err := c.c.Next(context.Background())
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var msg map[string]any
	if err := json.Unmarshal(m.Raw, &msg); err != nil {
		c.t.Fatalf("response is not JSON: %v: %s", err, m.Raw)
	}
	return msg
}

// answer replies to a request of the sidecar with reply (a result, or {"error": …}); an empty
// reply answers MethodNotFound, as a client that cannot prompt does.
func (c *conn) answer(id any, reply json.RawMessage) {
	c.t.Helper()
	msg := map[string]any{"jsonrpc": "2.0", "id": id}
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	switch {
	case len(reply) == 0:
		msg["error"] = map[string]any{"code": -32601, "message": "method not found"}
	case json.Unmarshal(reply, &e) == nil && e.Error != nil:
		msg["error"] = e.Error
	default:
		msg["result"] = reply
	}
	c.send(msg)
}

// response reads until the response to a request, answering the sidecar's own requests with
// reply and keeping its notifications in c.events.
func (c *conn) response(reply json.RawMessage) map[string]any {
	c.t.Helper()
	for {
		msg := c.recv()
		if msg["method"] == nil {
			return msg
		}
		c.events = append(c.events, msg)
		if id, ok := msg["id"]; ok {
			c.answer(id, reply)
		}
	}
}

// call sends a request and returns its response.
func (c *conn) call(id int, method string, params any) map[string]any {
	c.t.Helper()
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	c.send(msg)
	resp := c.response(c.reply)
	if resp["id"] != float64(id) {
		c.t.Fatalf("response id %v, want %d: %v", resp["id"], id, resp)
	}
	return resp
}

// result returns a successful response's result, failing on an error response.
func result(t *testing.T, resp map[string]any) map[string]any {
	t.Helper()
	if e, ok := resp["error"]; ok {
		t.Fatalf("error response: %v", e)
	}
	r, _ := resp["result"].(map[string]any)
	return r
}

// rpcError returns an error response's code and its error object.
func rpcError(t *testing.T, resp map[string]any) (int, map[string]any) {
	t.Helper()
	e, ok := resp["error"].(map[string]any)
	if !ok {
		t.Fatalf("expected an error response, got %v", resp)
	}
	return int(e["code"].(float64)), e
}

func (r *running) initialize() {
	r.t.Helper()
	result(r.t, r.call(0, "initialize", map[string]any{"settings": map[string]any{"endpointUrl": r.fake.URL, "region": "us-east-1", "maxAttempts": 1}}))
}
