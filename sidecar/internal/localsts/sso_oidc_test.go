package localsts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// ssoEnv is a local STS driven through the SDK's own Identity Center clients, as the AWS CLI and
// the SDKs' token providers use them.
type ssoEnv struct {
	*env
	oidc   *ssooidc.Client
	portal *sso.Client
	logs   *observer.ObservedLogs
	// secrets are every token, secret and code the test saw, for the log check.
	secrets []string
}

func newSSOEnv(t *testing.T, cfg *Config) *ssoEnv {
	t.Helper()
	if cfg == nil {
		cfg = DefaultConfig()
	}
	core, logs := observer.New(zap.DebugLevel)
	clock := &ststest.Clock{}
	srv, err := New(cfg, Options{Now: clock.Now, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	srv.SetBaseURL(hs.URL)
	e := &ssoEnv{env: &env{t: t, srv: srv, url: hs.URL, clock: clock}, logs: logs,
		oidc:   ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1}),
		portal: sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1})}
	t.Cleanup(func() { e.checkLogs(t) })
	return e
}

// checkLogs fails the test when any secret the test saw is in a log line.
func (e *ssoEnv) checkLogs(t *testing.T) {
	for _, en := range e.logs.All() {
		line := en.Message + fmt.Sprint(en.ContextMap())
		for _, s := range e.secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("log %q carries a secret", en.Message)
			}
		}
	}
}

func (e *ssoEnv) register(t *testing.T, scopes ...string) *ssooidc.RegisterClientOutput {
	t.Helper()
	out, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("test-client"),
		ClientType: aws.String("public"), Scopes: scopes})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	e.secrets = append(e.secrets, aws.ToString(out.ClientSecret))
	return out
}

func (e *ssoEnv) start(t *testing.T, reg *ssooidc.RegisterClientOutput) *ssooidc.StartDeviceAuthorizationOutput {
	t.Helper()
	out, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(DemoSSOStartURL)})
	if err != nil {
		t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	e.secrets = append(e.secrets, aws.ToString(out.DeviceCode))
	return out
}

func (e *ssoEnv) poll(reg *ssooidc.RegisterClientOutput, dev *ssooidc.StartDeviceAuthorizationOutput) (*ssooidc.CreateTokenOutput, error) {
	out, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String(grantDeviceCode), DeviceCode: dev.DeviceCode})
	if err == nil {
		e.secrets = append(e.secrets, aws.ToString(out.AccessToken), aws.ToString(out.RefreshToken))
	}
	return out, err
}

func (e *ssoEnv) refresh(reg *ssooidc.RegisterClientOutput, refreshToken *string) (*ssooidc.CreateTokenOutput, error) {
	out, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: refreshToken})
	if err == nil {
		e.secrets = append(e.secrets, aws.ToString(out.AccessToken))
	}
	return out, err
}

// approve calls the approve route; it answers the status and the body.
func (e *ssoEnv) approve(t *testing.T, body any) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.url+SSOApprovePath, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("approve answered no JSON: %v", err)
	}
	return resp.StatusCode, out
}

// signIn runs the whole device flow for alice and answers the tokens.
func (e *ssoEnv) signIn(t *testing.T, reg *ssooidc.RegisterClientOutput) *ssooidc.CreateTokenOutput {
	t.Helper()
	dev := e.start(t, reg)
	if st, out := e.approve(t, SSOApproveRequest{UserCode: aws.ToString(dev.UserCode), User: DemoSSOUser}); st != http.StatusOK {
		t.Fatalf("approve: %d %v", st, out)
	}
	tok, err := e.poll(reg, dev)
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	return tok
}

