package localsts

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Config is the world the local STS serves: accounts, their IAM users and roles, the SAML and
// OIDC identity providers roles may trust, trade-in tokens, the organization and the demo
// identity. It is read from JSON (see LoadConfig) with the field names shown in the tags.
type Config struct {
	// Accounts are the AWS accounts; every other entry names one of them.
	Accounts []Account `json:"accounts"`
	// Users are IAM users with long-term access keys.
	Users []User `json:"users,omitempty"`
	// Roles are IAM roles with their trust policies.
	Roles []Role `json:"roles,omitempty"`
	// SAMLProviders are IAM SAML identity providers.
	SAMLProviders []SAMLProvider `json:"samlProviders,omitempty"`
	// OIDCProviders are IAM OpenID Connect identity providers.
	OIDCProviders []OIDCProvider `json:"oidcProviders,omitempty"`
	// TradeInTokens are the tokens GetDelegatedAccessToken accepts, each once.
	TradeInTokens []TradeInToken `json:"tradeInTokens,omitempty"`
	// Organization, when set, makes AssumeRoot available to its management account.
	Organization *Organization `json:"organization,omitempty"`
	// DecodeRoles are role ARNs whose sessions may call DecodeAuthorizationMessage for messages
	// of their own account (users need CanDecode instead).
	DecodeRoles []string `json:"decodeRoles,omitempty"`
	// SSO, when set, serves IAM Identity Center's GetRoleCredentials for SSO profiles.
	SSO *SSO `json:"sso,omitempty"`
	// Demo names the identity that Server.Demo reports.
	Demo Demo `json:"demo"`
}

// Account is one AWS account.
type Account struct {
	// ID is the 12-digit account id.
	ID string `json:"id"`
	// Alias is the account alias, for display only.
	Alias string `json:"alias,omitempty"`
	// Root holds the root user's access keys and MFA devices.
	Root Root `json:"root"`
	// DisabledRegions are regions where STS is deactivated for the account: calls signed for
	// them fail with RegionDisabledException, as after deactivating a region in IAM.
	DisabledRegions []string `json:"disabledRegions,omitempty"`
}

// Root is an account's root user.
type Root struct {
	// AccessKeys are root access keys; AWS discourages them, which is why they are optional.
	AccessKeys []AccessKey `json:"accessKeys,omitempty"`
	// MFA are the root user's MFA devices.
	MFA []MFADevice `json:"mfa,omitempty"`
}

// AccessKey is a long-term access key pair.
type AccessKey struct {
	// ID is the access key id, "AKIA" followed by 16 characters of A–Z and 2–7.
	ID string `json:"id"`
	// Secret is the secret access key.
	Secret string `json:"secret"`
}

// MFADevice is an MFA device. Code is a fixed six-digit code that the local STS accepts for the
// device every time: a demo stand-in for a TOTP secret, so demos and tests need no authenticator.
type MFADevice struct {
	// Serial is the device's serial number, usually arn:aws:iam::ACCOUNT:mfa/NAME.
	Serial string `json:"serial"`
	// Code is the six-digit code the device "shows".
	Code string `json:"code"`
}

// User is an IAM user.
type User struct {
	// Account is the id of the user's account.
	Account string `json:"account"`
	// Name is the user name.
	Name string `json:"name"`
	// AccessKeys are the user's access keys.
	AccessKeys []AccessKey `json:"accessKeys,omitempty"`
	// MFA are the user's MFA devices.
	MFA []MFADevice `json:"mfa,omitempty"`
	// CanDecode lets the user call DecodeAuthorizationMessage for its own account's messages.
	CanDecode bool `json:"canDecode,omitempty"`
	// Tags are the user's IAM tags, seen by trust policies as aws:PrincipalTag/KEY.
	Tags map[string]string `json:"tags,omitempty"`
}

// Role is an IAM role.
type Role struct {
	// Account is the id of the role's account.
	Account string `json:"account"`
	// Name is the role name.
	Name string `json:"name"`
	// MaxSessionDuration is the longest session in seconds, 3600–43200; 0 means 3600.
	MaxSessionDuration int `json:"maxSessionDuration,omitempty"`
	// Trust is the role's trust policy document. The string ${localsts:oidc} in it stands for
	// the built-in OIDC issuer's provider name (host[:port]/_localsts/oidc, known only once the
	// server has a URL).
	Trust json.RawMessage `json:"trust"`
	// Tags are the role's IAM tags, which become principal tags of its sessions.
	Tags map[string]string `json:"tags,omitempty"`
}

