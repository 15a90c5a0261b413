package idp

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
)

const (
	testEntityID = "https://idp.example.test/saml"
	roleAdmin    = "arn:aws:iam::123456789012:role/Admin"
	roleReadOnly = "arn:aws:iam::123456789012:role/ReadOnly"
	samlProvider = "arn:aws:iam::123456789012:saml-provider/LocalIdP"
	// canary is put into the Subject (and so the default RoleSessionName) of negative cases to
	// prove that no error message repeats assertion content.
	canary = "canary-5f1d2c9e@example.com"
)

// testIdPs generates two identity providers once, since 2048-bit keys are slow under -race.
var testIdPs = sync.OnceValues(func() ([2]*SAMLIdP, error) {
	var out [2]*SAMLIdP
	for i, id := range []string{testEntityID, "https://other-idp.example.test/saml"} {
		p, err := NewSAMLIdP(id)
		if err != nil {
			return out, err
		}
		out[i] = p
	}
	return out, nil
})

func idps(t *testing.T) (*SAMLIdP, *SAMLIdP) {
	t.Helper()
	ps, err := testIdPs()
	if err != nil {
		t.Fatalf("NewSAMLIdP: %v", err)
	}
	return ps[0], ps[1]
}

func mustAssertion(t *testing.T, p *SAMLIdP, o AssertionOptions) string {
	t.Helper()
	b64, err := p.Assertion(o)
	if err != nil {
		t.Fatalf("Assertion: %v", err)
	}
	return b64
}

// editXML decodes a response, applies edit to the XML text and re-encodes it; it fails the
// test when edit changed nothing, so a tampering test cannot pass vacuously.
func editXML(t *testing.T, b64 string, edit func(string) string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	edited := edit(string(raw))
	if edited == string(raw) {
		t.Fatal("edit left the XML unchanged")
	}
	return base64.StdEncoding.EncodeToString([]byte(edited))
}

func TestNewSAMLIdP(t *testing.T) {
	p, _ := idps(t)
	if p.Key.N.BitLen() != 2048 {
		t.Errorf("key size = %d, want 2048", p.Key.N.BitLen())
	}
	if life := p.Cert.NotAfter.Sub(p.Cert.NotBefore); life < 10*365*24*time.Hour {
		t.Errorf("certificate lifetime = %v, want at least 10 years", life)
	}
	if err := p.Cert.CheckSignature(p.Cert.SignatureAlgorithm, p.Cert.RawTBSCertificate, p.Cert.Signature); err != nil {
		t.Errorf("certificate is not self-signed: %v", err)
	}
	block, _ := pem.Decode([]byte(p.CertPEM()))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CertPEM is not a PEM certificate: %q", p.CertPEM())
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !c.Equal(p.Cert) {
		t.Errorf("CertPEM does not hold Cert (err %v)", err)
	}
	if _, err := NewSAMLIdP(""); err == nil {
		t.Error("NewSAMLIdP(\"\") succeeded, want an error")
	}
}

