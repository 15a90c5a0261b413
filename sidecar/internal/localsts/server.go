package localsts

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// stsNamespace is the XML namespace of every STS response.
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// apiVersion is the only Version the Query API accepts.
const apiVersion = "2011-06-15"

// maxBody bounds a request body: the largest legal one is a 100,000-character SAML assertion,
// form-encoded (at most about 300 KB) with its other parameters.
const maxBody = 512 << 10

// Options are the runtime settings of a Server.
type Options struct {
	// Now is the server's clock; nil means time.Now. Tests inject one to expire credentials.
	Now func() time.Time
	// Region is the region Demo reports and the one unsigned calls are served in; default
	// us-east-1. Signed calls may be scoped to any valid region, so one server serves them all.
	Region string
	// Logger receives one line per request (action, status, error code, request id, duration);
	// nil logs nothing. Request and response bodies are never logged.
	Logger *zap.Logger
	// ReadTimeout bounds how long a request, headers and body, may take to arrive on the server
	// HTTPServer builds; zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// AllowRemoteDemo serves the demo identity (the default config's published access keys and
	// SSO access token, and the demo IdPs' signing routes) to peers that are not loopback
	// addresses. Without it they are refused, so a server bound beyond loopback does not hand
	// credentials to whoever can reach it.
	AllowRemoteDemo bool
}

// DemoIdentity is what a demo or test needs to start: the demo user's access key, a role it may
// assume, and the region and account.
type DemoIdentity struct {
	// AccessKeyID is the demo user's access key id.
	AccessKeyID string
	// SecretAccessKey is the demo user's secret access key.
	SecretAccessKey string
	// RoleArn is a role the demo user may assume.
	RoleArn string
	// Region is the server's region.
	Region string
	// Account is the demo user's account.
	Account string
	// SSOStartURL is the Identity Center start URL, empty when the config has no SSO users.
	SSOStartURL string
	// SSOUser is the first SSO user, the one a demo signs in as by the device flow.
	SSOUser string
	// SSOAccount and SSOPermissionSet are that user's first assignment.
	SSOAccount, SSOPermissionSet string
}

// Server is a local STS. It is safe for concurrent use.
type Server struct {
	cfg    *Config
	now    func() time.Time
	region string
	log    *zap.Logger

	readTimeout     time.Duration
	allowRemoteDemo bool

	// msgSecret keys the encryption of authorization messages; it is new for every Server, so
	// messages do not outlive it (like AWS, which rotates the keys).
	msgSecret []byte

	accounts map[string]*Account
	users    map[string]*userEntry // by ARN
	roles    map[string]*roleEntry // by ARN
	rootMFA  map[string]map[string]string
	saml     map[string]*samlProvider // by ARN
	oidc     []*oidcProvider
	org      *Organization

	oidcIssuer *idp.Signer            // the built-in demo OIDC issuer's key
	witSigners map[string]*idp.Signer // GetWebIdentityToken's keys, by algorithm
	jwksCache  *jwksCache

	mu       sync.Mutex
	baseURL  string
	keys     map[string]*credential // access key id → credential, long-term and issued
	tradeIns map[string]*tradeIn
	pruned   time.Time

	sso *ssoState // IAM Identity Center's clients, device codes and sign-ins
}

type userEntry struct {
	cfg *User
	arn string
	id  string
	mfa map[string]string // serial → code
}

type roleEntry struct {
	cfg   *Role
	arn   string
	id    string
	trust *policy
	max   int
}

type samlProvider struct {
	cfg   *SAMLProvider
	arn   string
	certs []*x509.Certificate
	idp   *idp.SAMLIdP // set when the server generated the provider's IdP
}

type oidcProvider struct {
	cfg *OIDCProvider
	// jwks is the configured key set, nil when it must be fetched (or for the built-in issuer).
	jwks *idp.JWKS
}

type tradeIn struct {
	cfg  *TradeInToken
	used bool
}

