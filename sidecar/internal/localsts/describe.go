package localsts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// DefaultAddr is the address `awsflow-sts localsts` listens on unless told otherwise: a fixed
// loopback port, so the endpoint a user configures once stays the same across restarts.
const DefaultAddr = "127.0.0.1:18900"

// Env returns the POSIX shell lines that point the AWS SDKs and CLI (and `awsflow-sts call`) at
// a local STS served at endpoint, signed in as its demo identity: the STS and IAM Identity
// Center endpoints, the Region and the demo user's access key. The demo keys are published (see
// docs/SECURITY.md), which is why printing them is fine. AWS_SESSION_TOKEN and AWS_PROFILE are
// unset, since either left over from a real account would spoil the demo keys.
func Env(endpoint string, demo DemoIdentity) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# The local STS at %s and its demo identity (published keys: they guard nothing).\n", endpoint)
	line := func(name, value string) { fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(value)) }
	line("AWS_ENDPOINT_URL_STS", endpoint)
	if demo.SSOStartURL != "" {
		line("AWS_ENDPOINT_URL_SSO_OIDC", endpoint)
		line("AWS_ENDPOINT_URL_SSO", endpoint)
	}
	line("AWS_REGION", demo.Region)
	line("AWS_ACCESS_KEY_ID", demo.AccessKeyID)
	line("AWS_SECRET_ACCESS_KEY", demo.SecretAccessKey)
	b.WriteString("unset AWS_SESSION_TOKEN AWS_PROFILE\n")
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+=,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Describe writes the config's world in readable form for someone trying the local STS at
// endpoint: the accounts, the users with their access key ids and MFA devices (with the code
// each accepts), the roles and whom they trust, the identity providers, the trade-in tokens,
// the organization and IAM Identity Center. Secret access keys are left out; Env prints the demo
// user's.
func (c *Config) Describe(w io.Writer, endpoint string) error {
	d := &describer{w: w, endpoint: endpoint}
	d.printf("The local STS at %s\n", endpoint)
	if c.Demo.User != "" {
		d.printf("Demo identity: user %s (its keys: awsflow-sts localsts --env), role %s\n", c.Demo.User, c.Demo.Role)
	}
	d.section("Accounts")
	for _, a := range c.Accounts {
		notes := []string{}
		if a.Alias != "" {
			notes = append(notes, "alias "+a.Alias)
		}
		if o := c.Organization; o != nil {
			if o.ManagementAccount == a.ID {
				notes = append(notes, "the organization's management account (may call AssumeRoot)")
			} else if contains(o.Members, a.ID) {
				notes = append(notes, "an organization member (an AssumeRoot target)")
			}
		}
		if len(a.DisabledRegions) > 0 {
			notes = append(notes, "STS disabled in "+strings.Join(a.DisabledRegions, ", "))
		}
		d.printf("  %s  %s\n", a.ID, strings.Join(notes, "; "))
		for _, k := range a.Root.AccessKeys {
			d.printf("    root access key %s\n", k.ID)
		}
		for _, m := range a.Root.MFA {
			d.printf("    root MFA device %s, accepts code %s\n", m.Serial, m.Code)
		}
	}
	d.section("Users")
	for _, u := range c.Users {
		var notes []string
		if u.CanDecode {
			notes = append(notes, "may decode authorization messages")
		}
		if len(u.Tags) > 0 {
			notes = append(notes, "tags "+tagList(u.Tags))
		}
		d.printf("  %s%s\n", userARN(u.Account, u.Name), suffix(notes))
		for _, k := range u.AccessKeys {
			d.printf("    access key %s\n", k.ID)
		}
		for _, m := range u.MFA {
			d.printf("    MFA device %s, accepts code %s\n", m.Serial, m.Code)
		}
	}
	d.section("Roles (and whom their trust policies let in)")
	for _, r := range c.Roles {
		var notes []string
		if r.MaxSessionDuration != 0 {
			notes = append(notes, fmt.Sprintf("max session %ds", r.MaxSessionDuration))
		}
		if contains(c.DecodeRoles, roleARN(r.Account, r.Name)) {
			notes = append(notes, "its sessions may decode authorization messages")
		}
		if len(r.Tags) > 0 {
			notes = append(notes, "tags "+tagList(r.Tags))
		}
		d.printf("  %s%s\n", roleARN(r.Account, r.Name), suffix(notes))
		for _, st := range d.trust(r.Trust) {
			d.printf("    %s\n", st)
		}
	}
	if len(c.SAMLProviders) > 0 {
		d.section("SAML providers")
		for _, p := range c.SAMLProviders {
			how := "its IdP signs assertions at POST " + endpoint + "/_localsts/saml/assertion"
			if p.CertificatePEM != "" {
				how = "trusts the configured certificate"
			}
			d.printf("  %s: %s\n", samlProviderARN(p.Account, p.Name), how)
		}
	}
	if len(c.OIDCProviders) > 0 {
		d.section("OIDC providers")
		for _, p := range c.OIDCProviders {
			issuer := p.URL
			if issuer == BuiltinOIDC {
				issuer = endpoint + "/_localsts/oidc (built in: tokens from POST " + endpoint + "/_localsts/oidc/token)"
			}
			d.printf("  %s, audiences %s\n", issuer, strings.Join(p.ClientIDs, ", "))
		}
	}
	if len(c.TradeInTokens) > 0 {
		d.section("Trade-in tokens (GetDelegatedAccessToken, each accepted once per run)")
		for _, t := range c.TradeInTokens {
			d.printf("  %s → %s\n", t.Token, t.RoleArn)
		}
	}
	if s := c.SSO; s != nil {
		d.section("IAM Identity Center")
		d.printf("  start URL %s (sign in by the device flow; approve at POST %s%s)\n", s.StartURL, endpoint, SSOApprovePath)
		for _, a := range s.Accounts {
			d.printf("  account %s %q <%s>\n", a.ID, a.Name, a.Email)
		}
		for _, u := range s.Users {
			d.printf("  user %s, assigned %s\n", u.Name, strings.Join(u.RoleArns, ", "))
		}
		for _, t := range s.AccessTokens {
			d.printf("  fixed access token %q: user %s, assigned %s\n", t.Token, t.User, strings.Join(t.RoleArns, ", "))
		}
	}
	return d.err
}

