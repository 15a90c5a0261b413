package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// TestFakeOnlyOperations runs, through the real process, the four operations moto lacks.
func TestFakeOnlyOperations(t *testing.T) {
	fake := startFake(t)
	p := startServe(t, scratchEnv(t))
	p.initialize(fakeSettings(fake))

	r := p.invoke("AssumeRoot", map[string]any{"TargetPrincipal": "111122223333", "TaskPolicyArn": "IAMAuditRootUserCredentials"})
	root := storedAs(t, "AssumeRoot", r, "")
	if arn := str(t, r.Data, "session.arn"); arn != "arn:aws:iam::111122223333:root" {
		t.Errorf("AssumeRoot session ARN %q, want the member account's root", arn)
	}
	if got := str(t, r.Data, "taskPolicyArn"); got != "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials" {
		t.Errorf("AssumeRoot taskPolicyArn %q, want the short name expanded to the root-task ARN", got)
	}
	if !strings.Contains(r.Text, "111122223333") {
		t.Errorf("AssumeRoot text does not name the member account:\n%s", r.Text)
	}

	r = p.invoke("DecodeAuthorizationMessage", map[string]any{"EncodedMessage": "abc123encoded"})
	if !strings.Contains(r.Text, "ec2:RunInstances") {
		t.Errorf("DecodeAuthorizationMessage text does not name the action ec2:RunInstances:\n%s", r.Text)
	}
	if got := str(t, r.Data, "action"); got != "ec2:RunInstances" {
		t.Errorf("DecodeAuthorizationMessage data.action %q", got)
	}

	r = p.invoke("GetDelegatedAccessToken", map[string]any{"TradeInToken": "TRADE-IN-TOKEN-0123456789"})
	delegated := storedAs(t, "GetDelegatedAccessToken", r, "")
	if arn := str(t, r.Data, "session.arn"); !strings.Contains(arn, "assumed-role/Delegated/") {
		t.Errorf("GetDelegatedAccessToken session ARN %q", arn)
	}

	r = p.invoke("GetWebIdentityToken", map[string]any{"Audience": []string{"https://api.example.com"}, "SigningAlgorithm": "RS256"})
	jwtSession := storedAs(t, "GetWebIdentityToken", r, "")
	if kind := str(t, r.Data, "session.kind"); kind != "token" {
		t.Errorf("GetWebIdentityToken session kind %q, want token", kind)
	}
	if got := str(t, r.Data, "tokenAudience"); got != "https://api.example.com" {
		t.Errorf("GetWebIdentityToken tokenAudience %q", got)
	}

	// What reached the fake: each action once, signed by the base profile's key, with the params.
	got := map[string]ststest.Request{}
	for _, req := range fake.Requests() {
		got[req.Action] = req
	}
	for action, want := range map[string]map[string]string{
		"AssumeRoot":                 {"TargetPrincipal": "111122223333", "TaskPolicyArn.arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
		"DecodeAuthorizationMessage": {"EncodedMessage": "abc123encoded"},
		"GetDelegatedAccessToken":    {"TradeInToken": "TRADE-IN-TOKEN-0123456789"},
		"GetWebIdentityToken":        {"Audience.member.1": "https://api.example.com", "SigningAlgorithm": "RS256"},
	} {
		req, ok := got[action]
		if !ok {
			t.Errorf("the fake STS never saw %s", action)
			continue
		}
		if req.KeyID != baseKeyID {
			t.Errorf("%s was signed by %q, want the base key %s", action, req.KeyID, baseKeyID)
		}
		for k, v := range want {
			if req.Form.Get(k) != v {
				t.Errorf("%s sent %s=%q, want %q (form %v)", action, k, req.Form.Get(k), v, req.Form)
			}
		}
	}

	var l sessionList
	mustResult(t, p.call("sessions/list", nil), &l)
	for _, s := range []string{root, delegated, jwtSession} {
		if !slices.Contains(l.names(), s) {
			t.Errorf("sessions/list lacks %q: %q", s, l.names())
		}
	}
	// The stored root credentials sign later calls.
	r = p.invoke("GetCallerIdentity", map[string]any{"Session": root})
	if arn := str(t, r.Data, "arn"); arn != "arn:aws:iam::111122223333:root" {
		t.Errorf("GetCallerIdentity as %s: ARN %q", root, arn)
	}

	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}
}

// TestCancelRequest cancels a call held at the fake STS through $/cancelRequest.
func TestCancelRequest(t *testing.T) {
	fake := startFake(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the fake closes
	fake.Hold("GetCallerIdentity", release)

	p := startServe(t, scratchEnv(t))
	p.initialize(fakeSettings(fake))

	id, ch := p.request("tool/invoke", invokeParams("GetCallerIdentity", nil))
	select {
	case action := <-fake.Started():
		if action != "GetCallerIdentity" {
			t.Fatalf("held %s, want GetCallerIdentity", action)
		}
	case <-time.After(callTimeout):
		t.Fatalf("the call never reached the fake STS%s", p.diag())
	}
	select {
	case m := <-ch:
		t.Fatalf("answered while held at STS: %s", m.Raw)
	default:
	}

	sent := time.Now()
	p.notify("$/cancelRequest", map[string]any{"id": id})
	m := p.await(id, ch)
	elapsed := time.Since(sent)
	e, d := mustError(t, m, -32800)
	if d.Kind != "" && d.Kind != "cancelled" {
		t.Errorf("cancelled call: data.kind %q, want cancelled: %s", d.Kind, m.Raw)
	}
	if e.Message == "" {
		t.Errorf("cancelled call without a message: %s", m.Raw)
	}
	// The one wall-clock bound in these tests: cancelling aborts the HTTP call at once instead of
	// waiting for STS to answer (which it never would here).
	if elapsed > time.Second {
		t.Errorf("the cancelled call was answered %v after $/cancelRequest, want within 1 s", elapsed)
	}

	// The server goes on: a local command, and an STS call once STS answers again.
	r := p.invoke("ListSessions", nil)
	if str(t, r.Data, "active") != "base" {
		t.Errorf("ListSessions after the cancel: %s", r.Data)
	}
	// A cancel for an id no longer in flight is ignored (a notification gets no answer).
	p.notify("$/cancelRequest", map[string]any{"id": id})
	fake.Hold("GetCallerIdentity", nil)
	r = p.invoke("GetCallerIdentity", nil)
	if str(t, r.Data, "account") != ststest.Account {
		t.Errorf("GetCallerIdentity after the cancel: %s", r.Data)
	}
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}
	if extra := p.extra(); len(extra) != 0 {
		t.Errorf("unexpected messages (a second answer to the cancelled call?): first %s", extra[0].Raw)
	}
}

