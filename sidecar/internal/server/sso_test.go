package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/sso"
	"awsflow-sts/sidecar/internal/testing/rpctest"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// ssoWorld is an in-process local STS with IAM Identity Center and a shared config that signs in
// to it, both on one clock the test moves.
type ssoWorld struct {
	clock *ststest.Clock
	url   string
}

func newSSOWorld(t *testing.T) *ssoWorld {
	t.Helper()
	w := &ssoWorld{clock: &ststest.Clock{}}
	srv, err := localsts.New(localsts.DefaultConfig(), localsts.Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPServer().Handler)
	t.Cleanup(ts.Close)
	srv.SetBaseURL(ts.URL)
	w.url = ts.URL
	home := t.TempDir()
	conf := filepath.Join(home, "config")
	if err := os.WriteFile(conf, []byte("[sso-session corp]\nsso_start_url = "+localsts.DemoSSOStartURL+"\nsso_region = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", conf)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", ts.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO", ts.URL)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return w
}

// approve approves a user code for the demo user.
func (w *ssoWorld) approve(code string) error {
	body, _ := json.Marshal(map[string]any{"userCode": code, "user": localsts.DemoSSOUser})
	resp, err := http.Post(w.url+"/_localsts/sso/approve", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// ssoClient serves srv over a pipe with a client that approves every sign-in code it is shown.
func (w *ssoWorld) serve(t *testing.T, srv *Server) *rpctest.Conn {
	t.Helper()
	serverEnd, clientEnd := net.Pipe()
	c := rpctest.New(clientEnd, rpctest.Options{Handler: func(_ context.Context, m *rpctest.Message) (any, *rpctest.Error) {
		var p protocol.SsoAuthorizeParams
		if m.Method != protocol.MethodSsoAuthorize || json.Unmarshal(m.Params, &p) != nil {
			return nil, &rpctest.Error{Code: rpctest.CodeMethodNotFound, Message: "no"}
		}
		if err := w.approve(p.UserCode); err != nil {
			return nil, &rpctest.Error{Code: -32603, Message: err.Error()}
		}
		return nil, nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = srv.Serve(ctx, serverEnd) })
	t.Cleanup(func() {
		cancel()
		c.Close()
		wg.Wait()
	})
	call(t, c, protocol.MethodInitialize, map[string]any{"clientInfo": map[string]any{"name": "t", "version": "1"},
		"settings": map[string]any{"endpointUrl": w.url, "region": "us-east-1", "maxAttempts": 1}}, nil)
	return c
}

func call(t *testing.T, c *rpctest.Conn, method string, params, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Call(ctx, method, params, out); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

func newSSOServer(w *ssoWorld) *Server {
	log := &logging.Logger{Logger: zap.NewNop(), Level: zap.NewAtomicLevelAt(zapcore.InfoLevel)}
	srv := New(Config{Version: testVersion, Logger: log, Now: w.clock.Now, MaintainEvery: -1})
	srv.Store().SetWindow(session.DefaultWindow, func() float64 { return 0 })
	return srv
}

// TestSSOSessionRefreshesFromTheSignIn: on a fake clock, the store's maintenance renews the
// sign-in's access token with its refresh token and then re-makes the IAM Identity Center role
// session from it, without a human; an exported SSO session imported into another sidecar is
// re-made there the same way.
func TestSSOSessionRefreshesFromTheSignIn(t *testing.T) {
	w := newSSOWorld(t)
	srv := newSSOServer(w)
	c := w.serve(t, srv)
	var login protocol.SsoLoginResult
	call(t, c, protocol.MethodSsoLogin, map[string]any{"ssoSession": "corp"}, &login)
	var info protocol.SessionInfo
	call(t, c, protocol.MethodSsoUseRole, map[string]any{"ssoSession": "corp", "accountId": localsts.MemberAccount,
		"roleName": localsts.DemoSSOPermissionSet, "sessionName": "dev-sso"}, &info)
	if !info.Refreshable || info.Command != session.SSOCommand || !strings.Contains(info.ARN, localsts.DemoSSORole+"/"+localsts.DemoSSOUser) {
		t.Fatalf("session %+v", info)
	}
	var exported protocol.ExportedSession
	call(t, c, protocol.MethodSessionsExport, map[string]any{"name": "dev-sso"}, &exported)
	before, err := sso.ReadToken(sso.CachePath("corp"))
	if err != nil {
		t.Fatal(err)
	}

	w.clock.Advance(58 * time.Minute) // the token and the role credentials are inside their windows
	srv.Store().Maintain(context.Background())
	after, err := sso.ReadToken(sso.CachePath("corp"))
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == before.AccessToken || !after.ExpiresAt.After(before.ExpiresAt) {
		t.Fatal("the sign-in was not refreshed")
	}
	s, err := srv.Store().Get("dev-sso")
	if err != nil {
		t.Fatal(err)
	}
	if s.Credentials.AccessKeyID == exported.AccessKeyID || s.RefreshedAt.IsZero() || !s.Expiration.After(w.clock.Now().Add(50*time.Minute)) {
		t.Fatalf("the session was not re-made: refreshed %v, expires %v", s.RefreshedAt, s.Expiration)
	}
	if s.ARN != info.ARN || s.Class != session.ClassSSO {
		t.Errorf("re-made session %s %s", s.ARN, s.Class)
	}

	// Another sidecar takes the export (its credentials have expired by now) and re-makes it.
	w.clock.Advance(5 * time.Minute)
	other := newSSOServer(w)
	res, err := other.SessionsImport(context.Background(), &protocol.SessionsImportParams{Sessions: []protocol.ExportedSession{exported}})
	if err != nil || len(res.Imported) != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	other.Store().Maintain(context.Background())
	got, err := other.Store().Get("dev-sso")
	if err != nil || got.Credentials.AccessKeyID == exported.AccessKeyID {
		t.Fatalf("the imported session was not re-made: %v", err)
	}

	// Signing out forgets the session.
	var out protocol.SsoLogoutResult
	call(t, c, protocol.MethodSsoLogout, map[string]any{"ssoSession": "corp"}, &out)
	if len(out.Forgotten) != 1 || !out.CacheRemoved {
		t.Fatalf("logout %+v", out)
	}
	if _, err := srv.Store().Get("dev-sso"); err == nil {
		t.Error("the session outlived the sign-out")
	}
}

// TestSSOLoginWithoutAClient: sso/login outside a connection cannot show the code, and says so.
func TestSSOLoginWithoutAClient(t *testing.T) {
	w := newSSOWorld(t)
	srv := newSSOServer(w)
	_, err := srv.SsoLogin(context.Background(), &protocol.SsoLoginParams{SsoSession: "corp"})
	var e *sso.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "no client is connected") {
		t.Fatalf("err %v", err)
	}
}
