package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestLogsNeverContainParams(t *testing.T) {
	const canary = "SECRET-CANARY-123"
	logger, logs := observed()
	opts := Options{
		Logger:          logger,
		MaxMessageBytes: 4096,
		Methods: map[string]Method{
			"echo": echoMethod,
			"fail": {Handle: func(context.Context, json.RawMessage) (any, error) {
				return nil, errors.New("could not assume role")
			}},
			"panics": {Handle: func(context.Context, json.RawMessage) (any, error) { panic("bad state") }},
			"didSave": {Notification: true, Handle: func(context.Context, json.RawMessage) (any, error) {
				return nil, errors.New("save failed")
			}},
		},
	}
	secret := map[string]string{"secretAccessKey": canary}

	h := newHarness(t, opts, nil)
	var echoed map[string]string
	if err := h.call(t, "echo", secret, &echoed); err != nil || echoed["secretAccessKey"] != canary {
		t.Fatalf("echo = %v, %v", echoed, err)
	}
	wantCode(t, h.call(t, "fail", secret, nil), CodeInternalError)
	wantCode(t, h.call(t, "panics", secret, nil), CodeInternalError)
	wantCode(t, h.call(t, "missing", secret, nil), CodeMethodNotFound)
	for _, method := range []string{"didSave", "missing"} {
		if err := h.client.Notify(context.Background(), method, secret); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.call(t, "echo", nil, nil); err != nil { // the notifications are handled by now
		t.Fatal(err)
	}

	p := newRawPeer(t, opts)
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"echo","params":"` + canary + `"}`,
		`{"jsonrpc":"2.0","id":2,"method":"echo","params":{"k":"` + canary + `"`,
		`{"jsonrpc":"2.0","id":3,"method":"echo","params":{"k":"` + canary + strings.Repeat("x", 5000) + `"}}`,
		`{"jsonrpc":"2.0","id":4,"result":"` + canary + `"}`,
		`[{"jsonrpc":"2.0","id":5,"method":"echo","params":["` + canary + `"]}]`,
	} {
		p.write(t, frame(body))
	}
	p.write(t, "Content-Length: "+canary+"\r\n\r\n")
	p.write(t, frame(`{"jsonrpc":"2.0","id":"last","method":"echo"}`))
	for {
		if r := p.next(t); string(r.ID) == `"last"` {
			break
		}
	}
	_ = h.client.Close()
	h.wait()

	if logs.FilterMessage("request completed").FilterField(zapString("method", "echo")).Len() == 0 {
		t.Fatal("no completion line was logged for echo; the test would prove nothing")
	}
	if logs.FilterMessage("rejected message").Len() == 0 {
		t.Fatal("no rejection was logged; the test would prove nothing")
	}
	for _, e := range logs.All() {
		if line := encoded(t, e); strings.Contains(line, canary) {
			t.Errorf("log entry leaks params: %s", line)
		}
	}
}
