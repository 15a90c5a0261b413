// Command demo is `make demo`: it starts the embedded local STS and `awsflow-sts serve`, drives the
// sidecar over JSON-RPC exactly as the extension does, runs every STSTool command (sessions, role
// chaining, a denied AssumeRole, an encoded denial explained), and prints what the model would see.
// It checks along the way that no secret reached that output, stops what it started, and exits 0.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
)

func main() {
	bin := flag.String("bin", "bin/awsflow-sts", "the awsflow-sts binary")
	flag.Parse()
	if err := run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// localInfo is the first line `awsflow-sts localsts` prints.
type localInfo struct {
	Endpoint        string `json:"endpoint"`
	Region          string `json:"region"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	RoleArn         string `json:"roleArn"`
	Account         string `json:"account"`
}

// demo holds what the run started and everything the model saw.
type demo struct {
	ctx     context.Context
	conn    *jsonrpc2.Conn
	local   localInfo
	dir     string
	seen    strings.Builder
	secrets []string
	step    int
}

func run(bin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "awsflow-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	sts, local, err := startLocalSTS(bin)
	if err != nil {
		return err
	}
	defer stop(sts)
	fmt.Printf("Local STS at %s (account %s, region %s)\n", local.Endpoint, local.Account, local.Region)

	env, err := scratchProfile(dir, local)
	if err != nil {
		return err
	}
	sidecar := exec.Command(bin, "serve", "--log-level", "warn")
	sidecar.Env = env
	sidecar.Stderr = os.Stderr
	sidecar.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := sidecar.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := sidecar.StdoutPipe()
	if err != nil {
		return err
	}
	if err := sidecar.Start(); err != nil {
		return fmt.Errorf("start sidecar: %w", err)
	}
	defer stop(sidecar)
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(pipe{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), noRequests{})
	defer conn.Close()

	d := &demo{ctx: ctx, conn: conn, local: local, dir: dir, secrets: []string{local.SecretAccessKey}}
	var init protocol.InitializeResult
	if err := conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{
		ClientInfo: protocol.ClientInfo{Name: "awsflow-sts demo", Version: "1"},
		Settings:   protocol.Settings{Profile: "demo", Region: local.Region, EndpointURL: local.Endpoint, MaxAttempts: 1},
	}, &init); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	fmt.Printf("Sidecar %s %s, protocol %d, %d commands\n", init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion, len(init.Commands))

	if err := d.script(); err != nil {
		return err
	}
	if err := d.checkSecrets(); err != nil {
		return err
	}
	if err := conn.Call(ctx, protocol.MethodShutdown, nil, nil); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	_ = conn.Notify(ctx, protocol.MethodExit, nil) // the sidecar exits; its pipe closes
	if err := waitExit(sidecar, 5*time.Second); err != nil {
		return fmt.Errorf("sidecar exit: %w", err)
	}
	fmt.Printf("\nDone: %d steps; the sidecar shut down cleanly.\n", d.step)
	return nil
}

// script is the demo itself: each step is one STSTool call as the model would make it.
func (d *demo) script() error {
	cfg := localsts.DefaultConfig()
	role := func(name string) string { return "arn:aws:iam::" + d.local.Account + ":role/" + name }
	mfaSerial, mfaCode := cfg.DemoMFA()
	samlFile, err := d.samlAssertionFile()
	if err != nil {
		return err
	}
	tokenFile, err := d.webIdentityTokenFile()
	if err != nil {
		return err
	}
	encoded, err := d.encodedDenial()
	if err != nil {
		return err
	}
	steps := []struct {
		title   string
		command string
		params  map[string]any
		fails   bool
	}{
		{"Who am I?", "GetCallerIdentity", nil, false},
		{"Whose key is this?", "GetAccessKeyInfo", map[string]any{"AccessKeyId": d.local.AccessKeyID}, false},
		{"Assume the Dev role", "AssumeRole", map[string]any{"RoleArn": role("Dev"), "RoleSessionName": "dev"}, false},
		{"Who is that session?", "GetCallerIdentity", map[string]any{"Session": "dev"}, false},
		{"Chain to Ops from the Dev session", "AssumeRole", map[string]any{"RoleArn": role("Ops"), "RoleSessionName": "ops", "Session": "dev"}, false},
		{"Chain for two hours (STS caps chains at one)", "AssumeRole", map[string]any{"RoleArn": role("Ops"), "RoleSessionName": "ops2", "Session": "dev", "DurationSeconds": 7200}, true},
		{"A role that does not trust us", "AssumeRole", map[string]any{"RoleArn": role("Locked"), "RoleSessionName": "nope"}, true},
		{"A partner role that needs an external id", "AssumeRole", map[string]any{"RoleArn": role("Partner"), "RoleSessionName": "partner", "ExternalId": "partner-ext-1"}, false},
		{"An MFA session", "GetSessionToken", map[string]any{"SerialNumber": mfaSerial, "TokenCode": mfaCode, "SessionName": "mfa", "DurationSeconds": 3600}, false},
		{"Admin needs MFA: assume it from the MFA session", "AssumeRole", map[string]any{"RoleArn": role("Admin"), "RoleSessionName": "admin", "Session": "mfa"}, false},
		{"Federated user with a read-only policy", "GetFederationToken", map[string]any{"Name": "contractor", "PolicyArns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}, false},
		{"SAML sign-in, assertion read from a file", "AssumeRoleWithSAML", map[string]any{"SAMLAssertionFile": samlFile, "SessionName": "saml"}, false},
		{"OIDC token from a file, as AWS_WEB_IDENTITY_TOKEN_FILE", "AssumeRoleWithWebIdentity", map[string]any{"RoleArn": role("WebDev"), "RoleSessionName": "ci-job", "WebIdentityTokenFile": tokenFile}, false},
		{"STS issues a JWT for an outside API", "GetWebIdentityToken", map[string]any{"Audience": []string{"https://api.example.com"}, "SigningAlgorithm": "ES384", "DurationSeconds": 300}, false},
		{"Root task credentials in a member account", "AssumeRoot", map[string]any{"TargetPrincipal": cfg.DemoMember(), "TaskPolicyArn": "IAMAuditRootUserCredentials"}, false},
		{"Trade in a token for delegated credentials", "GetDelegatedAccessToken", map[string]any{"TradeInToken": cfg.DemoTradeInToken(), "SessionName": "delegated"}, false},
		{"Why was I denied? (an encoded EC2 failure message)", "DecodeAuthorizationMessage", map[string]any{"EncodedMessage": encoded}, false},
		{"A parameter the command does not take", "GetWebIdentityToken", map[string]any{"WebIdentityToken": "x", "Audience": "a", "SigningAlgorithm": "RS256"}, true},
		{"The sessions so far", "ListSessions", nil, false},
		{"Make the Dev session the default", "UseSession", map[string]any{"SessionName": "dev"}, false},
		{"Who am I now?", "GetCallerIdentity", nil, false},
		{"Forget the Dev session", "ForgetSession", map[string]any{"SessionName": "dev"}, false},
	}
	for _, s := range steps {
		if err := d.invoke(s.title, s.command, s.params, s.fails); err != nil {
			return err
		}
	}
	return nil
}

// invoke runs one command and prints what the model sees: the text, or the error the extension
// turns into text.
func (d *demo) invoke(title, command string, params map[string]any, wantError bool) error {
	d.step++
	input := map[string]any{"command": command}
	if params != nil {
		input["params"] = params
	}
	shown, _ := json.Marshal(input)
	fmt.Printf("\n── %d. %s ──\nSTSTool %s\n", d.step, title, shown)
	var res protocol.InvokeResult
	err := d.conn.Call(d.ctx, protocol.MethodToolInvoke, input, &res)
	var text string
	var rpcErr *jsonrpc2.Error
	switch {
	case err == nil:
		text = res.Text
		if wantError {
			return fmt.Errorf("step %d (%s) should have failed", d.step, command)
		}
	case errors.As(err, &rpcErr):
		text = "Error: " + rpcErr.Message
		if !wantError {
			return fmt.Errorf("step %d (%s): %s", d.step, command, rpcErr.Message)
		}
	default:
		return fmt.Errorf("step %d (%s): %w", d.step, command, err)
	}
	d.seen.WriteString(text + "\n" + string(res.Data) + "\n")
	fmt.Println("The model sees:")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Println("  │ " + line)
	}
	return nil
}

// checkSecrets exports every stored session (as only a user's explicit command may) and confirms
// that none of their secrets, nor the inputs' secrets, appeared in what the model saw.
func (d *demo) checkSecrets() error {
	var list protocol.SessionList
	if err := d.conn.Call(d.ctx, protocol.MethodSessionsList, nil, &list); err != nil {
		return fmt.Errorf("sessions/list: %w", err)
	}
	for _, s := range list.Sessions {
		var exp protocol.ExportedSession
		if err := d.conn.Call(d.ctx, protocol.MethodSessionsExport, protocol.SessionNameParams{Name: s.Name}, &exp); err != nil {
			return fmt.Errorf("sessions/export %s: %w", s.Name, err)
		}
		d.secrets = append(d.secrets, exp.SecretAccessKey, exp.SessionToken, exp.WebIdentityToken)
	}
	n := 0
	for _, s := range d.secrets {
		if len(s) < 8 {
			continue
		}
		n++
		if strings.Contains(d.seen.String(), s) {
			return fmt.Errorf("a secret reached the model's output")
		}
	}
	fmt.Printf("\nSecrets check: %d sessions exported through sessions/export; none of their %d secrets (nor the profile's key, the SAML assertion, the tokens or the MFA code) appears in anything the model saw.\n", len(list.Sessions), n)
	return nil
}

func (d *demo) samlAssertionFile() (string, error) {
	var out struct {
		SAMLAssertion string `json:"samlAssertion"`
	}
	provider := "arn:aws:iam::" + d.local.Account + ":saml-provider/DemoIdP"
	body := map[string]any{"subject": "alice@example.com", "roleSessionName": "alice@example.com",
		"roles": []string{"arn:aws:iam::" + d.local.Account + ":role/SamlDev," + provider}}
	if err := d.post("/_localsts/saml/assertion", body, &out); err != nil {
		return "", err
	}
	d.secrets = append(d.secrets, out.SAMLAssertion)
	return d.writeSecret("saml-response.b64", out.SAMLAssertion)
}

func (d *demo) webIdentityTokenFile() (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := d.post("/_localsts/oidc/token", map[string]any{"sub": "repo:example/app:ref:refs/heads/main", "aud": "demo-client", "expiresIn": 900}, &out); err != nil {
		return "", err
	}
	d.secrets = append(d.secrets, out.Token)
	return d.writeSecret("web-identity-token", out.Token)
}

func (d *demo) encodedDenial() (string, error) {
	var out struct {
		EncodedMessage string `json:"encodedMessage"`
	}
	msg := localsts.DenialMessage{
		Account:      d.local.Account,
		PrincipalArn: "arn:aws:iam::" + d.local.Account + ":user/alice",
		Action:       "ec2:RunInstances",
		Resource:     "arn:aws:ec2:us-east-1:" + d.local.Account + ":instance/*",
		ExplicitDeny: true,
		StatementID:  "DenyLargeInstances",
		SourcePolicy: "arn:aws:organizations::" + d.local.Account + ":policy/o-demo/service_control_policy/p-demo",
		Context:      map[string][]string{"ec2:InstanceType": {"p5.48xlarge"}, "aws:RequestedRegion": {"us-east-1"}},
	}
	if err := d.post("/_localsts/encode-message", msg, &out); err != nil {
		return "", err
	}
	return out.EncodedMessage, nil
}

func (d *demo) post(path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, d.local.Endpoint+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("local STS %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("local STS %s: %s: %s", path, resp.Status, data)
	}
	return json.Unmarshal(data, out)
}

func (d *demo) writeSecret(name, content string) (string, error) {
	path := filepath.Join(d.dir, name)
	return path, os.WriteFile(path, []byte(content), 0o600)
}

// startLocalSTS runs `awsflow-sts localsts` and reads its first line.
func startLocalSTS(bin string) (*exec.Cmd, localInfo, error) {
	cmd := exec.Command(bin, "localsts", "--log-level", "warn")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, localInfo{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, localInfo{}, fmt.Errorf("start local STS: %w", err)
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	var info localInfo
	if err == nil {
		err = json.Unmarshal(line, &info)
	}
	if err != nil {
		stop(cmd)
		return nil, localInfo{}, fmt.Errorf("local STS did not announce itself: %w", err)
	}
	return cmd, info, nil
}

// scratchProfile writes an AWS profile "demo" with the local STS's demo user, and returns the
// sidecar's environment pointing at it (and at nothing of the user's own).
func scratchProfile(dir string, l localInfo) ([]string, error) {
	creds := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(creds, []byte(fmt.Sprintf("[demo]\naws_access_key_id = %s\naws_secret_access_key = %s\n", l.AccessKeyID, l.SecretAccessKey)), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, []byte("[profile demo]\nregion = "+l.Region+"\n"), 0o600); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_CONFIG_FILE="+conf, "AWS_EC2_METADATA_DISABLED=true"), nil
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	if waitExit(cmd, 5*time.Second) != nil {
		// waitExit's goroutine reaps it once the kill lands.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func waitExit(cmd *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %v", filepath.Base(cmd.Path), timeout)
	}
}

// pipe joins the child's stdout and stdin into one connection.
type pipe struct {
	io.ReadCloser
	io.WriteCloser
}

func (p pipe) Close() error {
	return errors.Join(p.WriteCloser.Close(), p.ReadCloser.Close())
}

// noRequests answers server-to-client requests the demo does not expect.
type noRequests struct{}

func (noRequests) Handle(ctx context.Context, c *jsonrpc2.Conn, r *jsonrpc2.Request) {
	if !r.Notif {
		_ = c.ReplyWithError(ctx, r.ID, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "the demo answers no requests"})
	}
}
