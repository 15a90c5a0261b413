package federation

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// fuzzCanary stands in for a bearer secret hidden inside hostile input; no error may repeat any
// 16-character run of it, in any case.
const fuzzCanary = "FuzzCanary7Q2wE9rT5yU1iO3pA8sD6fG4hJ0kL"

// leaksCanary reports whether s holds a 16-character run of fuzzCanary, ignoring case.
func leaksCanary(s string) bool {
	_, ok := ststest.Fragment(s, fuzzCanary)
	return ok
}

// insertAt puts fuzzCanary into s at a position chosen by the fuzzer.
func insertAt(s string, at uint16) string {
	i := int(at) % (len(s) + 1)
	return s[:i] + fuzzCanary + s[i:]
}

// maxParseError bounds an inspection error: fixed text and small numbers, never the input.
const maxParseError = 400

// FuzzParseJWT feeds ParseJWT arbitrary tokens. It must not panic; an error is short and quotes
// nothing of the token (a canary hidden anywhere in it never comes back); a token it accepts
// re-encodes to one that parses to the same information.
func FuzzParseJWT(f *testing.F) {
	f.Fuzz(func(t *testing.T, token string, at uint16) {
		info, err := ParseJWT(token)
		if err != nil {
			msg := err.Error()
			if len(msg) > maxParseError {
				t.Fatalf("error of %d bytes: %.200q", len(msg), msg)
			}
			if len(token) >= 16 && strings.Contains(msg, token) {
				t.Fatalf("error quotes the token: %q", msg)
			}
		} else {
			checkJWTInfo(t, info)
			again, err := ParseJWT(encodeJWT(t, info))
			if err != nil {
				t.Fatalf("re-encoded token rejected: %v (info %+v)", err, info)
			}
			if !sameJWT(info, again) {
				t.Fatalf("round trip changed the token's information:\n got %+v\nwant %+v", again, info)
			}
		}
		if _, err := ParseJWT(insertAt(token, at)); err != nil && leaksCanary(err.Error()) {
			t.Fatalf("error leaks the canary: %q", err)
		}
	})
}

// checkJWTInfo checks what any accepted token must satisfy.
func checkJWTInfo(t *testing.T, info *JWTInfo) {
	t.Helper()
	for name, ts := range map[string]time.Time{"exp": info.ExpiresAt, "iat": info.IssuedAt, "nbf": info.NotBefore} {
		if !ts.IsZero() && (ts.Unix() < -maxUnixSeconds || ts.Unix() > maxUnixSeconds) {
			t.Fatalf("%s %v is out of range", name, ts)
		}
	}
	if info.ExpiresAt.IsZero() {
		if info.Expired(time.Now()) {
			t.Fatal("a token without exp reports expired")
		}
		return
	}
	if !info.Expired(info.ExpiresAt) || info.Expired(info.ExpiresAt.Add(-time.Nanosecond)) {
		t.Fatalf("Expired disagrees with exp %v", info.ExpiresAt)
	}
}

// encodeJWT writes info back as an unsigned-looking compact JWS.
func encodeJWT(t *testing.T, info *JWTInfo) string {
	t.Helper()
	header := map[string]any{}
	if info.Algorithm != "" {
		header["alg"] = info.Algorithm
	}
	if info.KeyID != "" {
		header["kid"] = info.KeyID
	}
	payload := map[string]any{}
	for name, v := range map[string]string{"iss": info.Issuer, "sub": info.Subject} {
		if v != "" {
			payload[name] = v
		}
	}
	if info.Audience != nil {
		payload["aud"] = info.Audience
	}
	for name, ts := range map[string]time.Time{"exp": info.ExpiresAt, "iat": info.IssuedAt, "nbf": info.NotBefore} {
		if ts.IsZero() {
			continue
		}
		payload[name] = json.RawMessage(numericDate(ts))
	}
	seg := func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(bytes.TrimSpace(b.Bytes()))
	}
	return seg(header) + "." + seg(payload) + ".c2ln"
}

// numericDate writes ts as JWT seconds, with a fraction when it has one.
func numericDate(ts time.Time) string {
	sec, ns := ts.Unix(), ts.Nanosecond()
	if ns == 0 {
		return strconv.FormatInt(sec, 10)
	}
	sign := ""
	if sec < 0 {
		// time.Unix(-2, 5e8) is -1.5 s.
		sign, sec, ns = "-", -(sec + 1), 1e9-ns
	}
	return sign + strconv.FormatInt(sec, 10) + "." + strings.TrimRight(strconv.Itoa(1e9 + ns)[1:], "0")
}

// sameJWT compares two parses; fractional times go through a float64, which keeps about 15 digits.
func sameJWT(a, b *JWTInfo) bool {
	near := func(x, y time.Time) bool {
		d := x.Sub(y)
		return x.IsZero() == y.IsZero() && d < time.Millisecond && d > -time.Millisecond
	}
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.Algorithm == b.Algorithm && a.KeyID == b.KeyID &&
		strings.Join(a.Audience, "\x00") == strings.Join(b.Audience, "\x00") && len(a.Audience) == len(b.Audience) &&
		near(a.ExpiresAt, b.ExpiresAt) && near(a.IssuedAt, b.IssuedAt) && near(a.NotBefore, b.NotBefore)
}

