package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"awsflow-sts/sidecar/internal/localsts"
)

// mcpDemo is the demo's MCP client: the go-sdk's own client on `awsflow-sts mcp`'s stdio, with an
// elicitation handler that plays the user.
type mcpDemo struct {
	*demo
	session *mcp.ClientSession
	wire    *lockedLog // every message either way, for the secrets check

	mu     sync.Mutex // guards answer and asked: elicit runs on the connection's goroutine
	answer string     // what the user answers the next question: "accept" or "decline"
	asked  []string   // the questions the user was asked since the last call
}

// lockedLog is the MCP client's wire log: mcp.LoggingTransport writes to it from the connection's
// reader while the demo reads it.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mcpPart runs `awsflow-sts mcp` against the local STS as any MCP client would (Claude Code,
// Cursor, VS Code): the tool list, who am I, an AssumeRole the user declines (nothing is called, no
// session made), one the user accepts, and that session written to the credentials file for use
// outside the chat. None of the secrets the demo knows, that session's included (read back from the
// file), may appear in any message on that connection.
func (d *demo) mcpPart() error {
	fmt.Printf("\n── The same tool for any MCP client: awsflow-sts mcp ──\n")
	ctx, cancel := context.WithTimeout(d.ctx, 60*time.Second)
	defer cancel()
	args := []string{"mcp", "--profile", "demo", "--region", d.local.Region, "--endpoint-url", d.local.Endpoint, "--log-level", "warn"}
	cmd := exec.Command(d.bin, args...)
	cmd.Env = d.env
	cmd.Stderr = os.Stderr
	m := &mcpDemo{demo: d, wire: &lockedLog{}}
	client := mcp.NewClient(&mcp.Implementation{Name: "awsflow-sts demo", Version: "1"}, &mcp.ClientOptions{ElicitationHandler: m.elicit})
	session, err := client.Connect(ctx, &mcp.LoggingTransport{Transport: &mcp.CommandTransport{Command: cmd}, Writer: m.wire}, nil)
	if err != nil {
		return fmt.Errorf("connect to awsflow-sts mcp: %w", err)
	}
	m.session = session
	defer func() { _ = session.Close() }()

	init := session.InitializeResult()
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	names := make([]string, 0, len(tools.Tools))
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	fmt.Printf("`awsflow-sts %s` (pid %d): %s %s, protocol %s; tools/list: %d tool(s): %s\n",
		strings.Join(args, " "), cmd.Process.Pid, init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion, len(tools.Tools), strings.Join(names, ", "))

	role := "arn:aws:iam::" + d.local.Account + ":role/Dev"
	steps := []struct {
		title   string
		command string
		params  map[string]any
		answer  string
		isError bool
	}{
		{"Who am I? (over MCP)", "GetCallerIdentity", nil, "", false},
		{"Assume the Dev role; the user declines", "AssumeRole", map[string]any{"RoleArn": role, "RoleSessionName": "mcp-declined"}, "decline", true},
		{"Nothing was called, no session made", "ListSessions", nil, "", false},
		{"Assume the Dev role; the user accepts", "AssumeRole", map[string]any{"RoleArn": role, "RoleSessionName": "mcp-dev"}, "accept", false},
		{"The session the user allowed", "ListSessions", nil, "", false},
		{"Use it outside the chat: the user confirms writing it to the credentials file", "WriteProfile", map[string]any{"SessionName": "mcp-dev", "Profile": "mcp-dev"}, "accept", false},
	}
	for _, s := range steps {
		text, err := m.call(ctx, s.title, s.command, s.params, s.answer, s.isError)
		if err != nil {
			return err
		}
		if s.command == "ListSessions" && strings.Contains(text, "mcp-declined") {
			return fmt.Errorf("step %d: the declined AssumeRole made a session:\n%s", d.step, text)
		}
	}
	if !strings.Contains(m.wire.String(), "mcp-dev") {
		return fmt.Errorf("the accepted AssumeRole's session mcp-dev is in no MCP message")
	}
	written, err := profileSecrets(filepath.Join(d.dir, "credentials"), "mcp-dev")
	if err != nil {
		return err
	}
	m.secrets = append(m.secrets, written...)
	fmt.Printf("The credentials file has [mcp-dev] with its secret key and session token; the model has the profile name.\n")
	return m.checkSecrets()
}

