package idp

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// maxSAMLResponseLen bounds the base64 input, so a hostile caller cannot make the verifier
// parse an arbitrarily large document; STS's own parameter limit is far below it.
const maxSAMLResponseLen = 1 << 20

// Bounds AWS puts on the SessionDuration attribute, in seconds.
const (
	minSAMLSessionDuration = 900
	maxSAMLSessionDuration = 43200
)

// roleSessionNameRE is the pattern and length AWS enforces on a role session name.
var roleSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// SAMLClaims is what a verified SAML assertion tells STS about the caller.
type SAMLClaims struct {
	// Issuer is the assertion's Issuer, the identity provider's entity ID.
	Issuer string
	// Subject is the NameID value.
	Subject string
	// SubjectType is the NameID Format as STS reports it: the
	// urn:oasis:names:tc:SAML:2.0:nameid-format: prefix is removed (so "persistent" or
	// "transient"), any other format is returned unchanged.
	SubjectType string
	// Audience is the audience the assertion was checked against.
	Audience string
	// RoleSessionName is the RoleSessionName attribute.
	RoleSessionName string
	// NotOnOrAfter is the earliest expiry stated by the Conditions or the bearer
	// SubjectConfirmationData.
	NotOnOrAfter time.Time
	// Roles are the parsed values of the Role attribute, in document order.
	Roles []RolePair
	// SessionDuration is the SessionDuration attribute in seconds, or 0 when absent.
	SessionDuration int
	// Attributes holds every attribute value by attribute Name, including the AWS ones, so
	// that callers can read session tags and the like.
	Attributes map[string][]string
}

// RolePair is one value of the Role attribute: a role the user may assume and the SAML
// provider that vouches for the user. Identity providers write the two ARNs in either order;
// the one containing ":saml-provider/" is the principal.
type RolePair struct {
	// RoleArn is the IAM role, e.g. arn:aws:iam::123456789012:role/Admin.
	RoleArn string
	// PrincipalArn is the SAML provider, e.g. arn:aws:iam::123456789012:saml-provider/Okta.
	PrincipalArn string
}

// SAMLError is why VerifySAML rejected an assertion. Code is the STS error code a client
// would receive; Message never contains the assertion or any value taken from it.
type SAMLError struct {
	// Code is the STS error code, CodeInvalidIdentityToken or CodeExpiredToken.
	Code string
	// Message explains the rejection for a human.
	Message string
}

// Error returns the code and message, the way STS prints them.
func (e *SAMLError) Error() string {
	return e.Code + ": " + e.Message
}

// samlInvalid returns an InvalidIdentityToken SAMLError.
func samlInvalid(format string, args ...any) *SAMLError {
	return &SAMLError{Code: CodeInvalidIdentityToken, Message: fmt.Sprintf(format, args...)}
}

// VerifySAML decodes the base64 response, verifies the XML signature of the Assertion (or of
// the Response covering it) against certs (any of them), checks the Audience includes
// audience, NotOnOrAfter > now (and NotBefore <= now with 5 min skew allowed), and returns the
// claims. An empty audience means DefaultSAMLAudience.
//
// It rejects unsigned responses, signatures by another key, tampered content, expired
// assertions, a wrong audience, and a missing Role or RoleSessionName attribute, as STS does.
// Errors are *SAMLError: CodeExpiredToken for an expired assertion, CodeInvalidIdentityToken
// for everything else. Claims are read only from the signed bytes, so content outside the
// signature (a second Assertion, comments inside a NameID) cannot change them.
//
// Like STS, VerifySAML trusts the given certificates regardless of their own validity dates:
// which certificates are trusted, and until when, is the SAML provider's business.
func VerifySAML(assertionB64 string, certs []*x509.Certificate, audience string, now time.Time) (*SAMLClaims, error) {
	if audience == "" {
		audience = DefaultSAMLAudience
	}
	if len(certs) == 0 {
		return nil, samlInvalid("no signing certificate is configured for the SAML provider")
	}
	if len(assertionB64) > maxSAMLResponseLen {
		return nil, samlInvalid("SAML response is too large")
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(assertionB64))
	if err != nil {
		return nil, samlInvalid("SAML response is not valid base64")
	}
	doc := etree.NewDocument()
	doc.ReadSettings.ValidateInput = true
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, samlInvalid("SAML response is not well-formed XML")
	}
	for _, tok := range doc.Child {
		if _, ok := tok.(*etree.Directive); ok {
			// A DTD could declare entities or attribute defaults that change what is signed.
			return nil, samlInvalid("SAML response must not contain a DTD")
		}
	}
	resp := doc.Root()
	if resp == nil || !isEl(resp, nsSAMLP, "Response") {
		return nil, samlInvalid("SAML response is not a SAML 2.0 protocol Response")
	}
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	if len(children(resp, nsSAML, "EncryptedAssertion")) > 0 {
		return nil, samlInvalid("encrypted SAML assertions are not supported")
	}
	if n := len(children(resp, nsSAML, "Assertion")); n != 1 {
		return nil, samlInvalid("SAML response must contain exactly one Assertion, found %d", n)
	}

	// Everything below reads from the element the signature check returned, which is rebuilt
	// from the signed bytes, never from the document as received.
	var assertion *etree.Element
	if len(children(resp, dsig.Namespace, "Signature")) > 0 {
		verified, err := validateSignature(resp, certs)
		if err != nil {
			return nil, samlInvalid("SAML response signature is invalid or not from a trusted certificate")
		}
		as := children(verified, nsSAML, "Assertion")
		if len(as) != 1 {
			return nil, samlInvalid("signed SAML response must contain exactly one Assertion")
		}
		assertion = as[0]
	} else {
		assertion = children(resp, nsSAML, "Assertion")[0]
		if len(children(assertion, dsig.Namespace, "Signature")) == 0 {
			return nil, samlInvalid("SAML assertion is not signed")
		}
	}
	if len(children(assertion, dsig.Namespace, "Signature")) > 0 {
		verified, err := validateSignature(assertion, certs)
		if err != nil {
			return nil, samlInvalid("SAML assertion signature is invalid or not from a trusted certificate")
		}
		assertion = verified
	}
	return assertionClaims(assertion, audience, now)
}

