package localsts

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// samlAssertion asks the server's demo IdP for an assertion.
func (e *env) samlAssertion(t *testing.T, req samlAssertionRequest) string {
	t.Helper()
	var out struct {
		SAMLAssertion string `json:"samlAssertion"`
	}
	if st := e.postJSON("/_localsts/saml/assertion", req, &out); st != 200 {
		t.Fatalf("saml/assertion: %d", st)
	}
	return out.SAMLAssertion
}

func pair(roleName string) string { return role(roleName) + "," + DemoSAMLProvider }

func TestAssumeRoleWithSAML(t *testing.T) {
	e := newEnv(t, nil)
	anon := e.client("", "", "")
	good := e.samlAssertion(t, samlAssertionRequest{Subject: "alice@example.com", Roles: []string{pair("SamlDev"), pair("Dev")}, RoleSessionName: "alice"})
	t.Run("success", func(t *testing.T) {
		out, err := anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role("SamlDev")), PrincipalArn: aws.String(DemoSAMLProvider),
			SAMLAssertion: aws.String(good)})
		if err != nil {
			t.Fatal(err)
		}
		issuer := aws.ToString(out.Issuer)
		sum := sha1.Sum([]byte(issuer + DemoAccount + "/DemoIdP"))
		for name, got := range map[string][2]string{
			"Arn":           {aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::123456789012:assumed-role/SamlDev/alice"},
			"Subject":       {aws.ToString(out.Subject), "alice@example.com"},
			"SubjectType":   {aws.ToString(out.SubjectType), "persistent"},
			"Audience":      {aws.ToString(out.Audience), "https://signin.aws.amazon.com/saml"},
			"NameQualifier": {aws.ToString(out.NameQualifier), base64.StdEncoding.EncodeToString(sum[:])},
		} {
			if got[0] != got[1] {
				t.Errorf("%s = %q, want %q", name, got[0], got[1])
			}
		}
		if issuer == "" {
			t.Error("no Issuer")
		}
		if !near(out.Credentials.Expiration, time.Now().Add(time.Hour)) {
			t.Errorf("expiration %v", out.Credentials.Expiration)
		}
		if got := aws.ToString(whoami(t, e.with(out.Credentials)).Arn); got != "arn:aws:sts::123456789012:assumed-role/SamlDev/alice" {
			t.Errorf("credentials sign as %s", got)
		}
	})
	t.Run("session duration attribute", func(t *testing.T) {
		a := e.samlAssertion(t, samlAssertionRequest{Subject: "a@example.com", Roles: []string{pair("SamlDev")}, RoleSessionName: "a1", SessionDuration: 1800})
		out, err := anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role("SamlDev")), PrincipalArn: aws.String(DemoSAMLProvider), SAMLAssertion: aws.String(a)})
		if err != nil {
			t.Fatal(err)
		}
		if !near(out.Credentials.Expiration, time.Now().Add(30*time.Minute)) {
			t.Fatalf("expiration %v", out.Credentials.Expiration)
		}
	})
	unsigned, err := e.srv.generatedIdP("").idp.Assertion(idp.AssertionOptions{Subject: "x@example.com", Roles: []string{pair("SamlDev")}, RoleSessionName: "x1", Unsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	otherIdP, err := idp.NewSAMLIdP("https://evil.example.com")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := otherIdP.Assertion(idp.AssertionOptions{Subject: "x@example.com", Roles: []string{pair("SamlDev")}, RoleSessionName: "x1"})
	if err != nil {
		t.Fatal(err)
	}
	devOnly := e.samlAssertion(t, samlAssertionRequest{Subject: "a@example.com", Roles: []string{pair("Dev")}, RoleSessionName: "a1"})
	wrongAudience := e.samlAssertion(t, samlAssertionRequest{Subject: "a@example.com", Roles: []string{pair("SamlDev")}, RoleSessionName: "a1", Audience: "https://example.com/other"})
	for _, tt := range []struct {
		name, roleName, provider, assertion string
		duration                            int32
		code                                string
		status                              int
		msg                                 string
	}{
		{"role not in the assertion", "Admin", DemoSAMLProvider, good, 0, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML"},
		{"trusting role the assertion does not offer", "SamlDev", DemoSAMLProvider, devOnly, 0, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML"},
		{"role in the assertion that does not trust the provider", "Dev", DemoSAMLProvider, good, 0, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML"},
		{"unknown provider", "SamlDev", "arn:aws:iam::123456789012:saml-provider/Other", good, 0, "InvalidIdentityToken", 400, ""},
		{"unsigned assertion", "SamlDev", DemoSAMLProvider, unsigned, 0, "InvalidIdentityToken", 400, ""},
		{"signed by another IdP", "SamlDev", DemoSAMLProvider, forged, 0, "InvalidIdentityToken", 400, ""},
		{"wrong audience", "SamlDev", DemoSAMLProvider, wrongAudience, 0, "InvalidIdentityToken", 400, ""},
		{"not base64", "SamlDev", DemoSAMLProvider, "!!!!not-base64", 0, "InvalidIdentityToken", 400, ""},
		{"above the role's maximum", "SamlDev", DemoSAMLProvider, good, 7200, "ValidationError", 400, msgRoleMax},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role(tt.roleName)), PrincipalArn: aws.String(tt.provider), SAMLAssertion: aws.String(tt.assertion)}
			if tt.duration != 0 {
				in.DurationSeconds = aws.Int32(tt.duration)
			}
			_, err := anon.AssumeRoleWithSAML(ctx, in)
			wantAPIError(t, err, tt.code, tt.status, tt.msg)
		})
	}
	t.Run("expired assertion", func(t *testing.T) {
		a := e.samlAssertion(t, samlAssertionRequest{Subject: "a@example.com", Roles: []string{pair("SamlDev")}, RoleSessionName: "a1", ExpiresIn: 60})
		e.clock.Advance(10 * time.Minute)
		defer e.clock.Advance(-10 * time.Minute)
		_, err := anon.AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role("SamlDev")), PrincipalArn: aws.String(DemoSAMLProvider), SAMLAssertion: aws.String(a)})
		wantAPIError(t, err, "ExpiredTokenException", 400, "")
	})
	t.Run("metadata", func(t *testing.T) {
		resp, err := http.Get(e.url + "/_localsts/saml/metadata")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		md, err := idp.ParseSAMLMetadata(string(body))
		if err != nil || len(md.Certs) == 0 {
			t.Fatalf("metadata: %v", err)
		}
	})
}

