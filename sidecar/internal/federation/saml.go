package federation

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AWS attribute names that STS reads from a SAML assertion.
const (
	// RoleAttribute lists the "roleArn,principalArn" pairs the user may assume.
	RoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"
	// RoleSessionNameAttribute becomes the assumed-role session name.
	RoleSessionNameAttribute = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	// SessionDurationAttribute caps the session length in seconds.
	SessionDurationAttribute = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
)

// RolePair is one value of the https://aws.amazon.com/SAML/Attributes/Role attribute.
type RolePair struct {
	// RoleArn is the IAM role the user may assume.
	RoleArn string
	// PrincipalArn is the IAM SAML provider that vouches for the user.
	PrincipalArn string
}

// SAMLInfo is what a SAML response tells STS, minus the signed assertion itself.
type SAMLInfo struct {
	// Issuer is the identity provider's entity id.
	Issuer string
	// Subject is the assertion's Subject/NameID.
	Subject string
	// Audience is the AudienceRestriction audience; several are joined with ", ".
	Audience string
	// NotOnOrAfter is when the assertion stops being accepted; zero if absent.
	NotOnOrAfter time.Time
	// Roles are the role/provider pairs from the Role attribute, in document order.
	Roles []RolePair
	// SessionDuration is the SessionDuration attribute in seconds, or 0 if absent.
	SessionDuration int
	// RoleSessionName is the RoleSessionName attribute, or "" if absent.
	RoleSessionName string
}

type samlAttribute struct {
	Name   string   `xml:"Name,attr"`
	Values []string `xml:"AttributeValue"`
}

// Tags without a namespace match any prefix (samlp:, saml:, saml2:, none),
// which is what lets one set of structs read every IdP's output.
type samlAssertion struct {
	Issuer  string `xml:"Issuer"`
	Subject struct {
		NameID        string `xml:"NameID"`
		Confirmations []struct {
			Data []struct {
				NotOnOrAfter string `xml:"NotOnOrAfter,attr"`
			} `xml:"SubjectConfirmationData"`
		} `xml:"SubjectConfirmation"`
	} `xml:"Subject"`
	Conditions struct {
		NotOnOrAfter string `xml:"NotOnOrAfter,attr"`
		Restrictions []struct {
			Audiences []string `xml:"Audience"`
		} `xml:"AudienceRestriction"`
	} `xml:"Conditions"`
	Statements []struct {
		Attributes []samlAttribute `xml:"Attribute"`
	} `xml:"AttributeStatement"`
}

type samlResponse struct {
	XMLName    xml.Name
	Issuer     string          `xml:"Issuer"`
	Assertions []samlAssertion `xml:"Assertion"`
	Encrypted  []struct {
		XMLName xml.Name
	} `xml:"EncryptedAssertion"`
}

// ParseSAML reads a SAML Response as STS's AssumeRoleWithSAML takes it:
// base64-encoded, possibly line-wrapped or URL-encoded. Raw XML starting with
// '<' and a bare Assertion element are accepted too. Elements are matched by
// local name so any namespace prefix works. Errors never include the input.
func ParseSAML(assertion string) (*SAMLInfo, error) {
	doc, err := samlXML(assertion)
	if err != nil {
		return nil, err
	}

	var resp samlResponse
	if err := unmarshalXML(doc, &resp); err != nil {
		return nil, err
	}
	var a samlAssertion
	switch resp.XMLName.Local {
	case "Response":
		if len(resp.Assertions) == 0 {
			if len(resp.Encrypted) > 0 {
				return nil, errors.New("the SAML response's assertion is encrypted (EncryptedAssertion); its contents cannot be read without the service provider's private key")
			}
			return nil, errors.New("the SAML response has no Assertion element")
		}
		a = resp.Assertions[0]
	case "Assertion":
		if err := unmarshalXML(doc, &a); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("the XML root element is neither a SAML Response nor an Assertion")
	}
	return assertionInfo(a, resp.Issuer)
}