// profileSecrets reads the secret key and session token of a profile of a credentials file.
func profileSecrets(path, profile string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			in = line == "["+profile+"]"
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if in && ok && (key == "aws_secret_access_key" || key == "aws_session_token") {
			out = append(out, strings.TrimSpace(value))
		}
	}
	if len(out) != 2 {
		return nil, fmt.Errorf("%s: profile [%s] has %d of its secret key and session token", path, profile, len(out))
	}
	return out, nil
}

// call runs one STSTool command through tools/call and prints what the model sees: the text
// content (an isError result's text is the error the model reads) and the structuredContent keys.
func (m *mcpDemo) call(ctx context.Context, title, command string, params map[string]any, answer string, wantError bool) (string, error) {
	m.step++
	input := map[string]any{"command": command}
	if params != nil {
		input["params"] = params
	}
	shown, _ := json.Marshal(input)
	fmt.Printf("\n── %d. %s ──\ntools/call STSTool %s\n", m.step, title, shown)
	m.mu.Lock()
	m.answer, m.asked = answer, nil
	m.mu.Unlock()
	res, err := m.session.CallTool(ctx, &mcp.CallToolParams{Name: "STSTool", Arguments: input})
	if err != nil {
		return "", fmt.Errorf("step %d (%s): tools/call: %w", m.step, command, err)
	}
	m.mu.Lock()
	asked := m.asked
	m.mu.Unlock()
	for _, q := range asked {
		fmt.Println("The client asks the user (MCP elicitation):")
		for _, line := range strings.Split(strings.TrimRight(q, "\n"), "\n") {
			fmt.Println("  ? " + line)
		}
		fmt.Printf("  → the user answers %s\n", answer)
	}
	if answer != "" && len(asked) == 0 {
		return "", fmt.Errorf("step %d (%s): the user was never asked", m.step, command)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			text.WriteString(t.Text)
		}
	}
	if res.IsError != wantError {
		return "", fmt.Errorf("step %d (%s): isError %v, want %v: %s", m.step, command, res.IsError, wantError, text.String())
	}
	label := "The model sees:"
	if res.IsError {
		label = "The model sees (isError: true):"
	}
	fmt.Println(label)
	for _, line := range strings.Split(strings.TrimRight(text.String(), "\n"), "\n") {
		fmt.Println("  │ " + line)
	}
	if sc, ok := res.StructuredContent.(map[string]any); ok && len(sc) > 0 {
		keys := make([]string, 0, len(sc))
		for k := range sc {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Printf("structuredContent: {%s}\n", strings.Join(keys, ", "))
	}
	return text.String(), nil
}

// elicit is the user answering the server's question: the demo declines or accepts as the step
// says; accepting fills a confirmation field with true and an MFA code field with the demo code.
func (m *mcpDemo) elicit(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	m.mu.Lock()
	m.asked = append(m.asked, req.Params.Message)
	answer := m.answer
	m.mu.Unlock()
	if answer != "accept" {
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	_, code := localsts.DefaultConfig().DemoMFA()
	content := map[string]any{}
	schema, _ := req.Params.RequestedSchema.(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		prop, _ := p.(map[string]any)
		switch prop["type"] {
		case "boolean":
			content[name] = true
		case "string":
			if enum, ok := prop["enum"].([]any); ok && len(enum) > 0 {
				content[name] = enum[0]
			} else {
				content[name] = code
			}
		}
	}
	return &mcp.ElicitResult{Action: "accept", Content: content}, nil
}

// checkSecrets confirms that none of the secrets the demo knows (the profile's key, every session
// exported from the sidecar, the SAML assertion, the tokens) appears in any message of the MCP
// connection, the questions the user was asked included.
func (m *mcpDemo) checkSecrets() error {
	wire := m.wire.String()
	n := 0
	for _, s := range m.secrets {
		if len(s) < 8 {
			continue
		}
		n++
		if strings.Contains(wire, s) {
			return fmt.Errorf("a secret reached an MCP message")
		}
	}
	fmt.Printf("\nMCP secrets check: %d messages on the connection; none holds any of the %d secrets.\n", strings.Count(wire, "\n"), n)
	return nil
}