// wantOIDCError checks the SDK error's type, its OAuth error code (the body's "error" member) and
// the HTTP status.
func wantOIDCError[T interface {
	*oidctypes.AuthorizationPendingException | *oidctypes.SlowDownException | *oidctypes.ExpiredTokenException |
		*oidctypes.AccessDeniedException | *oidctypes.InvalidGrantException | *oidctypes.InvalidClientException |
		*oidctypes.InvalidRequestException | *oidctypes.UnsupportedGrantTypeException | *oidctypes.InvalidScopeException |
		*oidctypes.InvalidClientMetadataException | *oidctypes.UnauthorizedClientException
	error
}](t *testing.T, err error, oauth string, status int) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("want %T (%s), got %v", target, oauth, err)
	}
	got := ""
	switch v := any(target).(type) {
	case *oidctypes.AuthorizationPendingException:
		got = aws.ToString(v.Error_)
	case *oidctypes.SlowDownException:
		got = aws.ToString(v.Error_)
	case *oidctypes.ExpiredTokenException:
		got = aws.ToString(v.Error_)
	case *oidctypes.AccessDeniedException:
		got = aws.ToString(v.Error_)
	case *oidctypes.InvalidGrantException:
		got = aws.ToString(v.Error_)
	case *oidctypes.InvalidClientException:
		got = aws.ToString(v.Error_)
	case *oidctypes.InvalidRequestException:
		got = aws.ToString(v.Error_)
	case *oidctypes.UnsupportedGrantTypeException:
		got = aws.ToString(v.Error_)
	case *oidctypes.InvalidScopeException:
		got = aws.ToString(v.Error_)
	case *oidctypes.InvalidClientMetadataException:
		got = aws.ToString(v.Error_)
	case *oidctypes.UnauthorizedClientException:
		got = aws.ToString(v.Error_)
	}
	if got != oauth {
		t.Errorf("%T error = %q, want %q", target, got, oauth)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("%T: HTTP status %v, want %d", target, err, status)
	}
	return target
}