// New builds a Server for cfg, which it validates. It generates the server's secrets: the key
// that encrypts authorization messages, the demo IdPs' keys and GetWebIdentityToken's keys.
func New(cfg *Config, opts Options) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("localsts: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("localsts: %w", err)
	}
	s := &Server{
		cfg: cfg, now: opts.Now, region: opts.Region, log: opts.Logger,
		readTimeout: opts.ReadTimeout, allowRemoteDemo: opts.AllowRemoteDemo,
		msgSecret: randomBytes(32),
		accounts:  map[string]*Account{}, users: map[string]*userEntry{}, roles: map[string]*roleEntry{},
		rootMFA: map[string]map[string]string{}, saml: map[string]*samlProvider{}, org: cfg.Organization,
		witSigners: map[string]*idp.Signer{}, jwksCache: newJWKSCache(),
		keys: map[string]*credential{}, tradeIns: map[string]*tradeIn{}, sso: newSSOState(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.readTimeout <= 0 {
		s.readTimeout = DefaultReadTimeout
	}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		s.accounts[a.ID] = a
		s.rootMFA[a.ID] = mfaMap(a.Root.MFA)
		for _, k := range a.Root.AccessKeys {
			s.keys[k.ID] = &credential{keyID: k.ID, secret: k.Secret, class: classLongTerm,
				p: principal{kind: kindRoot, account: a.ID, arn: rootARN(a.ID), userID: a.ID}}
		}
	}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		e := &userEntry{cfg: u, arn: userARN(u.Account, u.Name), id: stableID(prefixUser, u.Account, u.Name), mfa: mfaMap(u.MFA)}
		s.users[e.arn] = e
		for _, k := range u.AccessKeys {
			s.keys[k.ID] = &credential{keyID: k.ID, secret: k.Secret, class: classLongTerm, p: userPrincipal(e)}
		}
	}
	for i := range cfg.Roles {
		r := &cfg.Roles[i]
		trust, err := parsePolicy(r.Trust)
		if err != nil { // Validate parsed it already; this is unreachable but cheap to keep safe
			return nil, fmt.Errorf("localsts: role %s: %w", r.Name, err)
		}
		max := r.MaxSessionDuration
		if max == 0 {
			max = 3600
		}
		e := &roleEntry{cfg: r, arn: roleARN(r.Account, r.Name), id: stableID(prefixRole, r.Account, r.Name), trust: trust, max: max}
		s.roles[e.arn] = e
	}
	for i := range cfg.SAMLProviders {
		p := &cfg.SAMLProviders[i]
		sp := &samlProvider{cfg: p, arn: samlProviderARN(p.Account, p.Name)}
		if p.CertificatePEM != "" {
			sp.certs, _ = parseCertificates(p.CertificatePEM)
		} else {
			gen, err := idp.NewSAMLIdP("https://localsts.local/saml/" + p.Account + "/" + p.Name)
			if err != nil {
				return nil, fmt.Errorf("localsts: demo SAML IdP for %s: %w", sp.arn, err)
			}
			sp.idp, sp.certs = gen, []*x509.Certificate{gen.Cert}
		}
		s.saml[sp.arn] = sp
	}
	for i := range cfg.OIDCProviders {
		p := &cfg.OIDCProviders[i]
		op := &oidcProvider{cfg: p}
		if len(p.JWKS) > 0 {
			var set idp.JWKS
			if err := json.Unmarshal(p.JWKS, &set); err != nil {
				return nil, fmt.Errorf("localsts: OIDC provider %s: jwks: %w", p.URL, err)
			}
			op.jwks = &set
		}
		if p.URL == BuiltinOIDC && s.oidcIssuer == nil {
			signer, err := idp.NewSigner("RS256", "localsts-oidc-1")
			if err != nil {
				return nil, fmt.Errorf("localsts: demo OIDC issuer: %w", err)
			}
			s.oidcIssuer = signer
		}
		s.oidc = append(s.oidc, op)
	}
	for _, alg := range []string{"RS256", "ES384"} {
		signer, err := idp.NewSigner(alg, "localsts-sts-"+strings.ToLower(alg))
		if err != nil {
			return nil, fmt.Errorf("localsts: GetWebIdentityToken %s key: %w", alg, err)
		}
		s.witSigners[alg] = signer
	}
	for i := range cfg.TradeInTokens {
		t := &cfg.TradeInTokens[i]
		s.tradeIns[t.Token] = &tradeIn{cfg: t}
	}
	return s, nil
}

func mfaMap(devices []MFADevice) map[string]string {
	m := map[string]string{}
	for _, d := range devices {
		m[d.Serial] = d.Code
	}
	return m
}

