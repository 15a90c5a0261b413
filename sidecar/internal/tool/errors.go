package tool

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/profiles"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
)

// Error is a failure the client or the model can act on: Message says what happened, Hint what
// to try next. Every error the sidecar's methods and commands return is one; a front end sends it
// as it is (RPCError for JSON-RPC) or reads its fields.
type Error struct {
	// Code is the protocol error code.
	Code int64
	// Message is the full explanation.
	Message string
	// Hint is the next step to try.
	Hint string
	// AWSCode is STS's error code, when STS answered.
	AWSCode string
	// RequestID is STS's request id, when STS answered.
	RequestID string
	// Command is the STSTool command that failed.
	Command string
	// SSOSession names the IAM Identity Center sign-in a SignInRequired error needs.
	SSOSession string
	// hintApart keeps the hint out of the message sent: a method's error (sessions/*, settings)
	// carries it in data only, for a client that shows both; a command's error repeats it in the
	// message, which is all the model reads.
	hintApart bool
}

// Error is the message and, when there is one, the next step.
func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + "\n\nWhat to do: " + e.Hint
}

// Kind is data.kind for the error's code.
func (e *Error) Kind() string { return protocol.ErrorKind(e.Code) }

// Data is the JSON-RPC error's data member.
func (e *Error) Data() protocol.ErrorData {
	return protocol.ErrorData{Kind: e.Kind(), AWSCode: e.AWSCode, RequestID: e.RequestID, Hint: e.Hint, Command: e.Command, SsoSession: e.SSOSession}
}

// RPCError is the error as a JSON-RPC peer receives it: its code, its message and its data.
func (e *Error) RPCError() (code int64, message string, data any) {
	message = e.Error()
	if e.hintApart {
		message = e.Message
	}
	return e.Code, message, e.Data()
}

// methodError is an error of a method other than tool/invoke.
func methodError(code int64, message, hint string) *Error {
	return &Error{Code: code, Message: message, Hint: hint, hintApart: true}
}

// Failure is err as an *Error, scrubbed of every secret the runner has seen: an *Error as it is,
// anything else as an internal error that names only the command (its cause, which may quote
// anything, belongs in the log).
func (r *Runner) Failure(command string, err error) *Error {
	var te *Error
	if !errors.As(err, &te) {
		te = methodError(protocol.CodeInternalError, command+" failed; see the log", "")
	}
	out := *te
	out.Message, out.Hint = r.Secrets.Scrub(te.Message), r.Secrets.Scrub(te.Hint)
	out.AWSCode, out.RequestID = r.Secrets.Scrub(te.AWSCode), r.Secrets.Scrub(te.RequestID)
	return &out
}

func invalidParams(command, format string, args ...any) *Error {
	return &Error{Code: protocol.CodeInvalidParams, Command: command, Message: fmt.Sprintf(format, args...)}
}

// sessionError is a command's error for a session that cannot be used.
func sessionError(command string, err error) *Error {
	return &Error{
		Code:    protocol.CodeSessionError,
		Command: command,
		Message: err.Error(),
		Hint:    "ListSessions shows the stored sessions; commands that mint credentials (AssumeRole, GetSessionToken, …) store new ones.",
	}
}

// SessionError is a sessions/* method's error for a session that cannot be used.
func SessionError(err error) *Error {
	return methodError(protocol.CodeSessionError, err.Error(), "sessions/list shows the stored sessions.")
}

// RequireSessionName refuses a sessions/* method's missing session name (what says what the name
// is for) and a name no stored session can have.
func RequireSessionName(name, what string) error {
	if name == "" {
		return methodError(protocol.CodeInvalidParams, `params need "name": `+what, "")
	}
	return storableName(name)
}

// storableName refuses a name no stored session can have (longer than SessionName allows), so
// that errors, which quote the name, never quote a long one.
func storableName(name string) error {
	if limit := protocol.ParamSessionName.MaxLength; utf8.RuneCountInString(name) > limit {
		return SessionError(fmt.Errorf("%w: there is no session %q; session names are at most %d characters", session.ErrNotFound, clip.Echo(name), limit))
	}
	return nil
}

// signInCodes are the service error codes that mean an IAM Identity Center sign-in is over: the
// portal refused the access token, or the OIDC service refused to renew it.
var signInCodes = map[string]bool{
	"UnauthorizedException": true, "InvalidGrantException": true, "ExpiredTokenException": true,
	"InvalidClientException": true, "UnauthorizedClientException": true,
}