func TestSSODeviceFlow(t *testing.T) {
	e := newSSOEnv(t, nil)
	reg := e.register(t, ScopeAccountAccess)
	if aws.ToString(reg.ClientId) == "" || aws.ToString(reg.ClientSecret) == "" {
		t.Fatal("RegisterClient answered no client id or secret")
	}
	if d := time.Unix(reg.ClientSecretExpiresAt, 0).Sub(time.Unix(reg.ClientIdIssuedAt, 0)); d != 90*24*time.Hour {
		t.Errorf("registration lasts %v, want 90 days", d)
	}
	dev := e.start(t, reg)
	if dev.Interval != 1 || dev.ExpiresIn != 600 {
		t.Errorf("interval %d, expiresIn %d; want 1 and 600", dev.Interval, dev.ExpiresIn)
	}
	if normalizeUserCode(aws.ToString(dev.UserCode)) != aws.ToString(dev.UserCode) {
		t.Errorf("user code %q is not in the form BCDF-GHJK", aws.ToString(dev.UserCode))
	}
	wantURI := e.url + SSODevicePath
	if aws.ToString(dev.VerificationUri) != wantURI || aws.ToString(dev.VerificationUriComplete) != wantURI+"?user_code="+aws.ToString(dev.UserCode) {
		t.Errorf("verification URIs %q and %q", aws.ToString(dev.VerificationUri), aws.ToString(dev.VerificationUriComplete))
	}

	_, err := e.poll(reg, dev)
	wantOIDCError[*oidctypes.AuthorizationPendingException](t, err, "authorization_pending", http.StatusBadRequest)

	t.Run("the verification page shows the code and its state", func(t *testing.T) {
		resp := e.do(mustRequest(t, http.MethodGet, aws.ToString(dev.VerificationUriComplete), nil))
		if resp.status != http.StatusOK || !strings.Contains(resp.body, aws.ToString(dev.UserCode)) ||
			!strings.Contains(resp.body, "waiting for approval") || !strings.Contains(resp.body, e.url+SSOApprovePath) {
			t.Fatalf("page: %d %s", resp.status, resp.body)
		}
		hostile := e.do(mustRequest(t, http.MethodGet, e.url+SSODevicePath+"?user_code="+url.QueryEscape("<script>x</script>"), nil))
		if strings.Contains(hostile.body, "<script>") {
			t.Fatalf("page echoes a hostile user code: %s", hostile.body)
		}
	})

	e.clock.Advance(time.Second)
	st, out := e.approve(t, map[string]any{"userCode": strings.ToLower(strings.ReplaceAll(aws.ToString(dev.UserCode), "-", "")), "user": DemoSSOUser})
	if st != http.StatusOK || out["status"] != "approved" || out["user"] != DemoSSOUser {
		t.Fatalf("approve: %d %v", st, out)
	}
	if st, _ := e.approve(t, SSOApproveRequest{UserCode: aws.ToString(dev.UserCode), User: DemoSSOUser}); st != http.StatusConflict {
		t.Errorf("approving twice: %d, want 409", st)
	}
	tok, err := e.poll(reg, dev)
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	if aws.ToString(tok.AccessToken) == "" || aws.ToString(tok.RefreshToken) == "" || tok.ExpiresIn < 3599 || tok.ExpiresIn > 3600 {
		t.Fatalf("tokens: access %t, refresh %t, expiresIn %d", tok.AccessToken != nil, tok.RefreshToken != nil, tok.ExpiresIn)
	}
	_, err = e.poll(reg, dev)
	wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)

	t.Run("the portal lists the user's accounts and roles", func(t *testing.T) {
		accts, err := e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range accts.AccountList {
			got = append(got, aws.ToString(a.AccountId)+"="+aws.ToString(a.AccountName)+"<"+aws.ToString(a.EmailAddress)+">")
		}
		want := []string{MemberAccount + "=Member<aws-member@example.com>", DemoAccount + "=Demo<aws-demo@example.com>"} // by id
		if fmt.Sprint(got) != fmt.Sprint(want) || accts.NextToken != nil {
			t.Fatalf("ListAccounts = %v (next %v), want %v", got, accts.NextToken, want)
		}
		roles, err := e.portal.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String(MemberAccount)})
		if err != nil {
			t.Fatal(err)
		}
		if len(roles.RoleList) != 1 || aws.ToString(roles.RoleList[0].RoleName) != DemoSSOPermissionSet || aws.ToString(roles.RoleList[0].AccountId) != MemberAccount {
			t.Fatalf("ListAccountRoles = %+v", roles.RoleList)
		}
		none, err := e.portal.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String("999999999999")})
		if err != nil || len(none.RoleList) != 0 {
			t.Fatalf("roles in an unassigned account: %v, %v", none, err)
		}
	})

	t.Run("the issued token gets role sessions of each assignment", func(t *testing.T) {
		for _, a := range []struct{ account, ps, role string }{
			{MemberAccount, DemoSSOPermissionSet, DemoSSORole}, {DemoAccount, DemoSSOReadOnlyPermissionSet, DemoSSOReadOnlyRole},
		} {
			rc, err := e.roleCredentials(aws.ToString(tok.AccessToken), a.account, a.ps)
			if err != nil {
				t.Fatalf("GetRoleCredentials %s/%s: %v", a.account, a.ps, err)
			}
			who := whoami(t, e.withRole(rc))
			if want := assumedRoleARN(a.account, a.role, DemoSSOUser); aws.ToString(who.Arn) != want {
				t.Errorf("GetCallerIdentity = %s, want %s", aws.ToString(who.Arn), want)
			}
		}
		_, err := e.roleCredentials(aws.ToString(tok.AccessToken), DemoAccount, DemoSSOPermissionSet)
		wantAPIError(t, err, "ForbiddenException", http.StatusForbidden, "No access")
	})

	t.Run("the fixed access tokens keep working", func(t *testing.T) {
		if _, err := e.roleCredentials(DemoSSOAccessToken, MemberAccount, DemoSSOPermissionSet); err != nil {
			t.Fatal(err)
		}
		accts, err := e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(DemoSSOAccessToken)})
		if err != nil || len(accts.AccountList) != 1 || aws.ToString(accts.AccountList[0].AccountId) != MemberAccount {
			t.Fatalf("ListAccounts with the fixed token: %v, %v", accts, err)
		}
	})

	t.Run("logout ends the access token and its refresh token", func(t *testing.T) {
		tok2 := e.signIn(t, reg)
		if _, err := e.portal.Logout(ctx, &sso.LogoutInput{AccessToken: tok2.AccessToken}); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		_, err := e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok2.AccessToken})
		wantAPIError(t, err, "UnauthorizedException", http.StatusUnauthorized, "")
		_, err = e.roleCredentials(aws.ToString(tok2.AccessToken), MemberAccount, DemoSSOPermissionSet)
		wantAPIError(t, err, "UnauthorizedException", http.StatusUnauthorized, "")
		_, err = e.refresh(reg, tok2.RefreshToken)
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
		_, err = e.portal.Logout(ctx, &sso.LogoutInput{AccessToken: tok2.AccessToken})
		wantAPIError(t, err, "UnauthorizedException", http.StatusUnauthorized, "")
		// The other sign-in is untouched.
		if _, err := e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
			t.Fatalf("another sign-in's token after logout: %v", err)
		}
	})
}