// oidcToken has the server's demo issuer mint an ID token.
func (e *env) oidcToken(t *testing.T, req oidcTokenRequest) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if st := e.postJSON("/_localsts/oidc/token", req, &out); st != 200 {
		t.Fatalf("oidc/token: %d", st)
	}
	return out.Token
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OIDCProviders[0].ClientIDs = append(cfg.OIDCProviders[0].ClientIDs, "other-client")
	e := newEnv(t, cfg)
	anon := e.client("", "", "")
	call := func(roleName, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role(roleName)),
			RoleSessionName: aws.String("web-1"), WebIdentityToken: aws.String(token)})
	}
	t.Run("success", func(t *testing.T) {
		out, err := call("WebDev", e.oidcToken(t, oidcTokenRequest{Sub: "user-1", Aud: DemoOIDCClientID, ExpiresIn: 600}))
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SubjectFromWebIdentityToken) != "user-1" || aws.ToString(out.Audience) != DemoOIDCClientID ||
			aws.ToString(out.Provider) != e.url+"/_localsts/oidc" {
			t.Fatalf("got sub %q aud %q provider %q", aws.ToString(out.SubjectFromWebIdentityToken), aws.ToString(out.Audience), aws.ToString(out.Provider))
		}
		if got := aws.ToString(whoami(t, e.with(out.Credentials)).Arn); got != "arn:aws:sts::123456789012:assumed-role/WebDev/web-1" {
			t.Fatalf("signs as %s", got)
		}
	})
	t.Run("session tags from the token", func(t *testing.T) {
		tok := e.oidcToken(t, oidcTokenRequest{Sub: "user-1", Aud: DemoOIDCClientID, Claims: map[string]any{
			webIdentityTagsClaim: map[string]any{"principal_tags": map[string]any{"team": []any{"red"}}, "transitive_tag_keys": []any{"team"}}}})
		out, err := call("WebDev", tok)
		if err != nil {
			t.Fatal(err)
		}
		if cr := e.srv.lookupKey(aws.ToString(out.Credentials.AccessKeyId)); cr.p.tags["team"].Value != "red" || !cr.p.transitive["team"] {
			t.Fatalf("tags %+v", cr.p.tags)
		}
	})
	foreign, err := idp.NewSigner("RS256", "localsts-oidc-1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	forged, _ := foreign.Sign(map[string]any{"iss": e.url + "/_localsts/oidc", "sub": "user-1", "aud": DemoOIDCClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	unknownIssuer, _ := foreign.Sign(map[string]any{"iss": "https://idp.example.com", "sub": "user-1", "aud": DemoOIDCClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	for _, tt := range []struct {
		name, roleName, token string
		code                  string
		status                int
		msg                   string
	}{
		{"audience not a client id", "WebDev", e.oidcToken(t, oidcTokenRequest{Sub: "u", Aud: "someone-else"}), "InvalidIdentityToken", 400, "Incorrect token audience"},
		{"audience a client id the trust policy does not accept", "WebDev", e.oidcToken(t, oidcTokenRequest{Sub: "u", Aud: "other-client"}), "AccessDenied", 403,
			"Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"role that does not trust the provider", "Dev", e.oidcToken(t, oidcTokenRequest{Sub: "u", Aud: DemoOIDCClientID}), "AccessDenied", 403,
			"Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"signed by another key", "WebDev", forged, "InvalidIdentityToken", 400, ""},
		{"issuer without a provider", "WebDev", unknownIssuer, "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://idp.example.com"},
		{"not a JWT", "WebDev", "abcd.efgh", "InvalidIdentityToken", 400, "not a valid JWT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(tt.roleName, tt.token)
			wantAPIError(t, err, tt.code, tt.status, tt.msg)
		})
	}
	t.Run("expired token", func(t *testing.T) {
		tok := e.oidcToken(t, oidcTokenRequest{Sub: "u", Aud: DemoOIDCClientID, ExpiresIn: 60})
		e.clock.Advance(10 * time.Minute)
		defer e.clock.Advance(-10 * time.Minute)
		_, err := call("WebDev", tok)
		wantAPIError(t, err, "ExpiredTokenException", 400, "")
	})
	t.Run("ProviderId is for OAuth 2.0 only", func(t *testing.T) {
		_, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role("WebDev")), RoleSessionName: aws.String("web-1"),
			WebIdentityToken: aws.String(e.oidcToken(t, oidcTokenRequest{Sub: "u", Aud: DemoOIDCClientID})), ProviderId: aws.String("www.amazon.com")})
		wantAPIError(t, err, "InvalidParameterValue", 400, "ProviderId")
	})
	t.Run("discovery", func(t *testing.T) {
		resp, err := http.Get(e.url + "/_localsts/oidc/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d map[string]any
		json.NewDecoder(resp.Body).Decode(&d)
		if d["issuer"] != e.url+"/_localsts/oidc" || d["jwks_uri"] != e.url+"/_localsts/oidc/jwks.json" {
			t.Fatalf("discovery %v", d)
		}
	})
}