// assertionInfo extracts SAMLInfo from a decoded assertion; responseIssuer is
// the fallback when the assertion itself names no issuer.
func assertionInfo(a samlAssertion, responseIssuer string) (*SAMLInfo, error) {
	info := &SAMLInfo{
		Issuer:  strings.TrimSpace(a.Issuer),
		Subject: strings.TrimSpace(a.Subject.NameID),
	}
	if info.Issuer == "" {
		info.Issuer = strings.TrimSpace(responseIssuer)
	}
	var auds []string
	for _, r := range a.Conditions.Restrictions {
		for _, aud := range r.Audiences {
			if aud = strings.TrimSpace(aud); aud != "" {
				auds = append(auds, aud)
			}
		}
	}
	info.Audience = strings.Join(auds, ", ")

	if s := strings.TrimSpace(a.Conditions.NotOnOrAfter); s != "" {
		t, err := parseSAMLTime(s, "Conditions NotOnOrAfter")
		if err != nil {
			return nil, err
		}
		info.NotOnOrAfter = t
	} else {
		// Without Conditions, the earliest confirmation deadline is what STS enforces.
		for _, c := range a.Subject.Confirmations {
			for _, d := range c.Data {
				s := strings.TrimSpace(d.NotOnOrAfter)
				if s == "" {
					continue
				}
				t, err := parseSAMLTime(s, "SubjectConfirmationData NotOnOrAfter")
				if err != nil {
					return nil, err
				}
				if info.NotOnOrAfter.IsZero() || t.Before(info.NotOnOrAfter) {
					info.NotOnOrAfter = t
				}
			}
		}
	}

	n := 0
	for _, st := range a.Statements {
		for _, attr := range st.Attributes {
			name := strings.TrimSpace(attr.Name)
			switch {
			case strings.EqualFold(name, RoleAttribute):
				for _, v := range attr.Values {
					if strings.TrimSpace(v) == "" {
						continue
					}
					n++
					pair, err := parseRolePair(v, n)
					if err != nil {
						return nil, err
					}
					info.Roles = append(info.Roles, pair)
				}
			case strings.EqualFold(name, RoleSessionNameAttribute):
				if v := firstValue(attr.Values); v != "" {
					info.RoleSessionName = v
				}
			case strings.EqualFold(name, SessionDurationAttribute):
				if v := firstValue(attr.Values); v != "" {
					d, err := strconv.Atoi(v)
					if err != nil || d < 0 {
						return nil, errors.New("the SessionDuration attribute is not a whole number of seconds")
					}
					info.SessionDuration = d
				}
			}
		}
	}
	return info, nil
}

func firstValue(vs []string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// parseRolePair splits "roleArn,principalArn"; IdPs emit either order, and
// the provider is recognised by ":saml-provider/". n is 1-based for errors.
func parseRolePair(v string, n int) (RolePair, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 2 {
		return RolePair{}, fmt.Errorf("the Role attribute's value %d is not a \"roleArn,principalArn\" pair", n)
	}
	a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	switch {
	case a == "" || b == "":
		return RolePair{}, fmt.Errorf("the Role attribute's value %d has an empty ARN", n)
	case strings.Contains(b, ":saml-provider/") && !strings.Contains(a, ":saml-provider/"):
		return RolePair{RoleArn: a, PrincipalArn: b}, nil
	case strings.Contains(a, ":saml-provider/") && !strings.Contains(b, ":saml-provider/"):
		return RolePair{RoleArn: b, PrincipalArn: a}, nil
	default:
		return RolePair{}, fmt.Errorf("the Role attribute's value %d does not pair one role ARN with one SAML provider ARN (arn:aws:iam::<account>:saml-provider/<name>)", n)
	}
}

// parseSAMLTime parses an xs:dateTime; the error deliberately omits the value.
func parseSAMLTime(s, what string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("the assertion's %s is not an RFC 3339 timestamp", what)
	}
	return t.UTC(), nil
}

