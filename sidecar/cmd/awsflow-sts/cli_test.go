package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/rpctest"
)

// binary is the awsflow-sts binary under test: AWSFLOW_STS_BIN, or one built for the test.
func binary(t *testing.T) string { return rpctest.TestBinary(t) }

// definedFlags reads this package's source and returns, for each flag.NewFlagSet("name", …), the
// flags defined on it (fs.String("addr", …), fs.Bool(…), …): what the subcommand parses,
// independently of what its help prints.
func definedFlags(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			set := "" // the flag set this function makes
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "newFlagSet" && len(c.Args) > 0 {
					if lit, ok := c.Args[0].(*ast.BasicLit); ok {
						set, _ = strconv.Unquote(lit.Value)
					}
					return true
				}
				sel, ok := c.Fun.(*ast.SelectorExpr)
				if !ok || len(c.Args) == 0 {
					return true
				}
				lit, ok := c.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					if id, ok := c.Args[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "Bool" {
						// a flag named by a constant: localsts.AllowRemoteDemoFlag
						out[set] = append(out[set], "const:"+id.Sel.Name)
					}
					return true
				}
				name, _ := strconv.Unquote(lit.Value)
				switch sel.Sel.Name {
				case "NewFlagSet":
					set = name
				case "String", "Bool", "Int", "Duration", "Uint", "Float64", "Int64", "Var", "Func", "BoolFunc", "TextVar":
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "fs" && set != "" {
						out[set] = append(out[set], name)
					}
				}
				return true
			})
		}
	}
	return out
}

// TestHelpEverySubcommand runs the real binary with -h and --help for every subcommand: each
// exits 0 and lists every flag the subcommand defines.
func TestHelpEverySubcommand(t *testing.T) {
	bin := binary(t)
	flags := definedFlags(t)
	for _, want := range []string{"serve", "call", "mcp", "localsts"} {
		if len(flags[want]) == 0 {
			t.Fatalf("found no flags defined for %q in the source: %v", want, flags)
		}
	}
	constFlags := map[string]string{"AllowRemoteDemoFlag": "allow-remote-demo"}
	for _, sub := range subcommands {
		for _, arg := range []string{"-h", "--help"} {
			t.Run(sub.name+" "+arg, func(t *testing.T) {
				cmd := exec.Command(bin, sub.name, arg)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", sub.name, arg, err, stdout.String(), stderr.String())
				}
				got := stdout.String()
				if !strings.Contains(got, "Usage: awsflow-sts "+sub.name) {
					t.Errorf("%s %s printed no usage line:\n%s", sub.name, arg, got)
				}
				for _, f := range flags[sub.name] {
					if c, ok := strings.CutPrefix(f, "const:"); ok {
						f = constFlags[c]
						if f == "" {
							t.Fatalf("flag constant %s is not known to this test", c)
						}
					}
					if !strings.Contains(got, "  -"+f+" ") && !strings.Contains(got, "  -"+f+"\n") {
						t.Errorf("%s %s does not list flag -%s:\n%s", sub.name, arg, f, got)
					}
				}
			})
		}
	}
	t.Run("help", func(t *testing.T) {
		out, err := exec.Command(bin, "help").Output()
		if err != nil {
			t.Fatalf("help: %v", err)
		}
		for _, sub := range subcommands {
			if !strings.Contains(string(out), "\n  "+sub.name+" ") || !strings.Contains(string(out), sub.summary) {
				t.Errorf("help does not list %s with its line:\n%s", sub.name, out)
			}
		}
	})
	t.Run("help call", func(t *testing.T) {
		out, err := exec.Command(bin, "help", "call").Output()
		if err != nil || !strings.Contains(string(out), "  -params") {
			t.Errorf("help call: %v\n%s", err, out)
		}
	})
}

// startLocalSTS starts `awsflow-sts localsts` on a free port and returns its first stdout line.
func startLocalSTS(t *testing.T, bin string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "localsts", "--addr", "127.0.0.1:0", "--log-level", "error")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("localsts printed no first line: %v", err)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("localsts's first line is not JSON: %v\n%s", err, line)
	}
	return info
}

// cliEnv is an environment for `call` against the local STS: a fresh HOME, the demo user's keys,
// and no AWS settings from the machine.
func cliEnv(home string, sts map[string]string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") || strings.HasPrefix(kv, "HOME=") ||
			strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_RUNTIME_DIR="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID="+sts["accessKeyId"], "AWS_SECRET_ACCESS_KEY="+sts["secretAccessKey"])
	return append(env, extra...)
}