// validateSignature checks the enveloped signature of el against each certificate in turn and
// returns the signed content. Trying them one at a time lets a signature without KeyInfo
// verify against any of several certificates, which goxmldsig alone only allows for one.
func validateSignature(el *etree.Element, certs []*x509.Certificate) (*etree.Element, error) {
	el = detach(el)
	err := errors.New("no usable certificate")
	for _, c := range certs {
		if c == nil {
			continue
		}
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		// Pin the clock inside the certificate's validity: STS ignores certificate dates.
		vc.Clock = dsig.NewFakeClockAt(c.NotBefore)
		var out *etree.Element
		if out, err = vc.Validate(el); err == nil {
			return out, nil
		}
	}
	return nil, err
}

// detach copies el and adds the namespace declarations it inherits from its ancestors, because
// canonicalization of the copy must still resolve every prefix the element uses.
func detach(el *etree.Element) *etree.Element {
	declared := map[string]bool{}
	for _, a := range el.Attr {
		if p, ok := nsDeclPrefix(a); ok {
			declared[p] = true
		}
	}
	out := el.Copy()
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			prefix, ok := nsDeclPrefix(a)
			if !ok || declared[prefix] {
				continue
			}
			declared[prefix] = true
			out.CreateAttr(a.FullKey(), a.Value)
		}
	}
	return out
}

// nsDeclPrefix reports whether a declares a namespace, and for which prefix ("" = default).
func nsDeclPrefix(a etree.Attr) (string, bool) {
	switch {
	case a.Space == "xmlns":
		return a.Key, true
	case a.Space == "" && a.Key == "xmlns":
		return "", true
	}
	return "", false
}

// checkStatus rejects a Response whose status is not Success; an IdP reports a failed login
// that way and STS refuses it.
func checkStatus(resp *etree.Element) error {
	st := children(resp, nsSAMLP, "Status")
	if len(st) != 1 {
		return samlInvalid("SAML response must have exactly one Status")
	}
	codes := children(st[0], nsSAMLP, "StatusCode")
	if len(codes) != 1 || codes[0].SelectAttrValue("Value", "") != statusOK {
		return samlInvalid("SAML response status is not Success")
	}
	return nil
}

