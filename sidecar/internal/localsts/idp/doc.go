// Package idp is the cryptographic half of the local STS: it mints and verifies the SAML
// assertions and OIDC web identity tokens that AssumeRoleWithSAML and AssumeRoleWithWebIdentity
// accept, and signs the JWTs that GetWebIdentityToken returns.
//
// Minting exists so that offline demos and tests can act as the identity provider
// (SAMLIdP for SAML, Signer for OIDC); verification follows what AWS STS checks, and every
// failure carries the STS error code a client would see, so callers can pass it through.
// Error messages never repeat the assertion or token, because both are bearer credentials
// that must not end up in logs.
package idp

import "time"

// STS error codes carried by SAMLError and JWTError.
const (
	// CodeInvalidIdentityToken is the code STS returns for a token or assertion it cannot trust:
	// bad signature, unknown key, malformed content, wrong audience or issuer.
	CodeInvalidIdentityToken = "InvalidIdentityToken"
	// CodeExpiredToken is the code STS returns when the token or assertion has expired.
	CodeExpiredToken = "ExpiredTokenException"
)

// ClockSkew is how far a NotBefore, nbf or iat may lie in the future and still be accepted,
// because identity provider and STS clocks are never exactly in step.
const ClockSkew = 5 * time.Minute
