package integration

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/rpctest"
)

// The sign-in tests run the sidecar and the local STS (`awsflow-sts localsts`, whose IAM Identity
// Center serves the OIDC device flow and the portal) as processes, and approve or deny the user
// code through the local STS's route, as a user would in the browser.

// startSSOLocalSTS starts `awsflow-sts localsts` with the demo config changed by tweak, and
// returns its endpoint.
func startSSOLocalSTS(t *testing.T, tweak func(*localsts.SSO)) string {
	t.Helper()
	cfg := localsts.DefaultConfig()
	if tweak != nil {
		tweak(cfg.SSO)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "localsts.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	info, _, _ := startLocalSTSProcess(t, "--log-level", "warn", "--config", file)
	return info["endpoint"]
}

// ssoConfig is the shared config of the sign-in tests: an sso-session, a profile that uses it,
// and the profile the AWS CLI is run with.
const ssoConfig = "[default]\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = " + localsts.DemoSSOStartURL +
	"\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n[profile dev]\nsso_session = corp\nsso_account_id = " +
	localsts.MemberAccount + "\nsso_role_name = " + localsts.DemoSSOPermissionSet + "\nregion = us-east-1\n"

// ssoEnv is scratchEnv with the sign-in config, and IAM Identity Center's and STS's endpoints
// pointed at the local STS (the oidc and portal endpoints the SDKs and the AWS CLI read).
func ssoEnv(t *testing.T, endpoint string) (env []string, home string) {
	t.Helper()
	env = scratchEnv(t)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
		if v, ok := strings.CutPrefix(kv, "AWS_CONFIG_FILE="); ok {
			if err := os.WriteFile(v, []byte(ssoConfig), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return append(env, "AWS_ENDPOINT_URL_SSO_OIDC="+endpoint, "AWS_ENDPOINT_URL_SSO="+endpoint, "AWS_ENDPOINT_URL_STS="+endpoint), home
}

// ssoProc is `awsflow-sts serve` with a client that answers sso/authorize the way a test says.
type ssoProc struct {
	*rpctest.Process
	t      *testing.T
	stderr *rpctest.Buffer

	mu        sync.Mutex
	authorize func(p protocol.SsoAuthorizeParams) *rpctest.Error
}

func startSSOServe(t *testing.T, env []string, settings map[string]any) *ssoProc {
	t.Helper()
	p := &ssoProc{t: t, stderr: &rpctest.Buffer{}}
	cmd := exec.Command(binPath, "serve", "--log-level", "debug")
	cmd.Env = env
	cmd.Dir = t.TempDir()
	cmd.Stderr = p.stderr
	started, err := rpctest.Start(cmd, rpctest.Options{Handler: p.handle, IDBase: 100, WriteTimeout: writeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	p.Process = started
	t.Cleanup(func() {
		if err := p.Stop(exitTimeout); err != nil {
			t.Errorf("%v", err)
		}
		if t.Failed() {
			t.Logf("sidecar stderr:\n%s", tail(p.stderr.String(), 8000))
		}
	})
	p.call("initialize", map[string]any{"clientInfo": map[string]any{"name": "integration-test", "version": "1"}, "settings": settings}, nil)
	return p
}

func (p *ssoProc) handle(_ context.Context, m *rpctest.Message) (any, *rpctest.Error) {
	p.mu.Lock()
	f := p.authorize
	p.mu.Unlock()
	if m.Method != protocol.MethodSsoAuthorize || f == nil {
		return nil, &rpctest.Error{Code: rpctest.CodeMethodNotFound, Message: "method not found: " + m.Method}
	}
	var params protocol.SsoAuthorizeParams
	if err := json.Unmarshal(m.Params, &params); err != nil {
		return nil, &rpctest.Error{Code: -32602, Message: err.Error()}
	}
	if rerr := f(params); rerr != nil {
		return nil, rerr
	}
	return nil, nil
}

func (p *ssoProc) onAuthorize(f func(protocol.SsoAuthorizeParams) *rpctest.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authorize = f
}

// call sends a request and returns its response; out, when set, receives a successful result.
func (p *ssoProc) call(method string, params, out any) *rpctest.Message {
	p.t.Helper()
	_, ch, err := p.Request(method, params)
	if err != nil {
		p.t.Fatalf("write %s: %v", method, err)
	}
	return p.await(method, ch, out)
}

func (p *ssoProc) await(method string, ch <-chan *rpctest.Message, out any) *rpctest.Message {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	m, err := p.Await(ctx, ch)
	if err != nil {
		p.t.Fatalf("no answer to %s: %v\n%s", method, err, tail(p.stderr.String(), 4000))
	}
	if out != nil {
		if m.Error != nil {
			p.t.Fatalf("%s failed: %s", method, m.Raw)
		}
		if err := json.Unmarshal(m.Result, out); err != nil {
			p.t.Fatalf("%s result: %v", method, err)
		}
	}
	return m
}

// changes are the sso/changed notifications so far, as "name:state".
func (p *ssoProc) changes() []string {
	var out []string
	for _, m := range p.Events() {
		if m.Method == protocol.MethodSsoChanged {
			var c protocol.SsoChangedParams
			_ = json.Unmarshal(m.Params, &c)
			out = append(out, c.SsoSession+":"+c.State)
		}
	}
	return out
}

// waitChange waits for the sso/changed notification of that state.
func (p *ssoProc) waitChange(state string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, err := p.WaitEvent(ctx, func(m *rpctest.Message) bool {
		var c protocol.SsoChangedParams
		return m.Method == protocol.MethodSsoChanged && json.Unmarshal(m.Params, &c) == nil && c.State == state
	})
	if err != nil {
		p.t.Fatalf("no sso/changed %s: %v; changes %v", state, err, p.changes())
	}
}

// approve decides a user code through the local STS's route.
func approve(t *testing.T, endpoint, code string, deny bool) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"userCode": code, "user": localsts.DemoSSOUser, "deny": deny})
	resp, err := http.Post(endpoint+"/_localsts/sso/approve", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Errorf("approve answered %d: %s", resp.StatusCode, b)
	}
}

// errorOf decodes an error response's data.
func errorOf(t *testing.T, m *rpctest.Message) (protocol.ErrorData, string) {
	t.Helper()
	if m.Error == nil {
		t.Fatalf("want an error, got %s", m.Raw)
	}
	var d protocol.ErrorData
	if err := json.Unmarshal(m.Error.Data, &d); err != nil {
		t.Fatalf("error data %s: %v", m.Error.Data, err)
	}
	return d, m.Error.Message
}

// cacheFile is the token cache of the sso-session corp under home, where the AWS CLI v2 and the
// SDKs look: the SHA-1 of the session's name.
func cacheFile(home string) string {
	sum := sha1.Sum([]byte("corp"))
	return filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// secretsOf are the cache file's secrets.
func secretsOf(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range []string{"accessToken", "refreshToken", "clientSecret"} {
		if s, _ := f[k].(string); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestSSOSignInUseRoleAndCLI signs in by the device flow approved through the route, lists the
// accounts, stores a role's session, runs the AWS CLI with the cache the sidecar wrote, and signs
// out.
func TestSSOSignInUseRoleAndCLI(t *testing.T) {
	endpoint := startSSOLocalSTS(t, nil)
	env, home := ssoEnv(t, endpoint)
	p := startSSOServe(t, env, map[string]any{"endpointUrl": endpoint, "region": "us-east-1"})
	var asked []protocol.SsoAuthorizeParams
	p.onAuthorize(func(a protocol.SsoAuthorizeParams) *rpctest.Error {
		asked = append(asked, a)
		approve(t, endpoint, a.UserCode, false)
		return nil
	})
	var login protocol.SsoLoginResult
	p.call(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"}, &login)
	if login.SsoSession != "corp" || login.StartURL != localsts.DemoSSOStartURL || login.ExpiresAt == "" {
		t.Fatalf("login %+v", login)
	}
	if len(asked) != 1 || !strings.HasPrefix(asked[0].VerificationUriComplete, endpoint) || asked[0].UserCode == "" {
		t.Fatalf("sso/authorize %+v", asked)
	}
	p.waitChange("signedIn")
	path := cacheFile(home)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache %s: %v %v", path, fi, err)
	}
	secrets := secretsOf(t, path)
	if len(secrets) != 3 {
		t.Fatalf("the cache holds %d of access token, refresh token and client secret", len(secrets))
	}

	var list protocol.SsoSessionList
	p.call(protocol.MethodSsoList, nil, &list)
	if len(list.Sessions) != 1 || !list.Sessions[0].SignedIn || !list.Sessions[0].Refreshable || list.Sessions[0].Profiles[0] != "dev" {
		t.Fatalf("list %+v", list)
	}
	var accounts protocol.SsoAccountList
	p.call(protocol.MethodSsoAccounts, map[string]any{"ssoSession": "corp"}, &accounts)
	found := false
	for _, a := range accounts.Accounts {
		if a.AccountID == localsts.MemberAccount && len(a.Roles) == 1 && a.Roles[0] == localsts.DemoSSOPermissionSet {
			found = true
		}
	}
	if !found || len(accounts.Accounts) != 2 {
		t.Fatalf("accounts %+v", accounts)
	}

	var info protocol.SessionInfo
	p.call(protocol.MethodSsoUseRole, map[string]any{"ssoSession": "corp", "accountId": localsts.MemberAccount,
		"roleName": localsts.DemoSSOPermissionSet, "sessionName": "dev-sso", "use": true}, &info)
	if info.Name != "dev-sso" || !info.Active || !info.Refreshable || !strings.Contains(info.ARN, "AWSReservedSSO_Developer") || info.Account != localsts.MemberAccount {
		t.Fatalf("session %+v", info)
	}
	var res struct {
		Text string `json:"text"`
	}
	p.call("tool/invoke", map[string]any{"command": "GetCallerIdentity"}, &res)
	if !strings.Contains(res.Text, "assumed-role/"+localsts.DemoSSORole+"/"+localsts.DemoSSOUser) {
		t.Fatalf("GetCallerIdentity as the session: %s", res.Text)
	}
	var exported protocol.ExportedSession
	p.call("sessions/export", map[string]any{"name": "dev-sso"}, &exported)
	if exported.Class != "sso" || exported.Recipe == nil || !strings.Contains(string(exported.Recipe.Params), `"ssoSession":"corp"`) {
		t.Fatalf("export %+v", exported)
	}

	runCLI(t, env, home)

	var out protocol.SsoLogoutResult
	p.call(protocol.MethodSsoLogout, map[string]any{"ssoSession": "corp"}, &out)
	if !out.CacheRemoved || len(out.Forgotten) != 1 || out.Forgotten[0] != "dev-sso" || out.Message != "" {
		t.Fatalf("logout %+v", out)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("the cache file is still there")
	}
	m := p.call(protocol.MethodSsoAccounts, map[string]any{"ssoSession": "corp"}, nil)
	if d, _ := errorOf(t, m); d.Kind != protocol.KindSignin || d.SsoSession != "corp" {
		t.Errorf("accounts after logout: %s", m.Raw)
	}
	// No secret reached the client or the log.
	for _, s := range secrets {
		for _, msg := range p.Messages() {
			if strings.Contains(string(msg.Raw), s) {
				t.Fatalf("a secret of the cache reached the client: %s", msg.Method)
			}
		}
		if strings.Contains(p.stderr.String(), s) {
			t.Fatal("a secret of the cache reached the log")
		}
	}
}

// runCLI runs `aws sts get-caller-identity --profile dev` with the cache the sidecar wrote.
func runCLI(t *testing.T, env []string, home string) {
	t.Helper()
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Log("the AWS CLI is not installed: its compatibility is not checked here")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, aws, "sts", "get-caller-identity", "--profile", "dev", "--output", "json")
	cmd.Env = env
	cmd.Dir = home
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws sts get-caller-identity --profile dev: %v\n%s", err, out)
	}
	var id struct{ Arn string }
	if err := json.Unmarshal(out, &id); err != nil || !strings.Contains(id.Arn, "assumed-role/"+localsts.DemoSSORole+"/"+localsts.DemoSSOUser) {
		t.Fatalf("the AWS CLI answered %s", out)
	}
}

// TestSSOCLICacheAndSignInRequired has the sidecar use a cache file in the AWS CLI's format, both
// for its own methods and as the SSO profile of the base identity (through the SDK), and answers
// SignInRequired when the profile has no sign-in.
func TestSSOCLICacheAndSignInRequired(t *testing.T) {
	endpoint := startSSOLocalSTS(t, nil)
	env, home := ssoEnv(t, endpoint)
	p := startSSOServe(t, env, map[string]any{"endpointUrl": endpoint, "region": "us-east-1", "profile": "dev", "maxAttempts": 1})

	m := p.call("tool/invoke", map[string]any{"command": "GetCallerIdentity"}, nil)
	d, msg := errorOf(t, m)
	if m.Error.Code != int(protocol.CodeSignInRequired) || d.Kind != protocol.KindSignin || d.SsoSession != "corp" ||
		!strings.Contains(msg, "asked to sign in") || strings.Contains(msg, "credential_process") {
		t.Fatalf("without a sign-in: %s", m.Raw)
	}

	// A sign-in made by `aws sso login` (the AWS CLI v2's file; the demo token never expires) is
	// used at once, without a restart.
	path := cacheFile(home)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cli := fmt.Sprintf(`{"startUrl": %q, "region": "us-east-1", "accessToken": %q, "expiresAt": %q}`, localsts.DemoSSOStartURL, localsts.DemoSSOAccessToken, exp)
	if err := os.WriteFile(path, []byte(cli), 0o600); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Text string `json:"text"`
	}
	p.call("tool/invoke", map[string]any{"command": "GetCallerIdentity"}, &res)
	if !strings.Contains(res.Text, localsts.DemoSSORole) {
		t.Fatalf("the base identity through the CLI's cache: %s", res.Text)
	}
	var list protocol.SsoSessionList
	p.call(protocol.MethodSsoList, nil, &list)
	if len(list.Sessions) != 1 || !list.Sessions[0].SignedIn || list.Sessions[0].Refreshable {
		t.Fatalf("list %+v", list)
	}
	var accounts protocol.SsoAccountList
	p.call(protocol.MethodSsoAccounts, map[string]any{"ssoSession": "corp"}, &accounts)
	if len(accounts.Accounts) != 1 || accounts.Accounts[0].AccountID != localsts.MemberAccount {
		t.Fatalf("accounts %+v", accounts)
	}
	if got, _ := os.ReadFile(path); string(got) != cli {
		t.Error("the CLI's cache file was changed")
	}
	if strings.Contains(p.stderr.String(), localsts.DemoSSOAccessToken) {
		t.Error("the access token reached the log")
	}
}

// TestSSODeniedAndExpired: a denied code and a code left to expire end the sign-in with what
// happened, and cache nothing.
func TestSSODeniedAndExpired(t *testing.T) {
	endpoint := startSSOLocalSTS(t, func(s *localsts.SSO) { s.DeviceCodeSeconds = 2 })
	env, home := ssoEnv(t, endpoint)
	p := startSSOServe(t, env, map[string]any{"endpointUrl": endpoint, "region": "us-east-1"})

	p.onAuthorize(func(a protocol.SsoAuthorizeParams) *rpctest.Error {
		approve(t, endpoint, a.UserCode, true)
		return nil
	})
	m := p.call(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"}, nil)
	if d, msg := errorOf(t, m); d.AWSCode != "AccessDeniedException" || !strings.Contains(msg, "denied") {
		t.Fatalf("denied: %s", m.Raw)
	}

	p.onAuthorize(func(protocol.SsoAuthorizeParams) *rpctest.Error { return nil }) // nobody approves
	m = p.call(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"}, nil)
	if d, msg := errorOf(t, m); d.AWSCode != "ExpiredTokenException" || !strings.Contains(msg, "expired") {
		t.Fatalf("expired: %s", m.Raw)
	}

	p.onAuthorize(func(protocol.SsoAuthorizeParams) *rpctest.Error {
		return &rpctest.Error{Code: -32800, Message: "the user dismissed the notification"}
	})
	m = p.call(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"}, nil)
	if _, msg := errorOf(t, m); m.Error.Code != int(protocol.CodeRequestCancelled) || !strings.Contains(msg, "dismissed") {
		t.Fatalf("dismissed: %s", m.Raw)
	}
	if _, err := os.Stat(cacheFile(home)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed sign-in cached a token")
	}
	if len(p.changes()) != 0 {
		t.Errorf("changes %v after failed sign-ins", p.changes())
	}
}

// pollProxy stands between the sidecar and the local STS's OIDC service and counts the
// device-code polls; with slowDown set, it answers the first one after sending it twice to the
// local STS, whose answer to the second, too soon, is slow_down: the sidecar must then wait the
// interval plus 5 seconds, or the local STS answers slow_down again.
type pollProxy struct {
	mu       sync.Mutex
	polls    int
	slowDown bool
	slowSeen int // slow_down answers the sidecar received
}

func startPollProxy(t *testing.T, endpoint string, slowDown bool) (string, *pollProxy) {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	pp := &pollProxy{slowDown: slowDown}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			rp.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		pp.mu.Lock()
		device := bytes.Contains(body, []byte("device_code"))
		if device {
			pp.polls++
		}
		first := device && pp.polls == 1 && pp.slowDown
		pp.mu.Unlock()
		send := func() *http.Response {
			req, _ := http.NewRequest(http.MethodPost, endpoint+"/token", bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("proxy: %v", err)
				return nil
			}
			return resp
		}
		resp := send()
		if first && resp != nil {
			resp.Body.Close()
			resp = send() // too soon after the first: the local STS answers slow_down
		}
		if resp == nil {
			http.Error(w, "proxy failed", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if resp.Header.Get("x-amzn-ErrorType") == "SlowDownException" {
			pp.mu.Lock()
			pp.slowSeen++
			pp.mu.Unlock()
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, pp
}

func (pp *pollProxy) counts() (polls, slow int) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	return pp.polls, pp.slowSeen
}

// TestSSOSlowDown: after slow_down the sidecar polls 5 seconds slower, as the local STS checks.
func TestSSOSlowDown(t *testing.T) {
	endpoint := startSSOLocalSTS(t, nil)
	proxy, pp := startPollProxy(t, endpoint, true)
	env, _ := ssoEnv(t, endpoint)
	env = append(env, "AWS_ENDPOINT_URL_SSO_OIDC="+proxy) // the later entry wins
	p := startSSOServe(t, env, map[string]any{"endpointUrl": endpoint, "region": "us-east-1"})
	var code string
	p.onAuthorize(func(a protocol.SsoAuthorizeParams) *rpctest.Error { code = a.UserCode; return nil })
	_, ch, err := p.Request(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"})
	if err != nil {
		t.Fatal(err)
	}
	// Approve once the sidecar has polled again after the slow_down.
	deadline := time.Now().Add(callTimeout)
	for {
		if polls, _ := pp.counts(); polls >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sidecar did not poll again after slow_down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	approve(t, endpoint, code, false)
	var login protocol.SsoLoginResult
	p.await(protocol.MethodSsoLogin, ch, &login)
	if _, slow := pp.counts(); slow != 1 {
		t.Fatalf("the sidecar got slow_down %d times: after the first it must wait the interval plus 5 s", slow)
	}
}

// TestSSOCancelMidPoll: $/cancelRequest stops the polling at once.
func TestSSOCancelMidPoll(t *testing.T) {
	endpoint := startSSOLocalSTS(t, nil)
	proxy, pp := startPollProxy(t, endpoint, false)
	env, home := ssoEnv(t, endpoint)
	env = append(env, "AWS_ENDPOINT_URL_SSO_OIDC="+proxy)
	p := startSSOServe(t, env, map[string]any{"endpointUrl": endpoint, "region": "us-east-1"})
	p.onAuthorize(func(protocol.SsoAuthorizeParams) *rpctest.Error { return nil })
	id, ch, err := p.Request(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(callTimeout)
	for {
		if polls, _ := pp.counts(); polls >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sidecar does not poll")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.Notify("$/cancelRequest", map[string]any{"id": id}); err != nil {
		t.Fatal(err)
	}
	m := p.await(protocol.MethodSsoLogin, ch, nil)
	if m.Error == nil || m.Error.Code != int(protocol.CodeRequestCancelled) {
		t.Fatalf("after cancel: %s", m.Raw)
	}
	after, _ := pp.counts()
	time.Sleep(2500 * time.Millisecond) // more than two intervals of the demo's 1 s
	if polls, _ := pp.counts(); polls != after {
		t.Errorf("the sidecar polled %d more times after the cancel", polls-after)
	}
	if _, err := os.Stat(cacheFile(home)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a cancelled sign-in cached a token")
	}
}

// TestSSORefreshAndSignedOutOnce: an access token inside its refresh window is renewed with the
// refresh token (the local STS issues 60-second tokens, inside the 5-minute window); a refresh
// token the service refuses is reported signed out once, however many calls follow.
func TestSSORefreshAndSignedOutOnce(t *testing.T) {
	endpoint := startSSOLocalSTS(t, func(s *localsts.SSO) { s.TokenSeconds = 60 })
	env, home := ssoEnv(t, endpoint)
	p := startSSOServe(t, env, map[string]any{"endpointUrl": endpoint, "region": "us-east-1"})
	p.onAuthorize(func(a protocol.SsoAuthorizeParams) *rpctest.Error {
		approve(t, endpoint, a.UserCode, false)
		return nil
	})
	p.call(protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"}, &protocol.SsoLoginResult{})
	path := cacheFile(home)
	before := secretsOf(t, path)
	p.call(protocol.MethodSsoAccounts, map[string]any{"ssoSession": "corp"}, &protocol.SsoAccountList{})
	p.waitChange("refreshed")
	after := secretsOf(t, path)
	if after[0] == before[0] || after[1] != before[1] || after[2] != before[2] {
		t.Fatal("the refresh did not replace the access token alone")
	}

	// The refresh token is refused from now on: the cache file is given one the service never issued.
	raw, _ := os.ReadFile(path)
	raw = bytes.Replace(raw, []byte(after[1]), []byte("aor-refused-"+strings.Repeat("x", 40)), 1)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		// The access token still works for a minute, so the calls succeed; the loss is reported once.
		p.call(protocol.MethodSsoAccounts, map[string]any{"ssoSession": "corp"}, &protocol.SsoAccountList{})
	}
	p.waitChange("signedOut")
	n := 0
	for _, c := range p.changes() {
		if c == "corp:signedOut" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("signedOut sent %d times: %v", n, p.changes())
	}
	var list protocol.SsoSessionList
	p.call(protocol.MethodSsoList, nil, &list)
	if list.Sessions[0].Refreshable {
		t.Error("sso/list calls a refused refresh token refreshable")
	}
}