// isSignInError tells whether err is the SDK's failure to get an SSO profile's credentials because
// its sign-in is missing, expired or refused, and not because the network or an endpoint failed.
func isSignInError(err error) bool {
	var invalid *ssocreds.InvalidTokenError
	if errors.As(err, &invalid) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return signInCodes[apiErr.ErrorCode()]
	}
	// The SDK's token provider: no cache file, or an expired token it cannot renew (a network
	// failure while renewing it is not a sign-in problem).
	var opErr *net.OpError
	var urlErr *url.Error
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &urlErr) || errors.As(err, &dnsErr) {
		return false
	}
	text := err.Error()
	return strings.Contains(text, "failed to read cached SSO token file") || strings.Contains(text, "cached SSO token is expired") ||
		strings.Contains(text, "cached SSO token must contain")
}

// signInRequired is a command's error when the identity that signs is an IAM Identity Center
// profile whose sign-in is missing or over (nil otherwise): the model is told what happened and
// that the user is asked to sign in, which the model cannot do itself. configPath is the shared
// config file; profile the signing profile ("" for the default one).
func signInRequired(cc callContext, err error, configPath string) *Error {
	profile := cc.profile
	if profile == "" {
		profile = cmp.Or(os.Getenv("AWS_PROFILE"), "default")
	}
	name := profiles.SSOSessionOf(configPath, profile)
	if name == "" || !isSignInError(err) {
		return nil
	}
	return &Error{
		Code:       protocol.CodeSignInRequired,
		Command:    cc.command,
		SSOSession: name,
		Message: fmt.Sprintf("%s was not run: %s signs in through IAM Identity Center (%s), and that sign-in has expired or is missing and could not be renewed. "+
			"The user has been asked to sign in again.", cc.command, cc.identity, name),
		Hint: fmt.Sprintf("Tell the user that IAM Identity Center sign-in %q is needed, and run %s again once they have signed in; you cannot start a sign-in yourself.", name, cc.command),
	}
}

// ImportError is sessions/import's error for entries that are not as sessions/export wrote them.
func ImportError(err error) *Error {
	return methodError(protocol.CodeInvalidParams, err.Error(), "Pass sessions exactly as sessions/export returned them.")
}

// ProfilesError is profiles/list's error for a shared config file that cannot be read.
func ProfilesError(err error) *Error {
	return methodError(protocol.CodeInvalidParams, err.Error(), "Fix the shared AWS config file (AWS_CONFIG_FILE or ~/.aws/config).")
}

// InvalidSetting is the error for a setting that breaks its rule; the field is named as the
// protocol names it, and the hint as the user finds it in VS Code.
func InvalidSetting(name, problem string) *Error {
	return methodError(protocol.CodeInvalidParams, fmt.Sprintf("settings.%s %s; no setting was changed", name, problem), "Fix the awsflowSts."+name+" setting.")
}

// profileNameError is sessions/writeProfile's error for a profile name the file cannot take.
func profileNameError(err error) *Error {
	return methodError(protocol.CodeInvalidParams, "profile: "+err.Error(), "Choose a profile name such as the session's name.")
}

// notCredentialsError is sessions/writeProfile's error for a session that holds a token.
func notCredentialsError(name string) *Error {
	return methodError(protocol.CodeInvalidParams,
		protocol.TokenNotCredentials(name, "be written as a profile"),
		"Choose a session made by AssumeRole, GetSessionToken or the like.")
}

// writeError is sessions/writeProfile's error for a credentials file that was not written; scrub
// removes secrets from its text.
func writeError(err error, scrub func(string) string) *Error {
	msg := scrub(err.Error())
	switch {
	case errors.Is(err, credfile.ErrLongTermKeys):
		return methodError(protocol.CodeRuleViolation, msg, "Choose another profile name, or confirm replacing the long-term keys (overwriteLongTermKeys).")
	case errors.Is(err, credfile.ErrBusy):
		// Another program holds the file: nothing is wrong with the request, and it may be retried.
		return methodError(protocol.CodeServerBusy, msg, "Close the program using the credentials file (the AWS CLI, an SDK or another awsflow-sts) and try again; the file was not changed.")
	}
	return methodError(protocol.CodeInvalidParams, msg, "Check the path and its permissions; the file was not changed.")
}
