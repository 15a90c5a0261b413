package localsts

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"
)

// SSO is the IAM Identity Center the local STS plays: its OIDC service (RegisterClient,
// StartDeviceAuthorization, CreateToken; see handleOIDC*), through which Users sign in by the
// device flow, and its portal (GetRoleCredentials, ListAccounts, ListAccountRoles, Logout),
// which trades an access token for role sessions. Fixed AccessTokens stand for sign-ins made
// elsewhere, as `aws sso login` caches them in ~/.aws/sso/cache; the portal accepts both kinds.
type SSO struct {
	// StartURL is the Identity Center instance's start URL, the sso_start_url of the shared
	// config; StartDeviceAuthorization accepts only it. Required when Users is set.
	StartURL string `json:"startUrl,omitempty"`
	// Users are the Identity Center users who may sign in by the device flow, each approved
	// through POST /_localsts/sso/approve.
	Users []SSOUser `json:"users,omitempty"`
	// Accounts name the accounts ListAccounts shows; an account without an entry is shown with
	// its alias (or its id) as its name.
	Accounts []SSOAccount `json:"accounts,omitempty"`
	// AccessTokens are fixed access tokens the portal accepts besides the ones it issues.
	AccessTokens []SSOAccessToken `json:"accessTokens,omitempty"`
	// TokenSeconds is how long an issued access token lasts, 1–86400; 0 means 3600.
	TokenSeconds int `json:"tokenSeconds,omitempty"`
	// RefreshTokenSeconds is how long a sign-in lasts, 1–7776000: its refresh token works until
	// then, and no access token outlives it. 0 means 28800 (Identity Center's default session
	// duration, 8 hours).
	RefreshTokenSeconds int `json:"refreshTokenSeconds,omitempty"`
	// DeviceCodeSeconds is how long a device code waits for approval, 1–3600; 0 means 600.
	DeviceCodeSeconds int `json:"deviceCodeSeconds,omitempty"`
	// IntervalSeconds is the polling interval StartDeviceAuthorization asks for, 1–60; 0 means
	// 1. Polling faster gets slow_down, and adds 5 seconds to that device code's interval.
	IntervalSeconds int `json:"intervalSeconds,omitempty"`
	// ClientSeconds is how long a client registration lasts, 60–7776000; 0 means 7776000 (90
	// days, as Identity Center's).
	ClientSeconds int `json:"clientSeconds,omitempty"`
}

// SSOUser is an Identity Center user who signs in by the device flow.
type SSOUser struct {
	// Name is the user name, given to the approve route; it becomes the role session name.
	Name string `json:"name"`
	// RoleArns are the roles the user is assigned, named as in SSOAccessToken.RoleArns.
	RoleArns []string `json:"roleArns"`
}

// SSOAccount is how the portal shows an account.
type SSOAccount struct {
	// ID is the account id; it must be in accounts.
	ID string `json:"id"`
	// Name is the account name ListAccounts answers, 1–50 characters.
	Name string `json:"name"`
	// Email is the account's email address, optional.
	Email string `json:"email,omitempty"`
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

// Defaults and bounds of the SSO lifetimes, in seconds.
const (
	defaultSSOTokenSeconds      = 3600
	defaultSSORefreshSeconds    = 8 * 3600
	defaultSSODeviceCodeSeconds = 600
	defaultSSOIntervalSeconds   = 1
	defaultSSOClientSeconds     = 90 * 24 * 3600
)

// ssoLifetime is one configurable lifetime: its JSON name, value, default and bounds.
type ssoLifetime struct {
	name          string
	value         int
	def, min, max int
}

func (s *SSO) lifetimes() []ssoLifetime {
	return []ssoLifetime{
		{"tokenSeconds", s.TokenSeconds, defaultSSOTokenSeconds, 1, 86400},
		{"refreshTokenSeconds", s.RefreshTokenSeconds, defaultSSORefreshSeconds, 1, 90 * 24 * 3600},
		{"deviceCodeSeconds", s.DeviceCodeSeconds, defaultSSODeviceCodeSeconds, 1, 3600},
		{"intervalSeconds", s.IntervalSeconds, defaultSSOIntervalSeconds, 1, 60},
		{"clientSeconds", s.ClientSeconds, defaultSSOClientSeconds, 60, 90 * 24 * 3600},
	}
}

// seconds returns the lifetime named name, its default when unset.
func (s *SSO) seconds(name string) time.Duration {
	for _, l := range s.lifetimes() {
		if l.name == name {
			if l.value == 0 {
				return time.Duration(l.def) * time.Second
			}
			return time.Duration(l.value) * time.Second
		}
	}
	panic("localsts: no SSO lifetime " + name)
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
	if len(s.AccessTokens) == 0 && len(s.Users) == 0 {
		v.errorf("sso: at least one user (sso.users) or access token (sso.accessTokens) is required")
	}
	if s.StartURL != "" || len(s.Users) > 0 {
		u, err := url.Parse(s.StartURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s.StartURL) > 1024 {
			v.errorf("sso.startUrl: %q must be an https:// URL like https://d-1234567890.awsapps.com/start (required with sso.users)", s.StartURL)
		}
	}
	for _, l := range s.lifetimes() {
		if l.value != 0 && (l.value < l.min || l.value > l.max) {
			v.errorf("sso.%s: %d must be between %d and %d (0 or absent means %d)", l.name, l.value, l.min, l.max, l.def)
		}
	}
	users := map[string]bool{}
	for i, u := range s.Users {
		at := fmt.Sprintf("sso.users[%d] (%s)", i, u.Name)
		if !ssoSessionNameRE.MatchString(u.Name) {
			v.errorf("%s: name %q must be 2–64 characters of letters, digits and +=,.@_- (it becomes the role session name)", at, u.Name)
		} else if users[u.Name] {
			v.errorf("%s: user %s is defined twice", at, u.Name)
		}
		users[u.Name] = true
		v.ssoRoles(at, u.RoleArns)
	}
	accounts := map[string]bool{}
	for i, a := range s.Accounts {
		at := fmt.Sprintf("sso.accounts[%d] (%s)", i, a.ID)
		v.account(at, a.ID)
		if accounts[a.ID] {
			v.errorf("%s: account %s is named twice", at, a.ID)
		}
		accounts[a.ID] = true
		if n := utf8.RuneCountInString(a.Name); n < 1 || n > 50 || !utf8.ValidString(a.Name) {
			v.errorf("%s: name must be 1–50 characters", at)
		}
		if a.Email != "" {
			if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email || len(a.Email) > 254 {
				v.errorf("%s: email %q is not an email address like admin@example.com", at, a.Email)
			}
		}
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
		v.ssoRoles(at, t.RoleArns)
	}
}

// ssoRoles checks the role assignments of a user or token.
func (v *configCheck) ssoRoles(at string, roleArns []string) {
	if len(roleArns) == 0 {
		v.errorf("%s: roleArns: at least one role is required", at)
	}
	assigned := map[string]string{} // account/permission set → role ARN
	for _, arn := range roleArns {
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