// TestConcurrentInvokes sends 32 tool/invoke calls at once while two STS calls are held, and
// expects every one answered with its own id.
func TestConcurrentInvokes(t *testing.T) {
	fake := startFake(t)
	release := make(chan struct{})
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})
	fake.Hold("GetCallerIdentity", release)

	p := startServe(t, scratchEnv(t))
	p.initialize(fakeSettings(fake))

	type pending struct {
		id int64
		ch <-chan *message
	}
	var held []pending
	for range 2 {
		id, ch := p.request("tool/invoke", invokeParams("GetCallerIdentity", nil))
		held = append(held, pending{id, ch})
	}
	for range held {
		select {
		case <-fake.Started():
		case <-time.After(callTimeout):
			t.Fatalf("the held calls never reached the fake STS%s", p.diag())
		}
	}

	const n = 32
	var calls []pending
	for range n {
		id, ch := p.request("tool/invoke", invokeParams("ListSessions", nil))
		calls = append(calls, pending{id, ch})
	}
	for _, c := range calls {
		m := p.await(c.id, c.ch)
		r := mustInvokeResult(t, m, "ListSessions")
		if str(t, r.Data, "active") != "base" {
			t.Errorf("ListSessions %d: %s", c.id, r.Data)
		}
		if string(m.ID) != fmt.Sprint(c.id) {
			t.Errorf("response id %s routed to request %d", m.ID, c.id)
		}
	}

	close(release)
	released = true
	for _, c := range held {
		r := mustInvokeResult(t, p.await(c.id, c.ch), "GetCallerIdentity")
		if str(t, r.Data, "account") != ststest.Account {
			t.Errorf("held GetCallerIdentity: %s", r.Data)
		}
	}
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}
	if extra := p.extra(); len(extra) != 0 {
		t.Errorf("%d unexpected messages, first %s", len(extra), extra[0].Raw)
	}
}

// TestRobustness feeds the real process garbage, invalid JSON and an oversize message, and expects
// it to answer what has an id, drop the rest, and keep serving.
func TestRobustness(t *testing.T) {
	fake := startFake(t)
	p := startServe(t, scratchEnv(t))
	p.initialize(fakeSettings(fake))

	// Bytes that are no frame at all.
	p.mustWrite([]byte("this is not a frame\r\n\r\n"))
	p.mustWrite([]byte("\x00\x01\x02\xfe\xff binary junk \x7f\r\nX-Junk: yes\r\n\r\n"))
	p.mustWrite([]byte("\n\n\r\n"))
	// A frame whose body is not JSON (and carries no id to answer).
	p.mustWrite(frame([]byte(`{"jsonrpc":"2.0", this is not json`)))
	p.mustWrite(frame([]byte("\xff\xfe\x00garbage")))
	// A frame with a non-numeric Content-Length.
	p.mustWrite([]byte("Content-Length: lots\r\n\r\n"))

	// A message over 1 MiB with an id: refused with InvalidRequest, without being buffered.
	const bigID = 777
	bigCh := p.expect(bigID)
	pad := strings.Repeat("A", (1<<20)+4096)
	big, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": bigID, "method": "tool/invoke",
		"params": map[string]any{"command": "ListSessions", "params": map[string]any{"pad": pad}}})
	if err != nil {
		t.Fatal(err)
	}
	p.mustWrite(frame(big))
	m := p.await(bigID, bigCh)
	e, _ := mustError(t, m, -32600)
	if e.Message == "" {
		t.Errorf("oversize message refused without a message: %s", m.Raw)
	}
	if len(m.Raw) > 64<<10 {
		t.Errorf("the refusal of an oversize message is itself %d bytes", len(m.Raw))
	}

	// A valid request is answered, and the process is alive.
	r := p.invoke("GetCallerIdentity", nil)
	if str(t, r.Data, "account") != ststest.Account {
		t.Errorf("GetCallerIdentity after bad input: %s", r.Data)
	}
	var l sessionList
	mustResult(t, p.call("sessions/list", nil), &l)
	if !p.alive() {
		t.Fatalf("the sidecar died%s", p.diag())
	}
	// Whatever else came back for the bad input is an error, never a result.
	for _, x := range p.extra() {
		if x.Error == nil || len(x.Result) != 0 {
			t.Errorf("bad input got a non-error answer: %s", x.Raw)
		}
	}
	if bytes.Contains(p.stderr.Bytes(), []byte(pad[:1024])) {
		t.Error("the oversize body reached the log")
	}
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}
}
