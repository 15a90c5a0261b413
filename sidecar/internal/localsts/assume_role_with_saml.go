package localsts

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"time"

	"awsflow-sts/sidecar/internal/localsts/idp"
)

// SAML attribute names AWS reads besides Role, RoleSessionName and SessionDuration.
const (
	samlPrincipalTagPrefix = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	samlTransitiveTagKeys  = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
	samlSourceIdentity     = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
)

// notAuthorizedSAML is the one AccessDenied message for a role that is missing, not offered by
// the assertion or does not trust the provider, so callers cannot tell which.
const notAuthorizedSAML = "Not authorized to perform sts:AssumeRoleWithSAML"

// samlRequest is an AssumeRoleWithSAML request's validated parameters.
type samlRequest struct {
	roleArn      string
	principalArn string
	assertion    string
	duration     int // 0 when absent: the assertion's SessionDuration or the default then applies
	policy       sessionPolicy
	minTokenSize int
}

// samlSession is what the assertion's attributes add to the session.
type samlSession struct {
	tags           []tag
	transitive     []string
	sourceIdentity string
}

func (c *call) assumeRoleWithSAML() (string, error) {
	req, err := c.samlParams()
	if err != nil {
		return "", err
	}
	prov, claims, err := c.verifySAMLAssertion(req)
	if err != nil {
		return "", err
	}
	role, err := c.samlRole(req, prov, claims)
	if err != nil {
		return "", err
	}
	d := req.duration
	if d == 0 {
		d = roleDefaultDuration
		if claims.SessionDuration > 0 {
			d = claims.SessionDuration
		}
	}
	sess, err := samlSessionAttributes(claims)
	if err != nil {
		return "", err
	}
	nameQualifier := samlNameQualifier(claims.Issuer, prov.cfg.Account, prov.cfg.Name)
	if err := c.checkSAMLTrust(role, req.principalArn, claims, nameQualifier, sess); err != nil {
		return "", err
	}
	cr, packed, err := c.mintRoleSession(roleSessionRequest{role: role, session: claims.RoleSessionName, duration: d,
		policy: req.policy, tags: sess.tags, transitive: sess.transitive, sourceIdentity: sess.sourceIdentity,
		minTokenSize: req.minTokenSize})
	if err != nil {
		return "", err
	}
	return samlResponse(claims, nameQualifier, sess.sourceIdentity, cr, packed), nil
}

// samlParams reads and validates the request's parameters, before anything is looked up.
func (c *call) samlParams() (samlRequest, error) {
	var v validator
	roleArn, _ := v.str(c.form, "RoleArn", "roleArn", true, 20, 2048, &patArn)
	principalArn, _ := v.str(c.form, "PrincipalArn", "principalArn", true, 20, 2048, &patArn)
	assertion, _ := v.str(c.form, "SAMLAssertion", "sAMLAssertion", true, 4, 100000, nil)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", roleMinDuration, roleMaxDuration, 0)
	if err != nil {
		return samlRequest{}, err
	}
	sp := v.policyParams(c.form)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return samlRequest{}, err
	}
	if err := sp.checkJSON(); err != nil {
		return samlRequest{}, err
	}
	return samlRequest{roleArn: roleArn, principalArn: principalArn, assertion: assertion, duration: d,
		policy: sp, minTokenSize: minSize}, nil
}

// verifySAMLAssertion checks the assertion against the certificates of the provider it names.
func (c *call) verifySAMLAssertion(req samlRequest) (*samlProvider, *idp.SAMLClaims, error) {
	prov := c.s.saml[req.principalArn]
	if prov == nil {
		return nil, nil, errBadRequest("InvalidIdentityToken", "SAML provider %s does not exist.", req.principalArn)
	}
	// VerifySAML also enforces the RoleSessionName attribute's presence, length and characters.
	claims, err := idp.VerifySAML(req.assertion, prov.certs, idp.DefaultSAMLAudience, c.now)
	if err != nil {
		return nil, nil, idpError(err)
	}
	return prov, claims, nil
}

