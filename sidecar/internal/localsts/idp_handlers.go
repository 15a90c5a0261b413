package localsts

import (
	"io"
	"net/http"
	"time"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// The non-AWS routes of the demo identity providers, and the discovery and key routes that let
// relying parties verify the tokens of the built-in issuer and of GetWebIdentityToken.

// handleOIDCDiscovery serves the built-in issuer's OpenID configuration, which JWKS-fetching
// clients read first.
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

// handleOIDCJWKS serves the built-in issuer's public keys.
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

// handleSTSDiscovery serves the OpenID configuration of GetWebIdentityToken's issuer, so its
// tokens verify like those of AWS's own issuer.
func (s *Server) handleSTSDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.base(r) + stsIssuerPath
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "jwks_uri": iss + "/jwks.json",
		"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": signingAlgorithms,
	})
}

// handleSTSJWKS serves the public keys of every GetWebIdentityToken signing algorithm.
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