func TestSSOPolling(t *testing.T) {
	e := newSSOEnv(t, nil)
	reg := e.register(t, ScopeAccountAccess)

	t.Run("polling faster than the interval gets slow_down, and the interval grows by 5 s", func(t *testing.T) {
		dev := e.start(t, reg)
		_, err := e.poll(reg, dev)
		wantOIDCError[*oidctypes.AuthorizationPendingException](t, err, "authorization_pending", http.StatusBadRequest)
		_, err = e.poll(reg, dev) // at once
		wantOIDCError[*oidctypes.SlowDownException](t, err, "slow_down", http.StatusBadRequest)
		e.clock.Advance(time.Second) // the old interval is no longer enough
		_, err = e.poll(reg, dev)
		wantOIDCError[*oidctypes.SlowDownException](t, err, "slow_down", http.StatusBadRequest)
		e.clock.Advance(11 * time.Second) // 1 + 5 + 5
		_, err = e.poll(reg, dev)
		wantOIDCError[*oidctypes.AuthorizationPendingException](t, err, "authorization_pending", http.StatusBadRequest)
		e.clock.Advance(11 * time.Second)
		_, err = e.poll(reg, dev)
		wantOIDCError[*oidctypes.AuthorizationPendingException](t, err, "authorization_pending", http.StatusBadRequest)
	})

	t.Run("an expired device code", func(t *testing.T) {
		dev := e.start(t, reg)
		e.clock.Advance(601 * time.Second)
		_, err := e.poll(reg, dev)
		wantOIDCError[*oidctypes.ExpiredTokenException](t, err, "expired_token", http.StatusBadRequest)
		st, out := e.approve(t, SSOApproveRequest{UserCode: aws.ToString(dev.UserCode), User: DemoSSOUser})
		if st != http.StatusNotFound || !strings.Contains(out["error"], "expired") {
			t.Fatalf("approving an expired code: %d %v", st, out)
		}
	})

	t.Run("a denied sign-in", func(t *testing.T) {
		dev := e.start(t, reg)
		st, out := e.approve(t, SSOApproveRequest{UserCode: aws.ToString(dev.UserCode), Deny: true})
		if st != http.StatusOK || out["status"] != "denied" {
			t.Fatalf("deny: %d %v", st, out)
		}
		_, err := e.poll(reg, dev)
		wantOIDCError[*oidctypes.AccessDeniedException](t, err, "access_denied", http.StatusBadRequest)
		if st, _ := e.approve(t, SSOApproveRequest{UserCode: aws.ToString(dev.UserCode), User: DemoSSOUser}); st != http.StatusConflict {
			t.Fatalf("approving a denied code: %d, want 409", st)
		}
	})

	t.Run("another client's device code is not valid", func(t *testing.T) {
		dev := e.start(t, reg)
		other := e.register(t)
		_, err := e.poll(other, dev)
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a forged device code is not valid", func(t *testing.T) {
		_, err := e.poll(reg, &ssooidc.StartDeviceAuthorizationOutput{DeviceCode: aws.String("forged")})
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
	})
}

