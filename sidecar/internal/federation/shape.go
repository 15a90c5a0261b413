package federation

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// SAMLProtocolNS is the XML namespace of a SAML 2.0 protocol message such as samlp:Response.
const SAMLProtocolNS = "urn:oasis:names:tc:SAML:2.0:protocol"

// IsJWT reports whether token has the shape of a signed JWT: three base64url parts, a header that
// is a JSON object naming its "alg", and a payload that is a JSON object. Nothing is verified and
// no claim is read: it only tells a token from any other file before the file is sent anywhere.
func IsJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p = strings.TrimRight(p, "="); p == "" || strings.TrimLeft(p, base64URLAlphabet) != "" {
			return false
		}
	}
	header, err := decodeSegment(parts[0], "header")
	if err != nil {
		return false
	}
	if _, err := decodeSegment(parts[1], "payload"); err != nil {
		return false
	}
	alg, err := stringClaim(header, "alg", "header")
	return err == nil && alg != ""
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// IsOpaqueToken reports whether token could be an OAuth 2.0 access token, which has no structure
// to check: printable ASCII without spaces.
func IsOpaqueToken(token string) bool {
	if token == "" {
		return false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// IsSAMLResponse reports whether assertion is what AssumeRoleWithSAML takes: base64 (possibly
// line-wrapped or URL-encoded) of an XML document whose root element is a SAML 2.0 protocol
// Response. Raw XML is not: STS wants it encoded.
func IsSAMLResponse(assertion string) bool {
	s := strings.TrimSpace(assertion)
	if s == "" || s[0] == '<' {
		return false
	}
	doc, err := samlXML(s)
	if err != nil {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.CharsetReader = charsetReader
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if el, ok := tok.(xml.StartElement); ok {
			return el.Name.Local == "Response" && el.Name.Space == SAMLProtocolNS
		}
	}
}
