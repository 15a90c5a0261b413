package sso

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/stsops"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The SDK's HTTP client keeps connections to the test servers until they close.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// clock is a fake clock the tests move; the local STS and the manager may share one.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a manager signed in against an in-process local STS, with a fake clock and a sleeper
// that moves it instead of waiting.
type harness struct {
	t       *testing.T
	sts     *clock // the local STS's clock
	own     *clock // the manager's clock
	url     string
	m       *Manager
	secrets *redact.Secrets
	config  string

	mu       sync.Mutex
	changes  []protocol.SsoChangedParams
	sleeps   []time.Duration
	onSleep  func(n int) // runs after the nth sleep (1-based)
	frozen   int         // the first sleeps let no time pass on the local STS (polls too fast)
	stsStill bool        // no time passes for the local STS
	ownStill bool        // no time passes for the manager (with a clock of its own)
	onAuth   func(p protocol.SsoAuthorizeParams) error
	authored []protocol.SsoAuthorizeParams
}

const startURL = localsts.DemoSSOStartURL

func newHarness(t *testing.T, tweak func(*localsts.SSO)) *harness {
	t.Helper()
	h := &harness{t: t, sts: newClock()}
	h.own = h.sts
	cfg := localsts.DefaultConfig()
	if tweak != nil {
		tweak(cfg.SSO)
	}
	srv, err := localsts.New(cfg, localsts.Options{Now: func() time.Time { return h.sts.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPServer().Handler)
	t.Cleanup(ts.Close)
	srv.SetBaseURL(ts.URL)
	h.url = ts.URL
	home := t.TempDir()
	h.config = filepath.Join(home, ".aws", "config")
	if err := os.MkdirAll(filepath.Dir(h.config), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := "# mine\n[profile keep]\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n" +
		"[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\n\n" +
		"[profile legacy]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Developer\n"
	if err := os.WriteFile(h.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", h.config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "nocredentials"))
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", ts.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO", ts.URL)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	h.secrets = &redact.Secrets{}
	clients := stsops.NewClients(protocol.Settings{MaxAttempts: 1})
	h.m = New(Config{
		AWSConfig: clients.ServiceConfig,
		Secrets:   h.secrets,
		Now:       func() time.Time { return h.own.Now() },
		Sleep:     h.sleep,
		Authorize: h.authorize,
		Changed: func(p protocol.SsoChangedParams) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.changes = append(h.changes, p)
		},
	})
	return h
}

func (h *harness) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	h.sleeps = append(h.sleeps, d)
	n, hook := len(h.sleeps), h.onSleep
	h.mu.Unlock()
	if n > h.frozen && !h.stsStill {
		h.sts.Advance(d)
	}
	if h.own != h.sts && !h.ownStill {
		h.own.Advance(d)
	}
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (h *harness) authorize(_ context.Context, p protocol.SsoAuthorizeParams) error {
	h.mu.Lock()
	h.authored = append(h.authored, p)
	hook := h.onAuth
	h.mu.Unlock()
	if hook != nil {
		return hook(p)
	}
	return nil
}

// approve decides a user code through the local STS's route.
func (h *harness) approve(code string, deny bool) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"userCode": code, "user": localsts.DemoSSOUser, "deny": deny})
	resp, err := http.Post(h.url+"/_localsts/sso/approve", "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("approve answered %d", resp.StatusCode)
	}
}

func (h *harness) states() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.changes {
		out = append(out, c.SsoSession+":"+c.State)
	}
	return out
}

// login signs in to corp, approving the code after the second wait.
func (h *harness) login() *protocol.SsoLoginResult {
	h.t.Helper()
	return h.loginAfter(2)
}

// loginAfter signs in to corp, approving the code after the given wait of this sign-in.
func (h *harness) loginAfter(wait int) *protocol.SsoLoginResult {
	h.t.Helper()
	h.mu.Lock()
	base := len(h.sleeps)
	h.mu.Unlock()
	h.onSleep = func(n int) {
		if n == base+wait {
			h.approve(h.authored[len(h.authored)-1].UserCode, false)
		}
	}
	defer func() { h.onSleep = nil }()
	res, err := h.m.Login(context.Background(), protocol.SsoLoginParams{SsoSession: "corp"})
	if err != nil {
		h.t.Fatalf("login: %v", err)
	}
	return res
}

