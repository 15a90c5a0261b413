package localsts

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// Paths of the demo identity providers and of GetWebIdentityToken's issuer.
const (
	oidcIssuerPath = "/_localsts/oidc"
	stsIssuerPath  = "/_localsts/sts"
)

// SAML attribute names AWS reads besides Role, RoleSessionName and SessionDuration.
const (
	samlPrincipalTagPrefix = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	samlTransitiveTagKeys  = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	samlSourceIdentity     = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
)

// webIdentityTagsClaim is the claim that carries session tags in an OIDC token, and the claim
// under which GetWebIdentityToken writes the caller's request tags.
const webIdentityTagsClaim = "https://aws.amazon.com/tags"

// witTagsClaim is where GetWebIdentityToken puts the Tags of the request.
const witTagsClaim = "https://sts.amazonaws.com/tags"

// builtinIssuer is the demo OIDC issuer's URL for this request.
func (c *call) builtinIssuer() string { return c.s.base(c.r) + oidcIssuerPath }

// expander replaces OIDCPlaceholder in trust policies with the built-in issuer's provider name.
func (c *call) expander() func(string) string {
	name := oidcProviderName(c.builtinIssuer())
	return func(s string) string {
		if !strings.Contains(s, OIDCPlaceholder) {
			return s
		}
		return strings.ReplaceAll(s, OIDCPlaceholder, name)
	}
}

func idpError(err error) error {
	code, msg := "InvalidIdentityToken", err.Error()
	var se *idp.SAMLError
	var je *idp.JWTError
	switch {
	case errors.As(err, &se):
		code, msg = se.Code, se.Message
	case errors.As(err, &je):
		code, msg = je.Code, je.Message
	}
	return errBadRequest(code, "%s", msg)
}

func (c *call) assumeRoleWithSAML() (string, error) {
	var v validator
	roleArn, _ := v.str(c.form, "RoleArn", "roleArn", true, 20, 2048, &patArn)
	principalArn, _ := v.str(c.form, "PrincipalArn", "principalArn", true, 20, 2048, &patArn)
	assertion, _ := v.str(c.form, "SAMLAssertion", "sAMLAssertion", true, 4, 100000, nil)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", roleMinDuration, roleMaxDuration, 0)
	if err != nil {
		return "", err
	}
	sp := v.policyParams(c.form)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return "", err
	}
	if err := sp.checkJSON(); err != nil {
		return "", err
	}
	const notAuthorizedSAML = "Not authorized to perform sts:AssumeRoleWithSAML"
	prov := c.s.saml[principalArn]
	if prov == nil {
		return "", errBadRequest("InvalidIdentityToken", "SAML provider %s does not exist.", principalArn)
	}
	// VerifySAML also enforces the RoleSessionName attribute's presence, length and characters.
	claims, err := idp.VerifySAML(assertion, prov.certs, idp.DefaultSAMLAudience, c.now)
	if err != nil {
		return "", idpError(err)
	}
	offered := false
	for _, rp := range claims.Roles {
		offered = offered || (rp.RoleArn == roleArn && rp.PrincipalArn == principalArn)
	}
	role := c.s.roles[roleArn]
	if !offered || role == nil || role.cfg.Account != prov.cfg.Account {
		return "", errAccessDenied(notAuthorizedSAML)
	}
	if d == 0 {
		d = roleDefaultDuration
		if claims.SessionDuration > 0 {
			d = claims.SessionDuration
		}
	}
	var tags []tag
	for _, name := range sortedKeys(claims.Attributes) {
		if k, ok := strings.CutPrefix(name, samlPrincipalTagPrefix); ok && len(claims.Attributes[name]) > 0 {
			tags = append(tags, tag{k, claims.Attributes[name][0]})
		}
	}
	trans := claims.Attributes[samlTransitiveTagKeys]
	sourceID := ""
	if s := claims.Attributes[samlSourceIdentity]; len(s) > 0 {
		sourceID = s[0]
	}
	if err := checkTags(tags, trans); err != nil {
		return "", err
	}
	nameQualifier := samlNameQualifier(claims.Issuer, prov.cfg.Account, prov.cfg.Name)
	ctx := map[string][]string{
		"saml:aud":              {claims.Audience},
		"saml:iss":              {claims.Issuer},
		"saml:sub":              {claims.Subject},
		"saml:sub_type":         {claims.SubjectType},
		"saml:namequalifier":    {nameQualifier},
		"aws:federatedprovider": {principalArn},
		"aws:currenttime":       {c.now.UTC().Format(time.RFC3339)},
		"sts:rolesessionname":   {claims.RoleSessionName},
	}
	actions := []string{"sts:AssumeRoleWithSAML"}
	if len(tags) > 0 {
		actions = append(actions, "sts:TagSession")
		addTagContext(ctx, tags, trans)
	}
	if sourceID != "" {
		actions = append(actions, "sts:SetSourceIdentity")
		ctx["sts:sourceidentity"] = []string{sourceID}
	}
	if ok, _ := role.trust.decide(trustRequest{Actions: actions, Federated: principalArn, Context: ctx, Expand: c.expander()}); !ok {
		return "", errAccessDenied(notAuthorizedSAML)
	}
	cr, packed, err := c.mintRoleSession(roleSessionRequest{role: role, session: claims.RoleSessionName, duration: d,
		policy: sp, tags: tags, transitive: trans, sourceIdentity: sourceID, minTokenSize: minSize})
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	b.el("Audience", claims.Audience)
	b.assumedRole(cr)
	b.el("Issuer", claims.Issuer)
	b.el("NameQualifier", nameQualifier)
	if packed > 0 {
		b.el("PackedPolicySize", itoa(packed))
	}
	if sourceID != "" {
		b.el("SourceIdentity", sourceID)
	}
	b.el("Subject", claims.Subject)
	b.el("SubjectType", claims.SubjectType)
	b.tokenSize(cr)
	return b.String(), nil
}

