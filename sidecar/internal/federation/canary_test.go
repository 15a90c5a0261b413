package federation

import (
	"strings"
	"testing"
)

// canary stands in for secret material; no error may repeat it.
const canary = "CANARY-SECRET-9f3"

func TestErrorsNeverLeakInput(t *testing.T) {
	samlInputs := []struct{ name, in string }{
		{"canary as the whole input", canary},
		{"canary in invalid base64", canary + "!!!"},
		{"canary in a bad %-escape", "%Z" + canary},
		{"base64 of non-XML", b64(canary + " is not xml")},
		{"canary as a mismatched element", "<samlp:Response><" + canary + "></samlp:Response>"},
		{"canary in an unterminated attr", `<samlp:Response ID="` + canary},
		{"canary in an undefined entity", "<samlp:Response>&" + canary + ";</samlp:Response>"},
		{"canary as the root element", "<" + canary + "/>"},
		{"canary as an unsupported charset", `<?xml version="1.0" encoding="` + canary + `"?><samlp:Response/>`},
		{"canary in a response issuer", `<samlp:Response><saml:Issuer>` + canary + `</saml:Issuer></samlp:Response>`},
		{"canary in an encrypted assertion", `<samlp:Response><saml:EncryptedAssertion>` + canary + `</saml:EncryptedAssertion></samlp:Response>`},
		{"canary as a role value", samlDoc("saml", []string{canary}, "")},
		{"canary in a role pair", samlDoc("saml", []string{roleDev + "," + canary}, "")},
		{"canary in three-part role value", b64(samlDoc("saml", []string{roleDev + "," + provider + "," + canary}, ""))},
		{"canary as session duration", samlDoc("saml", nil, `<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SessionDuration"><saml:AttributeValue>`+canary+`</saml:AttributeValue></saml:Attribute>`)},
		{"canary as conditions deadline", strings.Replace(samlDoc("saml", nil, ""), `NotOnOrAfter="2024-05-01T10:10:00.000Z"`, `NotOnOrAfter="`+canary+`"`, 1)},
		{"canary as confirmation deadline", `<Assertion><Subject><SubjectConfirmation><SubjectConfirmationData NotOnOrAfter="` + canary + `"/></SubjectConfirmation></Subject></Assertion>`},
		{"canary in truncated base64 of XML", b64("<samlp:Response>" + canary)},
	}
	for _, tc := range samlInputs {
		t.Run("saml/"+tc.name, func(t *testing.T) {
			_, err := ParseSAML(tc.in)
			if err == nil {
				t.Fatalf("ParseSAML succeeded, want error")
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("ParseSAML error leaks the input: %q", err)
			}
		})
	}

	jwtInputs := []struct{ name, in string }{
		{"canary as the whole token", canary},
		{"two parts", canary + "." + canary},
		{"four parts", canary + "." + canary + "." + canary + "." + canary},
		{"JWE", canary + ".b.c.d.e"},
		{"bad base64 header", canary + "!." + seg(`{}`) + ".sig"},
		{"bad base64 payload", seg(rs256) + "." + canary + "!.sig"},
		{"bad JSON header", jwt(`{"alg":`+canary+`}`, `{}`)},
		{"bad JSON payload", jwt(rs256, canary)},
		{"wrong-type aud", jwt(rs256, `{"aud":{"x":"`+canary+`"}}`)},
		{"wrong-type iss", jwt(rs256, `{"iss":["`+canary+`"]}`)},
		{"wrong-type kid", jwt(`{"kid":{"`+canary+`":1}}`, `{}`)},
		{"string exp", jwt(rs256, `{"exp":"`+canary+`"}`)},
		{"object iat", jwt(rs256, `{"iat":{"v":"`+canary+`"}}`)},
	}
	for _, tc := range jwtInputs {
		t.Run("jwt/"+tc.name, func(t *testing.T) {
			_, err := ParseJWT(tc.in)
			if err == nil {
				t.Fatalf("ParseJWT succeeded, want error")
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("ParseJWT error leaks the input: %q", err)
			}
		})
	}
}
