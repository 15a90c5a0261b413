package localsts

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The Identity Center portal: GetRoleCredentials, ListAccounts, ListAccountRoles and Logout,
// each with the access token in the x-amz-sso_bearer_token header. A token is either one of the
// config's fixed AccessTokens or one the OIDC service issued.

// Page sizes of ListAccounts and ListAccountRoles.
const (
	defaultSSOPageSize = 20
	maxSSOPageSize     = 100
)

// ssoIdentity is who an access token stands for.
type ssoIdentity struct {
	user     string
	roleArns []string
}

// identity resolves the request's access token. An unknown, malformed or expired token is
// UnauthorizedException, as the portal answers; the published demo token is refused to other
// hosts.
func (c *ssoCall) identity() (*ssoIdentity, *ssoError) {
	token := c.r.Header.Get("x-amz-sso_bearer_token")
	if token == "" || len(token) > 4096 {
		return nil, errSSOUnauthorized
	}
	if t := c.s.ssoToken(token); t != nil {
		if isPublishedSSOToken(t.Token) {
			if msg := c.s.remoteDemoRefusal(c.r, "the published demo SSO access token"); msg != "" {
				return nil, &ssoError{status: http.StatusForbidden, code: "ForbiddenException", message: msg}
			}
		}
		if t.ExpiresAt != "" {
			if exp, err := time.Parse(time.RFC3339, t.ExpiresAt); err != nil || !c.now.Before(exp) {
				return nil, errSSOUnauthorized
			}
		}
		c.fields = append(c.fields, zap.String("user", t.User))
		return &ssoIdentity{user: t.User, roleArns: t.RoleArns}, nil
	}
	if g := c.s.sso.accessToken(token, c.now); g != nil {
		c.fields = append(c.fields, zap.String("user", g.user.Name))
		return &ssoIdentity{user: g.user.Name, roleArns: g.user.RoleArns}, nil
	}
	return nil, errSSOUnauthorized
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

// assignment is one (account, permission set) a user may use.
type assignment struct {
	account       string
	permissionSet string
	role          *roleEntry
}

// assignments are the identity's roles, by account and then permission set.
func (s *Server) assignments(id *ssoIdentity) []assignment {
	var out []assignment
	for _, arn := range id.roleArns {
		role := s.roles[arn]
		if role == nil {
			continue
		}
		if ps, ok := permissionSetOf(role.cfg.Name); ok {
			out = append(out, assignment{account: role.cfg.Account, permissionSet: ps, role: role})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].account != out[j].account {
			return out[i].account < out[j].account
		}
		return out[i].permissionSet < out[j].permissionSet
	})
	return out
}

// ssoRoleCredentials is GetRoleCredentials's roleCredentials member; expiration is in epoch
// milliseconds.
type ssoRoleCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"`
}

// getRoleCredentials is the Identity Center portal's GetRoleCredentials:
// GET /federation/credentials?account_id=A&role_name=PERMISSION_SET. It answers a role session of
// the assigned AWSReservedSSO_ role, named after the user, that works for every later STS call
// like AssumeRole's.
//
// Like the portal it checks the parameters (400 InvalidRequestException), then the token (401
// UnauthorizedException, also for an expired one), then the assignment (403 ForbiddenException).
// The role's trust policy is not consulted: Identity Center's own assignment is the authority,
// which is why the demo role's trust policy can deny every other way in.
func (c *ssoCall) getRoleCredentials() (any, *ssoError) {
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
	id, serr := c.identity()
	if serr != nil {
		return nil, serr
	}
	for _, a := range c.s.assignments(id) {
		if a.account != account || a.permissionSet != roleName {
			continue
		}
		sc := &call{s: c.s, r: c.r, now: c.now, requestID: c.requestID, region: c.s.region, action: c.action}
		cr, _, err := sc.mintRoleSession(roleSessionRequest{role: a.role, session: id.user, duration: ssoSessionSeconds})
		if err != nil { // only a role maximum under an hour could refuse, and Validate forbids one
			return nil, &ssoError{status: http.StatusInternalServerError, code: "InternalServerException", message: "The role session could not be issued."}
		}
		c.fields = append(c.fields, zap.String("principal", cr.p.arn))
		return map[string]ssoRoleCredentials{"roleCredentials": {
			AccessKeyID: cr.keyID, SecretAccessKey: cr.secret, SessionToken: cr.token, Expiration: cr.expires.UnixMilli(),
		}}, nil
	}
	return nil, errSSOForbidden
}

// ssoAccountInfo is one entry of ListAccounts's accountList.
type ssoAccountInfo struct {
	AccountID    string `json:"accountId"`
	AccountName  string `json:"accountName"`
	EmailAddress string `json:"emailAddress,omitempty"`
}