// FuzzParseSAML feeds ParseSAML arbitrary assertions (raw XML, base64, URL-encoded). It must not
// panic; an error is short and quotes nothing of the input (a canary hidden anywhere in it never
// comes back); every role pair it reports pairs a role with a SAML provider; PickRole answers from
// those pairs; and an accepted assertion re-encodes to one that parses to the same information.
func FuzzParseSAML(f *testing.F) {
	f.Fuzz(func(t *testing.T, assertion string, at uint16) {
		info, err := ParseSAML(assertion)
		if err != nil {
			msg := err.Error()
			if len(msg) > maxParseError {
				t.Fatalf("error of %d bytes: %.200q", len(msg), msg)
			}
			if len(assertion) >= 16 && strings.Contains(msg, assertion) {
				t.Fatalf("error quotes the assertion: %q", msg)
			}
		} else {
			checkSAMLInfo(t, info)
			again, err := ParseSAML(encodeSAML(info))
			if err != nil {
				t.Fatalf("re-encoded assertion rejected: %v (info %+v)", err, info)
			}
			if !sameSAML(info, again) {
				t.Fatalf("round trip changed the assertion's information:\n got %+v\nwant %+v", again, info)
			}
		}
		if _, err := ParseSAML(insertAt(assertion, at)); err != nil && leaksCanary(err.Error()) {
			t.Fatalf("error leaks the canary: %q", err)
		}
	})
}

// checkSAMLInfo checks what any accepted assertion must satisfy.
func checkSAMLInfo(t *testing.T, info *SAMLInfo) {
	t.Helper()
	if info.SessionDuration < 0 {
		t.Fatalf("negative SessionDuration %d", info.SessionDuration)
	}
	for i, p := range info.Roles {
		if p.RoleArn == "" || p.PrincipalArn == "" || strings.Contains(p.RoleArn, ",") || strings.Contains(p.PrincipalArn, ",") ||
			!strings.Contains(p.PrincipalArn, ":saml-provider/") || strings.Contains(p.RoleArn, ":saml-provider/") {
			t.Fatalf("role pair %d is not a role and a SAML provider: %+v", i, p)
		}
	}
	pick, err := info.PickRole("", "")
	switch {
	case len(info.Roles) == 1 && (err != nil || pick != info.Roles[0]):
		t.Fatalf("PickRole with one pair = %+v, %v", pick, err)
	case len(info.Roles) != 1 && err == nil:
		t.Fatalf("PickRole chose %+v among %d pairs", pick, len(info.Roles))
	}
	for _, p := range info.Roles {
		got, err := info.PickRole(p.RoleArn, p.PrincipalArn)
		if err != nil || got != p {
			t.Fatalf("PickRole(%q, %q) = %+v, %v", p.RoleArn, p.PrincipalArn, got, err)
		}
	}
}

// encodeSAML writes info back as a minimal SAML Response.
func encodeSAML(info *SAMLInfo) string {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">`)
	if info.Issuer != "" {
		b.WriteString("<saml:Issuer>" + esc(info.Issuer) + "</saml:Issuer>")
	}
	b.WriteString("<saml:Subject><saml:NameID>" + esc(info.Subject) + "</saml:NameID></saml:Subject>")
	b.WriteString("<saml:Conditions")
	if !info.NotOnOrAfter.IsZero() {
		b.WriteString(` NotOnOrAfter="` + info.NotOnOrAfter.Format(time.RFC3339Nano) + `"`)
	}
	b.WriteString("><saml:AudienceRestriction><saml:Audience>" + esc(info.Audience) + "</saml:Audience></saml:AudienceRestriction></saml:Conditions>")
	b.WriteString(`<saml:AttributeStatement><saml:Attribute Name="` + RoleAttribute + `">`)
	for _, p := range info.Roles {
		b.WriteString("<saml:AttributeValue>" + esc(p.RoleArn+","+p.PrincipalArn) + "</saml:AttributeValue>")
	}
	b.WriteString("</saml:Attribute>")
	if info.RoleSessionName != "" {
		b.WriteString(`<saml:Attribute Name="` + RoleSessionNameAttribute + `"><saml:AttributeValue>` + esc(info.RoleSessionName) + "</saml:AttributeValue></saml:Attribute>")
	}
	if info.SessionDuration > 0 {
		b.WriteString(`<saml:Attribute Name="` + SessionDurationAttribute + `"><saml:AttributeValue>` + strconv.Itoa(info.SessionDuration) + "</saml:AttributeValue></saml:Attribute>")
	}
	b.WriteString("</saml:AttributeStatement></saml:Assertion></samlp:Response>")
	return base64.StdEncoding.EncodeToString([]byte(b.String()))
}

func sameSAML(a, b *SAMLInfo) bool {
	if a.Issuer != b.Issuer || a.Subject != b.Subject || a.Audience != b.Audience || !a.NotOnOrAfter.Equal(b.NotOnOrAfter) ||
		a.SessionDuration != b.SessionDuration || a.RoleSessionName != b.RoleSessionName || len(a.Roles) != len(b.Roles) {
		return false
	}
	for i := range a.Roles {
		if a.Roles[i] != b.Roles[i] {
			return false
		}
	}
	return true
}