func TestVerifySAMLRoundTrip(t *testing.T) {
	a, b := idps(t)
	now := time.Now()
	tests := []struct {
		name     string
		opts     AssertionOptions
		certs    []*x509.Certificate
		audience string
		check    func(t *testing.T, c *SAMLClaims)
	}{
		{
			name: "assertion signed, roles in both orders",
			opts: AssertionOptions{
				Subject:         "alice@example.com",
				Roles:           []string{roleAdmin + "," + samlProvider, samlProvider + ", " + roleReadOnly},
				RoleSessionName: "alice",
				SessionDuration: 3600,
			},
			check: func(t *testing.T, c *SAMLClaims) {
				want := []RolePair{{roleAdmin, samlProvider}, {roleReadOnly, samlProvider}}
				if !slices.Equal(c.Roles, want) {
					t.Errorf("Roles = %v, want %v", c.Roles, want)
				}
				if c.RoleSessionName != "alice" || c.SessionDuration != 3600 {
					t.Errorf("RoleSessionName, SessionDuration = %q, %d", c.RoleSessionName, c.SessionDuration)
				}
				if c.Subject != "alice@example.com" || c.SubjectType != "persistent" {
					t.Errorf("Subject, SubjectType = %q, %q", c.Subject, c.SubjectType)
				}
				if c.Issuer != testEntityID || c.Audience != DefaultSAMLAudience {
					t.Errorf("Issuer, Audience = %q, %q", c.Issuer, c.Audience)
				}
				if want := now.Add(5 * time.Minute).Truncate(time.Millisecond); !c.NotOnOrAfter.Equal(want) {
					t.Errorf("NotOnOrAfter = %v, want %v", c.NotOnOrAfter, want)
				}
			},
		},
		{
			name: "response signed only",
			opts: AssertionOptions{Subject: "bob", Roles: []string{roleAdmin + "," + samlProvider}, Sign: SignResponse},
			check: func(t *testing.T, c *SAMLClaims) {
				if c.Subject != "bob" || c.RoleSessionName != "bob" || c.SessionDuration != 0 {
					t.Errorf("Subject, RoleSessionName, SessionDuration = %q, %q, %d", c.Subject, c.RoleSessionName, c.SessionDuration)
				}
			},
		},
		{
			name: "response and assertion signed",
			opts: AssertionOptions{Subject: "carol", Roles: []string{roleAdmin + "," + samlProvider}, Sign: SignBoth},
			check: func(t *testing.T, c *SAMLClaims) {
				if len(c.Roles) != 1 || c.Roles[0].RoleArn != roleAdmin {
					t.Errorf("Roles = %v", c.Roles)
				}
			},
		},
		{
			name:  "any of several certificates",
			opts:  AssertionOptions{Subject: "dave", Roles: []string{roleAdmin + "," + samlProvider}},
			certs: []*x509.Certificate{b.Cert, a.Cert},
			check: func(t *testing.T, c *SAMLClaims) {
				if c.Issuer != testEntityID {
					t.Errorf("Issuer = %q", c.Issuer)
				}
			},
		},
		{
			name: "custom audience, transient NameID, session tags",
			opts: AssertionOptions{
				Subject:      "erin",
				NameIDFormat: NameIDFormatTransient,
				Roles:        []string{roleAdmin + "," + samlProvider},
				Audience:     "urn:amazon:webservices",
				Attributes:   map[string][]string{"https://aws.amazon.com/SAML/Attributes/PrincipalTag:Team": {"blue"}},
			},
			audience: "urn:amazon:webservices",
			check: func(t *testing.T, c *SAMLClaims) {
				if c.SubjectType != "transient" || c.Audience != "urn:amazon:webservices" {
					t.Errorf("SubjectType, Audience = %q, %q", c.SubjectType, c.Audience)
				}
				if got := c.Attributes["https://aws.amazon.com/SAML/Attributes/PrincipalTag:Team"]; !slices.Equal(got, []string{"blue"}) {
					t.Errorf("PrincipalTag:Team = %v", got)
				}
			},
		},
		{
			name: "SAML 1.1 NameID format is reported unchanged",
			opts: AssertionOptions{Subject: "frank@example.com", NameIDFormat: NameIDFormatEmail, Roles: []string{roleAdmin + "," + samlProvider}},
			check: func(t *testing.T, c *SAMLClaims) {
				if c.SubjectType != NameIDFormatEmail {
					t.Errorf("SubjectType = %q, want %q", c.SubjectType, NameIDFormatEmail)
				}
			},
		},
		{
			name: "NotBefore within the clock skew",
			opts: AssertionOptions{Subject: "grace", Roles: []string{roleAdmin + "," + samlProvider}, IssueInstant: now.Add(3 * time.Minute)},
			check: func(t *testing.T, c *SAMLClaims) {
				if c.Subject != "grace" {
					t.Errorf("Subject = %q", c.Subject)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.IssueInstant.IsZero() {
				tt.opts.IssueInstant = now
			}
			certs := tt.certs
			if certs == nil {
				certs = []*x509.Certificate{a.Cert}
			}
			c, err := VerifySAML(mustAssertion(t, a, tt.opts), certs, tt.audience, now)
			if err != nil {
				t.Fatalf("VerifySAML: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestVerifySAMLRejects(t *testing.T) {
	a, b := idps(t)
	now := time.Now()
	base := AssertionOptions{Subject: canary, Roles: []string{roleAdmin + "," + samlProvider}, IssueInstant: now}
	with := func(edit func(o *AssertionOptions)) AssertionOptions {
		o := base
		edit(&o)
		return o
	}
	removeAttr := func(name string) func(*etree.Element) {
		return func(as *etree.Element) {
			for _, at := range as.FindElements("./saml:AttributeStatement/saml:Attribute") {
				if at.SelectAttrValue("Name", "") == name {
					at.Parent().RemoveChild(at)
				}
			}
		}
	}
	tests := []struct {
		name     string
		input    func(t *testing.T) string
		certs    []*x509.Certificate
		audience string
		now      time.Time
		wantCode string
		wantMsg  string
	}{
		{
			name: "unsigned",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.Unsigned = true }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "not signed",
		},
		{
			name:     "signed by another identity provider",
			input:    func(t *testing.T) string { return mustAssertion(t, b, base) },
			wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "trusted certificate in KeyInfo but signed with another key",
			input: func(t *testing.T) string {
				forger := &SAMLIdP{EntityID: testEntityID, Key: b.Key, Cert: a.Cert}
				return mustAssertion(t, forger, base)
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "role ARN changed after signing",
			input: func(t *testing.T) string {
				return editXML(t, mustAssertion(t, a, base), func(s string) string {
					return strings.ReplaceAll(s, "role/Admin", "role/Administrator")
				})
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "role ARN changed after signing the response",
			input: func(t *testing.T) string {
				return editXML(t, mustAssertion(t, a, with(func(o *AssertionOptions) { o.Sign = SignResponse })), func(s string) string {
					return strings.ReplaceAll(s, "role/Admin", "role/Administrator")
				})
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "second unsigned assertion wrapped into the response",
			input: func(t *testing.T) string {
				evil := mustAssertion(t, a, with(func(o *AssertionOptions) { o.Unsigned = true; o.Roles = []string{roleReadOnly + "," + samlProvider} }))
				raw, _ := base64.StdEncoding.DecodeString(evil)
				s := string(raw)
				injected := s[strings.Index(s, "<saml:Assertion") : strings.Index(s, "</saml:Assertion>")+len("</saml:Assertion>")]
				return editXML(t, mustAssertion(t, a, base), func(s string) string {
					return strings.Replace(s, "<saml:Assertion", injected+"<saml:Assertion", 1)
				})
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "exactly one Assertion",
		},
		{
			name: "expired",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) {
					o.IssueInstant = now.Add(-10 * time.Minute)
					o.NotOnOrAfter = now.Add(-5 * time.Minute)
				}))
			},
			wantCode: CodeExpiredToken, wantMsg: "expired",
		},
		{
			name: "now equals NotOnOrAfter",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.NotOnOrAfter = now.Add(time.Minute).Truncate(time.Second) }))
			},
			now:      now.Add(time.Minute).Truncate(time.Second),
			wantCode: CodeExpiredToken, wantMsg: "expired",
		},
		{
			name: "not yet valid beyond the clock skew",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.IssueInstant = now.Add(10 * time.Minute) }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "not valid before",
		},
		{
			name:     "wrong audience",
			input:    func(t *testing.T) string { return mustAssertion(t, a, base) },
			audience: "urn:example:someone-else",
			wantCode: CodeInvalidIdentityToken, wantMsg: "audience",
		},
		{
			name: "missing Role attribute",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.Roles = nil }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: SAMLRoleAttribute,
		},
		{
			name: "Role value without a saml-provider ARN",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.Roles = []string{roleAdmin + "," + roleReadOnly} }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: SAMLRoleAttribute,
		},
		{
			name: "missing RoleSessionName attribute",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.mutate = removeAttr(SAMLRoleSessionNameAttribute) }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: SAMLRoleSessionNameAttribute,
		},
		{
			name: "RoleSessionName with a forbidden character",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.RoleSessionName = canary + "/x" }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: SAMLRoleSessionNameAttribute,
		},
		{
			name: "SessionDuration out of range",
			input: func(t *testing.T) string {
				return mustAssertion(t, a, with(func(o *AssertionOptions) { o.SessionDuration = 60 }))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: SAMLSessionDurationAttribute,
		},
		{
			name: "status is not Success",
			input: func(t *testing.T) string {
				return editXML(t, mustAssertion(t, a, base), func(s string) string {
					return strings.Replace(s, statusOK, "urn:oasis:names:tc:SAML:2.0:status:Requester", 1)
				})
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "status",
		},
		{
			name: "DTD",
			input: func(t *testing.T) string {
				return editXML(t, mustAssertion(t, a, base), func(s string) string {
					return `<!DOCTYPE samlp:Response [<!ENTITY x "y">]>` + s
				})
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "DTD",
		},
		{
			name:     "not base64",
			input:    func(*testing.T) string { return "this is %% not base64 " + canary },
			wantCode: CodeInvalidIdentityToken, wantMsg: "base64",
		},
		{
			name:     "base64 of something that is not XML",
			input:    func(*testing.T) string { return base64.StdEncoding.EncodeToString([]byte("{" + canary + "}")) },
			wantCode: CodeInvalidIdentityToken, wantMsg: "XML",
		},
		{
			name: "an Assertion instead of a Response",
			input: func(t *testing.T) string {
				return base64.StdEncoding.EncodeToString([]byte(`<saml:Assertion xmlns:saml="` + nsSAML + `">` + canary + `</saml:Assertion>`))
			},
			wantCode: CodeInvalidIdentityToken, wantMsg: "Response",
		},
		{
			name:     "no trusted certificates",
			input:    func(t *testing.T) string { return mustAssertion(t, a, base) },
			certs:    []*x509.Certificate{},
			wantCode: CodeInvalidIdentityToken, wantMsg: "certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.input(t)
			certs := tt.certs
			if certs == nil {
				certs = []*x509.Certificate{a.Cert}
			}
			at := tt.now
			if at.IsZero() {
				at = now
			}
			c, err := VerifySAML(in, certs, tt.audience, at)
			if err == nil {
				t.Fatalf("VerifySAML succeeded with claims %+v, want %s", c, tt.wantCode)
			}
			var se *SAMLError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SAMLError", err, err)
			}
			if se.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q (message %q)", se.Code, tt.wantCode, se.Message)
			}
			if !strings.Contains(se.Message, tt.wantMsg) {
				t.Errorf("Message = %q, want it to mention %q", se.Message, tt.wantMsg)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), in) {
				t.Errorf("error %q repeats assertion content", err)
			}
		})
	}
}

