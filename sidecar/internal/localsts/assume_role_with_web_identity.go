package localsts

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// webIdentityTagsClaim is the claim that carries session tags in an OIDC token, and the claim
// under which GetWebIdentityToken writes the caller's request tags.
const webIdentityTagsClaim = "https://aws.amazon.com/tags"

// notAuthorizedWeb is the one AccessDenied message for a role that is missing or does not trust
// the provider, so callers cannot tell which.
const notAuthorizedWeb = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

// webIdentityRequest is an AssumeRoleWithWebIdentity request's validated parameters.
type webIdentityRequest struct {
	roleArn      string
	session      string
	token        string
	duration     int
	policy       sessionPolicy
	minTokenSize int
}

// webIdentity is a verified token together with the role it is for and the provider that
// vouched for it.
type webIdentity struct {
	role      *roleEntry
	issuerURL string // the provider's URL, the built-in issuer's resolved for this request
	claims    *idp.JWTClaims
	aud       string // the token audience that is one of the provider's client IDs
}

func (c *call) assumeRoleWithWebIdentity() (string, error) {
	req, err := c.webIdentityParams()
	if err != nil {
		return "", err
	}
	id, err := c.verifyWebIdentity(req)
	if err != nil {
		return "", err
	}
	name := oidcProviderName(id.issuerURL)
	provARN := oidcProviderARN(id.role.cfg.Account, name)
	tags, trans, err := webIdentityTags(id.claims.Raw)
	if err != nil {
		return "", err
	}
	if err := c.checkWebIdentityTrust(id, name, provARN, req.session, tags, trans); err != nil {
		return "", err
	}
	cr, packed, err := c.mintRoleSession(roleSessionRequest{role: id.role, session: req.session, duration: req.duration,
		policy: req.policy, tags: tags, transitive: trans, minTokenSize: req.minTokenSize})
	if err != nil {
		return "", err
	}
	return webIdentityResponse(id, cr, packed), nil
}

// webIdentityParams reads and validates the request's parameters, before the token is looked at.
func (c *call) webIdentityParams() (webIdentityRequest, error) {
	var v validator
	roleArn, _ := v.str(c.form, "RoleArn", "roleArn", true, 20, 2048, &patArn)
	session, _ := v.str(c.form, "RoleSessionName", "roleSessionName", true, 2, 64, &patSessionName)
	token, _ := v.str(c.form, "WebIdentityToken", "webIdentityToken", true, 4, 20000, nil)
	_, hasProviderID := v.str(c.form, "ProviderId", "providerId", false, 4, 2048, nil)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", roleMinDuration, roleMaxDuration, roleDefaultDuration)
	if err != nil {
		return webIdentityRequest{}, err
	}
	sp := v.policyParams(c.form)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return webIdentityRequest{}, err
	}
	if err := sp.checkJSON(); err != nil {
		return webIdentityRequest{}, err
	}
	if hasProviderID {
		return webIdentityRequest{}, errBadRequest("InvalidParameterValue", "ProviderId is only for OAuth 2.0 access tokens (www.amazon.com, graph.facebook.com); omit it for OpenID Connect ID tokens.")
	}
	return webIdentityRequest{roleArn: roleArn, session: session, token: token, duration: d, policy: sp,
		minTokenSize: minSize}, nil
}

// verifyWebIdentity finds the role and the provider the token's issuer names in the role's
// account, verifies the token with that provider's keys and matches its audience.
func (c *call) verifyWebIdentity(req webIdentityRequest) (*webIdentity, error) {
	iss, ok := unverifiedIssuer(req.token)
	if !ok {
		return nil, errBadRequest("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	role := c.s.roles[req.roleArn]
	if role == nil {
		return nil, errAccessDenied(notAuthorizedWeb)
	}
	prov, issuerURL := c.oidcProviderFor(role.cfg.Account, iss)
	if prov == nil {
		return nil, errBadRequest("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s", iss)
	}
	jwks, err := c.providerKeys(prov)
	if err != nil {
		return nil, err
	}
	claims, err := idp.VerifyJWT(req.token, jwks, issuerURL, c.now)
	if err != nil {
		return nil, idpError(err)
	}
	aud := ""
	for _, a := range claims.Audience {
		if contains(prov.cfg.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return nil, errBadRequest("InvalidIdentityToken", "Incorrect token audience")
	}
	return &webIdentity{role: role, issuerURL: issuerURL, claims: claims, aud: aud}, nil
}

// oidcProviderFor is the account's first provider for the issuer, and its URL with the built-in
// issuer resolved; nil when the account has none.
func (c *call) oidcProviderFor(account, iss string) (*oidcProvider, string) {
	for _, p := range c.s.oidc {
		u := p.cfg.URL
		if u == BuiltinOIDC {
			u = c.builtinIssuer()
		}
		if p.cfg.Account == account && sameIssuer(u, iss) {
			return p, u
		}
	}
	return nil, ""
}

// checkWebIdentityTrust asks the role's trust policy for every action the session needs, with
// the provider's condition keys (aud, sub, iss, azp, amr) AWS sets from the token.
func (c *call) checkWebIdentityTrust(id *webIdentity, name, provARN, session string, tags []tag, trans []string) error {
	claims := id.claims
	ctx := map[string][]string{
		strings.ToLower(name + ":aud"): {id.aud},
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
	if ok, _ := id.role.trust.decide(trustRequest{Actions: actions, Federated: provARN, Context: ctx, Expand: c.expander()}); !ok {
		return errAccessDenied(notAuthorizedWeb)
	}
	return nil
}

// webIdentityResponse is the AssumeRoleWithWebIdentityResult body, its elements in AWS's order.
func webIdentityResponse(id *webIdentity, cr *credential, packed int) string {
	var b xmlBuilder
	b.el("SubjectFromWebIdentityToken", id.claims.Subject)
	b.el("Audience", id.aud)
	b.assumedRole(cr)
	if packed > 0 {
		b.el("PackedPolicySize", itoa(packed))
	}
	b.el("Provider", id.claims.Issuer)
	b.tokenSize(cr)
	return b.String()
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

// sameIssuer compares issuer URLs as OIDC providers are registered: a trailing slash does not count.
func sameIssuer(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

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
