package localsts

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"
)

// The grant types CreateToken takes.
const (
	grantDeviceCode   = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefreshToken = "refresh_token"
)

// ScopeAccountAccess is the scope a client registers to get refresh tokens with its access
// tokens, as the AWS CLI and the SDKs do.
const ScopeAccountAccess = "sso:account:access"

// pollSlack forgives a poll that arrives this much before the interval has passed: clients
// that time their polls from the request rather than the answer land a little early.
const pollSlack = 200 * time.Millisecond

// slowDownStep is what slow_down adds to a device code's interval, as RFC 8628 says.
const slowDownStep = 5 * time.Second

// validClientName bounds a client name: 1–1024 bytes of UTF-8 without control characters.
func validClientName(s string) bool {
	if s == "" || len(s) > 1024 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// scopeRE is what a scope may look like.
var scopeRE = regexp.MustCompile(`^[\x21-\x7e]{1,256}$`)

// The OIDC operations' request bodies.
type (
	registerClientRequest struct {
		ClientName   string   `json:"clientName"`
		ClientType   string   `json:"clientType"`
		Scopes       []string `json:"scopes"`
		GrantTypes   []string `json:"grantTypes"`
		IssuerURL    string   `json:"issuerUrl"`
		RedirectURIs []string `json:"redirectUris"`
	}
	startDeviceRequest struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		StartURL     string `json:"startUrl"`
	}
	createTokenRequest struct {
		ClientID     string   `json:"clientId"`
		ClientSecret string   `json:"clientSecret"`
		GrantType    string   `json:"grantType"`
		DeviceCode   string   `json:"deviceCode"`
		RefreshToken string   `json:"refreshToken"`
		Code         string   `json:"code"`
		Scope        []string `json:"scope"`
	}
)

// registerClient is the OIDC service's RegisterClient (POST /client/register): a public
// client gets an id and a secret that last ClientSeconds.
func (c *ssoCall) registerClient() (any, *ssoError) {
	var req registerClientRequest
	if err := c.readBody(&req); err != nil {
		return nil, err
	}
	switch {
	case req.ClientName == "" || req.ClientType == "":
		return nil, errOIDCInvalidRequest("clientName and clientType are required.")
	case !validClientName(req.ClientName):
		return nil, oidcError(http.StatusBadRequest, "InvalidClientMetadataException", "invalid_client_metadata",
			"clientName must be 1–1024 characters without control characters.")
	case req.ClientType != "public":
		return nil, oidcError(http.StatusBadRequest, "InvalidClientMetadataException", "invalid_client_metadata",
			`clientType must be "public".`)
	case len(req.Scopes) > 25:
		return nil, oidcError(http.StatusBadRequest, "InvalidScopeException", "invalid_scope", "At most 25 scopes may be registered.")
	case len(req.GrantTypes) > 10 || len(req.RedirectURIs) > 10 || len(req.IssuerURL) > 1024:
		return nil, errOIDCInvalidRequest("grantTypes and redirectUris take at most 10 entries, issuerUrl at most 1024 characters.")
	}
	for _, sc := range req.Scopes {
		if !scopeRE.MatchString(sc) {
			return nil, oidcError(http.StatusBadRequest, "InvalidScopeException", "invalid_scope",
				"Each scope must be 1–256 printable characters without spaces.")
		}
	}
	for _, g := range req.GrantTypes {
		if g != grantDeviceCode && g != grantRefreshToken && g != "authorization_code" {
			return nil, oidcError(http.StatusBadRequest, "UnsupportedGrantTypeException", "unsupported_grant_type",
				"grantTypes may name "+grantDeviceCode+", refresh_token and authorization_code.")
		}
	}
	st := c.s.sso
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.roomLocked(c.now, func() int { return len(st.clients) }, maxSSOClients) {
		return nil, tooManySSO("client registrations")
	}
	secret := newOpaque("")
	cl := &ssoClient{
		id: base64.RawURLEncoding.EncodeToString(randomBytes(16)), secret: hashToken(secret),
		scopes: append([]string(nil), req.Scopes...), grantTypes: append([]string(nil), req.GrantTypes...),
		issued: c.now.Truncate(time.Second), expires: c.now.Add(c.s.cfg.SSO.seconds("clientSeconds")).Truncate(time.Second),
	}
	st.clients[cl.id] = cl
	return map[string]any{
		"clientId": cl.id, "clientSecret": secret,
		"clientIdIssuedAt": cl.issued.Unix(), "clientSecretExpiresAt": cl.expires.Unix(),
	}, nil
}

// tooManySSO refuses a request that would add to a full table.
func tooManySSO(what string) *ssoError {
	return oidcError(http.StatusTooManyRequests, "TooManyRequestsException", "temporarily_unavailable",
		"The local Identity Center holds as many live "+what+" as it keeps; retry once some have expired.")
}

