// Command demo is `make demo`: it starts the embedded local STS and `awsflow-sts serve`, drives the
// sidecar over JSON-RPC exactly as the extension does, runs every STSTool command (sessions, role
// chaining, a denied AssumeRole, an encoded denial explained), and prints what the model would see.
// It then signs in to the local IAM Identity Center (approving the code itself), picks roles from
// the portal, and runs programs that get the active session's credentials from the sidecar's
// container-credentials endpoint, before and after a session switch. Last, it runs `awsflow-sts mcp`
// with the official Go MCP SDK's client: who am I, an AssumeRole the user declines and one the user
// accepts through elicitation, and that session written to the credentials file.
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

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/rpctest"
)

func main() {
	bin := flag.String("bin", "bin/awsflow-sts", "the awsflow-sts binary")
	whoami := flag.Bool("whoami", false, "print the ARN the SDK's default credential chain gets, as a program in a terminal would (the demo runs itself so)")
	flag.Parse()
	if *whoami {
		os.Exit(whoAmI())
	}
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
	SSOStartURL     string `json:"ssoStartUrl"`
	SSORegion       string `json:"ssoRegion"`
	SSOOIDCEndpoint string `json:"ssoOidcEndpoint"`
	SSOPortal       string `json:"ssoPortalEndpoint"`
	SSOApproveURL   string `json:"ssoApproveUrl"`
	SSOUser         string `json:"ssoUser"`
	SSOAccountID    string `json:"ssoAccountId"`
	SSORoleName     string `json:"ssoRoleName"`
}

// demo holds what the run started and everything the model saw.
type demo struct {
	ctx     context.Context
	bin     string
	env     []string
	conn    *rpctest.Process // the running sidecar and the demo's JSON-RPC client on its stdio
	heard   int              // how many of the sidecar's own messages printEvents has shown
	local   localInfo
	dir     string
	seen    strings.Builder
	secrets []string
	step    int
	// lastTable is the session table as the reader last saw it, so a later one shows what changed.
	lastTable tableRows
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
	d := &demo{ctx: ctx, bin: bin, env: env, local: local, dir: dir, secrets: []string{local.SecretAccessKey}}
	if err := d.startSidecar(); err != nil {
		return err
	}
	defer func() { stopSidecar(d.conn) }()

	if err := d.script(); err != nil {
		return err
	}
	if err := d.identityCenter(); err != nil {
		return err
	}
	if err := d.checkSecrets(); err != nil {
		return err
	}
	if err := d.lasting(); err != nil {
		return err
	}
	if err := d.mcpPart(); err != nil {
		return err
	}
	if err := d.conn.Call(ctx, protocol.MethodShutdown, nil, nil); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	_ = d.conn.Notify(protocol.MethodExit, nil) // the sidecar exits; its pipe closes
	if _, err := d.conn.Wait(5 * time.Second); err != nil {
		return fmt.Errorf("sidecar exit: %w", err)
	}
	fmt.Printf("\nDone: %d steps; the sidecar shut down cleanly.\n", d.step)
	return nil
}

// script is the demo itself: each step is one STSTool call as the model would make it.
func (d *demo) script() error {
	cfg := localsts.DefaultConfig()
	role := func(name string) string { return "arn:aws:iam::" + d.local.Account + ":role/" + name }
	mfaSerial, _ := cfg.DemoMFA()
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
		{"The same role from a ~/.aws/config profile (role_arn, source_profile, external_id)", "AssumeRole", map[string]any{"Profile": "partner"}, false},
		{"Admin needs MFA: no code in chat, the sidecar asks the user", "AssumeRole", map[string]any{"RoleArn": role("Admin"), "RoleSessionName": "admin", "SerialNumber": mfaSerial}, false},
		{"Admin again: the MFA session is reused, nobody is asked", "AssumeRole", map[string]any{"RoleArn": role("Admin"), "RoleSessionName": "admin-2", "SerialNumber": mfaSerial}, false},
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
	shown, _ := json.Marshal(shownInput(input))
	fmt.Printf("\n── %d. %s ──\nSTSTool %s\n", d.step, title, shown)
	var res protocol.InvokeResult
	err := d.conn.Call(d.ctx, protocol.MethodToolInvoke, input, &res)
	var text string
	var rpcErr *rpctest.Error
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
	for _, line := range d.display(text) {
		fmt.Println(line)
	}
	d.printEvents()
	return nil
}