// assertionClaims checks the validity window, audience and AWS attributes of a verified
// Assertion and collects its claims.
func assertionClaims(a *etree.Element, audience string, now time.Time) (*SAMLClaims, error) {
	c := &SAMLClaims{Audience: audience, Attributes: map[string][]string{}}
	iss := children(a, nsSAML, "Issuer")
	if len(iss) != 1 {
		return nil, samlInvalid("SAML assertion must have exactly one Issuer")
	}
	c.Issuer = strings.TrimSpace(text(iss[0]))

	subjects := children(a, nsSAML, "Subject")
	if len(subjects) != 1 {
		return nil, samlInvalid("SAML assertion must have exactly one Subject")
	}
	ids := children(subjects[0], nsSAML, "NameID")
	if len(ids) != 1 {
		return nil, samlInvalid("SAML Subject must have exactly one NameID (encrypted identifiers are not supported)")
	}
	c.Subject = strings.TrimSpace(text(ids[0]))
	if c.Subject == "" {
		return nil, samlInvalid("SAML NameID is empty")
	}
	c.SubjectType = subjectType(ids[0].SelectAttrValue("Format", ""))

	var notBefore, notOnOrAfter []time.Time
	var bearerData []*etree.Element
	for _, sc := range children(subjects[0], nsSAML, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") == bearer {
			bearerData = children(sc, nsSAML, "SubjectConfirmationData")
			break
		}
	}
	if bearerData == nil {
		return nil, samlInvalid("SAML Subject has no bearer SubjectConfirmation with data")
	}
	conds := children(a, nsSAML, "Conditions")
	if len(conds) > 1 {
		return nil, samlInvalid("SAML assertion has more than one Conditions element")
	}
	for _, el := range append(bearerData, conds...) {
		for _, w := range []struct {
			attr string
			list *[]time.Time
		}{{"NotBefore", &notBefore}, {"NotOnOrAfter", &notOnOrAfter}} {
			v := el.SelectAttrValue(w.attr, "")
			if v == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
			if err != nil {
				return nil, samlInvalid("SAML %s has a malformed %s", el.Tag, w.attr)
			}
			*w.list = append(*w.list, t)
		}
	}
	if len(notOnOrAfter) == 0 {
		return nil, samlInvalid("SAML assertion has no NotOnOrAfter")
	}
	c.NotOnOrAfter = notOnOrAfter[0]
	for _, t := range notOnOrAfter[1:] {
		if t.Before(c.NotOnOrAfter) {
			c.NotOnOrAfter = t
		}
	}
	if !now.Before(c.NotOnOrAfter) {
		return nil, &SAMLError{Code: CodeExpiredToken, Message: fmt.Sprintf(
			"SAML assertion expired at %s; current time is %s",
			c.NotOnOrAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	for _, t := range notBefore {
		if t.After(now.Add(ClockSkew)) {
			return nil, samlInvalid("SAML assertion is not valid before %s", t.UTC().Format(time.RFC3339))
		}
	}

	if err := checkAudience(conds, audience); err != nil {
		return nil, err
	}

	for _, st := range children(a, nsSAML, "AttributeStatement") {
		for _, at := range children(st, nsSAML, "Attribute") {
			name := at.SelectAttrValue("Name", "")
			for _, v := range children(at, nsSAML, "AttributeValue") {
				c.Attributes[name] = append(c.Attributes[name], strings.TrimSpace(text(v)))
			}
		}
	}
	roles := c.Attributes[SAMLRoleAttribute]
	if len(roles) == 0 {
		return nil, samlInvalid("SAML assertion has no %s attribute", SAMLRoleAttribute)
	}
	for _, v := range roles {
		rp, ok := parseRolePair(v)
		if !ok {
			return nil, samlInvalid("a %s value is not a role ARN and a saml-provider ARN separated by a comma", SAMLRoleAttribute)
		}
		c.Roles = append(c.Roles, rp)
	}
	names := c.Attributes[SAMLRoleSessionNameAttribute]
	if len(names) != 1 {
		return nil, samlInvalid("SAML assertion must have exactly one %s attribute value", SAMLRoleSessionNameAttribute)
	}
	if !roleSessionNameRE.MatchString(names[0]) {
		return nil, samlInvalid("%s must be 2 to 64 characters of letters, digits and _+=,.@-", SAMLRoleSessionNameAttribute)
	}
	c.RoleSessionName = names[0]
	if durs, ok := c.Attributes[SAMLSessionDurationAttribute]; ok {
		d := 0
		if len(durs) == 1 {
			d, _ = strconv.Atoi(durs[0])
		}
		if d < minSAMLSessionDuration || d > maxSAMLSessionDuration {
			return nil, samlInvalid("%s must be one whole number of seconds from %d to %d",
				SAMLSessionDurationAttribute, minSAMLSessionDuration, maxSAMLSessionDuration)
		}
		c.SessionDuration = d
	}
	return c, nil
}

// checkAudience requires audience in every AudienceRestriction, since SAML addresses the
// assertion only to parties named in all of them; no restriction at all is refused, as STS does.
func checkAudience(conds []*etree.Element, audience string) error {
	var restrictions []*etree.Element
	for _, c := range conds {
		restrictions = append(restrictions, children(c, nsSAML, "AudienceRestriction")...)
	}
	if len(restrictions) == 0 {
		return samlInvalid("SAML assertion has no AudienceRestriction")
	}
	for _, r := range restrictions {
		found := false
		for _, aud := range children(r, nsSAML, "Audience") {
			if strings.TrimSpace(text(aud)) == audience {
				found = true
				break
			}
		}
		if !found {
			return samlInvalid("SAML assertion audience does not include %s", audience)
		}
	}
	return nil
}

// parseRolePair splits a Role attribute value into its role and provider ARNs, in either order.
func parseRolePair(v string) (RolePair, bool) {
	parts := strings.Split(v, ",")
	if len(parts) != 2 {
		return RolePair{}, false
	}
	a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	isProvider := func(s string) bool { return strings.HasPrefix(s, "arn:") && strings.Contains(s, ":saml-provider/") }
	isRole := func(s string) bool { return strings.HasPrefix(s, "arn:") && strings.Contains(s, ":role/") }
	switch {
	case isRole(a) && isProvider(b):
		return RolePair{RoleArn: a, PrincipalArn: b}, true
	case isProvider(a) && isRole(b):
		return RolePair{RoleArn: b, PrincipalArn: a}, true
	}
	return RolePair{}, false
}

// subjectType maps a NameID Format to the SubjectType STS returns.
func subjectType(format string) string {
	return strings.TrimPrefix(format, "urn:oasis:names:tc:SAML:2.0:nameid-format:")
}

// isEl reports whether el is the element {ns}tag.
func isEl(el *etree.Element, ns, tag string) bool {
	return el.Tag == tag && el.NamespaceURI() == ns
}

// children returns the child elements of el named {ns}tag, comparing namespaces rather than
// prefixes because each identity provider picks its own prefixes.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if isEl(c, ns, tag) {
			out = append(out, c)
		}
	}
	return out
}