// TestWebIdentityFetchedKeys covers a provider configured without keys: the server fetches
// them from the issuer's discovery document, as STS does.
func TestWebIdentityFetchedKeys(t *testing.T) {
	signer, err := idp.NewSigner("ES384", "k1")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	issuer := httptest.NewServer(mux)
	defer issuer.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": issuer.URL, "jwks_uri": issuer.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(signer.JWKS()) })
	name := strings.TrimPrefix(issuer.URL, "http://")
	cfg := DefaultConfig()
	cfg.OIDCProviders = append(cfg.OIDCProviders, OIDCProvider{Account: DemoAccount, URL: issuer.URL, ClientIDs: []string{"ci-client"}})
	cfg.Roles = append(cfg.Roles, Role{Account: DemoAccount, Name: "CI", Trust: trust(
		`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/` + name + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
			`"Condition":{"StringLike":{"` + name + `:sub":"repo:demo/*"}}}`)})
	e := newEnv(t, cfg)
	now := time.Now()
	mint := func(sub string) string {
		tok, err := signer.Sign(map[string]any{"iss": issuer.URL, "sub": sub, "aud": "ci-client", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tt := range []struct {
		name, sub string
		ok        bool
	}{
		{"sub matches the StringLike condition", "repo:demo/app:ref:main", true},
		{"sub does not match", "repo:other/app", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client("", "", "").AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role("CI")),
				RoleSessionName: aws.String("ci"), WebIdentityToken: aws.String(mint(tt.sub))})
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok {
				wantAPIError(t, err, "AccessDenied", 403, "")
			}
		})
	}
	t.Run("issuer unreachable", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		cfg := DefaultConfig()
		cfg.OIDCProviders = append(cfg.OIDCProviders, OIDCProvider{Account: DemoAccount, URL: down.URL, ClientIDs: []string{"x"}})
		e := newEnv(t, cfg)
		tok, _ := signer.Sign(map[string]any{"iss": down.URL, "sub": "s", "aud": "x", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		_, err := e.client("", "", "").AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role("WebDev")),
			RoleSessionName: aws.String("ci"), WebIdentityToken: aws.String(tok)})
		wantAPIError(t, err, "IDPCommunicationError", 400, "Couldn't retrieve verification key")
	})
}