// samlNameQualifier is BASE64(SHA1(issuer + account + "/" + provider name)), as AWS documents it.
func samlNameQualifier(issuer, account, provider string) string {
	sum := sha1.Sum([]byte(issuer + account + "/" + provider))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// unverifiedIssuer reads iss from a JWT's payload without verifying it, only to choose the
// provider whose keys will then verify the token.
func unverifiedIssuer(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss == "" {
		return "", false
	}
	return claims.Iss, true
}

func sameIssuer(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

func (c *call) assumeRoleWithWebIdentity() (string, error) {
	var v validator
	roleArn, _ := v.str(c.form, "RoleArn", "roleArn", true, 20, 2048, &patArn)
	session, _ := v.str(c.form, "RoleSessionName", "roleSessionName", true, 2, 64, &patSessionName)
	token, _ := v.str(c.form, "WebIdentityToken", "webIdentityToken", true, 4, 20000, nil)
	_, hasProviderID := v.str(c.form, "ProviderId", "providerId", false, 4, 2048, nil)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", roleMinDuration, roleMaxDuration, roleDefaultDuration)
	if err != nil {
		return "", err
	}
	sp := v.policyParams(c.form)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return "", err
	}
	if err := sp.checkJSON(); err != nil {
		return "", err
	}
	if hasProviderID {
		return "", errBadRequest("InvalidParameterValue", "ProviderId is only for OAuth 2.0 access tokens (www.amazon.com, graph.facebook.com); omit it for OpenID Connect ID tokens.")
	}
	const notAuthorizedWeb = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	iss, ok := unverifiedIssuer(token)
	if !ok {
		return "", errBadRequest("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	role := c.s.roles[roleArn]
	if role == nil {
		return "", errAccessDenied(notAuthorizedWeb)
	}
	var prov *oidcProvider
	issuerURL := ""
	for _, p := range c.s.oidc {
		u := p.cfg.URL
		if u == BuiltinOIDC {
			u = c.builtinIssuer()
		}
		if p.cfg.Account == role.cfg.Account && sameIssuer(u, iss) {
			prov, issuerURL = p, u
			break
		}
	}
	if prov == nil {
		return "", errBadRequest("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s", iss)
	}
	jwks, err := c.providerKeys(prov)
	if err != nil {
		return "", err
	}
	claims, err := idp.VerifyJWT(token, jwks, issuerURL, c.now)
	if err != nil {
		return "", idpError(err)
	}
	aud := ""
	for _, a := range claims.Audience {
		if contains(prov.cfg.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return "", errBadRequest("InvalidIdentityToken", "Incorrect token audience")
	}
	name := oidcProviderName(issuerURL)
	provARN := oidcProviderARN(role.cfg.Account, name)
	tags, trans, err := webIdentityTags(claims.Raw)
	if err != nil {
		return "", err
	}
	ctx := map[string][]string{
		strings.ToLower(name + ":aud"): {aud},
		strings.ToLower(name + ":sub"): {claims.Subject},
		strings.ToLower(name + ":iss"): {claims.Issuer},
		"aws:federatedprovider":        {provARN},
		"aws:currenttime":              {c.now.UTC().Format(time.RFC3339)},
		"sts:rolesessionname":          {session},
	}
	if azp, ok := claims.Raw["azp"].(string); ok {
		ctx[strings.ToLower(name+":azp")] = []string{azp}
	}
	if amr, ok := claims.Raw["amr"].([]any); ok {
		for _, x := range amr {
			if s, ok := x.(string); ok {
				ctx[strings.ToLower(name+":amr")] = append(ctx[strings.ToLower(name+":amr")], s)
			}
		}
	}
	actions := []string{"sts:AssumeRoleWithWebIdentity"}
	if len(tags) > 0 {
		actions = append(actions, "sts:TagSession")
		addTagContext(ctx, tags, trans)
	}
	if ok, _ := role.trust.decide(trustRequest{Actions: actions, Federated: provARN, Context: ctx, Expand: c.expander()}); !ok {
		return "", errAccessDenied(notAuthorizedWeb)
	}
	cr, packed, err := c.mintRoleSession(roleSessionRequest{role: role, session: session, duration: d, policy: sp,
		tags: tags, transitive: trans, minTokenSize: minSize})
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	b.el("SubjectFromWebIdentityToken", claims.Subject)
	b.el("Audience", aud)
	b.assumedRole(cr)
	if packed > 0 {
		b.el("PackedPolicySize", itoa(packed))
	}
	b.el("Provider", claims.Issuer)
	b.tokenSize(cr)
	return b.String(), nil
}

// webIdentityTags reads session tags from the token's https://aws.amazon.com/tags claim:
// {"principal_tags": {"K": ["V"]}, "transitive_tag_keys": ["K"]}.
func webIdentityTags(raw map[string]any) ([]tag, []string, error) {
	obj, ok := raw[webIdentityTagsClaim].(map[string]any)
	if !ok {
		return nil, nil, nil
	}
	var tags []tag
	if pt, ok := obj["principal_tags"].(map[string]any); ok {
		for _, k := range sortedKeys(pt) {
			switch val := pt[k].(type) {
			case []any:
				if len(val) > 0 {
					tags = append(tags, tag{k, fmt.Sprint(val[0])})
				}
			case string:
				tags = append(tags, tag{k, val})
			}
		}
	}
	var trans []string
	if tk, ok := obj["transitive_tag_keys"].([]any); ok {
		for _, k := range tk {
			trans = append(trans, fmt.Sprint(k))
		}
	}
	return tags, trans, checkTags(tags, trans)
}

// providerKeys is the key set that verifies a provider's tokens: the configured one, the
// built-in issuer's, or the one its discovery document points at.
func (c *call) providerKeys(p *oidcProvider) (idp.JWKS, error) {
	switch {
	case p.jwks != nil:
		return *p.jwks, nil
	case p.cfg.URL == BuiltinOIDC:
		return c.s.oidcIssuer.JWKS(), nil
	}
	keys, err := c.s.jwksCache.get(c.r.Context(), p.cfg.URL)
	if err != nil {
		c.s.log.Sugar().Infow("OIDC key fetch failed", "issuer", p.cfg.URL, "error", err.Error())
		return idp.JWKS{}, errBadRequest("IDPCommunicationError",
			"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
	}
	return keys, nil
}

// jwksCache fetches and caches OIDC providers' key sets, as STS does for providers whose keys
// are not pinned.
type jwksCache struct {
	client  *http.Client
	mu      sync.Mutex
	entries map[string]jwksEntry
}

type jwksEntry struct {
	keys    idp.JWKS
	fetched time.Time
}

// jwksTTL is how long a fetched key set is reused.
const jwksTTL = 5 * time.Minute

func newJWKSCache() *jwksCache {
	return &jwksCache{client: &http.Client{Timeout: 5 * time.Second}, entries: map[string]jwksEntry{}}
}

func (j *jwksCache) get(ctx context.Context, issuer string) (idp.JWKS, error) {
	j.mu.Lock()
	e, ok := j.entries[issuer]
	j.mu.Unlock()
	if ok && time.Since(e.fetched) < jwksTTL {
		return e.keys, nil
	}
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := j.fetchJSON(ctx, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return idp.JWKS{}, err
	}
	if disc.JWKSURI == "" {
		return idp.JWKS{}, errors.New("discovery document has no jwks_uri")
	}
	var keys idp.JWKS
	if err := j.fetchJSON(ctx, disc.JWKSURI, &keys); err != nil {
		return idp.JWKS{}, err
	}
	j.mu.Lock()
	j.entries[issuer] = jwksEntry{keys: keys, fetched: time.Now()}
	j.mu.Unlock()
	return keys, nil
}

func (j *jwksCache) fetchJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v)
}

var signingAlgorithms = []string{"RS256", "ES384"}

func (c *call) getWebIdentityToken() (string, error) {
	var v validator
	ms := members(c.form, "Audience")
	var auds []string
	for _, m := range ms {
		a := m.fields[""]
		v.check(fmt.Sprintf("audience.%d.member", m.index), a, 1, 1000, nil)
		auds = append(auds, a)
	}
	switch {
	case len(auds) == 0:
		v.fail("audience", "", true, "Member must not be null")
	case len(auds) > 10:
		v.fail("audience", listText(auds), false, "Member must have length less than or equal to 10")
	}
	alg, hasAlg := v.str(c.form, "SigningAlgorithm", "signingAlgorithm", true, 1, 16, nil)
	if hasAlg && !contains(signingAlgorithms, alg) {
		v.fail("signingAlgorithm", alg, false, "Member must satisfy enum value set: [RS256, ES384]")
	}
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", witMinDuration, witMaxDuration, witDefaultDuration)
	if err != nil {
		return "", err
	}
	tags, _ := v.tagParams(c.form, false)
	if err := v.err(); err != nil {
		return "", err
	}
	if err := checkTags(tags, nil); err != nil {
		return "", err
	}
	p := &c.cred.p
	exp := c.now.Add(seconds(d)).Truncate(time.Second)
	claims := map[string]any{
		"iss": c.s.base(c.r) + stsIssuerPath,
		"sub": p.arn,
		"iat": c.now.Unix(),
		"nbf": c.now.Unix(),
		"exp": exp.Unix(),
		"jti": newRequestID(),
		"https://sts.amazonaws.com/": map[string]any{
			"aws_account":     p.account,
			"principal_id":    p.principalArnKey(),
			"source_region":   c.region,
			"org_id":          orgIDFor(c.s.org, p.account),
			"principal_tags":  principalTagClaims(p),
			"source_identity": p.sourceIdentity,
		},
	}
	if len(auds) == 1 {
		claims["aud"] = auds[0]
	} else {
		claims["aud"] = auds
	}
	if len(tags) > 0 {
		m := map[string]string{}
		for _, t := range tags {
			m[t.Key] = t.Value
		}
		claims[witTagsClaim] = m
	}
	jwt, err := c.s.witSigners[alg].Sign(claims)
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	b.el("WebIdentityToken", jwt)
	b.el("Expiration", exp.UTC().Format(time.RFC3339))
	return b.String(), nil
}

func orgIDFor(org *Organization, account string) string {
	if org == nil || (org.ManagementAccount != account && !contains(org.Members, account)) {
		return ""
	}
	return orgID(org)
}

func principalTagClaims(p *principal) map[string]string {
	out := map[string]string{}
	for _, t := range p.tags {
		out[t.Key] = t.Value
	}
	return out
}

// The non-AWS routes of the demo identity providers.

func (s *Server) handleOIDCDiscovery(w http.ResponseWriter, r *http.Request) {
	if s.oidcIssuer == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "the config has no built-in OIDC provider (url \"localsts\")"})
		return
	}
	iss := s.base(r) + oidcIssuerPath
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "jwks_uri": iss + "/jwks.json", "token_endpoint": iss + "/token",
		"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "claims_supported": []string{"sub", "aud", "iss", "exp", "iat"},
	})
}

