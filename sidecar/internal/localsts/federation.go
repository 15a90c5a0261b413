package localsts

import (
	"errors"
	"strings"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// Paths of the demo identity providers and of GetWebIdentityToken's issuer.
const (
	oidcIssuerPath = "/_localsts/oidc"
	stsIssuerPath  = "/_localsts/sts"
)

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

// idpError turns a failed assertion or token check into STS's error: the verifier's own code
// and message when it has one, InvalidIdentityToken otherwise.
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