func codeOf(err error) int64 {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestLoginDeviceFlowWritesTheCache(t *testing.T) {
	h := newHarness(t, nil)
	res := h.login()
	if res.SsoSession != "corp" || res.StartURL != startURL || res.Region != "us-east-1" || res.ExpiresAt == "" || res.ConfigWritten {
		t.Fatalf("result %+v", res)
	}
	a := h.authored[0]
	if a.UserCode == "" || !strings.HasPrefix(a.VerificationUriComplete, h.url) || !strings.Contains(a.VerificationUriComplete, "user_code=") || a.SsoSession != "corp" {
		t.Fatalf("authorize params %+v", a)
	}
	path := CachePath("corp")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range tokenFields {
		if s, _ := fields[k].(string); s == "" {
			t.Errorf("cache lacks %s: %s", k, h.secrets.Scrub(string(raw)))
		}
	}
	if _, err := time.Parse(time.RFC3339, fields["expiresAt"].(string)); err != nil || !strings.HasSuffix(fields["expiresAt"].(string), "Z") {
		t.Errorf("expiresAt %v is not RFC 3339 UTC", fields["expiresAt"])
	}
	// Every secret in the file is known to the scrubber.
	for _, k := range []string{"accessToken", "refreshToken", "clientSecret"} {
		if got := h.secrets.Scrub(fields[k].(string)); strings.Contains(got, fields[k].(string)) {
			t.Errorf("%s is not registered with the scrubber", k)
		}
	}
	if got := h.states(); len(got) != 1 || got[0] != "corp:signedIn" {
		t.Errorf("changes %v, want one signedIn", got)
	}
	// The pending polls waited the interval the service asked for (1 s in the demo config).
	for _, d := range h.sleeps {
		if d != time.Second {
			t.Errorf("slept %v, want 1s", d)
		}
	}
	list, err := h.m.List()
	if err != nil {
		t.Fatal(err)
	}
	var corp, legacy *protocol.SsoSessionInfo
	for i := range list.Sessions {
		switch list.Sessions[i].Name {
		case "corp":
			corp = &list.Sessions[i]
		case "legacy":
			legacy = &list.Sessions[i]
		}
	}
	if corp == nil || !corp.SignedIn || !corp.Refreshable || corp.ExpiresAt == "" || len(corp.Profiles) != 1 || corp.Profiles[0] != "dev" {
		t.Errorf("corp in list: %+v", corp)
	}
	if legacy == nil || !legacy.Legacy || legacy.SignedIn {
		t.Errorf("legacy in list: %+v", legacy)
	}
	if b, _ := json.Marshal(list); strings.Contains(string(b), fields["accessToken"].(string)) {
		t.Error("sso/list carries the token")
	}
}

func TestLoginReusesTheCachedRegistration(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	first, err := ReadToken(CachePath("corp"))
	if err != nil {
		t.Fatal(err)
	}
	h.login()
	second, err := ReadToken(CachePath("corp"))
	if err != nil {
		t.Fatal(err)
	}
	if first.ClientID != second.ClientID || first.ClientSecret != second.ClientSecret {
		t.Error("a second sign-in registered a new client while the cached one was valid")
	}
	if first.AccessToken == second.AccessToken {
		t.Error("the second sign-in cached the old token")
	}
}

func TestLoginSlowDownAddsFiveSeconds(t *testing.T) {
	h := newHarness(t, nil)
	h.frozen = 2 // the second poll comes too soon: slow_down
	h.loginAfter(4)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sleeps) < 3 || h.sleeps[0] != time.Second || h.sleeps[1] != time.Second || h.sleeps[2] != 6*time.Second {
		t.Fatalf("sleeps %v, want 1s 1s 6s …", h.sleeps)
	}
	for _, d := range h.sleeps[2:] {
		if d != 6*time.Second {
			t.Errorf("after slow_down slept %v, want 6s", d)
		}
	}
}