func TestGetWebIdentityToken(t *testing.T) {
	e := sharedEnv(t)
	dev := e.with(e.assume(e.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("wit")}).Credentials)
	for _, tt := range []struct {
		name     string
		client   *sts.Client
		in       sts.GetWebIdentityTokenInput
		sub      string
		lifetime time.Duration
		code     string
		msg      string
	}{
		{name: "RS256 default lifetime", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: []string{"https://api.example.com"}, SigningAlgorithm: aws.String("RS256")},
			sub: "arn:aws:iam::123456789012:user/alice", lifetime: 300 * time.Second},
		{name: "ES384 from a role session", client: dev, in: sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("ES384"), DurationSeconds: aws.Int32(3600)},
			sub: "arn:aws:sts::123456789012:assumed-role/Dev/wit", lifetime: time.Hour},
		{name: "unsupported algorithm", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("HS256")},
			code: "ValidationError", msg: "Member must satisfy enum value set: [RS256, ES384]"},
		{name: "eleven audiences", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ","), SigningAlgorithm: aws.String("RS256")},
			code: "ValidationError", msg: "Member must have length less than or equal to 10"},
		{name: "no audience", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: []string{}, SigningAlgorithm: aws.String("RS256")},
			code: "ValidationError", msg: "Value null at 'audience'"},
		{name: "lifetime too short", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("RS256"), DurationSeconds: aws.Int32(59)},
			code: "ValidationError", msg: "Member must have value greater than or equal to 60"},
		{name: "lifetime too long", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("RS256"), DurationSeconds: aws.Int32(3601)},
			code: "ValidationError", msg: "Member must have value less than or equal to 3600"},
		{name: "duplicate tags", client: e.alice(), in: sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("RS256"),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")}}},
			code: "InvalidParameterValue", msg: "Duplicate tag keys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, err := tt.client.GetWebIdentityToken(ctx, &tt.in)
			if tt.code != "" {
				wantAPIError(t, err, tt.code, 400, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims := e.verifySTSToken(t, aws.ToString(out.WebIdentityToken))
			if claims.Subject != tt.sub || claims.Alg != aws.ToString(tt.in.SigningAlgorithm) || claims.Audience[0] != tt.in.Audience[0] {
				t.Fatalf("claims sub %s alg %s aud %v", claims.Subject, claims.Alg, claims.Audience)
			}
			if !near(out.Expiration, start.Add(tt.lifetime)) || !claims.ExpiresAt.Equal(*out.Expiration) {
				t.Fatalf("expiration %v, exp %v, want %v", out.Expiration, claims.ExpiresAt, start.Add(tt.lifetime))
			}
		})
	}
	t.Run("session credentials refused", func(t *testing.T) {
		st, err := e.alice().GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.with(st.Credentials).GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("RS256")})
		wantAPIError(t, err, "AccessDenied", 403, "Cannot call GetWebIdentityToken with session credentials")
	})
}
