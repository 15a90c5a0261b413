package localsts

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"awsflow-sts/sidecar/internal/keyid"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// ssoClient is the SDK's Identity Center portal client, as the SDK's SSO credential provider
// builds it, pointed at the local STS.
func (e *env) ssoClient() *sso.Client {
	return sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), RetryMaxAttempts: 1})
}

// roleCredentials runs GetRoleCredentials.
func (e *env) roleCredentials(token, account, permissionSet string) (*ssotypes.RoleCredentials, error) {
	out, err := e.ssoClient().GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(token), AccountId: aws.String(account), RoleName: aws.String(permissionSet)})
	if err != nil {
		return nil, err
	}
	return out.RoleCredentials, nil
}

// withRole signs STS calls with Identity Center role credentials.
func (e *env) withRole(rc *ssotypes.RoleCredentials) *sts.Client {
	return e.client(aws.ToString(rc.AccessKeyId), aws.ToString(rc.SecretAccessKey), aws.ToString(rc.SessionToken))
}

// ssoConfig is DefaultConfig plus a role that trusts the demo SSO role (for chaining), a second
// user's token that has expired, and a token assigned nothing in the member account.
func ssoConfig() *Config {
	cfg := DefaultConfig()
	ssoRoleArn := roleARN(MemberAccount, DemoSSORole)
	cfg.Roles = append(cfg.Roles,
		Role{Account: MemberAccount, Name: "Deploy", MaxSessionDuration: 43200, Trust: trust(
			`{"Effect":"Allow","Principal":{"AWS":"` + ssoRoleArn + `"},"Action":"sts:AssumeRole"}`)},
		Role{Account: DemoAccount, Name: "AWSReservedSSO_ReadOnly_fedcba9876543210", Trust: trust(
			`{"Effect":"Deny","Principal":"*","Action":"sts:*"}`)})
	cfg.SSO.AccessTokens = append(cfg.SSO.AccessTokens,
		SSOAccessToken{Token: "expired-sso-token-bob", User: "bob@example.com", ExpiresAt: "2020-01-01T00:00:00Z", RoleArns: []string{ssoRoleArn}},
		SSOAccessToken{Token: "readonly-sso-token-carol", User: "carol", RoleArns: []string{roleARN(DemoAccount, "AWSReservedSSO_ReadOnly_fedcba9876543210")}})
	return cfg
}

