package idp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testIssuer = "https://oidc.example.test"

// testSigners generates the signers once, since RSA key generation is slow under -race.
// The second signer of each algorithm shares the first one's kid, to model a forged key.
var testSigners = sync.OnceValues(func() (map[string][2]*Signer, error) {
	out := map[string][2]*Signer{}
	for _, alg := range []string{"RS256", "ES384"} {
		var pair [2]*Signer
		for i := range pair {
			s, err := NewSigner(alg, "key-"+alg)
			if err != nil {
				return nil, err
			}
			pair[i] = s
		}
		out[alg] = pair
	}
	return out, nil
})

func signers(t *testing.T, alg string) (*Signer, *Signer) {
	t.Helper()
	all, err := testSigners()
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return all[alg][0], all[alg][1]
}

// roundTripJWKS marshals and unmarshals a key set, as fetching it from a jwks_uri would.
func roundTripJWKS(t *testing.T, keys ...JWK) JWKS {
	t.Helper()
	b, err := json.Marshal(JWKS{Keys: keys})
	if err != nil {
		t.Fatalf("marshal JWKS: %v", err)
	}
	var out JWKS
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal JWKS: %v", err)
	}
	return out
}

func mustSign(t *testing.T, s *Signer, claims map[string]any) string {
	t.Helper()
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"sub":   canary,
		"aud":   "sts.amazonaws.com",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"email": "alice@example.com",
	}
}

// b64json encodes v as one base64url JWS segment.
func b64json(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestNewSigner(t *testing.T) {
	tests := []struct {
		alg     string
		wantErr bool
	}{
		{"RS256", false}, {"ES384", false}, {"ES256", true}, {"HS256", true}, {"none", true}, {"", true},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			s, err := NewSigner(tt.alg, "k")
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewSigner(%q) error = %v, want error %v", tt.alg, err, tt.wantErr)
			}
			if err == nil && (s.Alg != tt.alg || s.KeyID != "k") {
				t.Errorf("Signer = %q/%q, want %q/k", s.Alg, s.KeyID, tt.alg)
			}
		})
	}
}

func TestPublicJWK(t *testing.T) {
	rs, _ := signers(t, "RS256")
	es, _ := signers(t, "ES384")
	dec := func(s string) int {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWK member %q is not unpadded base64url: %v", s, err)
		}
		return len(b)
	}
	t.Run("RS256", func(t *testing.T) {
		k := rs.PublicJWK()
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.Kid != "key-RS256" || k.E != "AQAB" {
			t.Errorf("JWK = %+v", k)
		}
		if n := dec(k.N); n != 256 {
			t.Errorf("modulus is %d bytes, want 256", n)
		}
		if k.Crv != "" || k.X != "" || k.Y != "" {
			t.Errorf("RSA JWK has EC members: %+v", k)
		}
	})
	t.Run("ES384", func(t *testing.T) {
		k := es.PublicJWK()
		if k.Kty != "EC" || k.Crv != "P-384" || k.Alg != "ES384" || k.Use != "sig" || k.N != "" {
			t.Errorf("JWK = %+v", k)
		}
		if x, y := dec(k.X), dec(k.Y); x != 48 || y != 48 {
			t.Errorf("coordinates are %d and %d bytes, want 48", x, y)
		}
	})
	t.Run("json member names", func(t *testing.T) {
		b, err := json.Marshal(es.JWKS())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{`"keys":[`, `"kty":"EC"`, `"kid":`, `"use":"sig"`, `"alg":"ES384"`, `"crv":"P-384"`, `"x":`, `"y":`} {
			if !strings.Contains(string(b), m) {
				t.Errorf("JWKS JSON %s lacks %s", b, m)
			}
		}
		if strings.Contains(string(b), `"n"`) || strings.Contains(string(b), "=") {
			t.Errorf("JWKS JSON %s has empty RSA members or padding", b)
		}
	})
}