// ssoRoleInfo is one entry of ListAccountRoles's roleList.
type ssoRoleInfo struct {
	AccountID string `json:"accountId"`
	RoleName  string `json:"roleName"`
}

// listAccounts is the portal's ListAccounts: GET /assignment/accounts?max_result=N&next_token=T,
// the accounts the user has a role in, named from the config's sso.accounts (or the account's
// alias), paginated.
func (c *ssoCall) listAccounts() (any, *ssoError) {
	size, offset, serr := c.pageParams("accounts")
	if serr != nil {
		return nil, serr
	}
	id, serr := c.identity()
	if serr != nil {
		return nil, serr
	}
	var all []ssoAccountInfo
	for _, a := range c.s.assignments(id) {
		if n := len(all); n > 0 && all[n-1].AccountID == a.account {
			continue
		}
		all = append(all, c.s.ssoAccountInfo(a.account))
	}
	items, next, serr := pageOf(all, "accounts", size, offset)
	if serr != nil {
		return nil, serr
	}
	return struct {
		AccountList []ssoAccountInfo `json:"accountList"`
		NextToken   string           `json:"nextToken,omitempty"`
	}{items, next}, nil
}

// ssoAccountInfo is how the portal shows an account.
func (s *Server) ssoAccountInfo(account string) ssoAccountInfo {
	for _, a := range s.cfg.SSO.Accounts {
		if a.ID == account {
			return ssoAccountInfo{AccountID: account, AccountName: a.Name, EmailAddress: a.Email}
		}
	}
	info := ssoAccountInfo{AccountID: account, AccountName: account}
	if a := s.accounts[account]; a != nil && a.Alias != "" {
		info.AccountName = a.Alias
	}
	return info
}

// listAccountRoles is the portal's ListAccountRoles: GET
// /assignment/roles?account_id=A&max_result=N&next_token=T, the permission sets the user is
// assigned in the account (none for an account it has no role in), paginated.
func (c *ssoCall) listAccountRoles() (any, *ssoError) {
	account := c.r.URL.Query().Get("account_id")
	switch {
	case account == "":
		return nil, errSSOInvalid("account_id is required")
	case !accountRE.MatchString(account):
		return nil, errSSOInvalid("account_id must be a 12-digit account id")
	}
	size, offset, serr := c.pageParams("roles")
	if serr != nil {
		return nil, serr
	}
	id, serr := c.identity()
	if serr != nil {
		return nil, serr
	}
	var all []ssoRoleInfo
	for _, a := range c.s.assignments(id) {
		if a.account == account {
			all = append(all, ssoRoleInfo{AccountID: account, RoleName: a.permissionSet})
		}
	}
	items, next, serr := pageOf(all, "roles", size, offset)
	if serr != nil {
		return nil, serr
	}
	return struct {
		RoleList  []ssoRoleInfo `json:"roleList"`
		NextToken string        `json:"nextToken,omitempty"`
	}{items, next}, nil
}

// logout is the portal's Logout (POST /logout): an issued access token's sign-in ends, its
// access tokens and refresh token with it. The config's fixed tokens stand for sign-ins made
// elsewhere and stay valid.
func (c *ssoCall) logout() (any, *ssoError) {
	token := c.r.Header.Get("x-amz-sso_bearer_token")
	if token == "" || len(token) > 4096 {
		return nil, errSSOUnauthorized
	}
	if c.s.sso.logout(token, c.now) {
		return nil, nil
	}
	if _, serr := c.identity(); serr != nil {
		return nil, serr
	}
	return nil, nil
}

// pageParams reads max_result (1–100, default 20) and next_token, which must be one this
// portal issued for the same listing.
func (c *ssoCall) pageParams(kind string) (size, offset int, serr *ssoError) {
	q := c.r.URL.Query()
	size = defaultSSOPageSize
	if v := q.Get("max_result"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSSOPageSize {
			return 0, 0, errSSOInvalid("max_result must be a number from 1 to 100")
		}
		size = n
	}
	if t := q.Get("next_token"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		rest, ok := strings.CutPrefix(string(raw), kind+":")
		n, nerr := strconv.Atoi(rest)
		if len(t) > 64 || err != nil || !ok || nerr != nil || n < 1 {
			return 0, 0, errSSOInvalid("next_token is not a token this listing returned")
		}
		offset = n
	}
	return size, offset, nil
}

// pageOf is one page of items from offset, and the token of the next page ("" at the end).
func pageOf[T any](items []T, kind string, size, offset int) ([]T, string, *ssoError) {
	if offset > len(items) {
		return nil, "", errSSOInvalid("next_token is not a token this listing returned")
	}
	end := min(offset+size, len(items))
	page := append(make([]T, 0, end-offset), items[offset:end]...)
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.Itoa(end)))
	}
	return page, next, nil
}