func TestSSOGetRoleCredentials(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	clock := &ststest.Clock{}
	srv, err := New(ssoConfig(), Options{Now: clock.Now, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: srv, url: hs.URL, clock: clock}

	t.Run("the demo token gets a session of the permission set's role", func(t *testing.T) {
		before := time.Now()
		rc, err := e.roleCredentials(DemoSSOAccessToken, MemberAccount, DemoSSOPermissionSet)
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(rc.AccessKeyId)
		if !strings.HasPrefix(id, "ASIA") || aws.ToString(rc.SecretAccessKey) == "" || aws.ToString(rc.SessionToken) == "" {
			t.Fatalf("not temporary credentials: key %s", id)
		}
		if acct, ok := keyid.AccountOffline(id); !ok || acct != MemberAccount {
			t.Errorf("key id %s decodes to account %q, want %s", id, acct, MemberAccount)
		}
		exp := time.UnixMilli(rc.Expiration)
		if d := exp.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("expiration %v is %v away, want one hour", exp, d)
		}
		who := whoami(t, e.withRole(rc))
		wantArn := "arn:aws:sts::" + MemberAccount + ":assumed-role/" + DemoSSORole + "/" + DemoSSOUser
		if aws.ToString(who.Arn) != wantArn || aws.ToString(who.Account) != MemberAccount {
			t.Fatalf("GetCallerIdentity = %s in %s, want %s", aws.ToString(who.Arn), aws.ToString(who.Account), wantArn)
		}
		if uid := aws.ToString(who.UserId); !strings.HasPrefix(uid, "AROA") || !strings.HasSuffix(uid, ":"+DemoSSOUser) {
			t.Errorf("UserId %s, want ROLEID:%s", uid, DemoSSOUser)
		}
	})

	t.Run("the session chains like any role session", func(t *testing.T) {
		rc, err := e.roleCredentials(DemoSSOAccessToken, MemberAccount, DemoSSOPermissionSet)
		if err != nil {
			t.Fatal(err)
		}
		c := e.withRole(rc)
		out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(MemberAccount, "Deploy")), RoleSessionName: aws.String("release")})
		if err != nil {
			t.Fatalf("AssumeRole Deploy with the SSO session: %v", err)
		}
		if got := aws.ToString(out.AssumedRoleUser.Arn); got != assumedRoleARN(MemberAccount, "Deploy", "release") {
			t.Errorf("chained session %s", got)
		}
		_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(MemberAccount, "Deploy")),
			RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)})
		wantAPIError(t, err, "ValidationError", http.StatusBadRequest, "role chaining")
		_, err = c.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden, "Cannot call GetSessionToken with session credentials")
	})

	t.Run("nothing else may assume the SSO role", func(t *testing.T) {
		_, err := e.alice().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(MemberAccount, DemoSSORole)), RoleSessionName: aws.String("x1")})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden, "explicit deny")
		_, err = e.carol().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(MemberAccount, DemoSSORole)), RoleSessionName: aws.String("x2")})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden, "explicit deny")
	})

	refusals := []struct {
		name    string
		token   string
		account string
		role    string
		code    string
		status  int
		msg     string
	}{
		{"unknown token", "not-a-real-sso-token", MemberAccount, DemoSSOPermissionSet, "UnauthorizedException", http.StatusUnauthorized, "Session token not found or invalid"},
		{"expired token", "expired-sso-token-bob", MemberAccount, DemoSSOPermissionSet, "UnauthorizedException", http.StatusUnauthorized, "Session token not found or invalid"},
		{"token with a stray character", DemoSSOAccessToken + "x", MemberAccount, DemoSSOPermissionSet, "UnauthorizedException", http.StatusUnauthorized, "Session token not found or invalid"},
		{"account not assigned", DemoSSOAccessToken, DemoAccount, DemoSSOPermissionSet, "ForbiddenException", http.StatusForbidden, "No access"},
		{"permission set not assigned", DemoSSOAccessToken, MemberAccount, "Admin", "ForbiddenException", http.StatusForbidden, "No access"},
		{"role name instead of permission set", DemoSSOAccessToken, MemberAccount, DemoSSORole, "ForbiddenException", http.StatusForbidden, "No access"},
		{"another user's assignment", "readonly-sso-token-carol", MemberAccount, DemoSSOPermissionSet, "ForbiddenException", http.StatusForbidden, "No access"},
		{"account id malformed", DemoSSOAccessToken, "1111-2222-3333", DemoSSOPermissionSet, "InvalidRequestException", http.StatusBadRequest, "12-digit"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.roleCredentials(tt.token, tt.account, tt.role)
			wantAPIError(t, err, tt.code, tt.status, tt.msg)
		})
	}

	// The SDK refuses to send a request without its required members, so these go by hand.
	raw := []struct {
		name   string
		query  url.Values
		token  string
		status int
		code   string
	}{
		{"no account_id", url.Values{"role_name": {DemoSSOPermissionSet}}, DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"no role_name", url.Values{"account_id": {MemberAccount}}, DemoSSOAccessToken, http.StatusBadRequest, "InvalidRequestException"},
		{"no token header", url.Values{"account_id": {MemberAccount}, "role_name": {DemoSSOPermissionSet}}, "", http.StatusUnauthorized, "UnauthorizedException"},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.url+"/federation/credentials?"+tt.query.Encode(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("x-amz-sso_bearer_token", tt.token)
			}
			resp := e.do(req)
			if resp.status != tt.status || resp.header.Get("x-amzn-ErrorType") != tt.code || resp.header.Get("x-amzn-RequestId") == "" {
				t.Fatalf("status %d, x-amzn-ErrorType %q, request id %q; want %d %s", resp.status,
					resp.header.Get("x-amzn-ErrorType"), resp.header.Get("x-amzn-RequestId"), tt.status, tt.code)
			}
			if !strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") || !strings.Contains(resp.body, `"message"`) {
				t.Fatalf("not a JSON error: %s %s", resp.header.Get("Content-Type"), resp.body)
			}
		})
	}

	t.Run("issued credentials expire after an hour", func(t *testing.T) {
		rc, err := e.roleCredentials(DemoSSOAccessToken, MemberAccount, DemoSSOPermissionSet)
		if err != nil {
			t.Fatal(err)
		}
		c := e.withRole(rc)
		clock.Advance(59 * time.Minute)
		whoami(t, c)
		clock.Advance(2 * time.Minute)
		_, err = c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "ExpiredToken", http.StatusForbidden, "expired")
	})

	t.Run("the log carries no token or secret", func(t *testing.T) {
		entries := logs.FilterMessage("sso request").All()
		if len(entries) == 0 {
			t.Fatal("no sso request was logged")
		}
		for _, en := range logs.All() {
			for k, v := range en.ContextMap() {
				s, _ := v.(string)
				if strings.Contains(s, DemoSSOAccessToken) || strings.Contains(s, "expired-sso-token-bob") {
					t.Errorf("log %q field %s carries a token: %s", en.Message, k, s)
				}
			}
		}
		if ok := logs.FilterField(zap.String("errorCode", "ForbiddenException")).Len(); ok == 0 {
			t.Error("a refusal was logged without its error code")
		}
	})
}

