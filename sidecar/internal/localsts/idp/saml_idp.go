package idp

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAML attribute names and defaults that AWS gives meaning to.
const (
	// SAMLRoleAttribute holds the roles a user may assume, each value "roleArn,principalArn".
	SAMLRoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"
	// SAMLRoleSessionNameAttribute holds the role session name; AWS requires it.
	SAMLRoleSessionNameAttribute = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	// SAMLSessionDurationAttribute optionally caps the session length in seconds.
	SAMLSessionDurationAttribute = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	// DefaultSAMLAudience is the audience and recipient AWS expects in a SAML assertion.
	DefaultSAMLAudience = "https://signin.aws.amazon.com/saml"
)

// SAML name identifier formats that the test identity provider and the verifier use.
const (
	// NameIDFormatPersistent is the NameID format the test identity provider uses by default,
	// as ADFS and Okta do for AWS.
	NameIDFormatPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	// NameIDFormatTransient is the format for one-off identifiers.
	NameIDFormatTransient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	// NameIDFormatEmail is the SAML 1.1 e-mail address format, which STS reports unchanged.
	NameIDFormatEmail = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
)

// XML namespaces and fixed values of SAML 2.0.
const (
	nsSAMLP     = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsSAML      = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	entityFmt   = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	statusOK    = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bearer      = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	uriAttrFmt  = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	passwordCtx = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
)

// SAMLIdP is a minimal SAML 2.0 identity provider for demos and tests: it holds a signing key
// and certificate and issues signed responses in the shape Okta or ADFS send to AWS.
// It is safe for concurrent use once constructed.
type SAMLIdP struct {
	// EntityID is the issuer name written into every response and into the metadata.
	EntityID string
	// Key signs assertions.
	Key *rsa.PrivateKey
	// Cert is the self-signed certificate for Key that a relying party trusts.
	Cert *x509.Certificate
}

// NewSAMLIdP creates an identity provider with a fresh 2048-bit RSA key and a self-signed
// certificate valid for ten years, so that the demo never has to rotate it.
func NewSAMLIdP(entityID string) (*SAMLIdP, error) {
	if entityID == "" {
		return nil, errors.New("idp: SAML entity ID is empty")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("idp: generate SAML signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("idp: certificate serial: %w", err)
	}
	cn := entityID
	if len(cn) > 64 { // X.509 upper bound for a common name
		cn = cn[:64]
	}
	// Backdate a little so a relying party whose clock lags still accepts the certificate.
	now := time.Now().Add(-time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"awsflow local SAML IdP"}},
		NotBefore:             now,
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("idp: create SAML certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("idp: parse SAML certificate: %w", err)
	}
	return &SAMLIdP{EntityID: entityID, Key: key, Cert: cert}, nil
}

// CertPEM returns the signing certificate PEM-encoded, the form most SAML tools ask for.
func (p *SAMLIdP) CertPEM() string {
	if p == nil || p.Cert == nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Cert.Raw}))
}

// Metadata returns a SAML 2.0 EntityDescriptor for the identity provider, the document that
// IAM CreateSAMLProvider takes, so the demo can register the provider the way a user would.
// ParseSAMLMetadata reads it back.
func (p *SAMLIdP) Metadata() string {
	if p == nil || p.Cert == nil {
		return ""
	}
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", dsig.Namespace)
	ed.CreateAttr("entityID", p.EntityID)
	sso := ed.CreateElement("md:IDPSSODescriptor")
	sso.CreateAttr("WantAuthnRequestsSigned", "false")
	sso.CreateAttr("protocolSupportEnumeration", nsSAMLP)
	kd := sso.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(p.Cert.Raw))
	for _, f := range []string{NameIDFormatPersistent, NameIDFormatTransient, NameIDFormatEmail} {
		sso.CreateElement("md:NameIDFormat").SetText(f)
	}
	svc := sso.CreateElement("md:SingleSignOnService")
	svc.CreateAttr("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect")
	svc.CreateAttr("Location", strings.TrimSuffix(p.EntityID, "/")+"/sso")
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(ed)
	doc.Indent(2)
	s, err := doc.WriteToString()
	if err != nil { // writing to a string cannot fail
		return ""
	}
	return s
}

// SigningTarget says which element of a response the test identity provider signs.
type SigningTarget int

// Signing targets; real identity providers offer all three.
const (
	// SignAssertion signs only the Assertion, the default of Okta and ADFS.
	SignAssertion SigningTarget = iota
	// SignResponse signs only the enclosing Response, which covers the Assertion.
	SignResponse
	// SignBoth signs the Assertion and then the Response around it.
	SignBoth
)

// AssertionOptions describes the assertion SAMLIdP.Assertion issues; zero values take the
// defaults documented on each field.
type AssertionOptions struct {
	// Subject is the NameID, e.g. alice@example.com; it is required.
	Subject string
	// NameIDFormat is the NameID Format; default NameIDFormatPersistent.
	NameIDFormat string
	// Roles are the values of the Role attribute, each "roleArn,principalArn".
	Roles []string
	// RoleSessionName is the RoleSessionName attribute, which AWS requires; default Subject.
	RoleSessionName string
	// SessionDuration is the SessionDuration attribute in seconds; 0 omits it.
	SessionDuration int
	// Attributes are further attributes, e.g. session tags under
	// https://aws.amazon.com/SAML/Attributes/PrincipalTag:Team, written in name order.
	Attributes map[string][]string
	// Audience is the AudienceRestriction value; default DefaultSAMLAudience.
	Audience string
	// Recipient is the SubjectConfirmationData Recipient and the Response Destination;
	// default DefaultSAMLAudience.
	Recipient string
	// IssueInstant is when the assertion is issued; default now.
	IssueInstant time.Time
	// NotOnOrAfter is when the assertion expires; default IssueInstant plus five minutes.
	NotOnOrAfter time.Time
	// Sign chooses the signed element; default SignAssertion.
	Sign SigningTarget
	// Unsigned leaves out every signature, for negative tests.
	Unsigned bool

	// mutate, when set, edits the finished Assertion before it is signed; tests use it to
	// build shapes the options cannot express, such as a missing RoleSessionName.
	mutate func(assertion *etree.Element)
}