// Demo returns the config's demo user's first access key and demo role, and its first SSO user
// with that user's first assignment. Its fields are empty when the config names no such
// identity.
func (s *Server) Demo() DemoIdentity {
	d := DemoIdentity{RoleArn: s.cfg.Demo.Role, Region: s.region}
	acct, name, _ := strings.Cut(s.cfg.Demo.User, "/")
	if u := s.users[userARN(acct, name)]; u != nil && len(u.cfg.AccessKeys) > 0 {
		d.AccessKeyID, d.SecretAccessKey, d.Account = u.cfg.AccessKeys[0].ID, u.cfg.AccessKeys[0].Secret, acct
	}
	if sso := s.cfg.SSO; sso != nil && len(sso.Users) > 0 {
		u := sso.Users[0]
		d.SSOStartURL, d.SSOUser = sso.StartURL, u.Name
		if a := s.assignments(&ssoIdentity{user: u.Name, roleArns: u.RoleArns[:1]}); len(a) > 0 {
			d.SSOAccount, d.SSOPermissionSet = a[0].account, a[0].permissionSet
		}
	}
	return d
}

// SetBaseURL tells the server the URL it is served at, e.g. "http://127.0.0.1:4566". It is the
// issuer of the JWTs it mints and the base of its JWKS URLs; until it is set, each request's own
// scheme and Host stand in.
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimRight(u, "/")
}

func (s *Server) base(r *http.Request) string {
	s.mu.Lock()
	b := s.baseURL
	s.mu.Unlock()
	if b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Handler returns the HTTP handler: STS at "/" (any path outside /_localsts/), and these
// non-AWS routes:
//
//	GET  /_localsts/health                                 {"status":"ok",...}
//	POST /_localsts/encode-message                         DenialMessage → {"encodedMessage"}
//	POST /_localsts/saml/assertion                         {subject, roles, roleSessionName, ...} → {"samlAssertion"}
//	GET  /_localsts/saml/metadata                          the demo SAML IdP's metadata XML
//	GET  /_localsts/oidc/.well-known/openid-configuration  the demo OIDC issuer's discovery document
//	GET  /_localsts/oidc/jwks.json                         its keys
//	POST /_localsts/oidc/token                             {sub, aud, expiresIn, claims} → {"token", "expiresAt"}
//	GET  /_localsts/sts/.well-known/openid-configuration   discovery for GetWebIdentityToken's issuer
//	GET  /_localsts/sts/jwks.json                          GetWebIdentityToken's keys (RS256 and ES384)
//	POST /_localsts/sso/approve                            {userCode, user, deny} → approves or denies a device sign-in
//	GET  /_localsts/sso/device?user_code=CODE              the device flow's verification page
//
// and IAM Identity Center's own APIs (see SSO), reached by the SDKs with AWS_ENDPOINT_URL_SSO_OIDC
// and AWS_ENDPOINT_URL_SSO (or a [services] section) set to the server's URL:
//
//	POST /client/register         OIDC RegisterClient
//	POST /device_authorization    OIDC StartDeviceAuthorization
//	POST /token                   OIDC CreateToken (device_code and refresh_token grants)
//	GET  /federation/credentials  portal GetRoleCredentials
//	GET  /assignment/accounts     portal ListAccounts
//	GET  /assignment/roles        portal ListAccountRoles
//	POST /logout                  portal Logout
//
// GetWebIdentityToken's JWTs have iss BASEURL/_localsts/sts; the demo OIDC issuer's tokens have
// iss BASEURL/_localsts/oidc (see SetBaseURL).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_localsts/health", s.handleHealth)
	mux.HandleFunc("POST /_localsts/encode-message", s.handleEncodeMessage)
	mux.HandleFunc("POST /_localsts/saml/assertion", s.localOnly("the demo SAML IdP", s.handleSAMLAssertion))
	mux.HandleFunc("GET /_localsts/saml/metadata", s.handleSAMLMetadata)
	mux.HandleFunc("GET /_localsts/oidc/.well-known/openid-configuration", s.handleOIDCDiscovery)
	mux.HandleFunc("GET /_localsts/oidc/jwks.json", s.handleOIDCJWKS)
	mux.HandleFunc("POST /_localsts/oidc/token", s.localOnly("the demo OIDC issuer", s.handleOIDCToken))
	mux.HandleFunc("GET /_localsts/sts/.well-known/openid-configuration", s.handleSTSDiscovery)
	mux.HandleFunc("GET /_localsts/sts/jwks.json", s.handleSTSJWKS)
	mux.HandleFunc("POST "+SSOApprovePath, s.localOnly("the Identity Center approval route", s.handleSSOApprove))
	mux.HandleFunc("GET "+SSODevicePath, s.handleSSODevice)
	for _, op := range ssoOperations {
		mux.HandleFunc(op.route, s.ssoHandler(op.action, op.oidc, op.run))
	}
	mux.HandleFunc("/_localsts/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such local STS route: " + r.Method + " " + r.URL.Path})
	})
	mux.HandleFunc("/", s.serveSTS)
	return mux
}

