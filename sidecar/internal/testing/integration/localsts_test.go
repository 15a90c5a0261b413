package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
)

// TestLocalSTSSubcommand starts `awsflow-sts localsts` as a process, reads its first line, and
// has `awsflow-sts call` use the demo identity it announces.
func TestLocalSTSSubcommand(t *testing.T) {
	info, _, _ := startLocalSTSProcess(t, "--log-level", "warn")
	for _, k := range []string{"endpoint", "region", "accessKeyId", "secretAccessKey", "roleArn"} {
		if info[k] == "" {
			t.Fatalf("first line lacks %s: %v", k, info)
		}
	}
	if !strings.HasPrefix(info["endpoint"], "http://127.0.0.1:") {
		t.Fatalf("not on loopback: %s", info["endpoint"])
	}
	env := append(scratchEnv(t), "AWS_ACCESS_KEY_ID="+info["accessKeyId"], "AWS_SECRET_ACCESS_KEY="+info["secretAccessKey"])
	res := runCall(t, env, "GetCallerIdentity", "--endpoint-url", info["endpoint"], "--region", info["region"], "--json")
	if res.code != 0 {
		t.Fatalf("call exited %d: %s", res.code, res.stderr)
	}
	res = runCall(t, env, "AssumeRole", "--endpoint-url", info["endpoint"], "--region", info["region"],
		"--params", `{"RoleArn":"`+info["roleArn"]+`","RoleSessionName":"it"}`)
	if res.code != 0 || !strings.Contains(string(res.stdout), ":assumed-role/") {
		t.Fatalf("AssumeRole exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(string(res.stdout), info["secretAccessKey"]) {
		t.Fatal("the base secret reached the output")
	}
}

// TestDemo runs `make demo`'s program against the built binary: it must pass its own secrets check
// and exit 0, so the README's first command stays true.
func TestDemo(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./sidecar/cmd/demo", "--bin", binPath)
	cmd.Dir = root // the demo gives the sidecar its own scratch profile and no AWS variables
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{"Secrets check:", "none of their", "AccessDenied", "Explicit deny", "the sidecar shut down cleanly"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	// The reader sees each session's row once (later tables show what changed) and the decoded
	// denial summarized, not its raw JSON.
	sidecarPart, _, _ := strings.Cut(string(out), "── The same tool for any MCP client")
	if n := strings.Count(sidecarPart, "| `admin` | credentials |"); n != 1 {
		t.Errorf("the admin session's row is printed %d times, want once:\n%s", n, sidecarPart)
	}
	for _, want := range []string{"| `dev` (default) | credentials |", "no longer listed: `dev`", "| `sso-readonly` (default) |", "lines of JSON for the model to quote"} {
		if !strings.Contains(sidecarPart, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(sidecarPart, "\"explicitDeny\"") {
		t.Errorf("demo output prints the decoded message's raw JSON:\n%s", sidecarPart)
	}
	// The Identity Center part: the sign-in approved by the demo, roles from the portal, and a
	// terminal program that gets the active session from the credentials endpoint, before and
	// after the switch.
	for _, want := range []string{"sso/authorize → a notification shows the code", "alice approves the code",
		"sso/changed demo-sso signedIn", "the portal offers", "Member (" + localsts.MemberAccount + "): " + localsts.DemoSSOPermissionSet,
		"credentials/endpoint: http://127.0.0.1:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	devArn := "A terminal runs an aws-sdk-go-v2 program (default credential chain) → arn:aws:sts::" + localsts.MemberAccount +
		":assumed-role/" + localsts.DemoSSORole + "/" + localsts.DemoSSOUser
	readOnlyArn := "A terminal runs an aws-sdk-go-v2 program (default credential chain) → arn:aws:sts::" + localsts.DemoAccount +
		":assumed-role/" + localsts.DemoSSOReadOnlyRole + "/" + localsts.DemoSSOUser
	before, after, switched := strings.Cut(string(out), "Switch Session: sessions/use sso-readonly")
	if !switched || !strings.Contains(before, devArn) || strings.Contains(before, readOnlyArn) || !strings.Contains(after, readOnlyArn) {
		t.Errorf("the terminal program does not follow the session switch (want %q, then %q):\n%s", devArn, readOnlyArn, out)
	}
	// The MCP part: the go-sdk's client on `awsflow-sts mcp`, an AssumeRole the user declines (an
	// isError result, no session), one the user accepts, and its session written to a profile,
	// none of whose secrets reached any MCP message.
	_, mcpPart, ok := strings.Cut(string(out), "── The same tool for any MCP client: awsflow-sts mcp ──")
	if !ok {
		t.Fatalf("demo output lacks the MCP part:\n%s", out)
	}
	declined, accepted, ok := strings.Cut(mcpPart, "Assume the Dev role; the user accepts")
	if !ok {
		t.Fatalf("the MCP part lacks the accepted AssumeRole:\n%s", mcpPart)
	}
	for _, want := range []string{"tools/list: 1 tool(s): STSTool", "arn:aws:iam::" + localsts.DemoAccount + ":user/alice",
		"The client asks the user (MCP elicitation):\n  ? Assume AWS role?", "→ the user answers decline",
		"The model sees (isError: true):\n  │ STSTool error (cancelled): the user declined to run AssumeRole: nothing was called",
		"No sessions are stored."} {
		if !strings.Contains(declined, want) {
			t.Errorf("the MCP part before the accepted AssumeRole lacks %q", want)
		}
	}
	for _, want := range []string{"→ the user answers accept", "stored as session `mcp-dev`", "| `mcp-dev` | credentials |",
		"written as profile `mcp-dev`", "MCP secrets check:", "none holds any of the"} {
		if !strings.Contains(accepted, want) {
			t.Errorf("the MCP part from the accepted AssumeRole on lacks %q", want)
		}
	}
	if strings.Contains(declined, "stored as session") || strings.Contains(mcpPart, "| `mcp-declined`") {
		t.Errorf("the declined AssumeRole stored a session:\n%s", mcpPart)
	}
	// The demo closing the sidecar's pipes at the end is no protocol error.
	if strings.Contains(string(out), "protocol error") {
		t.Errorf("demo output reports a protocol error:\n%s", out)
	}
}

// startLocalSTSProcess starts `awsflow-sts localsts` with args as a process (stopped when the test
// ends) and returns the announcement of its first line, that line as written, and its stderr.
func startLocalSTSProcess(t *testing.T, args ...string) (map[string]string, string, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"localsts", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait() // ends once the signal lands; its status says nothing here
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the local STS wrote no first line: %v\n%s", err, stderr.String())
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(line), &info); err != nil || info["endpoint"] == "" {
		t.Fatalf("first line is not the announcement: %v: %q", err, line)
	}
	return info, line, stderr
}