func TestSSOConfig(t *testing.T) {
	ssoEntry := func(m map[string]any, i int) map[string]any {
		return m["sso"].(map[string]any)["accessTokens"].([]any)[i].(map[string]any)
	}
	addToken := func(m map[string]any, tok map[string]any) {
		s := m["sso"].(map[string]any)
		s["accessTokens"] = append(s["accessTokens"].([]any), tok)
	}
	t.Run("the default config's SSO section round-trips through JSON", func(t *testing.T) {
		cfg, err := LoadConfig(writeConfig(t, configJSON(t, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.SSO == nil || len(cfg.SSO.AccessTokens) != 1 || cfg.SSO.AccessTokens[0].Token != DemoSSOAccessToken ||
			cfg.SSO.StartURL != DemoSSOStartURL || len(cfg.SSO.Users) != 1 || len(cfg.SSO.Accounts) != 2 {
			t.Fatalf("SSO section lost: %+v", cfg.SSO)
		}
	})
	t.Run("a config without an SSO section is valid", func(t *testing.T) {
		if _, err := LoadConfig(writeConfig(t, configJSON(t, func(m map[string]any) { delete(m, "sso") }))); err != nil {
			t.Fatal(err)
		}
	})
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		want   []string
		absent string // must not appear in the error (a secret)
	}{
		{"users without a start URL", func(m map[string]any) { delete(m["sso"].(map[string]any), "startUrl") },
			[]string{`sso.startUrl: "" must be an https:// URL`, "required with sso.users"}, ""},
		{"a start URL that is not a URL", func(m map[string]any) { m["sso"].(map[string]any)["startUrl"] = "corp.awsapps.com/start" },
			[]string{`sso.startUrl: "corp.awsapps.com/start" must be an https:// URL`}, ""},
		{"a token lifetime too long", func(m map[string]any) { m["sso"].(map[string]any)["tokenSeconds"] = 100000 },
			[]string{"sso.tokenSeconds: 100000 must be between 1 and 86400 (0 or absent means 3600)"}, ""},
		{"a negative interval", func(m map[string]any) { m["sso"].(map[string]any)["intervalSeconds"] = -1 },
			[]string{"sso.intervalSeconds: -1 must be between 1 and 60"}, ""},
		{"a short registration", func(m map[string]any) { m["sso"].(map[string]any)["clientSeconds"] = 5 },
			[]string{"sso.clientSeconds: 5 must be between 60 and 7776000"}, ""},
		{"a user defined twice", func(m map[string]any) {
			s := m["sso"].(map[string]any)
			s["users"] = append(s["users"].([]any), s["users"].([]any)[0])
		}, []string{"sso.users[1] (alice): user alice is defined twice"}, ""},
		{"a user without roles", func(m map[string]any) {
			m["sso"].(map[string]any)["users"].([]any)[0].(map[string]any)["roleArns"] = []any{}
		}, []string{"sso.users[0] (alice): roleArns: at least one role is required"}, ""},
		{"a user name with a space", func(m map[string]any) {
			m["sso"].(map[string]any)["users"].([]any)[0].(map[string]any)["name"] = "alice smith"
		}, []string{`sso.users[0] (alice smith): name "alice smith" must be 2–64 characters`}, ""},
		{"an account name for an unknown account", func(m map[string]any) {
			m["sso"].(map[string]any)["accounts"].([]any)[0].(map[string]any)["id"] = "999999999999"
		}, []string{`sso.accounts[0] (999999999999): account "999999999999" is not in accounts`}, ""},
		{"an account named twice", func(m map[string]any) {
			m["sso"].(map[string]any)["accounts"].([]any)[1].(map[string]any)["id"] = DemoAccount
		}, []string{"sso.accounts[1] (123456789012): account 123456789012 is named twice"}, ""},
		{"an empty account name", func(m map[string]any) {
			m["sso"].(map[string]any)["accounts"].([]any)[0].(map[string]any)["name"] = ""
		}, []string{"sso.accounts[0] (123456789012): name must be 1–50 characters"}, ""},
		{"an account email that is not one", func(m map[string]any) {
			m["sso"].(map[string]any)["accounts"].([]any)[0].(map[string]any)["email"] = "Demo <demo@example.com>"
		}, []string{`email "Demo <demo@example.com>" is not an email address`}, ""},
		{"unknown field in a token", func(m map[string]any) { ssoEntry(m, 0)["tokn"] = "x" }, []string{`unknown field "tokn"`}, ""},
		{"unknown field in the section", func(m map[string]any) { m["sso"].(map[string]any)["portalUrl"] = "x" }, []string{`unknown field "portalUrl"`}, ""},
		{"neither users nor tokens", func(m map[string]any) {
			m["sso"].(map[string]any)["accessTokens"] = []any{}
			delete(m["sso"].(map[string]any), "users")
		}, []string{"sso: at least one user (sso.users) or access token (sso.accessTokens) is required"}, ""},
		{"short token", func(m map[string]any) { ssoEntry(m, 0)["token"] = "abc" },
			[]string{"sso.accessTokens[0] (alice): token must be 8–2048 printable ASCII characters"}, ""},
		{"token with a space", func(m map[string]any) { ssoEntry(m, 0)["token"] = "has a space in it" },
			[]string{"sso.accessTokens[0] (alice): token must be"}, "has a space in it"},
		{"duplicate token", func(m map[string]any) {
			addToken(m, map[string]any{"token": DemoSSOAccessToken, "user": "bob", "roleArns": []any{roleARN(MemberAccount, DemoSSORole)}})
		}, []string{"sso.accessTokens[1] (bob): token is already used by sso.accessTokens[0] (alice)"}, DemoSSOAccessToken},
		{"user not a session name", func(m map[string]any) { ssoEntry(m, 0)["user"] = "alice smith" },
			[]string{`sso.accessTokens[0] (alice smith): user "alice smith" must be 2–64 characters`}, ""},
		{"expiry not RFC 3339", func(m map[string]any) { ssoEntry(m, 0)["expiresAt"] = "tomorrow" },
			[]string{`sso.accessTokens[0] (alice): expiresAt "tomorrow" is not an RFC 3339 time`}, ""},
		{"no roles", func(m map[string]any) { ssoEntry(m, 0)["roleArns"] = []any{} },
			[]string{"sso.accessTokens[0] (alice): roleArns: at least one role is required"}, ""},
		{"role not in roles", func(m map[string]any) {
			ssoEntry(m, 0)["roleArns"] = []any{roleARN(MemberAccount, "AWSReservedSSO_Admin_0123456789abcdef")}
		}, []string{`roleArns: "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef" is not a role in roles`}, ""},
		{"role without the Identity Center name", func(m map[string]any) { ssoEntry(m, 0)["roleArns"] = []any{role("Dev")} },
			[]string{"roleArns: role Dev must be named AWSReservedSSO_<PermissionSet>_<16 hex digits>"}, ""},
		{"two roles of one permission set in one account", func(m map[string]any) {
			other := "AWSReservedSSO_Developer_aaaaaaaaaaaaaaaa"
			m["roles"] = append(m["roles"].([]any), map[string]any{"account": MemberAccount, "name": other,
				"trust": map[string]any{"Statement": map[string]any{"Effect": "Deny", "Principal": "*", "Action": "sts:*"}}})
			ssoEntry(m, 0)["roleArns"] = append(ssoEntry(m, 0)["roleArns"].([]any), roleARN(MemberAccount, other))
		}, []string{"are both permission set Developer in account 111122223333"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, configJSON(t, tt.edit)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
			if tt.absent != "" && strings.Contains(err.Error(), tt.absent) {
				t.Fatalf("error %q quotes the token", err)
			}
		})
	}
}

func TestPermissionSetOf(t *testing.T) {
	tests := []struct {
		role string
		want string
		ok   bool
	}{
		{"AWSReservedSSO_Developer_0123456789abcdef", "Developer", true},
		{"AWSReservedSSO_Power_User_0123456789abcdef", "Power_User", true},
		{"AWSReservedSSO_Developer_0123456789ABCDEF", "", false},
		{"AWSReservedSSO_Developer_0123", "", false},
		{"AWSReservedSSO__0123456789abcdef", "", false},
		{"Developer", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			got, ok := permissionSetOf(tt.role)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("permissionSetOf(%q) = %q, %v; want %q, %v", tt.role, got, ok, tt.want, tt.ok)
			}
		})
	}
}
