package localsts

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"go.uber.org/zap"
)

// SSO is the part of IAM Identity Center that SSO profiles need: the access tokens its portal
// accepts and the roles each may get. A token stands for what `aws sso login` caches in
// ~/.aws/sso/cache; the portal's GetRoleCredentials (GET /federation/credentials) trades it for a
// session of one of its roles, as the SDK does for a profile with sso_account_id and
// sso_role_name.
type SSO struct {
	// AccessTokens are the portal's valid access tokens.
	AccessTokens []SSOAccessToken `json:"accessTokens"`
}

// SSOAccessToken is one signed-in Identity Center user's access token and what it may get.
type SSOAccessToken struct {
	// Token is the opaque access token, as the token cache file's accessToken holds it.
	Token string `json:"token"`
	// User is the Identity Center user name; it becomes the role session name, so
	// GetCallerIdentity answers arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_PS_SUFFIX/USER.
	User string `json:"user"`
	// ExpiresAt, an RFC 3339 time, ends the token like a lapsed sign-in; empty means it never
	// expires.
	ExpiresAt string `json:"expiresAt,omitempty"`
	// RoleArns are the roles the user is assigned, one per (account, permission set). Each must be
	// a role in roles named AWSReservedSSO_<PermissionSet>_<16 hex digits>, as Identity Center
	// names the roles it provisions; GetRoleCredentials's role_name is the permission set.
	RoleArns []string `json:"roleArns"`
}

// ssoSessionSeconds is how long issued credentials last: the permission set's default session
// duration, one hour.
const ssoSessionSeconds = 3600

// ssoTokenRE is what a token may look like (8–2048 of these characters): it travels in an HTTP
// header and a JSON file.
var ssoTokenRE = regexp.MustCompile(`^[\x21-\x7e]+$`)

// ssoRoleRE is Identity Center's name for a provisioned role: the permission set's name between
// AWSReservedSSO_ and a 16-hex-digit suffix. Permission set names may contain underscores, so the
// suffix is the part after the last one.
var ssoRoleRE = regexp.MustCompile(`^AWSReservedSSO_([\w+=,.@-]{1,32})_[0-9a-f]{16}$`)