// printEvents shows what the sidecar told the extension on its own since the last call: MFA
// prompts and session changes (which drive the status bar and the keychain copy).
func (d *demo) printEvents() {
	events := d.takeEvents()
	if len(events) > 0 {
		fmt.Println("The extension hears: " + strings.Join(events, "; "))
	}
}

// takeEvents describes the MFA prompts, session changes and sign-in changes the sidecar sent since
// the last take.
func (d *demo) takeEvents() []string {
	all := d.conn.Events()
	var out []string
	for _, m := range all[d.heard:] {
		switch {
		case m.Method == protocol.MethodMfaTokenCode && m.IsRequest():
			var p protocol.MfaTokenCodeParams
			_ = json.Unmarshal(m.Params, &p)
			out = append(out, fmt.Sprintf("mfa/tokenCode (%s) → the user types the code into a masked box", p.Reason))
		case m.Method == protocol.MethodSessionsChanged && m.IsNotification():
			var p protocol.SessionsChangedParams
			_ = json.Unmarshal(m.Params, &p)
			out = append(out, fmt.Sprintf("sessions/changed %s %s", p.Reason, p.Session))
		case m.Method == protocol.MethodSsoChanged && m.IsNotification():
			var p protocol.SsoChangedParams
			_ = json.Unmarshal(m.Params, &p)
			out = append(out, fmt.Sprintf("sso/changed %s %s (the status bar shows the sign-in)", p.SsoSession, p.State))
		}
	}
	d.heard = len(all)
	return out
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
	cmd := exec.Command(bin, "localsts", "--addr", "127.0.0.1:0", "--log-level", "warn")
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

// scratchProfile writes an AWS profile "demo" with the local STS's demo user, a role profile, and
// an IAM Identity Center sign-in (sso-session) of the local STS, and returns the sidecar's
// environment pointing at them (and at nothing of the user's own).
func scratchProfile(dir string, l localInfo) ([]string, error) {
	creds := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(creds, []byte(fmt.Sprintf("[demo]\naws_access_key_id = %s\naws_secret_access_key = %s\n", l.AccessKeyID, l.SecretAccessKey)), 0o600); err != nil {
		return nil, err
	}
	config := "[profile demo]\nregion = " + l.Region + "\n\n" +
		"[profile partner]\nrole_arn = arn:aws:iam::" + l.Account + ":role/Partner\nsource_profile = demo\nexternal_id = " + localsts.DemoExternalID + "\n" +
		ssoConfig(l)
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	// HOME is the scratch directory, so the sign-in's token cache (~/.aws/sso/cache) is the demo's;
	// the Identity Center endpoints are the local STS.
	return append(env, "HOME="+dir, "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_CONFIG_FILE="+conf, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_SSO_OIDC="+l.SSOOIDCEndpoint, "AWS_ENDPOINT_URL_SSO="+l.SSOPortal), nil
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

// startSidecar starts `awsflow-sts serve`, connects to it as the extension does and initializes it.
// The demo's client answers mfa/tokenCode as the user typing into the masked input box would.
func (d *demo) startSidecar() error {
	sidecar := exec.Command(d.bin, "serve", "--log-level", "warn")
	sidecar.Env = d.env
	sidecar.Stderr = os.Stderr
	sidecar.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	_, code := localsts.DefaultConfig().DemoMFA()
	p, err := rpctest.Start(sidecar, rpctest.Options{Handler: func(ctx context.Context, m *rpctest.Message) (any, *rpctest.Error) {
		switch m.Method {
		case protocol.MethodMfaTokenCode:
			return protocol.MfaTokenCodeResult{TokenCode: code}, nil
		case protocol.MethodSsoAuthorize:
			return nil, d.answerAuthorize(ctx, m)
		}
		return nil, &rpctest.Error{Code: rpctest.CodeMethodNotFound, Message: "the demo does not answer " + m.Method}
	}})
	if err != nil {
		return fmt.Errorf("start sidecar: %w", err)
	}
	d.conn, d.heard = p, 0
	var init protocol.InitializeResult
	if err := d.conn.Call(d.ctx, protocol.MethodInitialize, protocol.InitializeParams{
		ClientInfo: protocol.ClientInfo{Name: "awsflow-sts demo", Version: "1"},
		Settings:   protocol.Settings{Profile: "demo", Region: d.local.Region, EndpointURL: d.local.Endpoint, MaxAttempts: 1},
	}, &init); err != nil {
		stopSidecar(p)
		return fmt.Errorf("initialize: %w", err)
	}
	fmt.Printf("Sidecar %s %s (pid %d), protocol %d, %d commands\n", init.ServerInfo.Name, init.ServerInfo.Version, sidecar.Process.Pid, init.ProtocolVersion, len(init.Commands))
	return nil
}

// stopSidecar ends a sidecar still running (SIGTERM to its process group, SIGKILL if that is not
// enough) and closes the demo's client, which prints nothing when its pipes close.
func stopSidecar(p *rpctest.Process) {
	if p.Alive() {
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
		if _, err := p.Wait(5 * time.Second); err != nil {
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
			<-p.Exited()
		}
	}
	_ = p.Close()
}

// lasting shows what outlives one call: a session written as a credentials-file profile, and the
// sessions surviving a crashed sidecar through what the extension keeps in the OS keychain.
// The sidecar then running is d.conn.
func (d *demo) lasting() error {
	fmt.Printf("\n── Sessions that last ──\n")
	credsFile := filepath.Join(d.dir, "credentials")
	var wrote protocol.WriteProfileResult
	if err := d.conn.Call(d.ctx, protocol.MethodSessionsWriteProfile, protocol.WriteProfileParams{Name: "partner", Profile: "partner-session"}, &wrote); err != nil {
		return fmt.Errorf("sessions/writeProfile: %w", err)
	}
	info, err := os.Stat(wrote.Path)
	if err != nil {
		return err
	}
	fmt.Printf("Palette \"Write Session to Credentials File\": [%s] written to %s (mode %04o), previous file kept as %s; the [demo] profile is untouched.\n",
		wrote.Profile, wrote.Path, info.Mode().Perm(), filepath.Base(wrote.Backup))
	if wrote.Path != credsFile {
		return fmt.Errorf("profile written to %s, want %s", wrote.Path, credsFile)
	}

	// What the extension keeps in SecretStorage: exactly what sessions/export returns.
	var list protocol.SessionList
	if err := d.conn.Call(d.ctx, protocol.MethodSessionsList, nil, &list); err != nil {
		return fmt.Errorf("sessions/list: %w", err)
	}
	kept := make([]protocol.ExportedSession, 0, len(list.Sessions))
	for _, s := range list.Sessions {
		var exp protocol.ExportedSession
		if err := d.conn.Call(d.ctx, protocol.MethodSessionsExport, protocol.SessionNameParams{Name: s.Name}, &exp); err != nil {
			return fmt.Errorf("sessions/export %s: %w", s.Name, err)
		}
		kept = append(kept, exp)
	}
	_ = syscall.Kill(d.conn.Cmd.Process.Pid, syscall.SIGKILL)
	_, _ = d.conn.Wait(5 * time.Second) // killed: its exit status is the signal
	_ = d.conn.Close()
	fmt.Printf("The sidecar was killed (SIGKILL) holding %d sessions; starting a new one.\n", len(kept))
	if err := d.startSidecar(); err != nil {
		return err
	}
	var imp protocol.SessionsImportResult
	if err := d.conn.Call(d.ctx, protocol.MethodSessionsImport, protocol.SessionsImportParams{Sessions: kept, Active: list.Active}, &imp); err != nil {
		return fmt.Errorf("sessions/import: %w", err)
	}
	fmt.Printf("sessions/import re-seeded it from the keychain copy: %d imported (%s), %d skipped.\n", len(imp.Imported), strings.Join(imp.Imported, ", "), len(imp.Skipped))
	d.takeEvents()
	if err := d.invoke("After the restart, the chained Ops session still signs", "GetCallerIdentity", map[string]any{"Session": "ops"}, false); err != nil {
		return err
	}
	if err := d.invoke("The list after the restart: every session kept, the Identity Center roles added", "ListSessions", nil, false); err != nil {
		return err
	}
	return nil
}
