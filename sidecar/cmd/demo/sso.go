package main

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // the token cache's file name is the SHA-1 the AWS CLI and SDKs use
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/rpctest"
)

// demoSSOSession is the [sso-session] section the demo's shared config holds.
const demoSSOSession = "demo-sso"

// ssoConfig is the part of the demo's shared config that signs in to the local Identity Center:
// an sso-session section and a profile that uses it.
func ssoConfig(l localInfo) string {
	return "\n[sso-session " + demoSSOSession + "]\nsso_start_url = " + l.SSOStartURL + "\nsso_region = " + l.SSORegion +
		"\nsso_registration_scopes = " + localsts.ScopeAccountAccess + "\n\n" +
		"[profile sso-dev]\nsso_session = " + demoSSOSession + "\nsso_account_id = " + l.SSOAccountID +
		"\nsso_role_name = " + l.SSORoleName + "\nregion = " + l.Region + "\n"
}

// answerAuthorize is what the demo does with sso/authorize: it shows the code as the extension's
// notification would, and approves it through the local STS's approve route as the user would in
// the browser.
func (d *demo) answerAuthorize(ctx context.Context, m *rpctest.Message) *rpctest.Error {
	var p protocol.SsoAuthorizeParams
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return &rpctest.Error{Code: int(protocol.CodeInvalidParams), Message: "bad sso/authorize params"}
	}
	fmt.Printf("The extension hears: sso/authorize → a notification shows the code %s with \"Open Browser\" (%s) and \"Copy Code\"\n",
		p.UserCode, p.VerificationUriComplete)
	body, _ := json.Marshal(localsts.SSOApproveRequest{UserCode: p.UserCode, User: d.local.SSOUser})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.local.SSOApproveURL, bytes.NewReader(body))
	if err != nil {
		return &rpctest.Error{Code: int(protocol.CodeInternalError), Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &rpctest.Error{Code: int(protocol.CodeInternalError), Message: "approve: " + err.Error()}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &rpctest.Error{Code: int(protocol.CodeInternalError), Message: "approve: " + resp.Status}
	}
	fmt.Printf("In the browser, %s approves the code (POST %s).\n", d.local.SSOUser, localsts.SSOApprovePath)
	return nil
}

// identityCenter is the demo's IAM Identity Center part: the sign-in (approved by the demo
// itself), roles picked from the portal, and child processes that get live credentials from the
// sidecar's container-credentials endpoint and follow a session switch.
func (d *demo) identityCenter() error {
	fmt.Printf("\n── IAM Identity Center and live credentials for every terminal ──\n")
	if d.local.SSOStartURL == "" {
		return errors.New("the local STS announced no Identity Center (ssoStartUrl)")
	}
	var login protocol.SsoLoginResult
	fmt.Printf("Palette \"Sign In to IAM Identity Center…\": sso/login %s (%s)\n", demoSSOSession, d.local.SSOStartURL)
	if err := d.conn.Call(d.ctx, protocol.MethodSsoLogin, protocol.SsoLoginParams{SsoSession: demoSSOSession}, &login); err != nil {
		return fmt.Errorf("sso/login: %w", err)
	}
	fmt.Printf("Signed in to %s until %s; the token cache is where the AWS CLI and the SDKs read it.\n", login.SsoSession, login.ExpiresAt)
	if err := d.cachedSSOSecrets(); err != nil {
		return err
	}
	d.printEvents()

	var accounts protocol.SsoAccountList
	if err := d.conn.Call(d.ctx, protocol.MethodSsoAccounts, protocol.SsoSessionParams{SsoSession: demoSSOSession}, &accounts); err != nil {
		return fmt.Errorf("sso/accounts: %w", err)
	}
	fmt.Println("Palette \"Use an Identity Center Role…\": the portal offers")
	for _, a := range accounts.Accounts {
		fmt.Printf("  %s (%s): %s\n", a.AccountName, a.AccountID, strings.Join(a.Roles, ", "))
	}
	picks := []protocol.SsoUseRoleParams{
		{SsoSession: demoSSOSession, AccountID: d.local.SSOAccountID, RoleName: d.local.SSORoleName, SessionName: "sso-dev", Use: true},
		{SsoSession: demoSSOSession, AccountID: d.local.Account, RoleName: localsts.DemoSSOReadOnlyPermissionSet, SessionName: "sso-readonly"},
	}
	arns := map[string]string{}
	for _, pick := range picks {
		if !offers(accounts, pick.AccountID, pick.RoleName) {
			return fmt.Errorf("the portal does not offer %s in %s", pick.RoleName, pick.AccountID)
		}
		var info protocol.SessionInfo
		if err := d.conn.Call(d.ctx, protocol.MethodSsoUseRole, pick, &info); err != nil {
			return fmt.Errorf("sso/useRole %s: %w", pick.RoleName, err)
		}
		arns[pick.SessionName] = info.ARN
		fmt.Printf("sso/useRole %s in %s → session %s: %s (refreshed from the sign-in: %t)\n", pick.RoleName, pick.AccountID, info.Name, info.ARN, info.Refreshable)
	}
	d.printEvents()

	var ep protocol.CredentialsEndpoint
	if err := d.conn.Call(d.ctx, protocol.MethodCredentialsEndpoint, nil, &ep); err != nil {
		return fmt.Errorf("credentials/endpoint: %w", err)
	}
	d.secrets = append(d.secrets, ep.AuthorizationToken)
	fmt.Printf("credentials/endpoint: %s; the extension puts it and its token in every new terminal's\n"+
		"AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN (the token is never shown).\n", ep.URL)

	for _, run := range []struct{ session, want string }{{"sso-dev", arns["sso-dev"]}, {"sso-readonly", arns["sso-readonly"]}} {
		if run.session != "sso-dev" {
			if err := d.conn.Call(d.ctx, protocol.MethodSessionsUse, protocol.SessionNameParams{Name: run.session}, nil); err != nil {
				return fmt.Errorf("sessions/use %s: %w", run.session, err)
			}
			fmt.Printf("Switch Session: sessions/use %s\n", run.session)
		}
		for _, child := range d.children(ep) {
			arn, err := child.run(d.ctx)
			if err != nil {
				return fmt.Errorf("%s in a terminal: %w", child.name, err)
			}
			d.seen.WriteString(arn + "\n")
			fmt.Printf("A terminal runs %s → %s\n", child.name, arn)
			if arn != run.want {
				return fmt.Errorf("%s got %s from the endpoint, want the active session %s's %s", child.name, arn, run.session, run.want)
			}
		}
	}
	d.printEvents()
	return nil
}

