package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
	"awsflow-sts/sidecar/internal/tool"
)

// The protocol revisions the tests' clients speak: the two in use, and the SDK's newest, in
// which questions to the user are input requests of the tool's result.
var versions = []string{"2025-06-18", "2025-11-25", "2026-07-28"}

func TestInitializeAndToolsList(t *testing.T) {
	h := newHarness(t, options{})
	cs := h.connect(clientOptions{version: "2025-06-18"})
	init := cs.InitializeResult()
	if init.ServerInfo.Name != "awsflow-sts" || init.ServerInfo.Version != "1.2.3-test" {
		t.Errorf("serverInfo %+v", init.ServerInfo)
	}
	if init.Instructions != protocol.ModelDescription {
		t.Errorf("instructions %q", init.Instructions)
	}
	if init.Capabilities.Tools == nil || init.Capabilities.Logging == nil {
		t.Errorf("capabilities %+v", init.Capabilities)
	}
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != 1 {
		t.Fatalf("%d tools", len(list.Tools))
	}
	tl := list.Tools[0]
	if tl.Name != "STSTool" || tl.Description != protocol.ModelDescription {
		t.Errorf("tool %q: %q", tl.Name, tl.Description)
	}
	schema, err := json.Marshal(tl.InputSchema)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(schema, &got)
	_ = json.Unmarshal([]byte(protocol.MCPInputSchema), &want)
	if gj, wj := mustJSON(t, got), mustJSON(t, want); gj != wj {
		t.Errorf("inputSchema differs from the generated one:\n%s", gj)
	}
	file, err := os.ReadFile("../../../protocol/mcp-tool-input-schema.json")
	if err != nil || string(file) != protocol.MCPInputSchema {
		t.Errorf("protocol/mcp-tool-input-schema.json is not the embedded schema (%v)", err)
	}
	enum := want.(map[string]any)["properties"].(map[string]any)["command"].(map[string]any)["enum"].([]any)
	if !slices.Contains(enum, any("WriteProfile")) || len(enum) != len(protocol.Commands) {
		t.Errorf("command enum %v", enum)
	}
	a := tl.Annotations
	if a == nil || a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint || a.OpenWorldHint == nil || !*a.OpenWorldHint || a.IdempotentHint {
		t.Errorf("annotations %+v", a)
	}
	ro, _ := json.Marshal(tl.Meta[MetaReadOnlyCommands])
	if string(ro) != `["DecodeAuthorizationMessage","GetAccessKeyInfo","GetCallerIdentity","ListSessions"]` {
		t.Errorf("read-only commands %s", ro)
	}
	if err := cs.Ping(context.Background(), nil); err != nil {
		t.Errorf("ping: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGetCallerIdentityEveryVersion(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t, options{})
			cs := h.connect(clientOptions{version: v})
			if got := cs.InitializeResult().ProtocolVersion; got != v {
				t.Errorf("negotiated %s, want %s", got, v)
			}
			res := h.call(cs, "GetCallerIdentity", nil)
			if res.IsError {
				t.Fatalf("error: %s", text(t, res))
			}
			// The same text the extension's tool returns: the runner's, unchanged.
			contains(t, text(t, res), "**Caller identity** of the base identity (profile `test`): IAM user.", "arn:aws:iam::123456789012:user/alice")
			data := structured(t, res)
			if data["account"] != "123456789012" || data["command"] != "GetCallerIdentity" {
				t.Errorf("structuredContent %v", data)
			}
		})
	}
}