func TestLoginExpiredCode(t *testing.T) {
	h := newHarness(t, func(s *localsts.SSO) { s.DeviceCodeSeconds = 5 })
	h.own, h.ownStill = newClock(), true // the manager's clock stands still: the service says the code expired
	_, err := h.m.Login(context.Background(), protocol.SsoLoginParams{SsoSession: "corp"})
	var e *Error
	if !errors.As(err, &e) || e.AWSCode != "ExpiredTokenException" || !strings.Contains(e.Message, "expired") {
		t.Fatalf("err %v, want the expired code", err)
	}
	if _, err := os.Stat(CachePath("corp")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed sign-in left a cache file")
	}
	h.mu.Lock()
	n := len(h.sleeps)
	h.mu.Unlock()
	if n < 5 || n > 7 {
		t.Errorf("%d polls for a 5 s code at 1 s", n)
	}
}

func TestLoginStopsAtItsOwnDeadline(t *testing.T) {
	h := newHarness(t, func(s *localsts.SSO) { s.DeviceCodeSeconds = 3 })
	h.own, h.stsStill = newClock(), true // the service's clock stands still: only the manager sees the code expire
	_, err := h.m.Login(context.Background(), protocol.SsoLoginParams{SsoSession: "corp"})
	if codeOf(err) != protocol.CodeAWSError || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("err %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sleeps) != 3 {
		t.Errorf("%d waits, want 3: the polling stops when the 3 s code has expired", len(h.sleeps))
	}
}

func TestLoginDenied(t *testing.T) {
	h := newHarness(t, nil)
	h.onSleep = func(n int) {
		if n == 1 {
			h.approve(h.authored[0].UserCode, true)
		}
	}
	_, err := h.m.Login(context.Background(), protocol.SsoLoginParams{SsoSession: "corp"})
	var e *Error
	if !errors.As(err, &e) || e.AWSCode != "AccessDeniedException" || !strings.Contains(e.Message, "denied") {
		t.Fatalf("err %v, want denied", err)
	}
	if _, err := os.Stat(CachePath("corp")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a denied sign-in left a cache file")
	}
	if len(h.states()) != 0 {
		t.Errorf("changes %v after a denied sign-in", h.states())
	}
}

func TestLoginCancelledMidPoll(t *testing.T) {
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.onSleep = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	_, err := h.m.Login(ctx, protocol.SsoLoginParams{SsoSession: "corp"})
	if codeOf(err) != protocol.CodeRequestCancelled {
		t.Fatalf("err %v, want cancelled", err)
	}
	h.mu.Lock()
	n := len(h.sleeps)
	h.mu.Unlock()
	if n != 3 {
		t.Errorf("%d waits, want the polling to stop at the third", n)
	}
	if _, err := os.Stat(CachePath("corp")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a cancelled sign-in left a cache file")
	}
}

func TestLoginNeedsAClient(t *testing.T) {
	h := newHarness(t, nil)
	h.onAuth = func(protocol.SsoAuthorizeParams) error { return errors.New("dismissed") }
	_, err := h.m.Login(context.Background(), protocol.SsoLoginParams{SsoSession: "corp"})
	if codeOf(err) != protocol.CodeRequestCancelled || !strings.Contains(err.Error(), "dismissed") {
		t.Fatalf("err %v", err)
	}
	h.mu.Lock()
	n := len(h.sleeps)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("polled %d times although the client did not show the code", n)
	}
}

func TestLoginParams(t *testing.T) {
	h := newHarness(t, nil)
	for _, p := range []protocol.SsoLoginParams{
		{},
		{SsoSession: "corp", Profile: "dev"},
		{SsoSession: "nope"},
		{SsoSession: "bad]name"},
		{Profile: "keep"},
		{StartURL: "javascript:alert(1)", Region: "us-east-1", SsoSession: "x"},
		{StartURL: "https://x.awsapps.com/start", Region: "mars", SsoSession: "x"},
		{StartURL: "https://x.awsapps.com/start", Region: "us-east-1", SsoSession: "a]b"},
		{StartURL: "https://other.example/start", Region: "us-east-1", SsoSession: "corp"},
	} {
		if _, err := h.m.Login(context.Background(), p); codeOf(err) != protocol.CodeInvalidParams {
			t.Errorf("%+v: err %v, want invalid params", p, err)
		}
	}
	if len(h.authored) != 0 {
		t.Error("a refused login reached the service")
	}
}

