package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// readmeMCPSection is the README section with the MCP clients' configurations.
const readmeMCPSection = "## Use it from any MCP client"

// mcpConfig is one way the README starts the server: where it says so, and the command's arguments.
type mcpConfig struct {
	where string
	args  []string
}

// TestReadmeMCPConfigs reads the README's MCP section: every JSON configuration must be valid JSON
// of its client's shape that starts `awsflow-sts mcp`, and every configuration (the `claude mcp add`
// line too), started as written with the binary under test in place of the path, must serve STSTool
// to the go-sdk's client and answer GetCallerIdentity; so an unknown or misspelt flag fails here.
func TestReadmeMCPConfigs(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(readme), "\n"+readmeMCPSection+"\n")
	if !found {
		t.Fatalf("README.md has no %q section", readmeMCPSection)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var configs []mcpConfig
	shapes := map[string]int{}
	for _, block := range regexp.MustCompile("(?s)```(\\w*)\n(.*?)```").FindAllStringSubmatch(section, -1) {
		switch block[1] {
		case "json":
			c, shape := parseMCPJSON(t, block[2])
			shapes[shape]++
			configs = append(configs, c)
		case "sh":
			for _, line := range strings.Split(block[2], "\n") {
				if strings.HasPrefix(line, "awsflow-sts mcp ") {
					checkUsageFlags(t, line)
				}
				if !strings.HasPrefix(line, "claude mcp add ") {
					continue
				}
				_, cmdline, ok := strings.Cut(line, " -- ")
				fields := strings.Fields(cmdline)
				if !ok || len(fields) < 2 || !isServerCommand(fields[0]) || fields[1] != "mcp" {
					t.Errorf("%q does not add `awsflow-sts mcp` after --", line)
					continue
				}
				shapes["claude"]++
				configs = append(configs, mcpConfig{where: line, args: fields[1:]})
			}
		}
	}
	// VS Code's servers, Cursor's and Claude Desktop's mcpServers, Claude Code's command line, and
	// the usage line.
	if shapes["servers"] < 1 || shapes["mcpServers"] < 2 || shapes["claude"] < 1 || !strings.Contains(section, "\nawsflow-sts mcp [") {
		t.Fatalf("the section lacks a configuration: found %v", shapes)
	}

	fake := startFake(t)
	for _, c := range configs {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) { runReadmeConfig(t, c, fake.URL) })
	}
}

// checkUsageFlags compares the flags of the README's usage line with those `awsflow-sts mcp -h`
// lists: the same set, none missing or extra.
func checkUsageFlags(t *testing.T, line string) {
	t.Helper()
	out, _ := exec.Command(binPath, "mcp", "-h").CombinedOutput() // -h exits 2 after listing the flags
	flagRE := regexp.MustCompile(`(?m)^\s+-([a-z][a-z-]*)`)
	var accepted []string
	for _, m := range flagRE.FindAllStringSubmatch(string(out), -1) {
		accepted = append(accepted, "--"+m[1])
	}
	documented := regexp.MustCompile(`--[a-z][a-z-]*`).FindAllString(line, -1)
	slices.Sort(accepted)
	slices.Sort(documented)
	if len(accepted) == 0 || !slices.Equal(accepted, documented) {
		t.Errorf("the README's usage line names %v; `awsflow-sts mcp -h` lists %v", documented, accepted)
	}
}

// parseMCPJSON checks one JSON configuration and returns how it starts the server and its shape:
// "servers" (VS Code, with type stdio) or "mcpServers" (Cursor, Claude Desktop).
func parseMCPJSON(t *testing.T, text string) (mcpConfig, string) {
	t.Helper()
	var doc map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("a JSON block is not valid JSON: %v\n%s", err, text)
	}
	shape := "servers"
	servers, ok := doc[shape]
	if !ok {
		shape = "mcpServers"
		servers, ok = doc[shape]
	}
	if !ok || len(doc) != 1 {
		t.Fatalf("a JSON block has no single servers or mcpServers object:\n%s", text)
	}
	var entry struct {
		Type    string   `json:"type"`
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	dec := json.NewDecoder(bytes.NewReader(servers["awsflow-sts"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entry); err != nil {
		t.Fatalf("%s has no usable awsflow-sts entry: %v\n%s", shape, err, text)
	}
	if shape == "servers" && entry.Type != "stdio" {
		t.Errorf("VS Code's entry has type %q, want stdio", entry.Type)
	}
	if !isServerCommand(entry.Command) || len(entry.Args) == 0 || entry.Args[0] != "mcp" {
		t.Fatalf("the entry does not start `awsflow-sts mcp`: %s %v", entry.Command, entry.Args)
	}
	return mcpConfig{where: text, args: entry.Args}, shape
}

// isServerCommand reports whether a configured command is the awsflow-sts binary (on any system).
func isServerCommand(path string) bool {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	return base == "awsflow-sts" || base == "awsflow-sts.exe"
}

// runReadmeConfig starts the binary with the configuration's arguments (and the fake STS as its
// endpoint), as the client would, and calls GetCallerIdentity through it.
func runReadmeConfig(t *testing.T, c mcpConfig, endpoint string) {
	dir := t.TempDir() // the working directory: a --log-file of the examples lands here
	creds := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	key := "aws_access_key_id = " + baseKeyID + "\naws_secret_access_key = " + baseSecret + "\n"
	if err := os.WriteFile(creds, []byte("[default]\n"+key+"\n[dev]\n"+key), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[profile dev]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cmd := exec.Command(binPath, append(append([]string{}, c.args...), "--endpoint-url", endpoint)...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnviron(), "HOME="+dir, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_CONFIG_FILE="+conf, "AWS_EC2_METADATA_DISABLED=true")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "readme-check", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("the configuration in\n%s\ndoes not start an MCP server: %v\nstderr:\n%s", c.where, err, stderr.String())
	}
	defer func() { _ = session.Close() }()
	tools, err := session.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "STSTool" {
		t.Fatalf("tools/list: %v %+v", err, tools)
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "STSTool", Arguments: map[string]any{"command": "GetCallerIdentity"}})
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	var text strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if res.IsError || !strings.Contains(text.String(), ":user/alice") {
		t.Fatalf("GetCallerIdentity through %v: isError %v:\n%s\nstderr:\n%s", c.args, res.IsError, text.String(), stderr.String())
	}
}