func TestSSORefresh(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SSO.RefreshTokenSeconds = 5400 // a sign-in of 90 minutes
	e := newSSOEnv(t, cfg)
	reg := e.register(t, ScopeAccountAccess)
	tok := e.signIn(t, reg)

	e.clock.Advance(3601 * time.Second)
	_, err := e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	wantAPIError(t, err, "UnauthorizedException", http.StatusUnauthorized, "")

	fresh, err := e.refresh(reg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if aws.ToString(fresh.AccessToken) == aws.ToString(tok.AccessToken) || aws.ToString(fresh.RefreshToken) != aws.ToString(tok.RefreshToken) {
		t.Error("the refresh did not answer a new access token with the same refresh token")
	}
	// The sign-in ends at 5400 s, so the new token lasts what is left of it, not an hour.
	if fresh.ExpiresIn < 1797 || fresh.ExpiresIn > 1799 {
		t.Errorf("refreshed token expiresIn %d, want the 1799 s left of the sign-in", fresh.ExpiresIn)
	}
	if _, err := e.roleCredentials(aws.ToString(fresh.AccessToken), MemberAccount, DemoSSOPermissionSet); err != nil {
		t.Fatalf("GetRoleCredentials with the refreshed token: %v", err)
	}

	t.Run("another client may not use the refresh token", func(t *testing.T) {
		_, err := e.refresh(e.register(t, ScopeAccountAccess), tok.RefreshToken)
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
	})
	t.Run("a forged refresh token", func(t *testing.T) {
		_, err := e.refresh(reg, aws.String("aor-forged"))
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
	})
	t.Run("the refresh token ends with the sign-in", func(t *testing.T) {
		e.clock.Advance(1800 * time.Second)
		_, err := e.refresh(reg, tok.RefreshToken)
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
		_, err = e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: fresh.AccessToken})
		wantAPIError(t, err, "UnauthorizedException", http.StatusUnauthorized, "")
	})
	t.Run("without sso:account:access there is no refresh token", func(t *testing.T) {
		plain := e.register(t)
		tok := e.signIn(t, plain)
		if tok.RefreshToken != nil {
			t.Fatal("a refresh token without the sso:account:access scope")
		}
		_, err := e.refresh(plain, aws.String("aor-none"))
		wantOIDCError[*oidctypes.InvalidGrantException](t, err, "invalid_grant", http.StatusBadRequest)
	})
	t.Run("a client that registered only the device grant may not refresh", func(t *testing.T) {
		out, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("device-only"), ClientType: aws.String("public"),
			Scopes: []string{ScopeAccountAccess}, GrantTypes: []string{grantDeviceCode}})
		if err != nil {
			t.Fatal(err)
		}
		e.secrets = append(e.secrets, aws.ToString(out.ClientSecret))
		tok := e.signIn(t, out)
		_, err = e.refresh(out, tok.RefreshToken)
		wantOIDCError[*oidctypes.UnauthorizedClientException](t, err, "unauthorized_client", http.StatusBadRequest)
	})
}

func TestSSOClients(t *testing.T) {
	e := newSSOEnv(t, nil)
	reg := e.register(t)
	tests := []struct {
		name string
		call func() error
		want func(t *testing.T, err error)
	}{
		{"wrong client secret", func() error {
			_, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId,
				ClientSecret: aws.String("not-the-secret"), StartUrl: aws.String(DemoSSOStartURL)})
			return err
		}, func(t *testing.T, err error) {
			wantOIDCError[*oidctypes.InvalidClientException](t, err, "invalid_client", http.StatusUnauthorized)
		}},
		{"unknown client", func() error {
			_, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: aws.String("nobody"), ClientSecret: reg.ClientSecret,
				GrantType: aws.String(grantDeviceCode), DeviceCode: aws.String("x")})
			return err
		}, func(t *testing.T, err error) {
			wantOIDCError[*oidctypes.InvalidClientException](t, err, "invalid_client", http.StatusUnauthorized)
		}},
		{"another start URL", func() error {
			_, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId,
				ClientSecret: reg.ClientSecret, StartUrl: aws.String("https://d-0000000000.awsapps.com/start")})
			return err
		}, func(t *testing.T, err error) {
			ir := wantOIDCError[*oidctypes.InvalidRequestException](t, err, "invalid_request", http.StatusBadRequest)
			if !strings.Contains(aws.ToString(ir.Error_description), DemoSSOStartURL) {
				t.Errorf("the error does not name the right start URL: %q", aws.ToString(ir.Error_description))
			}
		}},
		{"unsupported grant type", func() error {
			_, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
				GrantType: aws.String("authorization_code"), Code: aws.String("x")})
			return err
		}, func(t *testing.T, err error) {
			wantOIDCError[*oidctypes.UnsupportedGrantTypeException](t, err, "unsupported_grant_type", http.StatusBadRequest)
		}},
		{"a scope the client did not register", func() error {
			_, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
				GrantType: aws.String(grantDeviceCode), DeviceCode: aws.String("x"), Scope: []string{ScopeAccountAccess}})
			return err
		}, func(t *testing.T, err error) {
			wantOIDCError[*oidctypes.InvalidScopeException](t, err, "invalid_scope", http.StatusBadRequest)
		}},
		{"a confidential client", func() error {
			_, err := e.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("x"), ClientType: aws.String("confidential")})
			return err
		}, func(t *testing.T, err error) {
			wantOIDCError[*oidctypes.InvalidClientMetadataException](t, err, "invalid_client_metadata", http.StatusBadRequest)
		}},
		{"device_code grant without a device code", func() error {
			_, err := e.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
				GrantType: aws.String(grantDeviceCode)})
			return err
		}, func(t *testing.T, err error) {
			wantOIDCError[*oidctypes.InvalidRequestException](t, err, "invalid_request", http.StatusBadRequest)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.want(t, tt.call()) })
	}

	t.Run("a registration expires", func(t *testing.T) {
		e.clock.Advance(90*24*time.Hour + time.Second)
		_, err := e.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId,
			ClientSecret: reg.ClientSecret, StartUrl: aws.String(DemoSSOStartURL)})
		ic := wantOIDCError[*oidctypes.InvalidClientException](t, err, "invalid_client", http.StatusUnauthorized)
		if !strings.Contains(aws.ToString(ic.Error_description), "expired") {
			t.Errorf("description %q does not say the registration expired", aws.ToString(ic.Error_description))
		}
	})
}

