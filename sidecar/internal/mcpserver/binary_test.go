package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"awsflow-sts/sidecar/internal/testing/rpctest"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// binary is the awsflow-sts binary under test: AWSFLOW_STS_BIN, or one built for the test.
func binary(t *testing.T) string { return rpctest.TestBinary(t) }

// TestBinaryOverStdio runs `awsflow-sts mcp` as MCP clients do, with the go-sdk's client, against
// a fake STS: tools, a call, a confirmed AssumeRole, and no secret on stdout or stderr.
func TestBinaryOverStdio(t *testing.T) {
	bin := binary(t)
	fake := ststest.New()
	defer fake.Close()
	ststest.UseProfile(t, "test", ststest.BaseKeyID, baseSecret)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "mcp", "--profile", "test", "--region", "us-east-1", "--endpoint-url", fake.URL, "--log-level", "debug")
	cmd.Stderr = &stderr
	elicited := 0
	client := mcp.NewClient(&mcp.Implementation{Name: "binary-test", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			elicited++
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "awsflow-sts" {
		t.Errorf("serverInfo %q", got)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "STSTool" {
		t.Fatalf("tools/list: %v %v", tools, err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "STSTool", Arguments: map[string]any{"command": "GetCallerIdentity"}})
	if err != nil || res.IsError {
		t.Fatalf("GetCallerIdentity: %v %v", res, err)
	}
	contains(t, text(t, res), "arn:aws:iam::123456789012:user/alice")
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "STSTool", Arguments: map[string]any{"command": "AssumeRole",
		"params": map[string]any{"RoleArn": devRole, "RoleSessionName": "dev"}}})
	if err != nil || res.IsError || elicited != 1 {
		t.Fatalf("AssumeRole: %v %v (asked %d times)", res, err, elicited)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "STSTool", Arguments: map[string]any{"command": "GetCallerIdentity", "params": map[string]any{"Session": "dev"}}})
	if err != nil || res.IsError {
		t.Fatalf("GetCallerIdentity as dev: %v %v", res, err)
	}
	contains(t, text(t, res), "assumed-role/Dev")
	if err := cs.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	for _, s := range append(fake.Secrets(), baseSecret) {
		if strings.Contains(stderr.String(), s) {
			t.Errorf("secret %q in the log", s)
		}
	}
}

// TestBinaryHostileInput feeds the binary's stdin lines no client should send and checks it keeps
// serving, then exits when its input ends.
func TestBinaryHostileInput(t *testing.T) {
	bin := binary(t)
	fake := ststest.New()
	defer fake.Close()
	ststest.UseProfile(t, "test", ststest.BaseKeyID, baseSecret)
	cmd := exec.Command(bin, "mcp", "--profile", "test", "--region", "us-east-1", "--endpoint-url", fake.URL, "--log-level", "error")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		t.Helper()
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no answer")
			return ""
		}
	}
	write := func(s string) {
		t.Helper()
		if _, err := stdin.Write([]byte(s + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	contains(t, next(), `"id":1`, `"error"`)
	write(initialize(2, "2025-11-25"))
	contains(t, next(), `"id":2`, `"protocolVersion":"2025-11-25"`)
	write(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	write(`}{ not json`)
	contains(t, next(), `"id":null`, `-32700`)
	write(`{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":"` + strings.Repeat("z", 3<<20) + `"}}`)
	contains(t, next(), `"id":null`, `-32600`, "1 MiB")
	write(`{"jsonrpc":"2.0","id":4,"method":"what/ever"}`)
	contains(t, next(), `"id":4`, `-32601`)
	write(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"STSTool","arguments":{"command":"GetCallerIdentity"}}}`)
	contains(t, next(), `"id":5`, "Caller identity")
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not exit when its input ended")
	}
}