func (s *Server) handleOIDCJWKS(w http.ResponseWriter, r *http.Request) {
	if s.oidcIssuer == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "the config has no built-in OIDC provider"})
		return
	}
	writeJSON(w, http.StatusOK, s.oidcIssuer.JWKS())
}

// oidcTokenRequest is the body of POST /_localsts/oidc/token.
type oidcTokenRequest struct {
	Sub       string         `json:"sub"`
	Aud       string         `json:"aud"`
	ExpiresIn int            `json:"expiresIn"`
	Claims    map[string]any `json:"claims"`
}

// handleOIDCToken mints an ID token from the built-in issuer, for demos and tests: the part a
// real IdP's login flow would play.
func (s *Server) handleOIDCToken(w http.ResponseWriter, r *http.Request) {
	if s.oidcIssuer == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "the config has no built-in OIDC provider"})
		return
	}
	var req oidcTokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Sub == "" || req.Aud == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sub and aud are required"})
		return
	}
	if req.ExpiresIn == 0 {
		req.ExpiresIn = 3600
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > 86400 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expiresIn must be 1–86400 seconds"})
		return
	}
	now := s.now()
	claims := map[string]any{}
	for k, v := range req.Claims {
		claims[k] = v
	}
	exp := now.Add(seconds(req.ExpiresIn))
	for k, v := range map[string]any{"iss": s.base(r) + oidcIssuerPath, "sub": req.Sub, "aud": req.Aud,
		"iat": now.Unix(), "exp": exp.Unix()} {
		claims[k] = v
	}
	tok, err := s.oidcIssuer.Sign(claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expiresAt": exp.UTC().Format(time.RFC3339)})
}