// describer writes lines, keeping the first error.
type describer struct {
	w        io.Writer
	endpoint string
	err      error
}

func (d *describer) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

func (d *describer) section(title string) { d.printf("\n%s\n", title) }

// trust renders each statement of a trust policy on a line: effect, principals, actions and
// conditions, with the built-in OIDC issuer's placeholder spelt out.
func (d *describer) trust(doc json.RawMessage) []string {
	var policy struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal(doc, &policy); err != nil {
		return []string{string(doc)}
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(policy.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(policy.Statement, &one) != nil {
			return []string{string(doc)}
		}
		stmts = []map[string]json.RawMessage{one}
	}
	oidc := strings.TrimPrefix(strings.TrimPrefix(d.endpoint, "http://"), "https://") + "/_localsts/oidc"
	var out []string
	for _, st := range stmts {
		parts := []string{unquote(st["Effect"])}
		if p, ok := st["Principal"]; ok {
			parts = append(parts, compact(p))
		}
		if p, ok := st["NotPrincipal"]; ok {
			parts = append(parts, "NotPrincipal "+compact(p))
		}
		parts = append(parts, compact(st["Action"]))
		if cond, ok := st["Condition"]; ok {
			parts = append(parts, "if "+compact(cond))
		}
		out = append(out, strings.ReplaceAll(strings.Join(parts, " "), OIDCPlaceholder, oidc))
	}
	return out
}

// compact is a JSON value on one line: strings without their quotes.
func compact(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return strings.Join(list, ",")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

func unquote(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return string(v)
	}
	return s
}

func suffix(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

func tagList(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + tags[k]
	}
	return strings.Join(keys, ",")
}