// rawOIDC posts a hand-built body to an OIDC route.
func (e *ssoEnv) rawOIDC(t *testing.T, path, contentType string, body []byte) rawResponse {
	t.Helper()
	req := mustRequest(t, http.MethodPost, e.url+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.do(req)
}

func mustRequest(t *testing.T, method, u string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSSOHostileInput(t *testing.T) {
	e := newSSOEnv(t, nil)
	oauthBodies := []struct {
		name   string
		path   string
		body   []byte
		status int
		code   string
	}{
		{"not JSON", "/token", []byte("grant_type=refresh_token"), http.StatusBadRequest, "InvalidRequestException"},
		{"a JSON array", "/client/register", []byte(`[1,2]`), http.StatusBadRequest, "InvalidRequestException"},
		{"a member of the wrong type", "/device_authorization", []byte(`{"clientId": 5}`), http.StatusBadRequest, "InvalidRequestException"},
		{"empty", "/token", nil, http.StatusBadRequest, "InvalidRequestException"},
		{"too large", "/client/register", []byte(`{"clientName": "` + strings.Repeat("x", ssoMaxBody) + `"}`), http.StatusRequestEntityTooLarge, "InvalidRequestException"},
		{"control characters in the client name", "/client/register", []byte(`{"clientName": "a\u0000b", "clientType": "public"}`), http.StatusBadRequest, "InvalidClientMetadataException"},
	}
	for _, tt := range oauthBodies {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.rawOIDC(t, tt.path, "application/json", tt.body)
			if resp.status != tt.status || resp.header.Get("x-amzn-ErrorType") != tt.code || resp.header.Get("x-amzn-RequestId") == "" {
				t.Fatalf("%d %q, want %d %s: %s", resp.status, resp.header.Get("x-amzn-ErrorType"), tt.status, tt.code, resp.body)
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(resp.body), &body); err != nil || body["error"] == "" || body["error_description"] == "" {
				t.Fatalf("not the OAuth error shape: %s", resp.body)
			}
		})
	}

	portal := []struct {
		name   string
		path   string
		token  string
		status int
		code   string
	}{
		{"ListAccounts without a token", "/assignment/accounts", "", http.StatusUnauthorized, "UnauthorizedException"},
		{"a token too long", "/assignment/accounts", strings.Repeat("a", 5000), http.StatusUnauthorized, "UnauthorizedException"},
		{"max_result 0", "/assignment/accounts?max_result=0", DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"max_result 101", "/assignment/accounts?max_result=101", DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"max_result not a number", "/assignment/accounts?max_result=ten", DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"a forged next_token", "/assignment/accounts?next_token=bm9wZQ", DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"next_token past the end", "/assignment/accounts?next_token=" + pageToken("accounts", 9), DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"another listing's next_token", "/assignment/accounts?next_token=" + pageToken("roles", 1), DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"ListAccountRoles without account_id", "/assignment/roles", DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"ListAccountRoles with a bad account_id", "/assignment/roles?account_id=x", DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
	}
	for _, tt := range portal {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, http.MethodGet, e.url+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("x-amz-sso_bearer_token", tt.token)
			}
			resp := e.do(req)
			if resp.status != tt.status || resp.header.Get("x-amzn-ErrorType") != tt.code || !strings.Contains(resp.body, `"message"`) {
				t.Fatalf("%d %q %s, want %d %s", resp.status, resp.header.Get("x-amzn-ErrorType"), resp.body, tt.status, tt.code)
			}
		})
	}

	t.Run("the approve route", func(t *testing.T) {
		reg := e.register(t)
		dev := e.start(t, reg)
		for _, tt := range []struct {
			name        string
			contentType string
			body        string
			status      int
		}{
			{"a form post, as a web page could send", "application/x-www-form-urlencoded", "userCode=" + aws.ToString(dev.UserCode) + "&user=alice", http.StatusUnsupportedMediaType},
			{"text/plain", "text/plain", `{"userCode": "` + aws.ToString(dev.UserCode) + `", "user": "alice"}`, http.StatusUnsupportedMediaType},
			{"an unknown user", "application/json", `{"userCode": "` + aws.ToString(dev.UserCode) + `", "user": "mallory"}`, http.StatusBadRequest},
			{"no user", "application/json", `{"userCode": "` + aws.ToString(dev.UserCode) + `"}`, http.StatusBadRequest},
			{"a malformed code", "application/json", `{"userCode": "AAAA-AAAA", "user": "alice"}`, http.StatusBadRequest},
			{"an unknown code", "application/json", `{"userCode": "BBBB-BBBB", "user": "alice"}`, http.StatusNotFound},
			{"an unknown member", "application/json", `{"userCode": "` + aws.ToString(dev.UserCode) + `", "user": "alice", "admin": true}`, http.StatusBadRequest},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if resp := e.rawOIDC(t, SSOApprovePath, tt.contentType, []byte(tt.body)); resp.status != tt.status {
					t.Fatalf("%d %s, want %d", resp.status, resp.body, tt.status)
				}
			})
		}
		// None of them approved it.
		_, err := e.poll(reg, dev)
		wantOIDCError[*oidctypes.AuthorizationPendingException](t, err, "authorization_pending", http.StatusBadRequest)
		// Another host may not approve.
		req := httptest.NewRequest(http.MethodPost, SSOApprovePath, strings.NewReader(`{"userCode": "`+aws.ToString(dev.UserCode)+`", "user": "alice"}`))
		req.RemoteAddr, req.Header["Content-Type"] = "203.0.113.7:40000", []string{"application/json"}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("approval from another host: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("a config without Identity Center answers ResourceNotFoundException", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.SSO = nil
		srv, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/client/register", "/logout"} {
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}")))
			if rec.Code != http.StatusNotFound || rec.Header().Get("x-amzn-ErrorType") != "ResourceNotFoundException" {
				t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
			}
		}
	})
}