func TestErrorsAreResults(t *testing.T) {
	h := newHarness(t, options{})
	cs := h.connect(clientOptions{version: "2025-11-25"})
	cases := []struct {
		command string
		params  map[string]any
		want    []string
	}{
		{"GetCallerIdentiy", nil, []string{"STSTool error (validation): There is no STSTool command \"GetCallerIdentiy\". Did you mean \"GetCallerIdentity\"?", "What to do: Use one of:", "WriteProfile"}},
		{"AssumeRole", map[string]any{"RoleArn": "nope"}, []string{"STSTool error (validation): AssumeRole was not run", "RoleArn"}},
		{"UseSession", map[string]any{"SessionName": "missing"}, []string{"STSTool error (session):", "What to do: ListSessions shows the stored sessions"}},
		{"", nil, []string{`STSTool needs {"command": <command>, "params": {...}}; command is one of AssumeRole,`}},
	}
	for _, c := range cases {
		res := h.call(cs, c.command, c.params)
		if !res.IsError {
			t.Errorf("%s: not an error: %s", c.command, text(t, res))
			continue
		}
		contains(t, text(t, res), c.want...)
	}
	h.fake.Fail("GetCallerIdentity", ststest.Failure{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."})
	res := h.call(cs, "GetCallerIdentity", nil)
	if !res.IsError {
		t.Fatal("not an error")
	}
	// The extension's wording: kind and AWS code, then the message with its hint.
	contains(t, text(t, res), "STSTool error (aws, InvalidClientTokenId): STS refused GetCallerIdentity", "What to do:")
	if strings.Count(text(t, res), "What to do:") != 1 {
		t.Errorf("the hint is repeated:\n%s", text(t, res))
	}
	// An unknown tool is a protocol error, not a result.
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "NoSuchTool", Arguments: map[string]any{}})
	if err == nil || !strings.Contains(err.Error(), "unknown tool") {
		t.Errorf("unknown tool: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	te := &tool.Error{Code: protocol.CodeAWSError, AWSCode: "AccessDenied", Message: "m", Hint: "h"}
	if got := ErrorText(te); got != "STSTool error ("+te.Kind()+", AccessDenied): m\n\nWhat to do: h" {
		t.Errorf("%q", got)
	}
	si := &tool.Error{Code: protocol.CodeSignInRequired, SSOSession: "corp", Message: "m", Hint: "h"}
	contains(t, ErrorText(si), "STSTool error (signin): m\n\nWhat to do: h", "`aws sso login --sso-session corp`")
}

// answer is an elicitation handler that records the questions and answers them in turn.
type answer struct {
	mu        sync.Mutex
	questions []*mcp.ElicitParams
	replies   []*mcp.ElicitResult
}

func (a *answer) handle(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.questions = append(a.questions, r.Params)
	if len(a.replies) == 0 {
		return &mcp.ElicitResult{Action: "cancel"}, nil
	}
	res := a.replies[0]
	a.replies = a.replies[1:]
	return res, nil
}

func (a *answer) asked() []*mcp.ElicitParams {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.questions)
}

func accept(content map[string]any) *mcp.ElicitResult {
	return &mcp.ElicitResult{Action: "accept", Content: content}
}

func TestConsentAccepted(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t, options{})
			a := &answer{replies: []*mcp.ElicitResult{accept(map[string]any{"confirm": true})}}
			cs := h.connect(clientOptions{version: v, elicit: a.handle})
			params := map[string]any{"RoleArn": devRole, "RoleSessionName": "dev"}
			res := h.call(cs, "AssumeRole", params)
			if res.IsError {
				t.Fatalf("error: %s", text(t, res))
			}
			contains(t, text(t, res), "**AssumeRole** succeeded", "stored as session `dev`")
			q := a.asked()
			if len(q) != 1 {
				t.Fatalf("%d questions", len(q))
			}
			title, message, _ := Confirmation("AssumeRole", map[string]any{"RoleArn": devRole, "RoleSessionName": "dev"})
			if q[0].Message != title+"\n\n"+message {
				t.Errorf("asked %q", q[0].Message)
			}
			if !slices.Contains(h.actions(), "AssumeRole") {
				t.Errorf("STS got %v", h.actions())
			}
			if structured(t, res)["session"] == nil && structured(t, res)["sessionName"] == nil {
				t.Logf("structuredContent %v", structured(t, res))
			}
		})
	}
}

func TestConsentDeclinedOrCancelled(t *testing.T) {
	replies := map[string]*mcp.ElicitResult{
		"declined":     {Action: "decline"},
		"cancelled":    {Action: "cancel"},
		"said no":      accept(map[string]any{"confirm": false}),
		"empty accept": accept(nil),
	}
	for _, v := range versions {
		for name, reply := range replies {
			t.Run(v+" "+name, func(t *testing.T) {
				h := newHarness(t, options{})
				a := &answer{replies: []*mcp.ElicitResult{reply}}
				cs := h.connect(clientOptions{version: v, elicit: a.handle})
				res := h.call(cs, "GetSessionToken", map[string]any{"SessionName": "s"})
				if !res.IsError {
					t.Fatalf("not an error: %s", text(t, res))
				}
				contains(t, text(t, res), "STSTool error (cancelled): the user declined to run GetSessionToken: nothing was called")
				if n := len(h.fake.Requests()); n != 0 {
					t.Errorf("STS got %d requests: %v", n, h.actions())
				}
				if len(a.asked()) != 1 {
					t.Errorf("%d questions", len(a.asked()))
				}
			})
		}
	}
}