// apiError is an AWS error response.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errAccessDenied(format string, args ...any) *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: fmt.Sprintf(format, args...)}
}

func errTooLarge() *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge",
		message: fmt.Sprintf("Request body is larger than %d KiB.", maxBody>>10)}
}

func errBadRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// notAuthorized is IAM's denial text, with " on resource: R" when there is a resource.
func notAuthorized(who, action, resource string) *apiError {
	msg := "User: " + who + " is not authorized to perform: " + action
	if resource != "" {
		msg += " on resource: " + resource
	}
	return errAccessDenied("%s", msg)
}

// call is one STS request being served.
type call struct {
	s         *Server
	r         *http.Request
	action    string
	form      url.Values
	cred      *credential // nil for unsigned operations
	region    string
	now       time.Time
	requestID string
}

// operation is one STS action.
type operation struct {
	// unsigned operations take no credentials (AssumeRoleWithSAML, AssumeRoleWithWebIdentity).
	unsigned bool
	// sessionTokenOK lets GetSessionToken credentials call it; STS allows only AssumeRole and
	// GetCallerIdentity with them.
	sessionTokenOK bool
	// federatedOK lets GetFederationToken and AssumeRoot credentials call it; STS allows only
	// GetCallerIdentity.
	federatedOK bool
	// noSessions operations refuse every temporary credential themselves, with STS's own text.
	noSessions bool
	run        func(*call) (string, error)
}

var operations = map[string]operation{
	"GetCallerIdentity":          {sessionTokenOK: true, federatedOK: true, run: (*call).getCallerIdentity},
	"GetAccessKeyInfo":           {run: (*call).getAccessKeyInfo},
	"GetSessionToken":            {noSessions: true, run: (*call).getSessionToken},
	"GetFederationToken":         {noSessions: true, run: (*call).getFederationToken},
	"AssumeRole":                 {sessionTokenOK: true, federatedOK: true, run: (*call).assumeRole},
	"AssumeRoot":                 {run: (*call).assumeRoot},
	"GetDelegatedAccessToken":    {run: (*call).getDelegatedAccessToken},
	"DecodeAuthorizationMessage": {run: (*call).decodeAuthorizationMessage},
	"GetWebIdentityToken":        {run: (*call).getWebIdentityToken},
	"AssumeRoleWithSAML":         {unsigned: true, run: (*call).assumeRoleWithSAML},
	"AssumeRoleWithWebIdentity":  {unsigned: true, run: (*call).assumeRoleWithWebIdentity},
}

// serveSTS answers one Query API request.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{s: s, r: r, now: s.now(), requestID: newRequestID(), region: s.region}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	result, err := c.serve()
	status := http.StatusOK
	code := ""
	w.Header().Set("x-amzn-RequestId", c.requestID)
	w.Header().Set("Content-Type", "text/xml")
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: "The request processing has failed because of an unknown error."}
			s.log.Error("localsts internal error", zap.String("action", c.action), zap.String("requestId", c.requestID), zap.Error(err))
		}
		status, code = ae.status, ae.code
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		w.WriteHeader(status)
		var b xmlBuilder
		b.raw(`<ErrorResponse xmlns="` + stsNamespace + `"><Error>`)
		b.el("Type", typ)
		b.el("Code", ae.code)
		b.el("Message", ae.message)
		b.raw(`</Error>`)
		b.el("RequestId", c.requestID)
		b.raw(`</ErrorResponse>`)
		io.WriteString(w, b.String())
	} else {
		io.WriteString(w, `<`+c.action+`Response xmlns="`+stsNamespace+`"><`+c.action+`Result>`+result+
			`</`+c.action+`Result><ResponseMetadata><RequestId>`+c.requestID+`</RequestId></ResponseMetadata></`+c.action+`Response>`)
	}
	fields := []zap.Field{zap.String("action", c.action), zap.Int("status", status), zap.String("requestId", c.requestID),
		zap.Duration("duration", time.Since(start))}
	if code != "" {
		fields = append(fields, zap.String("errorCode", code))
	}
	if c.cred != nil {
		fields = append(fields, zap.String("principal", c.cred.p.arn))
	}
	s.log.Info("sts request", fields...)
}

