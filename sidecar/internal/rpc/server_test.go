package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// blocker is a method that signals when it starts and returns when ctx is cancelled or it is
// released.
type blocker struct {
	started chan string // receives RequestID(ctx) of each started call
	ended   chan error  // receives ctx.Err() when a call ended because of its context, nil when released
	release chan struct{}
	ran     atomic.Int32
}

func newBlocker() *blocker {
	return &blocker{started: make(chan string, 64), ended: make(chan error, 64), release: make(chan struct{})}
}

func (b *blocker) method() Method {
	return Method{Handle: func(ctx context.Context, _ json.RawMessage) (any, error) {
		b.ran.Add(1)
		b.started <- RequestID(ctx)
		select {
		case <-ctx.Done():
			b.ended <- ctx.Err()
			return nil, fmt.Errorf("blocked call: %w", ctx.Err())
		case <-b.release:
			b.ended <- nil
			return "released", nil
		}
	}}
}

// dispatch sends a request with a chosen id, without waiting. Tests that also use h.call pick ids
// of 1000 and up, clear of the client's own sequence.
func dispatch(t *testing.T, h *harness, method string, id uint64) jsonrpc2.Waiter {
	t.Helper()
	w, err := h.client.DispatchCall(context.Background(), method, nil, jsonrpc2.PickID(jsonrpc2.ID{Num: id}))
	if err != nil {
		t.Fatalf("dispatch %s: %v", method, err)
	}
	return w
}

func wait(t *testing.T, w jsonrpc2.Waiter, result any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err := w.Wait(ctx, result)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("timed out waiting for a reply")
	}
	return err
}

func cancelID(t *testing.T, h *harness, id any) {
	t.Helper()
	if err := h.client.Notify(context.Background(), "$/cancelRequest", map[string]any{"id": id}); err != nil {
		t.Fatal(err)
	}
}

func TestCancelRunningRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   jsonrpc2.ID
		sent any
	}{
		{"numeric id", jsonrpc2.ID{Num: 42}, 42},
		{"string id", jsonrpc2.ID{Str: "req-42", IsString: true}, "req-42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlocker()
			h := newHarness(t, Options{Methods: map[string]Method{"block": b.method()}}, nil)
			w, err := h.client.DispatchCall(context.Background(), "block", nil, jsonrpc2.PickID(tc.id))
			if err != nil {
				t.Fatal(err)
			}
			recv(t, b.started, "the handler to start")

			cancelID(t, h, tc.sent)
			err = wait(t, w, nil)

			je := wantCode(t, err, CodeRequestCancelled)
			if je.Message != "request cancelled" {
				t.Errorf("message %q, want %q", je.Message, "request cancelled")
			}
			// The call ended because of the cancel: the handler, never released, saw its context
			// cancelled (not a deadline). How fast is the benchmark's business.
			if ended := recv(t, b.ended, "the handler to end"); !errors.Is(ended, context.Canceled) {
				t.Errorf("the handler ended with %v, want context.Canceled", ended)
			}
		})
	}
}

func TestCancelUnknownIDIsIgnored(t *testing.T) {
	h := newHarness(t, Options{Methods: map[string]Method{"echo": echoMethod}}, nil)
	cancelID(t, h, 12345)
	cancelID(t, h, map[string]int{"not": 1})
	var got string
	if err := h.call(t, "echo", nil, &got); err != nil || got != "no params" {
		t.Fatalf("echo after stray cancels = %q, %v", got, err)
	}
}