func TestConsentWithoutElicitation(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t, options{})
			cs := h.connect(clientOptions{version: v})
			res := h.call(cs, "AssumeRole", map[string]any{"RoleArn": devRole, "RoleSessionName": "dev"})
			if !res.IsError {
				t.Fatalf("not an error: %s", text(t, res))
			}
			contains(t, text(t, res), "AssumeRole was not run", "does not support elicitation", "--allow-credential-commands")
			if n := len(h.fake.Requests()); n != 0 {
				t.Errorf("STS got %v", h.actions())
			}
			// Commands that mint nothing run as ever.
			if res := h.call(cs, "ListSessions", nil); res.IsError {
				t.Errorf("ListSessions: %s", text(t, res))
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		h := newHarness(t, options{allow: true})
		cs := h.connect(clientOptions{version: "2025-06-18"})
		res := h.call(cs, "AssumeRole", map[string]any{"RoleArn": devRole, "RoleSessionName": "dev"})
		if res.IsError {
			t.Fatalf("error: %s", text(t, res))
		}
		contains(t, text(t, res), "stored as session `dev`")
	})
}

func TestMFAThroughElicitation(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t, options{})
			a := &answer{replies: []*mcp.ElicitResult{
				accept(map[string]any{"confirm": true}),
				accept(map[string]any{"code": userCode}),
			}}
			logged := 0
			var mu sync.Mutex
			cs := h.connect(clientOptions{version: v, elicit: a.handle, logs: func(*mcp.LoggingMessageParams) {
				mu.Lock()
				defer mu.Unlock()
				logged++
			}})
			if v < "2026-07-28" {
				// Every log line reaches the client too (the harness checks them all for secrets).
				if err := cs.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
					t.Fatal(err)
				}
				defer func() {
					mu.Lock()
					defer mu.Unlock()
					if logged == 0 {
						t.Error("no log notifications")
					}
				}()
			}
			// The model passes a code of its own: the user is asked anyway, and the model's is not used.
			res := h.call(cs, "GetSessionToken", map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": modelCode, "SessionName": "mfa"})
			if res.IsError {
				t.Fatalf("error: %s", text(t, res))
			}
			q := a.asked()
			if len(q) != 2 {
				t.Fatalf("%d questions", len(q))
			}
			contains(t, q[1].Message, "MFA device arn:aws:iam::123456789012:mfa/alice")
			schema := mustJSON(t, q[1].RequestedSchema)
			contains(t, schema, `"pattern":"^[0-9]{6}$"`, `"code"`)
			var sent []string
			for _, r := range h.fake.Requests() {
				if r.Action == "GetSessionToken" {
					sent = append(sent, r.Form.Get("TokenCode"))
				}
			}
			if !slices.Equal(sent, []string{userCode}) {
				t.Errorf("STS got codes %v, want the user's", sent)
			}
		})
	}
}

func TestMFADeclined(t *testing.T) {
	h := newHarness(t, options{})
	a := &answer{replies: []*mcp.ElicitResult{accept(map[string]any{"confirm": true}), {Action: "decline"}}}
	cs := h.connect(clientOptions{version: "2025-11-25", elicit: a.handle})
	res := h.call(cs, "GetSessionToken", map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice"})
	if !res.IsError {
		t.Fatalf("not an error: %s", text(t, res))
	}
	contains(t, text(t, res), "no MFA code was entered")
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("STS got %v", h.actions())
	}
}

func TestMFAWithoutElicitation(t *testing.T) {
	h := newHarness(t, options{allow: true})
	cs := h.connect(clientOptions{version: "2025-06-18"})
	res := h.call(cs, "GetSessionToken", map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice"})
	if !res.IsError {
		t.Fatalf("not an error: %s", text(t, res))
	}
	contains(t, text(t, res), "no one can be asked for it here")
	// Without elicitation the runner's rule holds: a code the model passes is used.
	res = h.call(cs, "GetSessionToken", map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": modelCode})
	if res.IsError {
		t.Fatalf("error: %s", text(t, res))
	}
}

func TestCancellationCancelsTheSTSCall(t *testing.T) {
	h := newHarness(t, options{})
	logs := make(chan *mcp.LoggingMessageParams, 64)
	cs := h.connect(clientOptions{version: "2025-11-25", logs: func(p *mcp.LoggingMessageParams) {
		select {
		case logs <- p:
		default:
		}
	}})
	if err := cs.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	h.fake.Hold("GetCallerIdentity", release)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "STSTool", Arguments: map[string]any{"command": "GetCallerIdentity"}})
		errc <- err
	}()
	select {
	case <-h.fake.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not reach STS")
	}
	cancel()
	start := time.Now()
	if err := <-errc; err == nil {
		t.Fatal("the cancelled call succeeded")
	}
	// The server's handler ends (it logs the failure) although STS never answers: the
	// notifications/cancelled cancelled its HTTP call.
	deadline := time.After(time.Second)
	for {
		select {
		case p := <-logs:
			d := mustJSON(t, p.Data)
			if strings.Contains(d, "command failed") && strings.Contains(d, "GetCallerIdentity") {
				if time.Since(start) > time.Second {
					t.Errorf("took %s", time.Since(start))
				}
				return
			}
		case <-deadline:
			t.Fatal("the STS call was not cancelled within 1 s")
		}
	}
}

