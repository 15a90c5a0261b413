package localsts

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// ssoMaxBody bounds an Identity Center request body: the largest legal one, a CreateToken with
// a refresh token and a few scopes, is a few KiB.
const ssoMaxBody = 64 << 10

// ssoError is an error of the Identity Center APIs. The OIDC service answers its errors as
// {"error": OAUTH_CODE, "error_description": MESSAGE} (oauth set); the portal as
// {"message": MESSAGE}. Both name the exception in the x-amzn-ErrorType header, which is what
// the SDKs read.
type ssoError struct {
	status  int
	code    string
	oauth   string
	message string
}

func (e *ssoError) Error() string { return e.code + ": " + e.message }

// The portal's errors.
var (
	errSSOUnauthorized = &ssoError{status: http.StatusUnauthorized, code: "UnauthorizedException", message: "Session token not found or invalid"}
	errSSOForbidden    = &ssoError{status: http.StatusForbidden, code: "ForbiddenException", message: "No access"}
)

func errSSOInvalid(msg string) *ssoError {
	return &ssoError{status: http.StatusBadRequest, code: "InvalidRequestException", message: msg}
}

// oidcError is an error of the OIDC service with its OAuth 2.0 error code.
func oidcError(status int, code, oauth, msg string) *ssoError {
	return &ssoError{status: status, code: code, oauth: oauth, message: msg}
}

// The OIDC service's errors, as the SDK's ssooidc types name them.
func errOIDCInvalidRequest(msg string) *ssoError {
	return oidcError(http.StatusBadRequest, "InvalidRequestException", "invalid_request", msg)
}

func errOIDCInvalidClient(msg string) *ssoError {
	return oidcError(http.StatusUnauthorized, "InvalidClientException", "invalid_client", msg)
}

func errOIDCInvalidGrant(msg string) *ssoError {
	return oidcError(http.StatusBadRequest, "InvalidGrantException", "invalid_grant", msg)
}

// ssoCall is one Identity Center request being served.
type ssoCall struct {
	s         *Server
	r         *http.Request
	now       time.Time
	action    string
	requestID string
	// fields are added to the request's log line (never a secret).
	fields []zap.Field
}

// ssoOperation is one Identity Center API operation and its route.
type ssoOperation struct {
	route  string
	action string
	oidc   bool // the OIDC service (OAuth error shape), not the portal
	run    func(*ssoCall) (any, *ssoError)
}

var ssoOperations = []ssoOperation{
	{"POST /client/register", "RegisterClient", true, (*ssoCall).registerClient},
	{"POST /device_authorization", "StartDeviceAuthorization", true, (*ssoCall).startDeviceAuthorization},
	{"POST /token", "CreateToken", true, (*ssoCall).createToken},
	{"GET /federation/credentials", "GetRoleCredentials", false, (*ssoCall).getRoleCredentials},
	{"GET /assignment/accounts", "ListAccounts", false, (*ssoCall).listAccounts},
	{"GET /assignment/roles", "ListAccountRoles", false, (*ssoCall).listAccountRoles},
	{"POST /logout", "Logout", false, (*ssoCall).logout},
}

// ssoHandler serves one Identity Center operation: run answers a JSON result (nil for an empty
// 200 body, as Logout's) or an error in the service's shape, and the request is logged with its
// action, status, error code and request id, never with a token.
func (s *Server) ssoHandler(action string, oidc bool, run func(*ssoCall) (any, *ssoError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		c := &ssoCall{s: s, r: r, now: s.now(), action: action, requestID: newRequestID()}
		r.Body = http.MaxBytesReader(w, r.Body, ssoMaxBody)
		var out any
		var serr *ssoError
		if s.cfg.SSO == nil {
			serr = &ssoError{status: http.StatusNotFound, code: "ResourceNotFoundException",
				message: "This local STS serves no IAM Identity Center: its config has no sso section."}
			if oidc {
				serr.oauth = "invalid_request"
			}
		} else {
			out, serr = run(c)
		}
		w.Header().Set("x-amzn-RequestId", c.requestID)
		status := http.StatusOK
		fields := append([]zap.Field{zap.String("action", action), zap.String("requestId", c.requestID)}, c.fields...)
		switch {
		case serr != nil:
			status = serr.status
			w.Header().Set("x-amzn-ErrorType", serr.code)
			if serr.oauth != "" {
				writeJSON(w, status, map[string]string{"error": serr.oauth, "error_description": serr.message})
			} else {
				writeJSON(w, status, map[string]string{"message": serr.message})
			}
			fields = append(fields, zap.String("errorCode", serr.code))
		case out == nil:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, out)
		}
		fields = append(fields, zap.Int("status", status), zap.Duration("duration", time.Since(start)))
		s.log.Info("sso request", fields...)
	}
}

// readBody decodes the JSON object of an OIDC request into v. Unknown members are ignored, as
// the service does, so newer clients keep working; a body that is too large, not JSON, or has a
// member of the wrong type is an invalid_request.
func (c *ssoCall) readBody(v any) *ssoError {
	if c.r.ContentLength > ssoMaxBody {
		return c.tooLarge()
	}
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return c.tooLarge()
		}
		return errOIDCInvalidRequest("The request body could not be read in full.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errOIDCInvalidRequest("The request body is not a JSON object of this operation's members.")
	}
	return nil
}

func (c *ssoCall) tooLarge() *ssoError {
	return oidcError(http.StatusRequestEntityTooLarge, "InvalidRequestException", "invalid_request",
		"The request body is larger than 64 KiB.")
}