// TestVerifySAMLCommentInNameID guards against the comment-splitting attack, where a verifier
// that reads only the first text node of "alice@example.com<!---->.evil.test" sees another user.
func TestVerifySAMLCommentInNameID(t *testing.T) {
	a, _ := idps(t)
	now := time.Now()
	in := mustAssertion(t, a, AssertionOptions{
		Subject: "alice@example.com.evil.test", RoleSessionName: "alice",
		Roles: []string{roleAdmin + "," + samlProvider}, IssueInstant: now,
	})
	in = editXML(t, in, func(s string) string {
		return strings.Replace(s, "alice@example.com.evil.test</saml:NameID>", "alice@example.com<!---->.evil.test</saml:NameID>", 1)
	})
	c, err := VerifySAML(in, []*x509.Certificate{a.Cert}, "", now)
	if err != nil {
		t.Fatalf("VerifySAML: %v", err)
	}
	if c.Subject != "alice@example.com.evil.test" {
		t.Errorf("Subject = %q, want the full signed NameID", c.Subject)
	}
}

// samlResponseShape mirrors the elements a plain encoding/xml consumer of a SAML response reads.
type samlResponseShape struct {
	XMLName     xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:protocol Response"`
	ID          string   `xml:"ID,attr"`
	Version     string   `xml:"Version,attr"`
	Destination string   `xml:"Destination,attr"`
	Issuer      string   `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	StatusCode  struct {
		Value string `xml:"Value,attr"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol Status>StatusCode"`
	Assertion struct {
		ID        string `xml:"ID,attr"`
		Issuer    string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
		Signature struct {
			SignedInfo struct {
				CanonicalizationMethod struct {
					Algorithm string `xml:"Algorithm,attr"`
				} `xml:"http://www.w3.org/2000/09/xmldsig# CanonicalizationMethod"`
				SignatureMethod struct {
					Algorithm string `xml:"Algorithm,attr"`
				} `xml:"http://www.w3.org/2000/09/xmldsig# SignatureMethod"`
				Reference struct {
					URI string `xml:"URI,attr"`
				} `xml:"http://www.w3.org/2000/09/xmldsig# Reference"`
			} `xml:"http://www.w3.org/2000/09/xmldsig# SignedInfo"`
			SignatureValue string `xml:"http://www.w3.org/2000/09/xmldsig# SignatureValue"`
		} `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
		Subject struct {
			NameID struct {
				Format string `xml:"Format,attr"`
				Value  string `xml:",chardata"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:assertion NameID"`
			SubjectConfirmation struct {
				Method string `xml:"Method,attr"`
				Data   struct {
					NotOnOrAfter string `xml:"NotOnOrAfter,attr"`
					Recipient    string `xml:"Recipient,attr"`
				} `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmationData"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmation"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Subject"`
		Conditions struct {
			NotBefore    string   `xml:"NotBefore,attr"`
			NotOnOrAfter string   `xml:"NotOnOrAfter,attr"`
			Audiences    []string `xml:"urn:oasis:names:tc:SAML:2.0:assertion AudienceRestriction>Audience"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Conditions"`
		AuthnStatement struct {
			AuthnInstant string `xml:"AuthnInstant,attr"`
			ClassRef     string `xml:"urn:oasis:names:tc:SAML:2.0:assertion AuthnContext>AuthnContextClassRef"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion AuthnStatement"`
		Attributes []struct {
			Name   string   `xml:"Name,attr"`
			Values []string `xml:"urn:oasis:names:tc:SAML:2.0:assertion AttributeValue"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion AttributeStatement>Attribute"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
}

func TestAssertionShape(t *testing.T) {
	a, _ := idps(t)
	issued := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in := mustAssertion(t, a, AssertionOptions{
		Subject: "alice@example.com", Roles: []string{roleAdmin + "," + samlProvider},
		SessionDuration: 7200, IssueInstant: issued,
	})
	raw, err := base64.StdEncoding.DecodeString(in)
	if err != nil {
		t.Fatalf("output is not base64: %v", err)
	}
	var r samlResponseShape
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatalf("encoding/xml cannot read the response: %v", err)
	}
	as := r.Assertion
	attrs := map[string][]string{}
	for _, at := range as.Attributes {
		attrs[at.Name] = at.Values
	}
	checks := []struct{ name, got, want string }{
		{"Response Version", r.Version, "2.0"},
		{"Response Destination", r.Destination, DefaultSAMLAudience},
		{"Response Issuer", r.Issuer, testEntityID},
		{"StatusCode", r.StatusCode.Value, statusOK},
		{"Assertion Issuer", as.Issuer, testEntityID},
		{"c14n", as.Signature.SignedInfo.CanonicalizationMethod.Algorithm, "http://www.w3.org/2001/10/xml-exc-c14n#"},
		{"SignatureMethod", as.Signature.SignedInfo.SignatureMethod.Algorithm, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"},
		{"Reference URI", as.Signature.SignedInfo.Reference.URI, "#" + as.ID},
		{"NameID", as.Subject.NameID.Value, "alice@example.com"},
		{"NameID Format", as.Subject.NameID.Format, NameIDFormatPersistent},
		{"SubjectConfirmation Method", as.Subject.SubjectConfirmation.Method, "urn:oasis:names:tc:SAML:2.0:cm:bearer"},
		{"SubjectConfirmationData NotOnOrAfter", as.Subject.SubjectConfirmation.Data.NotOnOrAfter, "2030-01-02T03:09:05.000Z"},
		{"SubjectConfirmationData Recipient", as.Subject.SubjectConfirmation.Data.Recipient, DefaultSAMLAudience},
		{"Conditions NotBefore", as.Conditions.NotBefore, "2030-01-02T03:04:05.000Z"},
		{"Conditions NotOnOrAfter", as.Conditions.NotOnOrAfter, "2030-01-02T03:09:05.000Z"},
		{"Audience", strings.Join(as.Conditions.Audiences, " "), DefaultSAMLAudience},
		{"AuthnInstant", as.AuthnStatement.AuthnInstant, "2030-01-02T03:04:05.000Z"},
		{"AuthnContextClassRef", as.AuthnStatement.ClassRef, passwordCtx},
		{"Role", strings.Join(attrs[SAMLRoleAttribute], " "), roleAdmin + "," + samlProvider},
		{"RoleSessionName", strings.Join(attrs[SAMLRoleSessionNameAttribute], " "), "alice@example.com"},
		{"SessionDuration", strings.Join(attrs[SAMLSessionDurationAttribute], " "), "7200"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	t.Run("signature value", func(t *testing.T) {
		sig, err := base64.StdEncoding.DecodeString(as.Signature.SignatureValue)
		if err != nil || len(sig) != 256 {
			t.Errorf("SignatureValue decodes to %d bytes (err %v), want 256", len(sig), err)
		}
	})
	t.Run("element order", func(t *testing.T) {
		// The SAML schema fixes the order; strict consumers reject anything else.
		want := map[string][]string{
			"Response":  {"Issuer", "Status", "Assertion"},
			"Assertion": {"Issuer", "Signature", "Subject", "Conditions", "AuthnStatement", "AttributeStatement"},
		}
		got := map[string][]string{}
		dec := xml.NewDecoder(strings.NewReader(string(raw)))
		var stack []string
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch e := tok.(type) {
			case xml.StartElement:
				if len(stack) > 0 {
					if parent := stack[len(stack)-1]; want[parent] != nil {
						got[parent] = append(got[parent], e.Name.Local)
					}
				}
				stack = append(stack, e.Name.Local)
			case xml.EndElement:
				stack = stack[:len(stack)-1]
			}
		}
		for parent, w := range want {
			if !slices.Equal(got[parent], w) {
				t.Errorf("%s children = %v, want %v", parent, got[parent], w)
			}
		}
	})
}

func TestAssertionOptionsErrors(t *testing.T) {
	a, _ := idps(t)
	tests := []struct {
		name string
		p    *SAMLIdP
		o    AssertionOptions
	}{
		{"empty subject", a, AssertionOptions{Roles: []string{roleAdmin + "," + samlProvider}}},
		{"no key", &SAMLIdP{EntityID: testEntityID}, AssertionOptions{Subject: "x"}},
		{"nil provider", nil, AssertionOptions{Subject: "x"}},
		{"unknown signing target", a, AssertionOptions{Subject: "x", Sign: SignBoth + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := tt.p.Assertion(tt.o); err == nil {
				t.Errorf("Assertion succeeded with %d bytes, want an error", len(out))
			}
		})
	}
}

func TestParseSAMLMetadata(t *testing.T) {
	a, _ := idps(t)
	md, err := ParseSAMLMetadata(a.Metadata())
	if err != nil {
		t.Fatalf("ParseSAMLMetadata(Metadata()): %v", err)
	}
	if md.EntityID != testEntityID || len(md.Certs) != 1 || !md.Certs[0].Equal(a.Cert) {
		t.Errorf("metadata = %q with %d certs, want %q and the IdP certificate", md.EntityID, len(md.Certs), testEntityID)
	}
	if n := len(a.Metadata()); n < 1000 {
		t.Errorf("metadata is %d bytes; IAM CreateSAMLProvider requires at least 1000", n)
	}

	bad := []struct{ name, doc string }{
		{"not XML", "hello"},
		{"another root", `<x xmlns="urn:example"/>`},
		{"no entityID", `<md:EntityDescriptor xmlns:md="` + nsMetadata + `"/>`},
		{"no certificate", `<md:EntityDescriptor xmlns:md="` + nsMetadata + `" entityID="x"><md:IDPSSODescriptor/></md:EntityDescriptor>`},
		{"encryption key only", strings.Replace(a.Metadata(), `use="signing"`, `use="encryption"`, 1)},
		{"certificate not base64", strings.Replace(a.Metadata(), "<ds:X509Certificate>", "<ds:X509Certificate>!", 1)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if md, err := ParseSAMLMetadata(tt.doc); err == nil {
				t.Errorf("ParseSAMLMetadata succeeded with %+v, want an error", md)
			}
		})
	}
}