// SAMLProvider is an IAM SAML identity provider.
type SAMLProvider struct {
	// Account is the id of the provider's account.
	Account string `json:"account"`
	// Name is the provider name, the last part of arn:aws:iam::ACCOUNT:saml-provider/NAME.
	Name string `json:"name"`
	// CertificatePEM is the IdP's signing certificate. When empty, the server generates a demo
	// IdP for the provider and serves its assertions at POST /_localsts/saml/assertion.
	CertificatePEM string `json:"certificatePem,omitempty"`
}

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	// Account is the id of the provider's account.
	Account string `json:"account"`
	// URL is the issuer (the tokens' iss). The value "localsts" means the server's own demo
	// issuer at BASEURL/_localsts/oidc.
	URL string `json:"url"`
	// ClientIDs are the audiences the provider accepts.
	ClientIDs []string `json:"clientIds"`
	// JWKS is the provider's key set; when absent the server fetches it from the issuer's
	// discovery document, as STS does (the built-in issuer needs neither).
	JWKS json.RawMessage `json:"jwks,omitempty"`
}

// TradeInToken is a token that GetDelegatedAccessToken exchanges, once, for a session of a role.
type TradeInToken struct {
	// Token is the opaque token.
	Token string `json:"token"`
	// RoleArn is the role whose session the token grants.
	RoleArn string `json:"roleArn"`
	// DurationSeconds is the session length, 900–43200; 0 means 3600.
	DurationSeconds int `json:"durationSeconds,omitempty"`
}

// Organization is an AWS Organization.
type Organization struct {
	// ManagementAccount is the management account's id; its principals may call AssumeRoot.
	ManagementAccount string `json:"managementAccount"`
	// Members are the member accounts' ids, the targets AssumeRoot accepts.
	Members []string `json:"members"`
}

// Demo names the identity Server.Demo reports.
type Demo struct {
	// User is "ACCOUNT/NAME" of a user with an access key.
	User string `json:"user"`
	// Role is the ARN of a role that user may assume.
	Role string `json:"role"`
}

// BuiltinOIDC is the OIDCProvider.URL that stands for the server's own demo OIDC issuer.
const BuiltinOIDC = "localsts"

// OIDCPlaceholder, inside a trust policy, stands for the built-in OIDC issuer's provider name
// (the issuer URL without its scheme), which depends on the address the server is served at.
const OIDCPlaceholder = "${localsts:oidc}"

// The five AWS managed policies AssumeRoot accepts as TaskPolicyArn.
var rootTaskPolicies = []string{
	"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
	"arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword",
	"arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
	"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
	"arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy",
}

var (
	accountRE   = regexp.MustCompile(`^\d{12}$`)
	akidRE      = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	iamNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	serialRE    = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	mfaCodeRE   = regexp.MustCompile(`^\d{6}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	samlNameRE  = regexp.MustCompile(`^[\w._-]{1,128}$`)
	roleArnRE   = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$`)
	clientIDsRE = regexp.MustCompile(`^.{1,255}$`)
)

// LoadConfig reads and validates a JSON config file. Unknown fields are rejected so that a
// misspelt field fails loudly instead of silently meaning nothing.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("localsts config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("localsts config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes and validates a JSON config, rejecting unknown fields and trailing data.
func ParseConfig(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// jsonError adds the line and column to a decoding error, because "offset 812" helps nobody.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
}