func (s *Server) handleSTSDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.base(r) + stsIssuerPath
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "jwks_uri": iss + "/jwks.json",
		"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": signingAlgorithms,
	})
}

func (s *Server) handleSTSJWKS(w http.ResponseWriter, r *http.Request) {
	var set idp.JWKS
	for _, alg := range signingAlgorithms {
		set.Keys = append(set.Keys, s.witSigners[alg].PublicJWK())
	}
	writeJSON(w, http.StatusOK, set)
}

// samlAssertionRequest is the body of POST /_localsts/saml/assertion.
type samlAssertionRequest struct {
	// Provider is the SAML provider ARN; default the first one the server generated an IdP for.
	Provider        string              `json:"provider"`
	Subject         string              `json:"subject"`
	Roles           []string            `json:"roles"`
	RoleSessionName string              `json:"roleSessionName"`
	SessionDuration int                 `json:"sessionDuration"`
	Audience        string              `json:"audience"`
	Attributes      map[string][]string `json:"attributes"`
	ExpiresIn       int                 `json:"expiresIn"`
}

// generatedIdP returns the demo IdP of the named provider, or of the first one by ARN.
func (s *Server) generatedIdP(arn string) *samlProvider {
	if arn != "" {
		if p := s.saml[arn]; p != nil && p.idp != nil {
			return p
		}
		return nil
	}
	for _, a := range sortedKeys(s.saml) {
		if s.saml[a].idp != nil {
			return s.saml[a]
		}
	}
	return nil
}