func TestProgressAndLogs(t *testing.T) {
	h := newHarness(t, options{})
	var mu sync.Mutex
	var progress []*mcp.ProgressNotificationParams
	var logs []*mcp.LoggingMessageParams
	cs := h.connect(clientOptions{
		version: "2025-06-18",
		prog: func(p *mcp.ProgressNotificationParams) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, p)
		},
		logs: func(p *mcp.LoggingMessageParams) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, p)
		},
	})
	res := h.call(cs, "GetCallerIdentity", nil)
	if res.IsError {
		t.Fatal(text(t, res))
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	if len(logs) != 0 || len(progress) != 0 {
		t.Errorf("before setLevel and without a token: %d logs, %d progress", len(logs), len(progress))
	}
	mu.Unlock()
	if err := cs.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	p := &mcp.CallToolParams{Name: "STSTool", Arguments: map[string]any{"command": "GetCallerIdentity"}}
	p.SetProgressToken("tok-1")
	if _, err := cs.CallTool(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		done := false
		for _, l := range logs {
			done = done || strings.Contains(mustJSON(t, l.Data), "command done")
		}
		return len(progress) == 2 && done
	})
	mu.Lock()
	defer mu.Unlock()
	if progress[0].ProgressToken != "tok-1" || progress[0].Progress != 0 || progress[1].Progress != 1 || progress[1].Total != 1 {
		t.Errorf("progress %+v %+v", progress[0], progress[1])
	}
	found := false
	for _, l := range logs {
		if l.Level == "debug" {
			t.Errorf("a debug line at level info: %v", l.Data)
		}
		if strings.Contains(mustJSON(t, l.Data), "command done") {
			found = true
		}
	}
	if !found {
		t.Errorf("no \"command done\" log line in %d", len(logs))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWriteProfile(t *testing.T) {
	for _, v := range []string{"2025-06-18", "2026-07-28"} {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t, options{})
			a := &answer{replies: []*mcp.ElicitResult{
				accept(map[string]any{"confirm": true}),
				accept(map[string]any{"confirm": true}),
				{Action: "decline"},
			}}
			cs := h.connect(clientOptions{version: v, elicit: a.handle})
			if res := h.call(cs, "AssumeRole", map[string]any{"RoleArn": devRole, "RoleSessionName": "dev"}); res.IsError {
				t.Fatal(text(t, res))
			}
			path := filepath.Join(t.TempDir(), "credentials")
			res := h.call(cs, "WriteProfile", map[string]any{"SessionName": "dev", "Profile": "dev-profile", "Path": path})
			if res.IsError {
				t.Fatal(text(t, res))
			}
			contains(t, text(t, res), "`dev-profile`", path)
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			contains(t, string(file), "[dev-profile]", "aws_secret_access_key")
			if q := a.asked(); len(q) != 2 || !strings.HasPrefix(q[1].Message, "Write AWS credentials to a file?") {
				t.Errorf("questions %d", len(q))
			}
			// Declined: nothing written.
			other := filepath.Join(t.TempDir(), "credentials")
			res = h.call(cs, "WriteProfile", map[string]any{"SessionName": "dev", "Profile": "p2", "Path": other})
			if !res.IsError || !strings.Contains(text(t, res), "declined") {
				t.Errorf("declined: %s", text(t, res))
			}
			if _, err := os.Stat(other); !os.IsNotExist(err) {
				t.Errorf("written after a decline: %v", err)
			}
			// A profile name the file cannot hold is refused before the user is asked.
			res = h.call(cs, "WriteProfile", map[string]any{"SessionName": "dev", "Profile": "a]b"})
			if !res.IsError || len(a.asked()) != 3 {
				t.Errorf("bad name: %d questions: %s", len(a.asked()), text(t, res))
			}
		})
	}
}