// TestCallSessionsAcrossProcesses makes a session with one `call` and uses it from the next,
// through a real Secret Service: gnome-keyring in a private D-Bus session the test starts.
func TestCallSessionsAcrossProcesses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service test runs on Linux")
	}
	for _, tool := range []string{"dbus-daemon", "dbus-send", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/setup.sh installs it as root on Debian): %v", tool, err)
		}
	}
	bin := binary(t)
	sts := startLocalSTS(t, bin)
	home := t.TempDir()
	env := cliEnv(home, sts)

	// A private session bus, and gnome-keyring on it with a login keyring unlocked by a password.
	bus := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1", "--nopidfile")
	bus.Env = env
	busOut, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bus.Process.Kill()
		_ = bus.Wait() // killed
	})
	addr, err := bufio.NewReader(busOut).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+strings.TrimSpace(addr))
	keyring := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	keyring.Env = env
	keyring.Stdin = strings.NewReader("test-password")
	var keyringOut bytes.Buffer
	keyring.Stdout, keyring.Stderr = &keyringOut, &keyringOut
	if err := keyring.Start(); err != nil {
		t.Fatalf("gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = keyring.Process.Kill()
		_ = keyring.Wait() // killed
	})
	// Ready once it owns the Secret Service's name on the bus.
	for deadline := time.Now().Add(20 * time.Second); ; {
		has := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		has.Env = env
		out, err := has.Output()
		if err == nil && strings.Contains(string(out), "boolean true") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnome-keyring-daemon did not take the Secret Service name: %v %s\n%s", err, out, keyringOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	call := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"call"}, append(args[:1:1], append([]string{"--endpoint-url", sts["endpoint"], "--region", sts["region"]}, args[1:]...)...)...)...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("call %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("call %v wrote to stderr:\n%s", args, stderr.String())
		}
		return stdout.String()
	}
	minted := call("AssumeRole", "--params", `{"RoleArn":"`+sts["roleArn"]+`","RoleSessionName":"me"}`)
	if !strings.Contains(minted, "kept in the OS keychain") || !strings.Contains(minted, `--params '{"Session":"me"}'`) {
		t.Errorf("AssumeRole does not say the session is kept:\n%s", minted)
	}
	who := call("GetCallerIdentity", "--params", `{"Session":"me"}`, "--json")
	var res struct {
		Data struct {
			ARN string `json:"arn"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(who), &res); err != nil {
		t.Fatalf("GetCallerIdentity --json: %v\n%s", err, who)
	}
	if want := "assumed-role/Dev/me"; !strings.HasSuffix(res.Data.ARN, want) {
		t.Errorf("the second call acted as %q, want the role session …%s", res.Data.ARN, want)
	}
	// The session is there for a third process too, and leaves the keychain when forgotten.
	if list := call("ListSessions"); !strings.Contains(list, "me") {
		t.Errorf("ListSessions in a new process does not list me:\n%s", list)
	}
	call("ForgetSession", "--params", `{"SessionName":"me"}`)
	if list := call("ListSessions", "--json"); strings.Contains(list, `"name": "me"`) {
		t.Errorf("me is still kept after ForgetSession:\n%s", list)
	}
	for _, out := range []string{minted, who} {
		if strings.Contains(out, sts["secretAccessKey"]) {
			t.Errorf("a call printed the base secret key")
		}
	}
}

// TestCallWithoutKeychain: where there is no D-Bus session bus, a minted session is said to end
// with the command, and the next call does not find it.
func TestCallWithoutKeychain(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("checks the missing Secret Service of Linux")
	}
	bin := binary(t)
	sts := startLocalSTS(t, bin)
	home := t.TempDir()
	env := cliEnv(home, sts)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"call"}, append(args[:1:1], append([]string{"--endpoint-url", sts["endpoint"], "--region", sts["region"]}, args[1:]...)...)...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("AssumeRole", "--params", `{"RoleArn":"`+sts["roleArn"]+`","RoleSessionName":"me"}`)
	if err != nil {
		t.Fatalf("AssumeRole: %v\n%s", err, out)
	}
	if !strings.Contains(out, "No OS keychain is available here, so this session ends with this command.") {
		t.Errorf("AssumeRole without a keychain does not say the session ends:\n%s", out)
	}
	if strings.Contains(out, "pass `\"Session\"") || strings.Contains(out, "kept in the OS keychain") {
		t.Errorf("AssumeRole without a keychain promises a later session:\n%s", out)
	}
	out, err = run("GetCallerIdentity", "--params", `{"Session":"me"}`)
	if err == nil {
		t.Errorf("a later call found session me without a keychain:\n%s", out)
	}
}
