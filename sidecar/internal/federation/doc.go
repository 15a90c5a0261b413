// Package federation shows what is inside the credentials STS federation
// calls consume — SAML responses for AssumeRoleWithSAML and web identity
// tokens (JWTs) for AssumeRoleWithWebIdentity — without exposing them.
//
// The sidecar's output goes to an AI model and these inputs are bearer
// secrets, so nothing here returns the assertion or token itself, and error
// messages never quote any part of the input. Nothing is verified: these
// parsers only explain what STS will be asked to trust.
package federation