// clientLocked authenticates a client id and secret. st.mu must be held.
func (st *ssoState) clientLocked(id, secret string, now time.Time) (*ssoClient, *ssoError) {
	cl := st.clients[id]
	if cl == nil || !cl.secret.equal(hashToken(secret)) {
		return nil, errOIDCInvalidClient("The client id or client secret is not valid: register the client again (RegisterClient).")
	}
	if !now.Before(cl.expires) {
		return nil, errOIDCInvalidClient("The client registration has expired: register the client again (RegisterClient).")
	}
	return cl, nil
}

// startDeviceAuthorization is the OIDC service's StartDeviceAuthorization (POST
// /device_authorization): a device code for the client and a user code the user approves at
// the verification URI (here: POST /_localsts/sso/approve).
func (c *ssoCall) startDeviceAuthorization() (any, *ssoError) {
	var req startDeviceRequest
	if err := c.readBody(&req); err != nil {
		return nil, err
	}
	if req.ClientID == "" || req.ClientSecret == "" || req.StartURL == "" {
		return nil, errOIDCInvalidRequest("clientId, clientSecret and startUrl are required.")
	}
	cfg := c.s.cfg.SSO
	if len(cfg.Users) == 0 {
		return nil, errOIDCInvalidRequest("This local Identity Center has no users who sign in by the device flow (sso.users in its config).")
	}
	if req.StartURL != cfg.StartURL {
		return nil, errOIDCInvalidRequest("The start URL is not this Identity Center's: use " + cfg.StartURL + ".")
	}
	st := c.s.sso
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, err := st.clientLocked(req.ClientID, req.ClientSecret, c.now); err != nil {
		return nil, err
	}
	if !st.roomLocked(c.now, func() int { return len(st.devices) }, maxSSODevices) {
		return nil, tooManySSO("device authorizations")
	}
	code := newOpaque("")
	userCode := newUserCode()
	for st.userCodes[userCode] != nil {
		userCode = newUserCode()
	}
	d := &deviceAuth{
		code: hashToken(code), userCode: userCode, clientID: req.ClientID,
		expires: c.now.Add(cfg.seconds("deviceCodeSeconds")), interval: cfg.seconds("intervalSeconds"),
	}
	st.devices[d.code] = d
	st.userCodes[userCode] = d
	verify := c.s.base(c.r) + SSODevicePath
	return map[string]any{
		"deviceCode": code, "userCode": userCode,
		"verificationUri": verify, "verificationUriComplete": verify + "?user_code=" + url.QueryEscape(userCode),
		"expiresIn": int(cfg.seconds("deviceCodeSeconds") / time.Second), "interval": int(d.interval / time.Second),
	}, nil
}

// userCodeAlphabet is RFC 8628's suggestion: consonants only, so no code spells a word, and no
// letters easily mistaken for each other.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode mints a user code like "BCDF-GHJK" (20^8 codes).
func newUserCode() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 9 {
		if b.Len() == 4 {
			b.WriteByte('-')
			continue
		}
		if _, err := rand.Read(buf); err != nil {
			panic("localsts: crypto/rand: " + err.Error())
		}
		if buf[0] >= 240 { // 240 = 12 × 20: reject the rest so every letter is equally likely
			continue
		}
		b.WriteByte(userCodeAlphabet[int(buf[0])%len(userCodeAlphabet)])
	}
	return b.String()
}

// normalizeUserCode accepts a user code in any case, with or without its dash.
func normalizeUserCode(s string) string {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	if len(s) != 8 || strings.Trim(s, userCodeAlphabet) != "" {
		return ""
	}
	return s[:4] + "-" + s[4:]
}

// createToken is the OIDC service's CreateToken (POST /token) for the device_code and
// refresh_token grants.
func (c *ssoCall) createToken() (any, *ssoError) {
	var req createTokenRequest
	if err := c.readBody(&req); err != nil {
		return nil, err
	}
	if req.ClientID == "" || req.ClientSecret == "" || req.GrantType == "" {
		return nil, errOIDCInvalidRequest("clientId, clientSecret and grantType are required.")
	}
	for _, sc := range req.Scope {
		if !scopeRE.MatchString(sc) {
			return nil, oidcError(http.StatusBadRequest, "InvalidScopeException", "invalid_scope", "A requested scope is not a valid scope.")
		}
	}
	st := c.s.sso
	st.mu.Lock()
	defer st.mu.Unlock()
	cl, err := st.clientLocked(req.ClientID, req.ClientSecret, c.now)
	if err != nil {
		return nil, err
	}
	switch req.GrantType {
	case grantDeviceCode, grantRefreshToken:
	default:
		return nil, oidcError(http.StatusBadRequest, "UnsupportedGrantTypeException", "unsupported_grant_type",
			"The local Identity Center supports the grant types "+grantDeviceCode+" and refresh_token.")
	}
	if len(cl.grantTypes) > 0 && !contains(cl.grantTypes, req.GrantType) {
		return nil, oidcError(http.StatusBadRequest, "UnauthorizedClientException", "unauthorized_client",
			"The client did not register the grant type "+req.GrantType+".")
	}
	for _, sc := range req.Scope {
		if !contains(cl.scopes, sc) {
			return nil, oidcError(http.StatusBadRequest, "InvalidScopeException", "invalid_scope",
				"The client did not register the scope "+sc+".")
		}
	}
	if req.GrantType == grantDeviceCode {
		return c.deviceToken(st, cl, req.DeviceCode)
	}
	return c.refreshToken(st, cl, req.RefreshToken)
}

