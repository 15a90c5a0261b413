package federation

import (
	"net/url"
	"strings"
	"testing"
)

const awsCredentials = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"

func TestIsJWT(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"signed JWT", jwt(rs256, `{"iss":"https://issuer.example.com","sub":"u"}`), true},
		{"padded segments", b64url(`{"alg":"ES256"}`) + "." + b64url(`{"sub":"x"}`) + ".c2ln", true},
		{"AWS credentials file", awsCredentials, false},
		{"credentials on one line", strings.ReplaceAll(awsCredentials, "\n", " "), false},
		{"environment", "HOME=/home/u\x00AWS_SECRET_ACCESS_KEY=abc", false},
		{"opaque token", "Atza|IwEBIExampleOpaqueAccessToken", false},
		{"two parts", seg(rs256) + "." + seg(`{}`), false},
		{"JWE", "a.b.c.d.e", false},
		{"header without alg", jwt(`{"typ":"JWT"}`, `{}`), false},
		{"empty alg", jwt(`{"alg":""}`, `{}`), false},
		{"header not an object", jwt(`["alg"]`, `{}`), false},
		{"payload not JSON", seg(rs256) + "." + seg("not json") + ".c2ln", false},
		{"empty signature", jwt(rs256, `{}`)[:len(jwt(rs256, `{}`))-len("c2lnbmF0dXJl")], false},
		{"standard base64 characters", seg(rs256) + "." + seg(`{}`) + ".a+b/c", false},
		{"whitespace inside", seg(rs256) + ". " + seg(`{}`) + ".c2ln", false},
		{"Bearer prefix", "Bearer " + jwt(rs256, `{}`), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsJWT(tt.token); got != tt.want {
				t.Errorf("IsJWT = %v, want %v", got, tt.want)
			}
		})
	}
}

func b64url(s string) string { return strings.TrimRight(seg(s), "=") + "==" }

func TestIsOpaqueToken(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"Amazon access token", "Atza|IwEBIExampleOpaqueAccessToken-_.~+/=", true},
		{"JWT", jwt(rs256, `{}`), true},
		{"credentials file", awsCredentials, false},
		{"space", "abc def", false},
		{"tab", "abc\tdef", false},
		{"NUL", "abc\x00def", false},
		{"non-ASCII", "abcdéf", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsOpaqueToken(tt.token); got != tt.want {
				t.Errorf("IsOpaqueToken = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsSAMLResponse(t *testing.T) {
	doc := samlDoc("saml", []string{roleDev + "," + provider}, "")
	wrapped := b64(doc)
	var lines []string
	for len(wrapped) > 76 {
		lines = append(lines, wrapped[:76])
		wrapped = wrapped[76:]
	}
	lines = append(lines, wrapped)
	tests := []struct {
		name      string
		assertion string
		want      bool
	}{
		{"base64 Response", b64(doc), true},
		{"line-wrapped base64", strings.Join(lines, "\r\n") + "\n", true},
		{"URL-encoded base64", url.QueryEscape(b64(doc)), true},
		{"other prefix", b64(`<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol"/>`), true},
		{"raw XML", doc, false},
		{"bare Assertion", b64(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`), false},
		{"Response of another namespace", b64(`<Response xmlns="urn:example"/>`), false},
		{"Response without namespace", b64(`<Response/>`), false},
		{"HTML", b64(`<html><body>hi</body></html>`), false},
		{"base64 of a credentials file", b64(awsCredentials), false},
		{"credentials file", awsCredentials, false},
		{"JWT", jwt(rs256, `{}`), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsSAMLResponse(tt.assertion); got != tt.want {
				t.Errorf("IsSAMLResponse = %v, want %v", got, tt.want)
			}
		})
	}
}