func TestVerifyJWTRoundTrip(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	for _, alg := range []string{"RS256", "ES384"} {
		s, _ := signers(t, alg)
		tests := []struct {
			name    string
			claims  func() map[string]any
			signer  *Signer
			jwks    JWKS
			issuer  string
			wantAud []string
		}{
			{name: "string aud", claims: func() map[string]any { return validClaims(now) }, issuer: testIssuer, wantAud: []string{"sts.amazonaws.com"}},
			{
				name: "array aud, issuer with trailing slash",
				claims: func() map[string]any {
					c := validClaims(now)
					c["aud"] = []string{"a", "b"}
					return c
				},
				issuer: testIssuer + "/", wantAud: []string{"a", "b"},
			},
			{name: "no issuer check", claims: func() map[string]any { return validClaims(now) }, wantAud: []string{"sts.amazonaws.com"}},
			{
				name:    "no kid, single-key JWKS",
				claims:  func() map[string]any { return validClaims(now) },
				signer:  &Signer{Alg: s.Alg, key: s.key},
				wantAud: []string{"sts.amazonaws.com"},
			},
			{
				name:    "kid selects among several keys",
				claims:  func() map[string]any { return validClaims(now) },
				jwks:    roundTripJWKS(t, JWK{Kty: "RSA", Kid: "unrelated", N: "AQAB", E: "AQAB"}, s.PublicJWK()),
				wantAud: []string{"sts.amazonaws.com"},
			},
			{
				name: "nbf and iat within the clock skew",
				claims: func() map[string]any {
					c := validClaims(now)
					c["nbf"], c["iat"] = now.Add(4*time.Minute).Unix(), now.Add(4*time.Minute).Unix()
					return c
				},
				wantAud: []string{"sts.amazonaws.com"},
			},
		}
		for _, tt := range tests {
			t.Run(alg+"/"+tt.name, func(t *testing.T) {
				signer := tt.signer
				if signer == nil {
					signer = s
				}
				jwks := tt.jwks
				if jwks.Keys == nil {
					jwks = roundTripJWKS(t, s.PublicJWK())
				}
				tok := mustSign(t, signer, tt.claims())
				c, err := VerifyJWT(tok, jwks, tt.issuer, now)
				if err != nil {
					t.Fatalf("VerifyJWT: %v", err)
				}
				if c.Issuer != testIssuer || c.Subject != canary || !slices.Equal(c.Audience, tt.wantAud) {
					t.Errorf("iss, sub, aud = %q, %q, %v", c.Issuer, c.Subject, c.Audience)
				}
				if !c.ExpiresAt.Equal(now.Add(time.Hour)) || c.IssuedAt.IsZero() || c.NotBefore.IsZero() {
					t.Errorf("exp, iat, nbf = %v, %v, %v", c.ExpiresAt, c.IssuedAt, c.NotBefore)
				}
				if c.Alg != alg || c.KeyID != s.KeyID || c.Raw["email"] != "alice@example.com" {
					t.Errorf("Alg, KeyID, email = %q, %q, %v", c.Alg, c.KeyID, c.Raw["email"])
				}
			})
		}
	}
}

func TestSignFormat(t *testing.T) {
	now := time.Now()
	tests := []struct {
		alg    string
		sigLen int
	}{
		{"RS256", 256},
		{"ES384", 96}, // JOSE r||s, not the ~103-byte ASN.1 DER form
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			s, _ := signers(t, tt.alg)
			parts := strings.Split(mustSign(t, s, validClaims(now)), ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts, want 3", len(parts))
			}
			var hdr map[string]any
			hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
			if err := json.Unmarshal(hb, &hdr); err != nil {
				t.Fatalf("header: %v", err)
			}
			want := map[string]any{"alg": tt.alg, "kid": "key-" + tt.alg, "typ": "JWT"}
			if len(hdr) != len(want) || hdr["alg"] != want["alg"] || hdr["kid"] != want["kid"] || hdr["typ"] != want["typ"] {
				t.Errorf("header = %v, want %v", hdr, want)
			}
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil || len(sig) != tt.sigLen {
				t.Errorf("signature is %d bytes (err %v), want %d", len(sig), err, tt.sigLen)
			}
		})
	}
	t.Run("zero Signer", func(t *testing.T) {
		if tok, err := (&Signer{Alg: "RS256"}).Sign(nil); err == nil {
			t.Errorf("Sign on a keyless Signer returned %d bytes, want an error", len(tok))
		}
	})
	t.Run("Alg changed to one the key cannot do", func(t *testing.T) {
		s, _ := signers(t, "ES384")
		bad := &Signer{Alg: "RS256", KeyID: s.KeyID, key: s.key}
		if _, err := bad.Sign(nil); err == nil {
			t.Error("Sign with an RSA alg on an EC key succeeded, want an error")
		}
	})
}