// Assertion returns a base64-encoded samlp:Response containing one saml:Assertion signed
// (enveloped, RSA-SHA256, exclusive c14n) with the IdP key — the shape real IdPs (Okta, ADFS)
// send and AWS accepts. Times are written in UTC with millisecond precision.
func (p *SAMLIdP) Assertion(o AssertionOptions) (string, error) {
	if p == nil || p.Key == nil || p.Cert == nil {
		return "", errors.New("idp: SAMLIdP has no key or certificate")
	}
	if o.Subject == "" {
		return "", errors.New("idp: AssertionOptions.Subject is empty")
	}
	if o.Sign < SignAssertion || o.Sign > SignBoth {
		return "", fmt.Errorf("idp: unknown SigningTarget %d", o.Sign)
	}
	issued := o.IssueInstant
	if issued.IsZero() {
		issued = time.Now()
	}
	expires := o.NotOnOrAfter
	if expires.IsZero() {
		expires = issued.Add(5 * time.Minute)
	}
	audience := cmp.Or(o.Audience, DefaultSAMLAudience)
	recipient := cmp.Or(o.Recipient, DefaultSAMLAudience)

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsSAMLP)
	resp.CreateAttr("xmlns:saml", nsSAML)
	resp.CreateAttr("ID", newID())
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", samlTime(issued))
	resp.CreateAttr("Destination", recipient)
	respIssuer := p.issuer(resp)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusOK)

	a := resp.CreateElement("saml:Assertion")
	// Declared again so the Assertion stays self-contained when a relying party cuts it out.
	a.CreateAttr("xmlns:saml", nsSAML)
	a.CreateAttr("ID", newID())
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", samlTime(issued))
	aIssuer := p.issuer(a)

	subj := a.CreateElement("saml:Subject")
	nameID := subj.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", cmp.Or(o.NameIDFormat, NameIDFormatPersistent))
	nameID.SetText(o.Subject)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", bearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", samlTime(expires))
	scd.CreateAttr("Recipient", recipient)

	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", samlTime(issued))
	cond.CreateAttr("NotOnOrAfter", samlTime(expires))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(audience)

	authn := a.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", samlTime(issued))
	authn.CreateAttr("SessionIndex", newID())
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(passwordCtx)

	attrs := a.CreateElement("saml:AttributeStatement")
	addAttr := func(name string, values ...string) {
		at := attrs.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		at.CreateAttr("NameFormat", uriAttrFmt)
		for _, v := range values {
			at.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	if len(o.Roles) > 0 {
		addAttr(SAMLRoleAttribute, o.Roles...)
	}
	addAttr(SAMLRoleSessionNameAttribute, cmp.Or(o.RoleSessionName, o.Subject))
	if o.SessionDuration != 0 {
		addAttr(SAMLSessionDurationAttribute, strconv.Itoa(o.SessionDuration))
	}
	names := make([]string, 0, len(o.Attributes))
	for name := range o.Attributes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		addAttr(name, o.Attributes[name]...)
	}

	if o.mutate != nil {
		o.mutate(a)
	}
	if !o.Unsigned {
		// The Assertion is signed first, so that a Response signature also covers it.
		if o.Sign == SignAssertion || o.Sign == SignBoth {
			if err := p.signEnveloped(a, aIssuer); err != nil {
				return "", err
			}
		}
		if o.Sign == SignResponse || o.Sign == SignBoth {
			if err := p.signEnveloped(resp, respIssuer); err != nil {
				return "", err
			}
		}
	}

	doc := etree.NewDocument()
	doc.SetRoot(resp)
	// No indentation: whitespace added after signing would break the digest.
	out, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("idp: serialize SAML response: %w", err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// issuer appends a saml:Issuer naming the identity provider.
func (p *SAMLIdP) issuer(parent *etree.Element) *etree.Element {
	iss := parent.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", entityFmt)
	iss.SetText(p.EntityID)
	return iss
}

// signEnveloped signs el and places the ds:Signature right after its Issuer, where the SAML
// schema requires it (goxmldsig's SignEnveloped would append it at the end instead).
func (p *SAMLIdP) signEnveloped(el, issuer *etree.Element) error {
	ctx, err := dsig.NewSigningContext(p.Key, [][]byte{p.Cert.Raw})
	if err != nil {
		return fmt.Errorf("idp: SAML signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return fmt.Errorf("idp: SAML signature method: %w", err)
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return fmt.Errorf("idp: sign SAML %s: %w", el.Tag, err)
	}
	el.InsertChildAt(issuer.Index()+1, sig)
	return nil
}

// newID returns a random SAML ID; the leading underscore keeps it a valid xs:ID (NCName).
func newID() string {
	return "_" + strings.ToLower(rand.Text())
}

// samlTime formats t as xs:dateTime in UTC with milliseconds, as Okta and ADFS do.
func samlTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