func TestLoginByProfileAndLegacy(t *testing.T) {
	h := newHarness(t, nil)
	h.onSleep = func(n int) { h.approve(h.authored[len(h.authored)-1].UserCode, false) }
	res, err := h.m.Login(context.Background(), protocol.SsoLoginParams{Profile: "dev"})
	if err != nil || res.SsoSession != "corp" {
		t.Fatalf("login by profile: %+v %v", res, err)
	}
	res, err = h.m.Login(context.Background(), protocol.SsoLoginParams{SsoSession: "legacy"})
	if err != nil || res.SsoSession != "legacy" {
		t.Fatalf("legacy login: %+v %v", res, err)
	}
	// A legacy profile's cache is named after its start URL.
	if _, err := ReadToken(CachePath(startURL)); err != nil {
		t.Fatal(err)
	}
}

func TestLoginWithAStartURLAddsTheSection(t *testing.T) {
	h := newHarness(t, nil)
	before, _ := os.ReadFile(h.config)
	h.onSleep = func(n int) { h.approve(h.authored[len(h.authored)-1].UserCode, false) }
	res, err := h.m.Login(context.Background(), protocol.SsoLoginParams{StartURL: startURL, Region: "us-east-1", SsoSession: "fresh"})
	if err != nil || !res.ConfigWritten || res.SsoSession != "fresh" {
		t.Fatalf("%+v %v", res, err)
	}
	after, _ := os.ReadFile(h.config)
	if !bytes.HasPrefix(after, before) {
		t.Fatal("the config's other bytes changed")
	}
	want := "\n[sso-session fresh]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
	if got := string(after[len(before):]); got != want {
		t.Errorf("added %q, want %q", got, want)
	}
	if fi, _ := os.Stat(h.config); fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v", fi.Mode().Perm())
	}
	// The same again finds the section and writes nothing.
	res, err = h.m.Login(context.Background(), protocol.SsoLoginParams{StartURL: startURL, Region: "us-east-1", SsoSession: "fresh"})
	if err != nil || res.ConfigWritten {
		t.Fatalf("second: %+v %v", res, err)
	}
	if again, _ := os.ReadFile(h.config); !bytes.Equal(again, after) {
		t.Error("the second sign-in changed the config")
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	before, _ := ReadToken(CachePath("corp"))
	tok, err := h.m.AccessToken(context.Background(), "corp")
	if err != nil || tok != before.AccessToken {
		t.Fatalf("outside the window: %v, same token %v", err, tok == before.AccessToken)
	}
	h.sts.Advance(time.Hour - 2*time.Minute) // inside the 5-minute window
	h.m.Maintain(context.Background())
	after, err := ReadToken(CachePath("corp"))
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == before.AccessToken || !after.ExpiresAt.After(before.ExpiresAt) {
		t.Fatalf("not refreshed: expires %v → %v", before.ExpiresAt, after.ExpiresAt)
	}
	if after.RefreshToken == "" || after.ClientID != before.ClientID {
		t.Error("the refresh lost the refresh token or the registration")
	}
	if got := h.states(); len(got) != 2 || got[1] != "corp:refreshed" {
		t.Errorf("changes %v, want signedIn then refreshed", got)
	}
	if s := h.secrets.Scrub(after.AccessToken); strings.Contains(s, after.AccessToken) {
		t.Error("the refreshed token is not registered with the scrubber")
	}
}

func TestRejectedRefreshSignsOutOnce(t *testing.T) {
	h := newHarness(t, func(s *localsts.SSO) { s.TokenSeconds = 300; s.RefreshTokenSeconds = 600 })
	h.login()
	h.sts.Advance(700 * time.Second) // the sign-in itself has ended
	for range 3 {
		_, err := h.m.AccessToken(context.Background(), "corp")
		var e *Error
		if !errors.As(err, &e) || e.Code != protocol.CodeSignInRequired || e.SSOSession != "corp" {
			t.Fatalf("err %v, want SignInRequired for corp", err)
		}
		h.m.Maintain(context.Background())
	}
	if got := h.states(); len(got) != 2 || got[1] != "corp:signedOut" {
		t.Fatalf("changes %v, want signedIn then one signedOut", got)
	}
	// Signing in again is reported, and a later loss is reported again.
	h.login()
	if got := h.states(); len(got) != 3 || got[2] != "corp:signedIn" {
		t.Fatalf("changes %v", got)
	}
}