// samlXML returns the XML document inside assertion, undoing base64 and, for
// values copied from a browser form post, URL encoding.
func samlXML(assertion string) ([]byte, error) {
	s := strings.TrimSpace(strings.TrimPrefix(assertion, "\uFEFF"))
	if s == "" {
		return nil, errors.New("the SAML assertion is empty")
	}
	if s[0] == '<' {
		return []byte(s), nil
	}
	if strings.Contains(s, "%") {
		// PathUnescape keeps '+', which is a base64 character, intact.
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, errors.New("the SAML assertion is neither XML nor valid base64 (it contains a malformed %-escape)")
		}
		s = u
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	var doc []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			doc = b
			break
		}
	}
	if doc == nil {
		return nil, errors.New("the SAML assertion is neither XML nor valid base64")
	}
	doc = bytes.TrimSpace(bytes.TrimPrefix(doc, []byte("\uFEFF")))
	if len(doc) == 0 || doc[0] != '<' {
		return nil, errors.New("the SAML assertion's base64 does not decode to XML (a SAMLResponse from the POST binding is plain base64, not deflated)")
	}
	return doc, nil
}

// unmarshalXML decodes doc into v and replaces decoder errors, which can quote
// element names and other document text, with a line number only.
func unmarshalXML(doc []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.CharsetReader = charsetReader
	if err := d.Decode(v); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("the SAML assertion is not well-formed XML (line %d)", se.Line)
		}
		if errors.Is(err, io.EOF) {
			return errors.New("the SAML assertion contains no XML element")
		}
		return errors.New("the SAML assertion could not be read as XML")
	}
	return nil
}

// charsetReader supports the non-UTF-8 declarations IdPs actually emit.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "us-ascii", "ascii", "utf8":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, errors.New("unsupported XML encoding")
}

// PickRole chooses the role pair to pass to AssumeRoleWithSAML, so a caller
// may name only the role, or nothing when the assertion offers one role.
// When both ARNs are given they are returned as is if the assertion has no
// Role attribute, and must match one of its pairs otherwise.
func (s *SAMLInfo) PickRole(roleArn, principalArn string) (RolePair, error) {
	roleArn, principalArn = strings.TrimSpace(roleArn), strings.TrimSpace(principalArn)
	switch {
	case roleArn != "" && principalArn != "":
		if len(s.Roles) == 0 {
			return RolePair{RoleArn: roleArn, PrincipalArn: principalArn}, nil
		}
		for _, p := range s.Roles {
			if p.RoleArn == roleArn && p.PrincipalArn == principalArn {
				return p, nil
			}
		}
		return RolePair{}, fmt.Errorf("the assertion does not offer role %s with principal %s; it offers %s", roleArn, principalArn, s.describeRoles())
	case roleArn != "":
		var found []RolePair
		for _, p := range s.Roles {
			if p.RoleArn == roleArn {
				found = append(found, p)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
			if len(s.Roles) == 0 {
				return RolePair{}, fmt.Errorf("the assertion has no %s attribute; pass PrincipalArn (the SAML provider ARN) too", RoleAttribute)
			}
			return RolePair{}, fmt.Errorf("the assertion does not offer role %s; it offers %s", roleArn, s.describeRoles())
		default:
			return RolePair{}, fmt.Errorf("the assertion offers role %s through %d SAML providers; pass PrincipalArn", roleArn, len(found))
		}
	case principalArn != "":
		var found []RolePair
		for _, p := range s.Roles {
			if p.PrincipalArn == principalArn {
				found = append(found, p)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) == 0 {
			return RolePair{}, fmt.Errorf("the assertion offers no role through principal %s; it offers %s", principalArn, s.describeRoles())
		}
		return RolePair{}, fmt.Errorf("the assertion offers %d roles through principal %s: %s; pass RoleArn", len(found), principalArn, roleList(found))
	default:
		switch len(s.Roles) {
		case 1:
			return s.Roles[0], nil
		case 0:
			return RolePair{}, fmt.Errorf("the assertion offers no roles (no %s attribute); pass RoleArn and PrincipalArn", RoleAttribute)
		default:
			return RolePair{}, fmt.Errorf("the assertion offers %d roles: %s; pass RoleArn", len(s.Roles), roleList(s.Roles))
		}
	}
}

func (s *SAMLInfo) describeRoles() string {
	switch len(s.Roles) {
	case 0:
		return "no roles"
	case 1:
		return "1 role: " + roleList(s.Roles)
	default:
		return fmt.Sprintf("%d roles: %s", len(s.Roles), roleList(s.Roles))
	}
}

func roleList(pairs []RolePair) string {
	arns := make([]string, len(pairs))
	for i, p := range pairs {
		arns[i] = p.RoleArn
	}
	return strings.Join(arns, ", ")
}