// ssoSessionNameRE is the role session name pattern, which the user name must satisfy.
var ssoSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// permissionSetOf returns the permission set of an Identity Center role name.
func permissionSetOf(roleName string) (string, bool) {
	m := ssoRoleRE.FindStringSubmatch(roleName)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// sso checks the SSO section; it runs once roles are known.
func (v *configCheck) sso() {
	s := v.cfg.SSO
	if s == nil {
		return
	}
	if len(s.AccessTokens) == 0 {
		v.errorf("sso.accessTokens: at least one access token is required")
	}
	seen := map[string]string{} // token → where it was seen
	for i, t := range s.AccessTokens {
		// The token is a secret, so places name the user instead.
		at := fmt.Sprintf("sso.accessTokens[%d] (%s)", i, t.User)
		if len(t.Token) < 8 || len(t.Token) > 2048 || !ssoTokenRE.MatchString(t.Token) {
			v.errorf("%s: token must be 8–2048 printable ASCII characters without spaces", at)
		} else if prev, dup := seen[t.Token]; dup {
			v.errorf("%s: token is already used by %s", at, prev)
		} else {
			seen[t.Token] = at
		}
		if !ssoSessionNameRE.MatchString(t.User) {
			v.errorf("%s: user %q must be 2–64 characters of letters, digits and +=,.@_- (it becomes the role session name)", at, t.User)
		}
		if t.ExpiresAt != "" {
			if _, err := time.Parse(time.RFC3339, t.ExpiresAt); err != nil {
				v.errorf("%s: expiresAt %q is not an RFC 3339 time like 2030-01-02T15:04:05Z", at, t.ExpiresAt)
			}
		}
		if len(t.RoleArns) == 0 {
			v.errorf("%s: roleArns: at least one role is required", at)
		}
		assigned := map[string]string{} // account/permission set → role ARN
		for _, arn := range t.RoleArns {
			m := roleArnRE.FindStringSubmatch(arn)
			if m == nil || !v.roles[arn] {
				v.errorf("%s: roleArns: %q is not a role in roles", at, arn)
				continue
			}
			ps, ok := permissionSetOf(m[2])
			if !ok {
				v.errorf("%s: roleArns: role %s must be named AWSReservedSSO_<PermissionSet>_<16 hex digits>, as IAM Identity Center names its roles", at, m[2])
				continue
			}
			key := m[1] + "/" + ps
			if prev, dup := assigned[key]; dup && prev != arn {
				v.errorf("%s: roleArns: %s and %s are both permission set %s in account %s", at, prev, arn, ps, m[1])
			}
			assigned[key] = arn
		}
	}
}

// ssoError is an error of the portal API, in its REST-JSON shape.
type ssoError struct {
	status  int
	code    string
	message string
}

// The portal's errors.
var (
	errSSOUnauthorized = &ssoError{http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid"}
	errSSOForbidden    = &ssoError{http.StatusForbidden, "ForbiddenException", "No access"}
)

func errSSOInvalid(msg string) *ssoError {
	return &ssoError{http.StatusBadRequest, "InvalidRequestException", msg}
}

// ssoRoleCredentials is GetRoleCredentials's roleCredentials member; expiration is in epoch
// milliseconds.
type ssoRoleCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"`
}

// handleSSOGetRoleCredentials is the Identity Center portal's GetRoleCredentials:
// GET /federation/credentials?account_id=A&role_name=PERMISSION_SET with the access token in the
// x-amz-sso_bearer_token header. It answers a role session of the assigned AWSReservedSSO_ role,
// named after the user, that works for every later STS call like AssumeRole's.
//
// Like the portal it checks the parameters (400 InvalidRequestException), then the token (401
// UnauthorizedException, also for an expired one), then the assignment (403 ForbiddenException).
// The role's trust policy is not consulted: Identity Center's own assignment is the authority,
// which is why the demo role's trust policy can deny every other way in.
func (s *Server) handleSSOGetRoleCredentials(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{s: s, r: r, now: s.now(), requestID: newRequestID(), region: s.region, action: "GetRoleCredentials"}
	cr, serr := c.ssoRoleCredentials()
	w.Header().Set("x-amzn-RequestId", c.requestID)
	fields := []zap.Field{zap.String("action", c.action), zap.String("requestId", c.requestID)}
	if serr != nil {
		w.Header().Set("x-amzn-ErrorType", serr.code)
		writeJSON(w, serr.status, map[string]string{"message": serr.message})
		fields = append(fields, zap.Int("status", serr.status), zap.String("errorCode", serr.code))
	} else {
		writeJSON(w, http.StatusOK, map[string]ssoRoleCredentials{"roleCredentials": {
			AccessKeyID: cr.keyID, SecretAccessKey: cr.secret, SessionToken: cr.token, Expiration: cr.expires.UnixMilli(),
		}})
		fields = append(fields, zap.Int("status", http.StatusOK), zap.String("principal", cr.p.arn))
	}
	s.log.Info("sso request", append(fields, zap.Duration("duration", time.Since(start)))...)
}

func (c *call) ssoRoleCredentials() (*credential, *ssoError) {
	q := c.r.URL.Query()
	account, roleName := q.Get("account_id"), q.Get("role_name")
	switch {
	case account == "":
		return nil, errSSOInvalid("account_id is required")
	case !accountRE.MatchString(account):
		return nil, errSSOInvalid("account_id must be a 12-digit account id")
	case roleName == "":
		return nil, errSSOInvalid("role_name is required")
	}
	tok := c.s.ssoToken(c.r.Header.Get("x-amz-sso_bearer_token"))
	if tok == nil {
		return nil, errSSOUnauthorized
	}
	if isPublishedSSOToken(tok.Token) {
		if msg := c.s.remoteDemoRefusal(c.r, "the published demo SSO access token"); msg != "" {
			return nil, &ssoError{http.StatusForbidden, "ForbiddenException", msg}
		}
	}
	if tok.ExpiresAt != "" {
		if exp, err := time.Parse(time.RFC3339, tok.ExpiresAt); err != nil || !c.now.Before(exp) {
			return nil, errSSOUnauthorized
		}
	}
	for _, arn := range tok.RoleArns {
		role := c.s.roles[arn]
		if role == nil || role.cfg.Account != account {
			continue
		}
		if ps, ok := permissionSetOf(role.cfg.Name); ok && ps == roleName {
			cr, _, err := c.mintRoleSession(roleSessionRequest{role: role, session: tok.User, duration: ssoSessionSeconds})
			if err != nil { // only a role maximum under an hour could refuse, and Validate forbids one
				return nil, &ssoError{http.StatusInternalServerError, "InternalServerException", "The role session could not be issued."}
			}
			return cr, nil
		}
	}
	return nil, errSSOForbidden
}

// ssoToken returns the configured access token equal to token, or nil. Every token is compared in
// constant time, so timing does not tell how much of a guess was right.
func (s *Server) ssoToken(token string) *SSOAccessToken {
	if s.cfg.SSO == nil || token == "" {
		return nil
	}
	var found *SSOAccessToken
	for i := range s.cfg.SSO.AccessTokens {
		t := &s.cfg.SSO.AccessTokens[i]
		if subtle.ConstantTimeCompare([]byte(t.Token), []byte(token)) == 1 {
			found = t
		}
	}
	return found
}