func (c *call) serve() (string, error) {
	// A declared length over the cap is refused before a byte of the body is read.
	if c.r.ContentLength > maxBody {
		return "", errTooLarge()
	}
	body, err := io.ReadAll(c.r.Body) // capped by serveSTS's MaxBytesReader, timed by the http.Server
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", errTooLarge()
		}
		return "", errBadRequest("RequestTimeout", "The request body could not be read in full: the client stopped sending it or took longer than the read timeout.")
	}
	query, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return "", errBadRequest("MalformedQueryString", "The query string is malformed.")
	}
	c.form = url.Values{}
	for k, v := range query {
		c.form[k] = v
	}
	if c.r.Method == http.MethodPost && isFormContent(c.r.Header.Get("Content-Type")) {
		bodyForm, err := url.ParseQuery(string(body))
		if err != nil {
			return "", errBadRequest("MalformedQueryString", "The request body is not valid form data.")
		}
		for k, v := range bodyForm {
			c.form[k] = append(v, c.form[k]...)
		}
	}
	c.action = c.form.Get("Action")
	if c.action == "" {
		return "", errBadRequest("MissingAction", "Missing Action")
	}
	op, known := operations[c.action]
	version := c.form.Get("Version")
	if !known || version != apiVersion {
		if version == "" {
			version = "NO_VERSION_SPECIFIED"
		}
		return "", errBadRequest("InvalidAction", "Could not find operation %s for version %s", c.action, version)
	}
	if !op.unsigned {
		cred, region, aerr := c.s.authenticate(c.r, query, body, c.now)
		if aerr != nil {
			return "", aerr
		}
		c.cred, c.region = cred, region
		if cred.class == classLongTerm && isPublishedKey(cred.keyID, cred.secret) {
			if msg := c.s.remoteDemoRefusal(c.r, "the published demo access key "+cred.keyID); msg != "" {
				return "", errAccessDenied("%s", msg)
			}
		}
		if a := c.s.accounts[cred.p.account]; a != nil {
			for _, d := range a.DisabledRegions {
				if d == region {
					return "", &apiError{status: http.StatusForbidden, code: "RegionDisabledException",
						message: "STS is not activated in this region for account:" + cred.p.account +
							". Your account administrator can activate STS in this region using the IAM Console."}
				}
			}
		}
		switch {
		case op.noSessions:
		case cred.class == classSessionToken:
			if !op.sessionTokenOK {
				return "", errAccessDenied("Cannot call %s with session credentials", c.action)
			}
		case cred.class == classFederated, cred.class == classRootTask:
			if !op.federatedOK {
				return "", notAuthorized(cred.p.arn, "sts:"+c.action, "")
			}
		}
	}
	if _, ok := c.form["ProvidedContexts.member.1.ProviderArn"]; ok {
		return "", errBadRequest("InvalidParameterValue", "The local STS cannot verify trusted context assertions (ProvidedContexts).")
	}
	return op.run(c)
}

func isFormContent(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// xmlBuilder writes the XML of a result; every value is escaped.
type xmlBuilder struct{ strings.Builder }

func (b *xmlBuilder) raw(s string) { b.WriteString(s) }

func (b *xmlBuilder) el(name, value string) {
	b.WriteString("<" + name + ">")
	escapeText(&b.Builder, value)
	b.WriteString("</" + name + ">")
}

// escapeText escapes character data the way STS does: only &, < and > (quotes stay as they are,
// so messages read "Value 'x' at 'roleSessionName'"), and characters XML cannot carry become
// U+FFFD so that an echoed bad input can never break the document.
func escapeText(b *strings.Builder, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == '\t' || r == '\n' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF):
			b.WriteRune(r)
		default:
			b.WriteRune('\uFFFD')
		}
	}
}

func (b *xmlBuilder) credentials(cr *credential) {
	b.raw("<Credentials>")
	b.el("AccessKeyId", cr.keyID)
	b.el("SecretAccessKey", cr.secret)
	b.el("SessionToken", cr.token)
	b.el("Expiration", cr.expires.UTC().Format(time.RFC3339))
	b.raw("</Credentials>")
}

// tokenSize writes SessionTokenSize, which newer STS returns beside every credential.
func (b *xmlBuilder) tokenSize(cr *credential) {
	b.el("SessionTokenSize", fmt.Sprint(len(cr.token)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "region": s.region, "time": s.now().UTC().Format(time.RFC3339)})
}

// readJSON decodes a small JSON request body for the /_localsts/ routes, strictly.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body: " + err.Error()})
		return false
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