// deviceToken answers a device_code poll: pending, slow_down, expired, denied, or the tokens.
// st.mu must be held.
func (c *ssoCall) deviceToken(st *ssoState, cl *ssoClient, deviceCode string) (any, *ssoError) {
	if deviceCode == "" {
		return nil, errOIDCInvalidRequest("deviceCode is required for the device_code grant.")
	}
	d := st.devices[hashToken(deviceCode)]
	if d == nil || d.clientID != cl.id {
		return nil, errOIDCInvalidGrant("The device code is not valid for this client.")
	}
	if !c.now.Before(d.expires) {
		return nil, oidcError(http.StatusBadRequest, "ExpiredTokenException", "expired_token",
			"The device code has expired: start the sign-in again (StartDeviceAuthorization).")
	}
	switch d.status {
	case deviceRedeemed:
		return nil, errOIDCInvalidGrant("The device code has already been exchanged for a token.")
	case deviceDenied:
		return nil, oidcError(http.StatusBadRequest, "AccessDeniedException", "access_denied",
			"The user denied the sign-in.")
	case devicePending:
		fast := !d.lastPoll.IsZero() && c.now.Sub(d.lastPoll) < d.interval-pollSlack
		d.lastPoll = c.now
		if fast {
			d.interval += slowDownStep
			return nil, oidcError(http.StatusBadRequest, "SlowDownException", "slow_down",
				"Polling faster than the interval: wait "+d.interval.String()+" between polls.")
		}
		return nil, oidcError(http.StatusBadRequest, "AuthorizationPendingException", "authorization_pending",
			"The user has not yet approved the sign-in.")
	}
	if !st.roomLocked(c.now, func() int { return len(st.grants) }, maxSSOGrants) {
		return nil, tooManySSO("sign-ins")
	}
	d.status = deviceRedeemed
	cfg := c.s.cfg.SSO
	g := &ssoGrant{user: d.user, clientID: cl.id, expires: c.now.Add(cfg.seconds("refreshTokenSeconds")),
		hasRefresh: contains(cl.scopes, ScopeAccountAccess)}
	out := map[string]any{"tokenType": "Bearer"}
	if g.hasRefresh {
		refresh := newOpaque("aor")
		g.refresh = hashToken(refresh)
		out["refreshToken"] = refresh
	}
	access, exp := st.issueAccessLocked(g, c.now, cfg.seconds("tokenSeconds"))
	g.key = g.refresh
	if !g.hasRefresh {
		g.key = g.access[0]
	}
	st.grants[g.key] = g
	out["accessToken"], out["expiresIn"] = access, expiresIn(exp, c.now)
	c.fields = append(c.fields, zap.String("user", g.user.Name), zap.String("grantType", "device_code"))
	return out, nil
}

// refreshToken answers the refresh_token grant: a new access token of the same sign-in, which
// never outlives it. The refresh token stays the same for the whole sign-in and is returned
// again. st.mu must be held.
func (c *ssoCall) refreshToken(st *ssoState, cl *ssoClient, refresh string) (any, *ssoError) {
	if refresh == "" {
		return nil, errOIDCInvalidRequest("refreshToken is required for the refresh_token grant.")
	}
	h := hashToken(refresh)
	g := st.grants[h]
	if g == nil || !g.hasRefresh || !g.refresh.equal(h) || g.clientID != cl.id || !c.now.Before(g.expires) {
		return nil, errOIDCInvalidGrant("The refresh token is not valid: it has expired, was signed out, or belongs to another client. Sign in again.")
	}
	access, exp := st.issueAccessLocked(g, c.now, c.s.cfg.SSO.seconds("tokenSeconds"))
	c.fields = append(c.fields, zap.String("user", g.user.Name), zap.String("grantType", "refresh_token"))
	return map[string]any{"accessToken": access, "tokenType": "Bearer", "expiresIn": expiresIn(exp, c.now), "refreshToken": refresh}, nil
}

// expiresIn is the whole seconds from now to exp, at least 1 (the SDK takes 0 as "no expiry
// given").
func expiresIn(exp, now time.Time) int {
	s := int(exp.Sub(now) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