// Validate checks the config and reports every problem found, each naming the entry it is in.
func (c *Config) Validate() error {
	v := &configCheck{cfg: c, accounts: map[string]bool{}, keys: map[string]string{},
		users: map[string]bool{}, roles: map[string]bool{}, saml: map[string]bool{}, oidc: map[string]bool{}}
	v.check()
	if len(v.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid config:\n  %s", strings.Join(v.errs, "\n  "))
}

type configCheck struct {
	cfg      *Config
	errs     []string
	accounts map[string]bool
	keys     map[string]string // access key id → where it was seen
	users    map[string]bool   // user ARN
	roles    map[string]bool   // role ARN
	saml     map[string]bool   // provider ARN
	oidc     map[string]bool   // provider ARN (URL without scheme; localsts uses the placeholder)
}

func (v *configCheck) errorf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func (v *configCheck) check() {
	c := v.cfg
	if len(c.Accounts) == 0 {
		v.errorf("accounts: at least one account is required")
	}
	for i, a := range c.Accounts {
		at := fmt.Sprintf("accounts[%d]", i)
		if !accountRE.MatchString(a.ID) {
			v.errorf("%s: id %q is not a 12-digit account id", at, a.ID)
		} else if v.accounts[a.ID] {
			v.errorf("%s: account %s is defined twice", at, a.ID)
		}
		v.accounts[a.ID] = true
		v.accessKeys(at+".root", a.Root.AccessKeys)
		v.mfa(at+".root", a.Root.MFA)
		for _, r := range a.DisabledRegions {
			if !regionRE.MatchString(r) {
				v.errorf("%s: disabledRegions: %q is not a region name like us-east-1", at, r)
			}
		}
	}
	for i, u := range c.Users {
		at := fmt.Sprintf("users[%d] (%s)", i, u.Name)
		v.account(at, u.Account)
		if !iamNameRE.MatchString(u.Name) {
			v.errorf("%s: name %q must be 1–64 characters of letters, digits and +=,.@_-", at, u.Name)
		}
		arn := userARN(u.Account, u.Name)
		if v.users[arn] {
			v.errorf("%s: user %s is defined twice", at, arn)
		}
		v.users[arn] = true
		v.accessKeys(at, u.AccessKeys)
		v.mfa(at, u.MFA)
		v.tags(at, u.Tags)
	}
	for i, p := range c.SAMLProviders {
		at := fmt.Sprintf("samlProviders[%d] (%s)", i, p.Name)
		v.account(at, p.Account)
		if !samlNameRE.MatchString(p.Name) {
			v.errorf("%s: name %q must be 1–128 characters of letters, digits and ._-", at, p.Name)
		}
		arn := samlProviderARN(p.Account, p.Name)
		if v.saml[arn] {
			v.errorf("%s: provider %s is defined twice", at, arn)
		}
		v.saml[arn] = true
		if p.CertificatePEM != "" {
			if _, err := parseCertificates(p.CertificatePEM); err != nil {
				v.errorf("%s: certificatePem: %v", at, err)
			}
		}
	}
	for i, p := range c.OIDCProviders {
		at := fmt.Sprintf("oidcProviders[%d] (%s)", i, p.URL)
		v.account(at, p.Account)
		name := OIDCPlaceholder
		if p.URL != BuiltinOIDC {
			u, err := url.Parse(p.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				v.errorf("%s: url %q must be an https:// issuer URL (or %q for the built-in issuer)", at, p.URL, BuiltinOIDC)
			}
			name = oidcProviderName(p.URL)
		}
		arn := oidcProviderARN(p.Account, name)
		if v.oidc[arn] {
			v.errorf("%s: provider %s is defined twice", at, arn)
		}
		v.oidc[arn] = true
		if len(p.ClientIDs) == 0 {
			v.errorf("%s: clientIds: at least one client id (audience) is required", at)
		}
		for _, id := range p.ClientIDs {
			if !clientIDsRE.MatchString(id) {
				v.errorf("%s: clientIds: %q must be 1–255 characters", at, id)
			}
		}
		if len(p.JWKS) > 0 {
			var set struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if err := json.Unmarshal(p.JWKS, &set); err != nil || len(set.Keys) == 0 {
				v.errorf("%s: jwks must be a JSON Web Key Set object with a non-empty \"keys\" list", at)
			}
		}
	}
	// Roles come after users and providers because their trust policies name them.
	for i, r := range c.Roles {
		at := fmt.Sprintf("roles[%d] (%s)", i, r.Name)
		v.account(at, r.Account)
		if !iamNameRE.MatchString(r.Name) {
			v.errorf("%s: name %q must be 1–64 characters of letters, digits and +=,.@_-", at, r.Name)
		}
		arn := roleARN(r.Account, r.Name)
		if v.roles[arn] {
			v.errorf("%s: role %s is defined twice", at, arn)
		}
		v.roles[arn] = true
		if r.MaxSessionDuration != 0 && (r.MaxSessionDuration < 3600 || r.MaxSessionDuration > 43200) {
			v.errorf("%s: maxSessionDuration %d must be between 3600 and 43200 seconds", at, r.MaxSessionDuration)
		}
		v.tags(at, r.Tags)
	}
	for i, r := range c.Roles {
		at := fmt.Sprintf("roles[%d] (%s)", i, r.Name)
		if len(r.Trust) == 0 {
			v.errorf("%s: trust: a trust policy is required", at)
			continue
		}
		doc, err := parsePolicy(r.Trust)
		if err != nil {
			v.errorf("%s: trust: %v", at, err)
			continue
		}
		for _, e := range v.principalsExist(doc) {
			v.errorf("%s: trust: %s", at, e)
		}
	}
	for i, t := range c.TradeInTokens {
		at := fmt.Sprintf("tradeInTokens[%d]", i)
		if len(t.Token) < 4 {
			v.errorf("%s: token must be at least 4 characters", at)
		}
		if !v.roles[t.RoleArn] {
			v.errorf("%s: roleArn %q is not a role in roles", at, t.RoleArn)
		}
		if t.DurationSeconds != 0 && (t.DurationSeconds < 900 || t.DurationSeconds > 43200) {
			v.errorf("%s: durationSeconds %d must be between 900 and 43200", at, t.DurationSeconds)
		}
	}
	if o := c.Organization; o != nil {
		v.account("organization.managementAccount", o.ManagementAccount)
		for _, m := range o.Members {
			v.account("organization.members", m)
			if m == o.ManagementAccount {
				v.errorf("organization.members: %s is the management account", m)
			}
		}
	}
	for _, r := range c.DecodeRoles {
		if !v.roles[r] {
			v.errorf("decodeRoles: %q is not a role in roles", r)
		}
	}
	v.sso()
	v.demo()
}

func (v *configCheck) demo() {
	d := v.cfg.Demo
	if d.User == "" && d.Role == "" {
		return
	}
	acct, name, ok := strings.Cut(d.User, "/")
	if !ok || !v.users[userARN(acct, name)] {
		v.errorf("demo.user: %q must be ACCOUNT/NAME of a user in users", d.User)
	} else if u := v.cfg.user(acct, name); u == nil || len(u.AccessKeys) == 0 {
		v.errorf("demo.user: %s has no access key", d.User)
	}
	if d.Role != "" && !v.roles[d.Role] {
		v.errorf("demo.role: %q is not a role in roles", d.Role)
	}
}

func (v *configCheck) account(at, id string) {
	if !v.accounts[id] {
		v.errorf("%s: account %q is not in accounts", at, id)
	}
}

func (v *configCheck) accessKeys(at string, keys []AccessKey) {
	for _, k := range keys {
		if !akidRE.MatchString(k.ID) {
			v.errorf("%s: access key id %q must be AKIA followed by 16 characters of A-Z and 2-7", at, k.ID)
		}
		if len(k.Secret) < 16 || len(k.Secret) > 128 {
			v.errorf("%s: the secret of %s must be 16–128 characters", at, k.ID)
		}
		if prev, dup := v.keys[k.ID]; dup {
			v.errorf("%s: access key id %s is already used by %s", at, k.ID, prev)
		}
		v.keys[k.ID] = at
	}
}

func (v *configCheck) mfa(at string, devices []MFADevice) {
	for _, d := range devices {
		if !serialRE.MatchString(d.Serial) {
			v.errorf("%s: mfa serial %q must be 9–256 characters of letters, digits and +=/:,.@_-", at, d.Serial)
		}
		if !mfaCodeRE.MatchString(d.Code) {
			v.errorf("%s: mfa %s: code must be exactly 6 digits", at, d.Serial)
		}
	}
}

func (v *configCheck) tags(at string, tags map[string]string) {
	seen := map[string]bool{}
	for k, val := range tags {
		// Lengths are counted apart: a counted repetition of these Unicode classes would make Go's
		// regexp build 16 MB of program at start-up in every process, the sidecar's included.
		if !patTagKey.re.MatchString(k) || utf8.RuneCountInString(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			v.errorf("%s: tag key %q is not a valid tag key", at, k)
		}
		if !patTagValue.re.MatchString(val) || utf8.RuneCountInString(val) > 256 {
			v.errorf("%s: tag %q: value is not a valid tag value", at, k)
		}
		if seen[strings.ToLower(k)] {
			v.errorf("%s: tag key %q appears twice (tag keys are case-insensitive)", at, k)
		}
		seen[strings.ToLower(k)] = true
	}
}

// principalsExist reports trust-policy principals that name an entity of a configured account
// that does not exist, or a provider that is not configured, as IAM refuses such a policy
// ("Invalid principal in policy").
func (v *configCheck) principalsExist(doc *policy) []string {
	var errs []string
	for i, st := range doc.Statements {
		for _, ps := range []*principalSet{st.Principal, st.NotPrincipal} {
			if ps == nil {
				continue
			}
			for _, p := range ps.AWS {
				if p == "*" || accountRE.MatchString(p) {
					continue
				}
				m := principalARNRE.FindStringSubmatch(p)
				if m == nil {
					errs = append(errs, fmt.Sprintf("Statement[%d]: invalid AWS principal %q", i, p))
					continue
				}
				acct, kind, name := m[2], m[3], m[4]
				if !v.accounts[acct] {
					continue // another account: IAM cannot see it either, so it is not checked
				}
				switch {
				case m[1] == "iam" && kind == "user" && !v.users[userARN(acct, name)],
					m[1] == "iam" && kind == "role" && !v.roles[roleARN(acct, name)]:
					errs = append(errs, fmt.Sprintf("Statement[%d]: invalid principal %q: no such %s", i, p, kind))
				}
			}
			for _, p := range ps.Federated {
				switch {
				case strings.Contains(p, ":saml-provider/"):
					if !v.saml[p] {
						errs = append(errs, fmt.Sprintf("Statement[%d]: invalid principal %q: no such SAML provider in samlProviders", i, p))
					}
				case strings.Contains(p, ":oidc-provider/"):
					if !v.oidc[p] {
						errs = append(errs, fmt.Sprintf("Statement[%d]: invalid principal %q: no such OIDC provider in oidcProviders", i, p))
					}
				case strings.HasPrefix(p, "arn:"):
					errs = append(errs, fmt.Sprintf("Statement[%d]: invalid federated principal %q", i, p))
				}
			}
			for _, p := range ps.Service {
				if p != "*" && !strings.HasSuffix(p, ".amazonaws.com") && !strings.HasSuffix(p, ".amazonaws.com.cn") {
					errs = append(errs, fmt.Sprintf("Statement[%d]: invalid service principal %q", i, p))
				}
			}
		}
	}
	return errs
}

// user returns the configured user, or nil.
func (c *Config) user(account, name string) *User {
	for i := range c.Users {
		if c.Users[i].Account == account && c.Users[i].Name == name {
			return &c.Users[i]
		}
	}
	return nil
}

// parseCertificates reads every CERTIFICATE block of a PEM text.
func parseCertificates(text string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bad certificate: %v", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return out, nil
}

// ARN helpers, so every place spells them the same way.

func userARN(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }
func roleARN(account, name string) string { return "arn:aws:iam::" + account + ":role/" + name }
func rootARN(account string) string       { return "arn:aws:iam::" + account + ":root" }
func samlProviderARN(account, name string) string {
	return "arn:aws:iam::" + account + ":saml-provider/" + name
}
func oidcProviderARN(account, name string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + name
}
func assumedRoleARN(account, role, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session
}
func federatedUserARN(account, name string) string {
	return "arn:aws:sts::" + account + ":federated-user/" + name
}

// oidcProviderName is the issuer URL without its scheme and trailing slash, the name IAM gives an
// OIDC provider and the prefix of its condition keys.
func oidcProviderName(issuer string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
	return strings.TrimRight(s, "/")
}

// principalARNRE matches the principal ARNs a trust policy may name: iam users, roles and root,
// and sts assumed-role and federated-user sessions.
var principalARNRE = regexp.MustCompile(`^arn:aws:(iam|sts)::(\d{12}):(root|user|role|assumed-role|federated-user)(?:/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)(?:/[\w+=,.@-]+)?)?$`)
