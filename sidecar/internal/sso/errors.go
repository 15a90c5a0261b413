package sso

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// Error is a failure of a sign-in method, in the form a JSON-RPC client receives it: Message says
// what happened, Hint what to do, SSOSession which sign-in it concerns.
type Error struct {
	// Code is the protocol error code.
	Code int64
	// Message is the full explanation; it never holds a secret.
	Message string
	// Hint is the next step to try.
	Hint string
	// AWSCode is the service's error code, when it answered with one.
	AWSCode string
	// SSOSession names the sign-in (data.ssoSession), for SignInRequired.
	SSOSession string
}

// Error is the message and, when there is one, the next step.
func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + " " + e.Hint
}

// RPCError is the error as a JSON-RPC peer receives it; the hint travels in data.
func (e *Error) RPCError() (code int64, message string, data any) {
	d := protocol.ErrorData{Kind: protocol.ErrorKind(e.Code), AWSCode: e.AWSCode, Hint: e.Hint}
	if e.Code == protocol.CodeSignInRequired {
		d.SsoSession = e.SSOSession
	}
	return e.Code, e.Message, d
}

func invalid(format string, args ...any) *Error {
	return &Error{Code: protocol.CodeInvalidParams, Message: fmt.Sprintf(format, args...)}
}

// signInRequired is the error of a call that needs the user to sign in to name again.
func signInRequired(name, why string) *Error {
	return &Error{
		Code:       protocol.CodeSignInRequired,
		SSOSession: name,
		Message:    fmt.Sprintf("The IAM Identity Center sign-in %q is not usable: %s.", name, why),
		Hint:       "Sign in again (sso/login, or the palette's Sign In to IAM Identity Center…), then retry.",
	}
}

// serviceError explains a failed call to the OIDC service or the portal (what names it). It tells
// a cancelled call, a timeout, an unreachable endpoint and a service's refusal apart.
func serviceError(name, what string, err error) *Error {
	var te *stsops.TimeoutError
	var api smithy.APIError
	switch {
	case errors.As(err, &te):
		return &Error{Code: protocol.CodeNetworkError, SSOSession: name,
			Message: fmt.Sprintf("%s got no answer within %d s.", what, te.Seconds),
			Hint:    "Check the network and proxy (and AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL_SSO if set), then try again; raise awsflowSts.requestTimeoutSeconds if IAM Identity Center is only slow."}
	case errors.Is(err, context.Canceled):
		return &Error{Code: protocol.CodeRequestCancelled, SSOSession: name, Message: what + " was cancelled."}
	case errors.As(err, &api):
		return &Error{Code: protocol.CodeAWSError, SSOSession: name, AWSCode: api.ErrorCode(),
			Message: fmt.Sprintf("%s was refused with %s: %s", what, api.ErrorCode(), api.ErrorMessage()),
			Hint:    "Check the sso-session's sso_start_url and sso_region in the shared config."}
	case unreachable(err):
		return &Error{Code: protocol.CodeNetworkError, SSOSession: name,
			Message: fmt.Sprintf("%s failed: IAM Identity Center could not be reached (%s).", what, stsops.Brief(err)),
			Hint:    "Check the network and proxy, the sso_region, and AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL_SSO if set, then try again."}
	}
	return &Error{Code: protocol.CodeInternalError, SSOSession: name, Message: fmt.Sprintf("%s failed: %s", what, stsops.Brief(err))}
}

// unreachable tells whether err is a network failure, not an answer.
func unreachable(err error) bool {
	var ne net.Error
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.As(err, &oe)
}

// apiCode is the service's error code in err, or "".
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// rejected tells whether the OIDC service refused a refresh for good: the refresh token or the
// client registration is no longer valid, so only a new sign-in helps.
func rejected(err error) bool {
	switch apiCode(err) {
	case "InvalidGrantException", "ExpiredTokenException", "InvalidClientException", "UnauthorizedClientException",
		"AccessDeniedException", "invalid_grant", "invalid_client", "unauthorized_client", "expired_token", "access_denied":
		return true
	}
	return false
}
