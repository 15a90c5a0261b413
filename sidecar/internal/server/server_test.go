package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/rpc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The SDK's HTTP client keeps idle keep-alive connections to the fake STS until its
		// transport is collected; they are not ours to stop.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// assertNoSecrets fails if any secret the fake issued, or the base secret, is in text.
func assertNoSecrets(t *testing.T, r *running, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range append(r.fake.Secrets(), baseSecret) {
			if strings.Contains(text, s) {
				t.Fatalf("secret %q leaked:\n%s", s, text)
			}
		}
	}
}

// TestCancelStopsTheSTSCall cancels a call whose STS request hangs: the reply comes at once and the
// HTTP request itself is abandoned.
func TestCancelStopsTheSTSCall(t *testing.T) {
	r := start(t)
	r.initialize()
	release := make(chan struct{})
	defer close(release)
	r.fake.Hold("GetCallerIdentity", release)
	r.send(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tool/invoke", "params": map[string]any{"command": "GetCallerIdentity"}})
	select {
	case <-r.fake.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("the call never reached STS")
	}
	r.send(map[string]any{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": map[string]any{"id": 7}})
	// STS is held until the test ends, so an answer now can only come from the cancel; how fast is
	// the benchmark's business.
	resp := r.recv()
	code, _ := rpcError(t, resp)
	if code != int(protocol.CodeRequestCancelled) {
		t.Fatalf("code %d, want %d", code, protocol.CodeRequestCancelled)
	}
	// The cancel reached the HTTP request: the fake STS saw its client go away.
	select {
	case action := <-r.fake.Abandoned():
		if action != "GetCallerIdentity" {
			t.Errorf("abandoned %s, want GetCallerIdentity", action)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the STS request was not abandoned after the cancel")
	}
	// The server is still fine.
	result(t, r.call(8, "sessions/list", nil))
}

func TestConcurrentCalls(t *testing.T) {
	r := start(t)
	r.initialize()
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			r.send(map[string]any{"jsonrpc": "2.0", "id": 100 + i, "method": "tool/invoke", "params": map[string]any{"command": "GetCallerIdentity"}})
		}()
	}
	wg.Wait()
	seen := map[float64]bool{}
	for range n {
		resp := r.recv()
		result(t, resp)
		seen[resp["id"].(float64)] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct answers, want %d", len(seen), n)
	}
}

// TestLogsCarryNoBodies checks that every log line of a session with secrets in and out holds
// none of them, and that tool calls are logged with what the guide says.
func TestLogsCarryNoBodies(t *testing.T) {
	r := start(t)
	r.initialize()
	trade := "TRADEIN-CANARY-3b7e1d9a0c"
	for i, call := range []map[string]any{
		{"command": "AssumeRole", "params": map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"}},
		{"command": "GetDelegatedAccessToken", "params": map[string]any{"TradeInToken": trade}},
		{"command": "GetDelegatedAccessToken", "params": map[string]any{"TradeInToken": trade, "Extra": 1}},
		{"command": "GetSessionToken", "params": map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "864209"}},
		{"command": "GetWebIdentityToken", "params": map[string]any{"Audience": "a", "SigningAlgorithm": "RS256"}},
	} {
		resp := r.call(i+1, "tool/invoke", call)
		raw := fmt.Sprint(resp)
		assertNoSecrets(t, r, raw)
		if strings.Contains(raw, trade) || strings.Contains(raw, "864209") {
			t.Fatalf("input secret echoed: %s", raw)
		}
	}
	exported := result(t, r.call(20, "sessions/export", map[string]any{"name": "dev"}))
	if exported["secretAccessKey"] == "" {
		t.Fatal("export returned no secret")
	}
	secrets := append(r.fake.Secrets(), baseSecret, trade, "864209")
	invokes := 0
	for _, e := range r.logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Fatalf("secret %q in log line %s", s, line)
			}
		}
		if _, ok := e.ContextMap()["command"]; ok && e.ContextMap()["method"] == protocol.MethodToolInvoke {
			invokes++
			for _, k := range []string{"id", "command", "duration_ms"} {
				if _, ok := e.ContextMap()[k]; !ok {
					t.Errorf("tool/invoke log line lacks %s: %v", k, e.ContextMap())
				}
			}
		}
	}
	if invokes < 5 {
		t.Fatalf("%d tool/invoke log lines, want one per call", invokes)
	}
}

// TestBadInputKeepsServing sends broken frames and messages; each later request is still answered.
func TestBadInputKeepsServing(t *testing.T) {
	r := start(t)
	r.initialize()
	big := `{"jsonrpc":"2.0","id":51,"method":"tool/invoke","params":{"command":"ListSessions","params":{"x":"` + strings.Repeat("a", 1<<20) + `"}}}`
	for i, bad := range []string{
		"this is not a header\r\n\r\n",
		"Content-Length: 9\r\n\r\n{not json",
		frame(`{"jsonrpc":"2.0","id":50,"method":42}`),
		frame(big),
		frame(`{"jsonrpc":"2.0","id":52,"method":"tool/invoke","params":{"command":"ListSessions","params":"x"}}`),
		frame(`{"jsonrpc":"2.0","id":53,"method":"sessions/use","params":{"name":7}}`),
	} {
		r.sendRaw(bad)
		r.send(map[string]any{"jsonrpc": "2.0", "id": 1000 + i, "method": "sessions/list"})
		// Replies to bad frames that carry an id come first; then the probe's own answer.
		for {
			resp := r.recv()
			if resp["id"] == float64(1000+i) {
				result(t, resp)
				break
			}
			code, e := rpcError(t, resp)
			if resp["id"] == float64(51) && (code != int(protocol.CodeInvalidRequest) || !strings.Contains(fmt.Sprint(e["message"]), "limit")) {
				t.Fatalf("oversize answer: %v", e)
			}
		}
	}
}

// TestTransportCodesMatchProtocol keeps the transport's own codes equal to the protocol's.
func TestTransportCodesMatchProtocol(t *testing.T) {
	for _, c := range []struct {
		name       string
		rpc, proto int64
	}{
		{"InvalidRequest", rpc.CodeInvalidRequest, protocol.CodeInvalidRequest},
		{"MethodNotFound", rpc.CodeMethodNotFound, protocol.CodeMethodNotFound},
		{"InvalidParams", rpc.CodeInvalidParams, protocol.CodeInvalidParams},
		{"InternalError", rpc.CodeInternalError, protocol.CodeInternalError},
		{"ServerNotInitialized", rpc.CodeServerNotInitialized, protocol.CodeServerNotInitialized},
		{"RequestCancelled", rpc.CodeRequestCancelled, protocol.CodeRequestCancelled},
		{"ServerBusy", rpc.CodeServerBusy, protocol.CodeServerBusy},
		{"ShuttingDown", rpc.CodeShuttingDown, protocol.CodeShuttingDown},
		{"ParseError", rpc.CodeParseError, protocol.CodeParseError},
	} {
		if c.rpc != c.proto {
			t.Errorf("%s: rpc %d, protocol %d", c.name, c.rpc, c.proto)
		}
	}
}