// samlRole is the requested role, provided the assertion offers it with this provider and the
// role lives in the provider's account.
func (c *call) samlRole(req samlRequest, prov *samlProvider, claims *idp.SAMLClaims) (*roleEntry, error) {
	offered := false
	for _, rp := range claims.Roles {
		offered = offered || (rp.RoleArn == req.roleArn && rp.PrincipalArn == req.principalArn)
	}
	role := c.s.roles[req.roleArn]
	if !offered || role == nil || role.cfg.Account != prov.cfg.Account {
		return nil, errAccessDenied(notAuthorizedSAML)
	}
	return role, nil
}

// samlSessionAttributes reads the session tags, transitive keys and source identity from the
// assertion's attributes, and checks the tags as STS would request parameters.
func samlSessionAttributes(claims *idp.SAMLClaims) (samlSession, error) {
	var tags []tag
	for _, name := range sortedKeys(claims.Attributes) {
		if k, ok := strings.CutPrefix(name, samlPrincipalTagPrefix); ok && len(claims.Attributes[name]) > 0 {
			tags = append(tags, tag{k, claims.Attributes[name][0]})
		}
	}
	trans := claims.Attributes[samlTransitiveTagKeys]
	sourceID := ""
	if s := claims.Attributes[samlSourceIdentity]; len(s) > 0 {
		sourceID = s[0]
	}
	if err := checkTags(tags, trans); err != nil {
		return samlSession{}, err
	}
	return samlSession{tags: tags, transitive: trans, sourceIdentity: sourceID}, nil
}

// checkSAMLTrust asks the role's trust policy for every action the session needs, with the
// saml: condition keys AWS sets from the assertion.
func (c *call) checkSAMLTrust(role *roleEntry, principalArn string, claims *idp.SAMLClaims, nameQualifier string, sess samlSession) error {
	ctx := map[string][]string{
		"saml:aud":              {claims.Audience},
		"saml:iss":              {claims.Issuer},
		"saml:sub":              {claims.Subject},
		"saml:sub_type":         {claims.SubjectType},
		"saml:namequalifier":    {nameQualifier},
		"aws:federatedprovider": {principalArn},
		"aws:currenttime":       {c.now.UTC().Format(time.RFC3339)},
		"sts:rolesessionname":   {claims.RoleSessionName},
	}
	actions := []string{"sts:AssumeRoleWithSAML"}
	if len(sess.tags) > 0 {
		actions = append(actions, "sts:TagSession")
		addTagContext(ctx, sess.tags, sess.transitive)
	}
	if sess.sourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
		ctx["sts:sourceidentity"] = []string{sess.sourceIdentity}
	}
	if ok, _ := role.trust.decide(trustRequest{Actions: actions, Federated: principalArn, Context: ctx, Expand: c.expander()}); !ok {
		return errAccessDenied(notAuthorizedSAML)
	}
	return nil
}

// samlResponse is the AssumeRoleWithSAMLResult body, its elements in AWS's order.
func samlResponse(claims *idp.SAMLClaims, nameQualifier, sourceID string, cr *credential, packed int) string {
	var b xmlBuilder
	b.el("Audience", claims.Audience)
	b.assumedRole(cr)
	b.el("Issuer", claims.Issuer)
	b.el("NameQualifier", nameQualifier)
	if packed > 0 {
		b.el("PackedPolicySize", itoa(packed))
	}
	if sourceID != "" {
		b.el("SourceIdentity", sourceID)
	}
	b.el("Subject", claims.Subject)
	b.el("SubjectType", claims.SubjectType)
	b.tokenSize(cr)
	return b.String()
}

// samlNameQualifier is BASE64(SHA1(issuer + account + "/" + provider name)), as AWS documents it.
func samlNameQualifier(issuer, account, provider string) string {
	sum := sha1.Sum([]byte(issuer + account + "/" + provider))
	return base64.StdEncoding.EncodeToString(sum[:])
}
