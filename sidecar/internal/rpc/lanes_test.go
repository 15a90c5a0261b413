package rpc

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// TestLocalLaneNeverWaits fills every network slot and the whole network queue with calls that
// never return, then expects a local call (by Method.Local or by LocalCall) to be answered.
func TestLocalLaneNeverWaits(t *testing.T) {
	b := newBlocker()
	sessions := Method{Local: true, Handle: func(context.Context, json.RawMessage) (any, error) { return "sessions", nil }}
	invoke := b.method()
	invoke.LocalCall = func(params json.RawMessage) bool { return strings.Contains(string(params), "ListSessions") }
	inner := invoke.Handle
	invoke.Handle = func(ctx context.Context, params json.RawMessage) (any, error) {
		if strings.Contains(string(params), "ListSessions") {
			return "listed", nil
		}
		return inner(ctx, params)
	}
	const slots, queue = 2, 3
	h := newHarness(t, Options{
		MaxConcurrent: slots,
		MaxQueued:     queue,
		Methods:       map[string]Method{"invoke": invoke, "sessions/list": sessions},
	}, nil)
	var waiters []jsonrpc2.Waiter
	for i := range slots + queue {
		waiters = append(waiters, dispatch(t, h, "invoke", uint64(1000+i)))
	}
	for range slots {
		recv(t, b.started, "a network call to start")
	}
	// The network lane is full: one more is refused as busy...
	wantCode(t, wait(t, dispatch(t, h, "invoke", 2000), nil), CodeServerBusy)

	tests := []struct {
		name   string
		method string
		params any
		want   string
	}{
		{"local method", "sessions/list", nil, "sessions"},
		{"local call of a network method", "invoke", map[string]string{"command": "ListSessions"}, "listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := h.call(t, tt.method, tt.params, &got); err != nil || got != tt.want {
				t.Fatalf("%s = %q, %v; want %q while the network lane is full", tt.method, got, err, tt.want)
			}
		})
	}
	close(b.release)
	for _, w := range waiters {
		if err := wait(t, w, nil); err != nil {
			t.Errorf("network call: %v", err)
		}
	}
}

// TestLocalLaneIsBounded checks that local calls have slots of their own, not none.
func TestLocalLaneIsBounded(t *testing.T) {
	b := newBlocker()
	local := b.method()
	local.Local = true
	h := newHarness(t, Options{MaxConcurrent: 4, MaxLocalConcurrent: 1, Methods: map[string]Method{"local": local}}, nil)
	w1 := dispatch(t, h, "local", 1000)
	recv(t, b.started, "the first local call to start")
	w2 := dispatch(t, h, "local", 1001)
	select {
	case id := <-b.started:
		t.Fatalf("call %s started while the only local slot was taken", id)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	for _, w := range []jsonrpc2.Waiter{w1, w2} {
		if err := wait(t, w, nil); err != nil {
			t.Errorf("local call: %v", err)
		}
	}
}

// TestShutdownDefaultDrainIsShort: with no DrainTimeout set, a call that never finishes delays the
// shutdown answer by about a second, not five, and is then cancelled.
func TestShutdownDefaultDrainIsShort(t *testing.T) {
	b := newBlocker()
	h := newHarness(t, Options{ShutdownMethod: "shutdown", Methods: map[string]Method{"block": b.method()}}, nil)
	w := dispatch(t, h, "block", 1000)
	recv(t, b.started, "the call to start")
	start := time.Now()
	if err := h.call(t, "shutdown", nil, nil); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// Generous: the default is 1 s, the old one 5 s (which waitLimit would also have caught).
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown answered after %v, want about %v", d, defaultDrainTimeout)
	}
	wantCode(t, wait(t, w, nil), CodeRequestCancelled)
}

// TestOnDisconnect: the hook runs once the connection ends, even while a handler that ignores
// cancellation is still running, and tells whether shutdown came first.
func TestOnDisconnect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		shutdown bool
	}{{"after shutdown", true}, {"without shutdown", false}} {
		t.Run(tc.name, func(t *testing.T) {
			started, release := make(chan struct{}), make(chan struct{})
			stubborn := Method{Handle: func(context.Context, json.RawMessage) (any, error) {
				close(started)
				<-release // ignores its context, as an uncancellable read would
				return nil, nil
			}}
			disconnected := make(chan bool, 1)
			var calls atomic.Int32
			h := newHarness(t, Options{
				ShutdownMethod: "shutdown",
				DrainTimeout:   10 * time.Millisecond,
				Methods:        map[string]Method{"stubborn": stubborn},
				OnDisconnect: func(requested bool) {
					calls.Add(1)
					disconnected <- requested
				},
			}, nil)
			dispatch(t, h, "stubborn", 1000)
			<-started
			if tc.shutdown {
				if err := h.call(t, "shutdown", nil, nil); err != nil {
					t.Fatalf("shutdown: %v", err)
				}
			}
			if err := h.client.Notify(context.Background(), "exit", nil); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, disconnected, "OnDisconnect"); got != tc.shutdown {
				t.Errorf("OnDisconnect(%v), want %v", got, tc.shutdown)
			}
			close(release)
			if res := h.wait(); res.shutdown != tc.shutdown || res.err != nil {
				t.Errorf("Serve = (%v, %v), want (%v, nil)", res.shutdown, res.err, tc.shutdown)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("OnDisconnect ran %d times, want 1", n)
			}
		})
	}
}

// TestWireErrorDataStaysJSON: error data that scrubbing would leave invalid is replaced by its
// kind, so the reply can still be sent.
func TestWireErrorDataStaysJSON(t *testing.T) {
	breaking := func(s string) string { return strings.Replace(s, `"`, "", 1) }
	s := NewServer(Options{Scrub: breaking})
	we := s.wireError(&Error{Code: CodeInvalidParams, Message: "bad", Data: map[string]string{"kind": "validation", "hint": "x"}})
	if we.Data == nil || !json.Valid(*we.Data) {
		t.Fatalf("data %v is not JSON", we.Data)
	}
	if got := string(*we.Data); got != `{"kind":"validation"}` {
		t.Errorf("data = %s, want the kind alone", got)
	}
}