func TestCLICacheIsUsedAsItIs(t *testing.T) {
	h := newHarness(t, nil)
	// As the AWS CLI v2 writes it, with a field of its own; the demo token never expires.
	path := CachePath("corp")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	exp := h.sts.Now().Add(time.Hour).Format("2006-01-02T15:04:05UTC")
	cli := `{"startUrl": "` + startURL + `", "region": "us-east-1", "accessToken": "` + localsts.DemoSSOAccessToken + `", "expiresAt": "` + exp + `", "somethingElse": {"a": 1}}`
	if err := os.WriteFile(path, []byte(cli), 0o600); err != nil {
		t.Fatal(err)
	}
	list, truncated, err := h.m.Accounts(context.Background(), "corp")
	if err != nil || truncated {
		t.Fatalf("accounts: %v", err)
	}
	if len(list.Accounts) != 1 || list.Accounts[0].AccountID != localsts.MemberAccount || len(list.Accounts[0].Roles) != 1 || list.Accounts[0].Roles[0] != localsts.DemoSSOPermissionSet {
		t.Fatalf("accounts %+v", list.Accounts)
	}
	rc, err := h.m.RoleCredentials(context.Background(), "corp", localsts.MemberAccount, localsts.DemoSSOPermissionSet)
	if err != nil || rc.Credentials.AccessKeyID == "" || !rc.Credentials.Expires.After(h.sts.Now()) {
		t.Fatalf("role credentials: %+v %v", rc, err)
	}
	if got, _ := os.ReadFile(path); string(got) != cli {
		t.Error("reading the CLI's cache changed it")
	}
	if h.secrets.Scrub(localsts.DemoSSOAccessToken) == localsts.DemoSSOAccessToken {
		t.Error("the CLI's token is not registered with the scrubber")
	}
}

func TestAccountsRolesAndLogout(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	list, _, err := h.m.Accounts(context.Background(), "corp")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, a := range list.Accounts {
		roles[a.AccountID] = a.Roles
		if a.AccountName == "" {
			t.Errorf("account %s has no name", a.AccountID)
		}
	}
	if len(roles) != 2 || len(roles[localsts.MemberAccount]) != 1 || roles[localsts.MemberAccount][0] != localsts.DemoSSOPermissionSet {
		t.Fatalf("accounts %+v", list.Accounts)
	}
	if _, err := h.m.RoleCredentials(context.Background(), "corp", localsts.MemberAccount, "NotAssigned"); err == nil {
		t.Error("a role the user is not assigned gave credentials")
	}
	old, _ := ReadToken(CachePath("corp"))
	res, err := h.m.Logout(context.Background(), "corp")
	if err != nil || !res.CacheRemoved || res.PortalError != "" {
		t.Fatalf("logout: %+v %v", res, err)
	}
	if _, err := os.Stat(CachePath("corp")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the cache file is still there")
	}
	if _, err := h.m.AccessToken(context.Background(), "corp"); codeOf(err) != protocol.CodeSignInRequired {
		t.Errorf("after logout: %v", err)
	}
	h.m.Maintain(context.Background())
	if got := h.states(); len(got) != 2 || got[1] != "corp:signedOut" {
		t.Errorf("changes %v, want signedIn and one signedOut", got)
	}
	// The portal no longer takes the old token: the sign-in was ended there too.
	if err := WriteToken(CachePath("corp"), old); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.RoleCredentials(context.Background(), "corp", localsts.MemberAccount, localsts.DemoSSOPermissionSet); codeOf(err) != protocol.CodeSignInRequired {
		t.Errorf("the old token after logout: %v", err)
	}
}

func TestParseTimeForms(t *testing.T) {
	want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, s := range []string{"2030-01-02T03:04:05Z", "2030-01-02T03:04:05UTC", "2030-01-02T03:04:05+00:00", "2030-01-02T03:04:05", "2030-01-02T04:04:05+01:00"} {
		if got, err := parseTime(s); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := parseTokenText(`{"accessToken": 5}`); err == nil {
		t.Error("a number token was taken")
	}
}

func parseTokenText(s string) (*Token, error) { return parseToken([]byte(s)) }
