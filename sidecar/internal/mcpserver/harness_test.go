package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// baseSecret is the base profile's secret key; it must never show up either.
const baseSecret = "BASESECRETwJalrXUtnFEMI/K7MDENG/bPxRfiCY"

// userCode is the MFA code the tests' user enters; modelCode one the model passes.
const (
	userCode  = "908172"
	modelCode = "554433"
)

const devRole = "arn:aws:iam::123456789012:role/Dev"

// recorder keeps every byte the client receives.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// harness is an MCP server on a fake STS, served over pipes with LineTransport.
type harness struct {
	t    *testing.T
	fake *ststest.Server
	srv  *Server
	// wire is what the server wrote to the client.
	wire *recorder
	// toServer and fromServer are the client's ends of the pipes.
	toServer   *io.PipeWriter
	fromServer *io.PipeReader
	done       chan error
}

type options struct {
	allow bool
}

func newHarness(t *testing.T, opts options) *harness {
	t.Helper()
	fake := ststest.New()
	t.Cleanup(fake.Close)
	ststest.UseProfile(t, "test", ststest.BaseKeyID, baseSecret)
	log, err := logging.New(io.Discard, "", "debug")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{
		Version: "1.2.3-test", Logger: log, AllowCredentialCommands: opts.allow, MaintainEvery: -1,
		Settings: protocol.Settings{Profile: "test", Region: "us-east-1", EndpointURL: fake.URL, MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &harness{t: t, fake: fake, srv: srv, wire: &recorder{}, toServer: inW, fromServer: outR, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		err := srv.Serve(ctx, &LineTransport{Reader: inR, Writer: io.MultiWriter(outW, h.wire)})
		_ = outW.Close()
		h.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		_ = inW.Close()
		_ = inR.Close()
		_ = outR.Close()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("the server did not stop")
		}
		h.assertNoSecrets(h.wire.String())
	})
	return h
}

// clientOptions configures the test's MCP client.
type clientOptions struct {
	version string
	elicit  func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	logs    func(*mcp.LoggingMessageParams)
	prog    func(*mcp.ProgressNotificationParams)
}

// connect connects the go-sdk's own client to the server.
func (h *harness) connect(o clientOptions) *mcp.ClientSession {
	h.t.Helper()
	copts := &mcp.ClientOptions{ElicitationHandler: o.elicit}
	if o.logs != nil {
		copts.LoggingMessageHandler = func(_ context.Context, r *mcp.LoggingMessageRequest) { o.logs(r.Params) }
	}
	if o.prog != nil {
		copts.ProgressNotificationHandler = func(_ context.Context, r *mcp.ProgressNotificationClientRequest) { o.prog(r.Params) }
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, copts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: h.fromServer, Writer: h.toServer}, &mcp.ClientSessionOptions{ProtocolVersion: o.version})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call runs STSTool and returns the result, failing on a protocol error.
func (h *harness) call(cs *mcp.ClientSession, command string, params map[string]any) *mcp.CallToolResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	args := map[string]any{"command": command}
	if params != nil {
		args["params"] = params
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: protocol.ToolName, Arguments: args})
	if err != nil {
		h.t.Fatalf("%s: %v", command, err)
	}
	return res
}

// text is a result's only text content.
func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("%d content items, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

// actions lists the STS actions the fake received.
func (h *harness) actions() []string {
	var out []string
	for _, r := range h.fake.Requests() {
		out = append(out, r.Action)
	}
	return out
}

// assertNoSecrets fails if any secret the fake issued, the base secret or an MFA code is in text.
func (h *harness) assertNoSecrets(text string) {
	h.t.Helper()
	for _, s := range append(h.fake.Secrets(), baseSecret, userCode, modelCode) {
		if frag, ok := ststest.Fragment(text, s); ok || strings.Contains(text, s) {
			h.t.Errorf("secret %q (fragment %q) reached the client", s, frag)
		}
	}
}

// structured is a result's structuredContent as a map.
func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("structuredContent %s: %v", raw, err)
	}
	return m
}

func contains(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in:\n%s", w, text)
		}
	}
}