// text concatenates the character data directly inside el; etree's Text stops at the first
// non-text token, which is how comment-splitting attacks truncate a NameID.
func text(el *etree.Element) string {
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}

// stripSpace removes the line breaks and spaces that form posts and terminals add to base64.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

// SAMLMetadata is what a relying party needs from an identity provider's metadata document.
type SAMLMetadata struct {
	// EntityID is the identity provider's entity ID, which its assertions name as Issuer.
	EntityID string
	// Certs are the signing certificates from the IDPSSODescriptor.
	Certs []*x509.Certificate
	// ValidUntil is the document's validUntil, or zero when absent.
	ValidUntil time.Time
}

// mdEntityDescriptor is the part of a SAML metadata EntityDescriptor that ParseSAMLMetadata reads.
type mdEntityDescriptor struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID   string   `xml:"entityID,attr"`
	ValidUntil string   `xml:"validUntil,attr"`
	IDPs       []struct {
		Keys []struct {
			Use     string `xml:"use,attr"`
			KeyInfo struct {
				X509Data []struct {
					Certs []string `xml:"http://www.w3.org/2000/09/xmldsig# X509Certificate"`
				} `xml:"http://www.w3.org/2000/09/xmldsig# X509Data"`
			} `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
}

// ParseSAMLMetadata reads the entity ID and signing certificates from an identity provider's
// metadata document, such as the one given to IAM CreateSAMLProvider. Key descriptors whose use
// is "encryption" are skipped; a document without any signing certificate is an error.
func ParseSAMLMetadata(doc string) (*SAMLMetadata, error) {
	var ed mdEntityDescriptor
	if err := xml.Unmarshal([]byte(doc), &ed); err != nil {
		return nil, fmt.Errorf("idp: SAML metadata is not an EntityDescriptor: %w", err)
	}
	if ed.EntityID == "" {
		return nil, errors.New("idp: SAML metadata has no entityID")
	}
	md := &SAMLMetadata{EntityID: ed.EntityID}
	if ed.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ed.ValidUntil))
		if err != nil {
			return nil, errors.New("idp: SAML metadata has a malformed validUntil")
		}
		md.ValidUntil = t
	}
	for _, idp := range ed.IDPs {
		for _, k := range idp.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, xd := range k.KeyInfo.X509Data {
				for _, c := range xd.Certs {
					der, err := base64.StdEncoding.DecodeString(stripSpace(c))
					if err != nil {
						return nil, errors.New("idp: SAML metadata certificate is not valid base64")
					}
					cert, err := x509.ParseCertificate(der)
					if err != nil {
						return nil, fmt.Errorf("idp: SAML metadata certificate: %w", err)
					}
					md.Certs = append(md.Certs, cert)
				}
			}
		}
	}
	if len(md.Certs) == 0 {
		return nil, errors.New("idp: SAML metadata has no signing certificate")
	}
	return md, nil
}