func TestCancelQueuedRequestNeverRuns(t *testing.T) {
	first, queued := newBlocker(), newBlocker()
	h := newHarness(t, Options{
		MaxConcurrent: 1,
		Methods:       map[string]Method{"first": first.method(), "queued": queued.method()},
	}, nil)
	w1 := dispatch(t, h, "first", 1)
	recv(t, first.started, "the first call to start")
	w2 := dispatch(t, h, "queued", 2)
	cancelID(t, h, 2)

	// The cancelled call is answered while the only slot is still taken.
	wantCode(t, wait(t, w2, nil), CodeRequestCancelled)
	close(first.release)
	if err := wait(t, w1, nil); err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The slot is free again, and the cancelled call still has not run.
	close(queued.release)
	if err := wait(t, dispatch(t, h, "queued", 3), nil); err != nil {
		t.Fatalf("later call: %v", err)
	}
	if n := queued.ran.Load(); n != 1 {
		t.Errorf("queued handler ran %d times, want 1 (only the uncancelled call)", n)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	h := newHarness(t, Options{
		MaxConcurrent: 2,
		Methods: map[string]Method{"work": {Handle: func(ctx context.Context, _ json.RawMessage) (any, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			select {
			case <-release:
				return "done", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}},
	}, nil)
	var waiters []jsonrpc2.Waiter
	for i := range 10 {
		waiters = append(waiters, dispatch(t, h, "work", uint64(i+1)))
	}
	deadline := time.Now().Add(waitLimit)
	for running.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// Give the other eight every chance to start if the bound were broken.
	time.Sleep(50 * time.Millisecond)
	close(release)
	for _, w := range waiters {
		var got string
		if err := wait(t, w, &got); err != nil || got != "done" {
			t.Fatalf("call = %q, %v", got, err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want exactly 2", p)
	}
}

func TestServerBusy(t *testing.T) {
	b := newBlocker()
	h := newHarness(t, Options{MaxConcurrent: 1, MaxQueued: 1, Methods: map[string]Method{"block": b.method()}}, nil)
	w1 := dispatch(t, h, "block", 1)
	recv(t, b.started, "the first call to start")
	w2 := dispatch(t, h, "block", 2) // waits for the slot
	w3 := dispatch(t, h, "block", 3) // nowhere to wait
	wantCode(t, wait(t, w3, nil), CodeServerBusy)
	close(b.release)
	for _, w := range []jsonrpc2.Waiter{w1, w2} {
		if err := wait(t, w, nil); err != nil {
			t.Errorf("queued call: %v", err)
		}
	}
}

func TestDuplicateInFlightID(t *testing.T) {
	b := newBlocker()
	p := newRawPeer(t, Options{Methods: map[string]Method{"block": b.method()}})
	// jsonrpc2's client cannot have two calls with one id pending, so write the frames by hand.
	p.write(t, frame(`{"jsonrpc":"2.0","id":1,"method":"block"}`))
	recv(t, b.started, "the first call to start")
	p.write(t, frame(`{"jsonrpc":"2.0","id":1,"method":"block"}`))
	r := p.next(t)
	if string(r.ID) != "1" || r.Error == nil || r.Error.Code != CodeInvalidRequest {
		t.Fatalf("duplicate answered with %+v, want InvalidRequest for id 1", r)
	}
	close(b.release)
	if r := p.next(t); string(r.ID) != "1" || string(r.Result) != `"released"` {
		t.Fatalf("first call answered with %+v, want its result", r)
	}
	if n := b.ran.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

func TestPanicIsRecoveredAndScrubbed(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			logger, logs := observed()
			boom := Method{Inline: inline, Handle: func(context.Context, json.RawMessage) (any, error) {
				panic("kaboom token=hunter2")
			}}
			h := newHarness(t, Options{
				Logger:  logger,
				Scrub:   func(s string) string { return strings.ReplaceAll(s, "hunter2", "[REDACTED]") },
				Methods: map[string]Method{"boom": boom, "echo": echoMethod},
			}, nil)

			je := wantCode(t, h.call(t, "boom", nil, nil), CodeInternalError)
			if want := "internal error while handling boom; see the sidecar log"; je.Message != want {
				t.Errorf("message %q, want %q", je.Message, want)
			}
			if strings.Contains(je.Message, "kaboom") {
				t.Errorf("message %q leaks the panic value", je.Message)
			}
			if err := h.call(t, "echo", nil, nil); err != nil {
				t.Errorf("call after panic: %v", err)
			}

			entries := logs.FilterMessage("handler panicked").All()
			if len(entries) != 1 {
				t.Fatalf("got %d panic log entries, want 1", len(entries))
			}
			fields := entries[0].ContextMap()
			if got := fields["panic"]; got != "kaboom token=[REDACTED]" {
				t.Errorf("logged panic %q, want the scrubbed value", got)
			}
			if stack, _ := fields["stack"].(string); !strings.Contains(stack, "goroutine") {
				t.Errorf("logged stack %q, want a goroutine dump", stack)
			}
			for _, e := range logs.All() {
				if strings.Contains(encoded(t, e), "hunter2") {
					t.Errorf("log entry %q holds the unscrubbed secret", e.Message)
				}
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	logger, logs := observed()
	appErr := &Error{Code: 4001, Message: "bad key token=hunter2", Data: map[string]string{"field": "key"}}
	h := newHarness(t, Options{
		Logger: logger,
		Scrub:  func(s string) string { return strings.ReplaceAll(s, "hunter2", "[REDACTED]") },
		Methods: map[string]Method{
			"app":     {Handle: func(context.Context, json.RawMessage) (any, error) { return nil, appErr }},
			"wrapped": {Handle: func(context.Context, json.RawMessage) (any, error) { return nil, fmt.Errorf("validate: %w", appErr) }},
			"plain": {Handle: func(context.Context, json.RawMessage) (any, error) {
				return nil, errors.New("dial sts: token=hunter2 refused")
			}},
			"unmarshalable": {Handle: func(context.Context, json.RawMessage) (any, error) { return func() {}, nil }},
		},
	}, nil)

	for _, method := range []string{"app", "wrapped"} {
		je := wantCode(t, h.call(t, method, nil, nil), 4001)
		if je.Message != "bad key token=[REDACTED]" {
			t.Errorf("%s: message %q, want it scrubbed", method, je.Message)
		}
		if je.Data == nil || string(*je.Data) != `{"field":"key"}` {
			t.Errorf("%s: data %v, want {\"field\":\"key\"}", method, je.Data)
		}
	}
	je := wantCode(t, h.call(t, "plain", nil, nil), CodeInternalError)
	if strings.Contains(je.Message, "dial") || !strings.Contains(je.Message, "plain") {
		t.Errorf("plain error sent as %q, want a generic message naming the method", je.Message)
	}
	failed := logs.FilterMessage("request failed").FilterField(zapString("method", "plain")).All()
	if len(failed) != 1 || failed[0].ContextMap()["error"] != "dial sts: token=[REDACTED] refused" {
		t.Errorf("plain error log = %v, want one entry with the scrubbed error text", failed)
	}
	wantCode(t, h.call(t, "unmarshalable", nil, nil), CodeInternalError)
}

func TestUnknownMethods(t *testing.T) {
	logger, logs := observed()
	h := newHarness(t, Options{
		Logger:         logger,
		ShutdownMethod: "shutdown",
		Methods: map[string]Method{
			"echo":    echoMethod,
			"didSave": {Notification: true, Handle: func(context.Context, json.RawMessage) (any, error) { return nil, nil }},
		},
	}, nil)
	for _, method := range []string{"nope", "$/nope"} {
		je := wantCode(t, h.call(t, method, nil, nil), CodeMethodNotFound)
		if want := fmt.Sprintf("method %q not found; known methods: echo, shutdown", method); je.Message != want {
			t.Errorf("message %q, want %q", je.Message, want)
		}
	}
	for _, method := range []string{"nope", "$/nope"} {
		if err := h.client.Notify(context.Background(), method, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.call(t, "echo", nil, nil); err != nil {
		t.Fatalf("echo after unknown notifications: %v", err)
	}
	if n := logs.FilterMessage("ignored unknown notification").Len(); n != 2 {
		t.Errorf("%d unknown notifications logged, want 2", n)
	}
}

func TestNotificationMethods(t *testing.T) {
	got := make(chan string, 2)
	h := newHarness(t, Options{Methods: map[string]Method{
		"didSave": {Notification: true, Handle: func(ctx context.Context, params json.RawMessage) (any, error) {
			got <- MethodName(ctx) + " " + string(params) + " id=" + RequestID(ctx)
			return nil, nil
		}},
		"ask": {Handle: func(context.Context, json.RawMessage) (any, error) {
			got <- "ask ran"
			return nil, nil
		}},
	}}, nil)
	if err := h.client.Notify(context.Background(), "didSave", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got, "the notification"); s != `didSave {"n":1} id=` {
		t.Errorf("notification handler saw %q", s)
	}
	wantCode(t, h.call(t, "didSave", nil, nil), CodeInvalidRequest)
	// A request method sent as a notification is ignored, not run.
	if err := h.client.Notify(context.Background(), "ask", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.call(t, "ask", nil, nil); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got, "the request"); s != "ask ran" || len(got) != 0 {
		t.Errorf("ask ran for the notification too (%q, %d more)", s, len(got))
	}
}

func TestRequestContextValues(t *testing.T) {
	who := Method{Handle: func(ctx context.Context, _ json.RawMessage) (any, error) {
		return MethodName(ctx) + " " + RequestID(ctx), nil
	}}
	h := newHarness(t, Options{Methods: map[string]Method{"who": who}}, nil)
	for _, tc := range []struct {
		id   jsonrpc2.ID
		want string
	}{
		{jsonrpc2.ID{Num: 7}, "who 7"},
		{jsonrpc2.ID{Str: "x", IsString: true}, `who "x"`},
	} {
		var got string
		err := h.client.Call(context.Background(), "who", nil, &got, jsonrpc2.PickID(tc.id))
		if err != nil || got != tc.want {
			t.Errorf("who = %q, %v; want %q", got, err, tc.want)
		}
	}
	if RequestID(context.Background()) != "" || MethodName(context.Background()) != "" {
		t.Error("RequestID and MethodName must be empty outside a handler")
	}
}

func TestLifecycle(t *testing.T) {
	var order []string
	var orderMu = make(chan struct{}, 1)
	note := func(s string) {
		orderMu <- struct{}{}
		order = append(order, s)
		<-orderMu
	}
	slow := newBlocker()
	slowMethod := slow.method()
	h := newHarness(t, Options{
		InitializeMethod: "initialize",
		ShutdownMethod:   "shutdown",
		Methods: map[string]Method{
			"initialize": {Inline: true, Handle: func(context.Context, json.RawMessage) (any, error) {
				return map[string]string{"name": "sidecar"}, nil
			}},
			"shutdown": {Inline: true, Handle: func(context.Context, json.RawMessage) (any, error) {
				note("shutdown handler")
				return nil, nil
			}},
			"slow": {Handle: func(ctx context.Context, p json.RawMessage) (any, error) {
				v, err := slowMethod.Handle(ctx, p)
				note("slow finished")
				return v, err
			}},
			"echo": echoMethod,
		},
	}, nil)

	wantCode(t, h.call(t, "echo", nil, nil), CodeServerNotInitialized)
	wantCode(t, h.call(t, "shutdown", nil, nil), CodeServerNotInitialized)
	if err := h.call(t, "initialize", nil, nil); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if err := h.call(t, "echo", nil, nil); err != nil {
		t.Fatalf("echo after initialize: %v", err)
	}

	wSlow := dispatch(t, h, "slow", 1000)
	recv(t, slow.started, "the slow call to start")
	wShutdown := dispatch(t, h, "shutdown", 1001)
	// Answered on the read loop after shutdown was seen, so shutdown is in progress by now.
	wantCode(t, h.call(t, "echo", nil, nil), CodeShuttingDown)
	orderMu <- struct{}{}
	if len(order) != 0 {
		t.Errorf("shutdown did not wait for the in-flight call: %v", order)
	}
	<-orderMu

	close(slow.release)
	if err := wait(t, wSlow, nil); err != nil {
		t.Fatalf("slow call: %v", err)
	}
	if err := wait(t, wShutdown, nil); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if got := strings.Join(order, ", "); got != "slow finished, shutdown handler" {
		t.Errorf("order %q, want the slow call to finish before the shutdown handler runs", got)
	}
	wantCode(t, h.call(t, "echo", nil, nil), CodeShuttingDown)

	if err := h.client.Notify(context.Background(), "exit", nil); err != nil {
		t.Fatal(err)
	}
	if res := h.wait(); !res.shutdown || res.err != nil {
		t.Errorf("Serve = (%v, %v), want (true, nil)", res.shutdown, res.err)
	}
}

func TestShutdownDrainTimeoutCancels(t *testing.T) {
	b := newBlocker()
	h := newHarness(t, Options{
		ShutdownMethod: "shutdown",
		DrainTimeout:   50 * time.Millisecond,
		Methods:        map[string]Method{"block": b.method()},
	}, nil)
	w := dispatch(t, h, "block", 1000)
	recv(t, b.started, "the call to start")
	start := time.Now()
	if err := h.call(t, "shutdown", nil, nil); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("shutdown answered after %v, before the drain timeout", d)
	}
	wantCode(t, wait(t, w, nil), CodeRequestCancelled)
}

func TestExitWithoutShutdown(t *testing.T) {
	h := newHarness(t, Options{ShutdownMethod: "shutdown"}, nil)
	if err := h.client.Notify(context.Background(), "exit", nil); err != nil {
		t.Fatal(err)
	}
	if res := h.wait(); res.shutdown || res.err != nil {
		t.Errorf("Serve = (%v, %v), want (false, nil)", res.shutdown, res.err)
	}
}

func TestEOFEndsServe(t *testing.T) {
	started := make(chan struct{})
	var returned atomic.Bool
	slowToStop := Method{Handle: func(ctx context.Context, _ json.RawMessage) (any, error) {
		close(started)
		<-ctx.Done()
		// Cleanup after cancellation: Serve must still wait for it.
		time.Sleep(50 * time.Millisecond)
		returned.Store(true)
		return nil, ctx.Err()
	}}
	h := newHarness(t, Options{ShutdownMethod: "shutdown", Methods: map[string]Method{"slow": slowToStop}}, nil)
	dispatch(t, h, "slow", 1)
	recv(t, started, "the call to start")
	if err := h.client.Close(); err != nil {
		t.Fatal(err)
	}
	// Serve returning at all proves the blocked handler's context was cancelled.
	if res := h.wait(); res.shutdown || res.err != nil {
		t.Errorf("Serve = (%v, %v), want (false, nil)", res.shutdown, res.err)
	}
	if !returned.Load() {
		t.Error("Serve returned before the handler goroutine did")
	}
}

func TestServeContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := newBlocker()
	h := newHarnessCtx(t, ctx, Options{Methods: map[string]Method{"block": b.method()}}, nil)
	dispatch(t, h, "block", 1)
	recv(t, b.started, "the call to start")
	cancel()
	if res := h.wait(); !errors.Is(res.err, context.Canceled) {
		t.Errorf("Serve error %v, want context.Canceled", res.err)
	}
}

func TestServeOnlyOnce(t *testing.T) {
	h := newHarness(t, Options{Methods: map[string]Method{"echo": echoMethod}}, nil)
	// Once a call is answered, the harness's Serve is certainly the first.
	if err := h.call(t, "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	if h.srv.Conn() == nil {
		t.Error("Conn is nil while serving")
	}
	if _, err := h.srv.Serve(context.Background(), nil); err == nil {
		t.Error("second Serve succeeded, want an error")
	}
}

func TestNotifyAndCallBeforeServe(t *testing.T) {
	s := NewServer(Options{})
	if s.Conn() != nil {
		t.Error("Conn before Serve is not nil")
	}
	if err := s.Notify(context.Background(), "x", nil); err == nil {
		t.Error("Notify before Serve succeeded")
	}
	if err := s.Call(context.Background(), "x", nil, nil); err == nil {
		t.Error("Call before Serve succeeded")
	}
}