// handleSAMLAssertion has a demo IdP issue a signed SAML response, as a real IdP would after
// login, for AssumeRoleWithSAML.
func (s *Server) handleSAMLAssertion(w http.ResponseWriter, r *http.Request) {
	var req samlAssertionRequest
	if !readJSON(w, r, &req) {
		return
	}
	p := s.generatedIdP(req.Provider)
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no SAML provider with a server-generated IdP (one without certificatePem) matches"})
		return
	}
	if req.Subject == "" || len(req.Roles) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "subject and roles are required"})
		return
	}
	now := s.now()
	opts := idp.AssertionOptions{Subject: req.Subject, Roles: req.Roles, RoleSessionName: req.RoleSessionName,
		SessionDuration: req.SessionDuration, Audience: req.Audience, Attributes: req.Attributes, IssueInstant: now}
	if req.ExpiresIn > 0 {
		opts.NotOnOrAfter = now.Add(seconds(req.ExpiresIn))
	}
	a, err := p.idp.Assertion(opts)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"samlAssertion": a, "provider": p.arn})
}

// handleSAMLMetadata serves a generated IdP's SAML metadata (?provider=ARN, default the first).
func (s *Server) handleSAMLMetadata(w http.ResponseWriter, r *http.Request) {
	p := s.generatedIdP(r.URL.Query().Get("provider"))
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no SAML provider with a server-generated IdP matches"})
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	io.WriteString(w, p.idp.Metadata())
}