func pageToken(kind string, n int) string {
	_, next, _ := pageOf(make([]int, n+1), kind, n, 0)
	return next
}

func TestSSOPagination(t *testing.T) {
	cfg := DefaultConfig()
	// alice gets a third account and a second permission set in the member account.
	third := "444455556666"
	cfg.Accounts = append(cfg.Accounts, Account{ID: third})
	deny := trust(`{"Effect":"Deny","Principal":"*","Action":"sts:*"}`)
	cfg.Roles = append(cfg.Roles,
		Role{Account: third, Name: "AWSReservedSSO_Developer_0000000000000003", Trust: deny},
		Role{Account: MemberAccount, Name: "AWSReservedSSO_Admin_0000000000000002", Trust: deny})
	cfg.SSO.Users[0].RoleArns = append(cfg.SSO.Users[0].RoleArns,
		roleARN(third, "AWSReservedSSO_Developer_0000000000000003"), roleARN(MemberAccount, "AWSReservedSSO_Admin_0000000000000002"))
	e := newSSOEnv(t, cfg)
	tok := e.signIn(t, e.register(t))

	first, err := e.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken, MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.AccountList) != 2 || first.NextToken == nil {
		t.Fatalf("first page: %d accounts, next %v", len(first.AccountList), first.NextToken)
	}
	var got []string
	p := sso.NewListAccountsPaginator(e.portal, &sso.ListAccountsInput{AccessToken: tok.AccessToken}, func(o *sso.ListAccountsPaginatorOptions) { o.Limit = 1 })
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range page.AccountList {
			got = append(got, aws.ToString(a.AccountId)+"="+aws.ToString(a.AccountName))
		}
	}
	// The third account has no sso.accounts entry and no alias: its name is its id.
	want := []string{MemberAccount + "=Member", DemoAccount + "=Demo", third + "=" + third} // by id
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%d pages of %v, want 3 pages of %v", pages, got, want)
	}

	rp := sso.NewListAccountRolesPaginator(e.portal, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String(MemberAccount)},
		func(o *sso.ListAccountRolesPaginatorOptions) { o.Limit = 1 })
	var roles []string
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.RoleList {
			roles = append(roles, aws.ToString(r.RoleName))
		}
	}
	if fmt.Sprint(roles) != "[Admin Developer]" {
		t.Fatalf("roles in %s: %v", MemberAccount, roles)
	}
}

func TestSSOStateBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SSO.ClientSeconds = 60
	clock := &ststest.Clock{}
	srv, err := New(cfg, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	post := func(path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		return rec
	}
	var client struct{ ClientID, ClientSecret string }
	for i := 0; i < maxSSOClients; i++ {
		rec := post("/client/register", `{"clientName": "flood", "clientType": "public"}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("registration %d: %d %s", i, rec.Code, rec.Body)
		}
		if i == 0 {
			_ = json.Unmarshal(rec.Body.Bytes(), &client)
		}
	}
	if rec := post("/client/register", `{"clientName": "flood", "clientType": "public"}`); rec.Code != http.StatusTooManyRequests ||
		rec.Header().Get("x-amzn-ErrorType") != "TooManyRequestsException" {
		t.Fatalf("registration past the bound: %d %s", rec.Code, rec.Body)
	}
	clock.Advance(61 * time.Second) // every registration has expired
	if rec := post("/client/register", `{"clientName": "after", "clientType": "public"}`); rec.Code != http.StatusOK {
		t.Fatalf("registration once the others expired: %d %s", rec.Code, rec.Body)
	}
	srv.sso.mu.Lock()
	n := len(srv.sso.clients)
	srv.sso.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d registrations kept, want 1 (the expired ones pruned)", n)
	}

	rec := post("/client/register", `{"clientName": "devices", "clientType": "public"}`)
	_ = json.Unmarshal(rec.Body.Bytes(), &client)
	start := fmt.Sprintf(`{"clientId": %q, "clientSecret": %q, "startUrl": %q}`, client.ClientID, client.ClientSecret, DemoSSOStartURL)
	for i := 0; i < maxSSODevices; i++ {
		if rec := post("/device_authorization", start); rec.Code != http.StatusOK {
			t.Fatalf("device authorization %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if rec := post("/device_authorization", start); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("device authorization past the bound: %d %s", rec.Code, rec.Body)
	}
	clock.Advance(601 * time.Second) // every device code (and the client) has expired
	rec = post("/client/register", `{"clientName": "devices2", "clientType": "public"}`)
	_ = json.Unmarshal(rec.Body.Bytes(), &client)
	start = fmt.Sprintf(`{"clientId": %q, "clientSecret": %q, "startUrl": %q}`, client.ClientID, client.ClientSecret, DemoSSOStartURL)
	if rec := post("/device_authorization", start); rec.Code != http.StatusOK {
		t.Fatalf("device authorization once the others expired: %d %s", rec.Code, rec.Body)
	}
	srv.sso.mu.Lock()
	n, codes := len(srv.sso.devices), len(srv.sso.userCodes)
	srv.sso.mu.Unlock()
	if n != 1 || codes != 1 {
		t.Fatalf("%d device codes and %d user codes kept, want 1 (the expired ones pruned)", n, codes)
	}
}