func TestVerifyJWTRejects(t *testing.T) {
	now := time.Now()
	rs, rsOther := signers(t, "RS256")
	es, esOther := signers(t, "ES384")
	rsJWKS := roundTripJWKS(t, rs.PublicJWK())
	esJWKS := roundTripJWKS(t, es.PublicJWK())
	with := func(edit func(c map[string]any)) map[string]any {
		c := validClaims(now)
		edit(c)
		return c
	}
	// hmacToken builds an HS256 token whose HMAC key is public material, the classic
	// algorithm-confusion forgery against verifiers that trust the header's alg.
	hmacToken := func(t *testing.T, key []byte) string {
		input := b64json(t, map[string]any{"alg": "HS256", "kid": rs.KeyID, "typ": "JWT"}) + "." + b64json(t, validClaims(now))
		m := hmac.New(sha256.New, key)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name     string
		token    func(t *testing.T) string
		jwks     JWKS
		issuer   string
		now      time.Time
		wantCode string
		wantMsg  string
	}{
		{
			name: "RS256 tampered payload",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, rs, validClaims(now)), ".")
				p[1] = b64json(t, with(func(c map[string]any) { c["sub"] = "admin" }))
				return strings.Join(p, ".")
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "ES384 tampered payload",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, es, validClaims(now)), ".")
				p[1] = b64json(t, with(func(c map[string]any) { c["sub"] = "admin" }))
				return strings.Join(p, ".")
			},
			jwks: esJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name:  "RS256 signed by another key with the same kid",
			token: func(t *testing.T) string { return mustSign(t, rsOther, validClaims(now)) },
			jwks:  rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name:  "ES384 signed by another key with the same kid",
			token: func(t *testing.T) string { return mustSign(t, esOther, validClaims(now)) },
			jwks:  esJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "ES384 signature in ASN.1 length",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, es, validClaims(now)), ".")
				sig, _ := base64.RawURLEncoding.DecodeString(p[2])
				p[2] = base64.RawURLEncoding.EncodeToString(append(sig, 0, 0))
				return strings.Join(p, ".")
			},
			jwks: esJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "signature",
		},
		{
			name: "unknown kid",
			token: func(t *testing.T) string {
				return mustSign(t, &Signer{Alg: "RS256", KeyID: "nope", key: rs.key}, validClaims(now))
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "kid",
		},
		{
			name: "no kid and several keys",
			token: func(t *testing.T) string {
				return mustSign(t, &Signer{Alg: "RS256", key: rs.key}, validClaims(now))
			},
			jwks: roundTripJWKS(t, rs.PublicJWK(), es.PublicJWK()), wantCode: CodeInvalidIdentityToken, wantMsg: "kid",
		},
		{
			name: `alg "none"`,
			token: func(t *testing.T) string {
				return b64json(t, map[string]any{"alg": "none", "kid": rs.KeyID}) + "." + b64json(t, validClaims(now)) + "."
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "algorithm",
		},
		{
			name:  "HS256 keyed with the RSA modulus",
			token: func(t *testing.T) string { return hmacToken(t, []byte(rs.PublicJWK().N)) },
			jwks:  rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "algorithm",
		},
		{
			name: "ES384 header against an RSA key",
			token: func(t *testing.T) string {
				return mustSign(t, &Signer{Alg: "ES384", KeyID: rs.KeyID, key: es.key}, validClaims(now))
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "fits",
		},
		{
			name:  "key published for encryption",
			token: func(t *testing.T) string { return mustSign(t, rs, validClaims(now)) },
			jwks: func() JWKS {
				k := rs.PublicJWK()
				k.Use = "enc"
				return JWKS{Keys: []JWK{k}}
			}(),
			wantCode: CodeInvalidIdentityToken, wantMsg: "fits",
		},
		{
			name: "expired",
			token: func(t *testing.T) string {
				return mustSign(t, rs, with(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }))
			},
			jwks: rsJWKS, wantCode: CodeExpiredToken, wantMsg: "expired",
		},
		{
			name: "now equals exp",
			token: func(t *testing.T) string {
				return mustSign(t, es, with(func(c map[string]any) { c["exp"] = now.Add(time.Minute).Unix() }))
			},
			now:  time.Unix(now.Add(time.Minute).Unix(), 0),
			jwks: esJWKS, wantCode: CodeExpiredToken, wantMsg: "expired",
		},
		{
			name:  "no exp",
			token: func(t *testing.T) string { return mustSign(t, rs, with(func(c map[string]any) { delete(c, "exp") })) },
			jwks:  rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "exp",
		},
		{
			name: "exp is a string",
			token: func(t *testing.T) string {
				return mustSign(t, rs, with(func(c map[string]any) { c["exp"] = "tomorrow" }))
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "exp",
		},
		{
			name: "nbf beyond the clock skew",
			token: func(t *testing.T) string {
				return mustSign(t, rs, with(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }))
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "nbf",
		},
		{
			name: "iat beyond the clock skew",
			token: func(t *testing.T) string {
				return mustSign(t, rs, with(func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }))
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "iat",
		},
		{
			name:   "wrong issuer",
			token:  func(t *testing.T) string { return mustSign(t, rs, validClaims(now)) },
			issuer: "https://evil.example.test",
			jwks:   rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "issuer",
		},
		{
			name:  "aud is a number",
			token: func(t *testing.T) string { return mustSign(t, rs, with(func(c map[string]any) { c["aud"] = 7 })) },
			jwks:  rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "aud",
		},
		{
			name: "two parts",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, rs, validClaims(now)), ".")
				return p[0] + "." + p[1]
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "3 dot-separated parts",
		},
		{
			name:  "four parts",
			token: func(t *testing.T) string { return mustSign(t, rs, validClaims(now)) + ".x" },
			jwks:  rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "3 dot-separated parts",
		},
		{
			name: "header not base64url",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, rs, validClaims(now)), ".")
				return "%%%." + p[1] + "." + p[2]
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "header",
		},
		{
			name: "header not JSON",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, rs, validClaims(now)), ".")
				return base64.RawURLEncoding.EncodeToString([]byte("alg=RS256")) + "." + p[1] + "." + p[2]
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "header",
		},
		{
			name: "padded signature",
			token: func(t *testing.T) string {
				p := strings.Split(mustSign(t, rs, validClaims(now)), ".")
				return p[0] + "." + p[1] + "." + p[2] + "=="
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "base64url",
		},
		{
			name: "critical header extension",
			token: func(t *testing.T) string {
				return b64json(t, map[string]any{"alg": "RS256", "kid": rs.KeyID, "crit": []string{"b64"}, "b64": false}) + "." + b64json(t, validClaims(now)) + ".AAAA"
			},
			jwks: rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "critical",
		},
		{
			name:  "empty string",
			token: func(*testing.T) string { return "" },
			jwks:  rsJWKS, wantCode: CodeInvalidIdentityToken, wantMsg: "parts",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			at := tt.now
			if at.IsZero() {
				at = now
			}
			c, err := VerifyJWT(tok, tt.jwks, tt.issuer, at)
			if err == nil {
				t.Fatalf("VerifyJWT succeeded with %+v, want %s", c, tt.wantCode)
			}
			var je *JWTError
			if !errors.As(err, &je) {
				t.Fatalf("error %T %v is not a *JWTError", err, err)
			}
			if je.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q (message %q)", je.Code, tt.wantCode, je.Message)
			}
			if !strings.Contains(je.Message, tt.wantMsg) {
				t.Errorf("Message = %q, want it to mention %q", je.Message, tt.wantMsg)
			}
			if strings.Contains(err.Error(), canary) || (len(tok) > 8 && strings.Contains(err.Error(), tok)) {
				t.Errorf("error %q repeats token content", err)
			}
		})
	}
}
