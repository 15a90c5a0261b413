package localsts

import (
	"crypto/subtle"
	"regexp"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/keyid"
)

// Duration limits in seconds, per operation.
const (
	roleMinDuration       = 900
	roleMaxDuration       = 43200
	roleDefaultDuration   = 3600
	chainedMaxDuration    = 3600
	tokenMinDuration      = 900
	tokenMaxDuration      = 129600
	tokenDefaultDuration  = 43200
	rootMaxTokenDuration  = 3600
	assumeRootMaxDuration = 900
	witMinDuration        = 60
	witMaxDuration        = 3600
	witDefaultDuration    = 300
)

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

func (c *call) getCallerIdentity() (string, error) {
	var b xmlBuilder
	b.el("Arn", c.cred.p.arn)
	b.el("UserId", c.cred.p.userID)
	b.el("Account", c.cred.p.account)
	return b.String(), nil
}

var knownKeyPrefix = regexp.MustCompile(`^(AKIA|ASIA|AIDA|AROA|AGPA|AIPA|ANPA|ANVA|APKA|ASCA|ABIA|ACCA)`)

func (c *call) getAccessKeyInfo() (string, error) {
	var v validator
	id, _ := v.str(c.form, "AccessKeyId", "accessKeyId", true, 16, 128, &patAccessKeyID)
	if err := v.err(); err != nil {
		return "", err
	}
	account := ""
	if k := c.s.lookupKey(id); k != nil {
		account = k.p.account
	} else if knownKeyPrefix.MatchString(id) {
		account, _ = keyid.AccountOffline(id)
	}
	if account == "" {
		return "", errBadRequest("InvalidParameterValue", "The specified access key ID is not valid.")
	}
	var b xmlBuilder
	b.el("Account", account)
	return b.String(), nil
}

// mfaParams reads SerialNumber and TokenCode; ok reports whether either was given (checkMFA
// then insists on both).
func (c *call) mfaParams(v *validator) (serial, code string, ok bool) {
	serial, hasSerial := v.str(c.form, "SerialNumber", "serialNumber", false, 9, 256, &patSerial)
	code, hasCode := v.str(c.form, "TokenCode", "tokenCode", false, 6, 6, &patTokenCode)
	return serial, code, hasSerial || hasCode
}

// checkMFA verifies an MFA device and code for the calling user (or root): the device must be
// the caller's and the code the device's.
func (c *call) checkMFA(serial, code string) error {
	if serial == "" || code == "" {
		return errAccessDenied("MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.")
	}
	var devices map[string]string
	switch {
	case c.cred.p.user != nil:
		devices = c.cred.p.user.mfa
	case c.cred.p.kind == kindRoot:
		devices = c.s.rootMFA[c.cred.p.account]
	}
	want, ok := devices[serial]
	if !ok {
		return errAccessDenied("MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
		return errAccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
	}
	return nil
}

func (c *call) minTokenSize(v *validator) int {
	n, _ := v.integer(c.form, "MinimumSessionTokenSize", "minimumSessionTokenSize", 0, maxMinimumSessionTokenSize, 0)
	return n
}

func (c *call) getSessionToken() (string, error) {
	if c.cred.temporary() {
		return "", errAccessDenied("Cannot call GetSessionToken with session credentials")
	}
	var v validator
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", tokenMinDuration, tokenMaxDuration, tokenDefaultDuration)
	if err != nil {
		return "", err
	}
	serial, code, withMFA := c.mfaParams(&v)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return "", err
	}
	if withMFA {
		if err := c.checkMFA(serial, code); err != nil {
			return "", err
		}
	}
	// Root sessions are capped at an hour: longer requests are shortened, not refused.
	if c.cred.p.kind == kindRoot && d > rootMaxTokenDuration {
		d = rootMaxTokenDuration
	}
	cr := &credential{class: classSessionToken, p: c.cred.p}
	if withMFA {
		cr.mfa, cr.mfaAt = true, c.now
	}
	c.s.issue(cr, c.now, seconds(d), minSize)
	var b xmlBuilder
	b.credentials(cr)
	b.tokenSize(cr)
	return b.String(), nil
}

func (c *call) getFederationToken() (string, error) {
	if c.cred.temporary() {
		return "", errAccessDenied("Cannot call GetFederationToken with session credentials")
	}
	var v validator
	name, _ := v.str(c.form, "Name", "name", true, 2, 32, &patFedName)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", tokenMinDuration, tokenMaxDuration, tokenDefaultDuration)
	if err != nil {
		return "", err
	}
	sp := v.policyParams(c.form)
	tags, _ := v.tagParams(c.form, false)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return "", err
	}
	if err := sp.checkJSON(); err != nil {
		return "", err
	}
	if err := checkTags(tags, nil); err != nil {
		return "", err
	}
	packed := packedPolicySize(sp, tags)
	if packed > 100 {
		return "", errPackedTooLarge(packed)
	}
	if c.cred.p.kind == kindRoot && d > rootMaxTokenDuration {
		d = rootMaxTokenDuration
	}
	acct := c.cred.p.account
	p := principal{kind: kindFederatedUser, account: acct, arn: federatedUserARN(acct, name), userID: acct + ":" + name,
		name: name, tags: tagsToMap(nil, tags)}
	cr := c.s.issue(&credential{class: classFederated, p: p}, c.now, seconds(d), minSize)
	var b xmlBuilder
	b.credentials(cr)
	b.raw("<FederatedUser>")
	b.el("FederatedUserId", p.userID)
	b.el("Arn", p.arn)
	b.raw("</FederatedUser>")
	if packed > 0 || sp.policy != "" || len(sp.arns) > 0 || len(tags) > 0 {
		b.el("PackedPolicySize", itoa(packed))
	}
	b.tokenSize(cr)
	return b.String(), nil
}

// tagsToMap merges session tags over inherited ones, keyed by lower-case key (tag keys are
// case-insensitive, and a session tag replaces an inherited tag of the same key).
func tagsToMap(base map[string]tag, tags []tag) map[string]tag {
	out := map[string]tag{}
	for k, t := range base {
		out[k] = t
	}
	for _, t := range tags {
		out[strings.ToLower(t.Key)] = t
	}
	return out
}