// offers tells whether the portal listed the role in the account.
func offers(list protocol.SsoAccountList, account, role string) bool {
	for _, a := range list.Accounts {
		if a.AccountID == account {
			for _, r := range a.Roles {
				if r == role {
					return true
				}
			}
		}
	}
	return false
}

// cachedSSOSecrets adds the token cache file's secrets, which the sidecar wrote, to what the
// secrets check looks for.
func (d *demo) cachedSSOSecrets() error {
	sum := sha1.Sum([]byte(demoSSOSession)) //nolint:gosec // the cache's naming, not a security measure
	path := filepath.Join(d.dir, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("the sign-in's token cache: %w", err)
	}
	var c struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("the sign-in's token cache is not JSON: %w", err)
	}
	if c.AccessToken == "" || c.RefreshToken == "" {
		return errors.New("the sign-in's token cache holds no access or refresh token")
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("Token cache %s (mode %04o) holds an access token and a refresh token.\n", filepath.Join("~", ".aws", "sso", "cache", filepath.Base(path)), info.Mode().Perm())
	d.secrets = append(d.secrets, c.AccessToken, c.RefreshToken, c.ClientSecret)
	return nil
}

// child is a program run as in a terminal the extension opened: it knows nothing but the
// endpoint's two variables, and prints the ARN its SDK's default credential chain gets.
type child struct {
	name string
	run  func(ctx context.Context) (string, error)
}

// children are the programs the demo runs in a "terminal": a small aws-sdk-go-v2 program (this
// demo's own binary in whoami mode), and the AWS CLI when it is installed.
func (d *demo) children(ep protocol.CredentialsEndpoint) []child {
	env, err := d.terminalEnv(ep)
	if err != nil {
		return []child{{name: "the terminal", run: func(context.Context) (string, error) { return "", err }}}
	}
	out := []child{{name: "an aws-sdk-go-v2 program (default credential chain)", run: func(ctx context.Context) (string, error) {
		self, err := os.Executable()
		if err != nil {
			return "", err
		}
		return runChild(ctx, env, self, "-whoami")
	}}}
	if aws, err := exec.LookPath("aws"); err == nil {
		out = append(out, child{name: "`aws sts get-caller-identity`", run: func(ctx context.Context) (string, error) {
			return runChild(ctx, env, aws, "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		}})
	}
	return out
}

// terminalEnv is a terminal's environment: the user's own, without any AWS variable, plus the
// endpoint's two variables, the local STS as the STS endpoint, and empty shared files so that only
// the endpoint can answer.
func (d *demo) terminalEnv(ep protocol.CredentialsEndpoint) ([]string, error) {
	empty := filepath.Join(d.dir, "terminal-empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+d.dir,
		"AWS_CONTAINER_CREDENTIALS_FULL_URI="+ep.URL, "AWS_CONTAINER_AUTHORIZATION_TOKEN="+ep.AuthorizationToken,
		"AWS_REGION="+d.local.Region, "AWS_DEFAULT_REGION="+d.local.Region, "AWS_ENDPOINT_URL_STS="+d.local.Endpoint,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1"), nil
}

// runChild runs one terminal program and answers the ARN it printed.
func runChild(ctx context.Context, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	arn := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(arn, "arn:aws:") || strings.ContainsAny(arn, " \n") {
		return "", fmt.Errorf("printed %q, not an ARN", arn)
	}
	return arn, nil
}
