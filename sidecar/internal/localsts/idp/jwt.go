package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash
	_ "crypto/sha512" // registers SHA-384 and SHA-512 for crypto.Hash
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// maxJWTLen bounds the token the verifier will look at, so that decoding cannot be made
// expensive; real ID tokens are a few kilobytes.
const maxJWTLen = 64 << 10

// jwtAlg describes a JWS algorithm this package accepts: the hash, the JWK key type and,
// for ECDSA, the curve and the byte length of each of r and s.
type jwtAlg struct {
	hash  crypto.Hash
	kty   string
	crv   string
	curve elliptic.Curve
	size  int
}

// jwtAlgs are the algorithms STS accepts for web identity tokens. "none", HS* and everything
// else are absent on purpose: a verifier that trusts the token's own choice of algorithm can
// be made to accept forgeries.
var jwtAlgs = map[string]jwtAlg{
	"RS256": {hash: crypto.SHA256, kty: "RSA"},
	"RS384": {hash: crypto.SHA384, kty: "RSA"},
	"RS512": {hash: crypto.SHA512, kty: "RSA"},
	"ES256": {hash: crypto.SHA256, kty: "EC", crv: "P-256", curve: elliptic.P256(), size: 32},
	"ES384": {hash: crypto.SHA384, kty: "EC", crv: "P-384", curve: elliptic.P384(), size: 48},
	"ES512": {hash: crypto.SHA512, kty: "EC", crv: "P-521", curve: elliptic.P521(), size: 66},
}

// b64 is the unpadded base64url encoding JWS and JWK use; Strict rejects non-canonical
// encodings so that one token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// JWK is one public key in JSON Web Key form (RFC 7517); byte values are base64url without
// padding. Only the members needed for RSA and EC signature keys are modelled.
type JWK struct {
	// Kty is the key type, "RSA" or "EC".
	Kty string `json:"kty,omitempty"`
	// Kid is the key ID that tokens name in their header.
	Kid string `json:"kid,omitempty"`
	// Use is the intended use; "sig" for signing keys.
	Use string `json:"use,omitempty"`
	// Alg is the algorithm the key is used with, e.g. "RS256".
	Alg string `json:"alg,omitempty"`
	// N is the RSA modulus.
	N string `json:"n,omitempty"`
	// E is the RSA public exponent.
	E string `json:"e,omitempty"`
	// Crv is the EC curve, e.g. "P-384".
	Crv string `json:"crv,omitempty"`
	// X is the EC point's x coordinate.
	X string `json:"x,omitempty"`
	// Y is the EC point's y coordinate.
	Y string `json:"y,omitempty"`
}

// JWKS is a JSON Web Key Set, the document an OIDC provider serves at its jwks_uri.
type JWKS struct {
	// Keys are the provider's current public keys.
	Keys []JWK `json:"keys"`
}

// Signer signs JWTs with one private key: the local STS uses it for GetWebIdentityToken and
// tests use it as an OIDC provider. It is safe for concurrent use.
type Signer struct {
	// Alg is the JWS algorithm, "RS256" or "ES384".
	Alg string
	// KeyID goes into the "kid" header and the public JWK.
	KeyID string

	key crypto.Signer
}

// NewSigner generates a key for alg: "RS256" (RSA 2048) or "ES384" (P-384); anything else is
// an error, because those are the two algorithms GetWebIdentityToken offers.
func NewSigner(alg, keyID string) (*Signer, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		return nil, fmt.Errorf("idp: unsupported signing algorithm %q (want RS256 or ES384)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("idp: generate %s key: %w", alg, err)
	}
	return &Signer{Alg: alg, KeyID: keyID, key: key}, nil
}

// Sign returns claims as a compact JWS with header {"alg","kid","typ":"JWT"} (kid omitted when
// KeyID is empty). ES384 signatures are in JOSE r||s form (96 bytes), not ASN.1.
// Sign adds no claims of its own; the caller sets iss, sub, aud, exp and so on.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	if s == nil || s.key == nil {
		return "", errors.New("idp: Signer has no key; use NewSigner")
	}
	info, ok := jwtAlgs[s.Alg]
	if !ok || !keyFits(s.key.Public(), info) {
		return "", fmt.Errorf("idp: Signer algorithm %q does not fit its key", s.Alg)
	}
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid,omitempty"`
		Typ string `json:"typ"`
	}{s.Alg, s.KeyID, "JWT"})
	if err != nil {
		return "", fmt.Errorf("idp: encode JWT header: %w", err)
	}
	if claims == nil {
		claims = map[string]any{}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("idp: encode JWT claims: %w", err)
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	h := info.hash.New()
	h.Write([]byte(input))
	digest := h.Sum(nil)

	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, info.hash, digest)
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		if r, ss, err = ecdsa.Sign(rand.Reader, k, digest); err == nil {
			// JWS wants fixed-width big-endian r||s (RFC 7518 section 3.4).
			sig = make([]byte, 2*info.size)
			r.FillBytes(sig[:info.size])
			ss.FillBytes(sig[info.size:])
		}
	}
	if err != nil {
		return "", fmt.Errorf("idp: sign JWT: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// PublicJWK returns the public half of the key as a JWK with use "sig", for the JWKS the
// local STS or a test OIDC provider publishes.
func (s *Signer) PublicJWK() JWK {
	if s == nil || s.key == nil {
		return JWK{}
	}
	jwk := JWK{Kid: s.KeyID, Use: "sig", Alg: s.Alg}
	switch pub := s.key.Public().(type) {
	case *rsa.PublicKey:
		jwk.Kty = "RSA"
		jwk.N = b64.EncodeToString(pub.N.Bytes())
		jwk.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes() // 0x04 || X || Y, each coordinate fixed-width
		if err != nil {
			return JWK{}
		}
		size := (len(raw) - 1) / 2
		jwk.Kty = "EC"
		jwk.Crv = pub.Curve.Params().Name
		jwk.X = b64.EncodeToString(raw[1 : 1+size])
		jwk.Y = b64.EncodeToString(raw[1+size:])
	}
	return jwk
}

// JWKS returns a key set holding only the signer's public key.
func (s *Signer) JWKS() JWKS {
	return JWKS{Keys: []JWK{s.PublicJWK()}}
}

// keyFits reports whether pub is the key type and curve alg needs.
func keyFits(pub crypto.PublicKey, alg jwtAlg) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return alg.kty == "RSA"
	case *ecdsa.PublicKey:
		return alg.kty == "EC" && k.Curve == alg.curve
	}
	return false
}

// JWTClaims is what a verified web identity token says about the caller.
type JWTClaims struct {
	// Issuer is the "iss" claim.
	Issuer string
	// Subject is the "sub" claim.
	Subject string
	// Audience is the "aud" claim, normalised to a list.
	Audience []string
	// ExpiresAt is the "exp" claim.
	ExpiresAt time.Time
	// IssuedAt is the "iat" claim, or zero when absent.
	IssuedAt time.Time
	// NotBefore is the "nbf" claim, or zero when absent.
	NotBefore time.Time
	// Raw holds every claim as decoded by encoding/json, for provider-specific ones
	// such as "azp" or "amr".
	Raw map[string]any
	// KeyID is the kid of the JWK that verified the signature.
	KeyID string
	// Alg is the token's signing algorithm.
	Alg string
}

// JWTError is why VerifyJWT rejected a token. Code is the STS error code a client would
// receive; Message never contains the token.
type JWTError struct {
	// Code is the STS error code, CodeInvalidIdentityToken or CodeExpiredToken.
	Code string
	// Message explains the rejection for a human.
	Message string
}

// Error returns the code and message, the way STS prints them.
func (e *JWTError) Error() string {
	return e.Code + ": " + e.Message
}

// jwtInvalid returns an InvalidIdentityToken JWTError.
func jwtInvalid(format string, args ...any) *JWTError {
	return &JWTError{Code: CodeInvalidIdentityToken, Message: fmt.Sprintf(format, args...)}
}

// VerifyJWT checks the signature with the key in jwks whose kid matches (or the only key if the
// token has no kid; alg must match the key type — "none" and HS* are rejected), that exp is in
// the future (and nbf/iat not in the future beyond 5 min skew), and that issuer matches
// wantIssuer when non-empty (compared ignoring a trailing slash). Audience checks are left to
// the caller, since STS compares aud against the provider's client IDs.
//
// Accepted algorithms are RS256/384/512 and ES256/384/512. Errors are *JWTError:
// CodeExpiredToken when expired, CodeInvalidIdentityToken for a bad signature, unknown kid,
// malformed token or wrong issuer. The token never appears in an error.
func VerifyJWT(token string, jwks JWKS, wantIssuer string, now time.Time) (*JWTClaims, error) {
	if len(token) > maxJWTLen {
		return nil, jwtInvalid("token is too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, jwtInvalid("token is not a compact JWS: want 3 dot-separated parts, found %d", len(parts))
	}
	var header struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := decodePart(parts[0], &header); err != nil {
		return nil, jwtInvalid("token header is malformed")
	}
	if header.Crit != nil {
		// RFC 7515 requires refusing critical extensions one does not implement.
		return nil, jwtInvalid("token header has critical extensions, which are not supported")
	}
	info, ok := jwtAlgs[header.Alg]
	if !ok {
		return nil, jwtInvalid("token signing algorithm is not supported; use RS256, RS384, RS512, ES256, ES384 or ES512")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, jwtInvalid("token signature is not valid base64url")
	}
	jwk, pub, err := selectKey(jwks, header.Kid, header.Alg, info)
	if err != nil {
		return nil, err
	}
	h := info.hash.New()
	h.Write([]byte(parts[0] + "." + parts[1]))
	if !verifySig(pub, info, h.Sum(nil), sig) {
		return nil, jwtInvalid("token signature is invalid")
	}

	// Only now, with the signature checked, is the payload worth interpreting.
	var raw map[string]any
	if err := decodePart(parts[1], &raw); err != nil || raw == nil {
		return nil, jwtInvalid("token payload is not a JSON object")
	}
	c := &JWTClaims{Raw: raw, KeyID: jwk.Kid, Alg: header.Alg}
	var okIss, okSub, okAud bool
	c.Issuer, okIss = optString(raw, "iss")
	c.Subject, okSub = optString(raw, "sub")
	c.Audience, okAud = audience(raw["aud"])
	if !okIss || !okSub || !okAud {
		return nil, jwtInvalid("token has an iss, sub or aud claim of the wrong type")
	}
	var present bool
	if c.ExpiresAt, present, ok = numericDate(raw, "exp"); !ok || !present {
		return nil, jwtInvalid("token has no valid exp claim")
	}
	if c.IssuedAt, _, ok = numericDate(raw, "iat"); !ok {
		return nil, jwtInvalid("token has a malformed iat claim")
	}
	if c.NotBefore, _, ok = numericDate(raw, "nbf"); !ok {
		return nil, jwtInvalid("token has a malformed nbf claim")
	}
	if !now.Before(c.ExpiresAt) {
		return nil, &JWTError{Code: CodeExpiredToken, Message: fmt.Sprintf(
			"Token expired: current date/time %d must be before the expiration date/time %d",
			now.Unix(), c.ExpiresAt.Unix())}
	}
	if !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(ClockSkew)) {
		return nil, jwtInvalid("token is not valid yet (nbf is in the future)")
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(ClockSkew)) {
		return nil, jwtInvalid("token was issued in the future (iat)")
	}
	if wantIssuer != "" && strings.TrimSuffix(c.Issuer, "/") != strings.TrimSuffix(wantIssuer, "/") {
		return nil, jwtInvalid("token issuer does not match the provider %s", wantIssuer)
	}
	return c, nil
}

// decodePart base64url-decodes one JWS part and unmarshals its JSON into v.
func decodePart(part string, v any) error {
	b, err := b64.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// selectKey picks the JWK that must have signed the token and turns it into a public key.
// The token's kid only selects; the key's own type, curve and alg must fit the token's alg,
// so that an RSA key can never be used as an HMAC secret or the like.
func selectKey(jwks JWKS, kid, alg string, info jwtAlg) (JWK, crypto.PublicKey, error) {
	var candidates []JWK
	switch {
	case kid != "":
		for _, k := range jwks.Keys {
			if k.Kid == kid {
				candidates = append(candidates, k)
			}
		}
		if len(candidates) == 0 {
			return JWK{}, nil, jwtInvalid("no key in the provider's JWKS matches the token's kid")
		}
	case len(jwks.Keys) == 1:
		candidates = jwks.Keys
	default:
		return JWK{}, nil, jwtInvalid("token has no kid and the provider's JWKS does not have exactly one key")
	}
	for _, k := range candidates {
		if (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != alg) || k.Kty != info.kty {
			continue
		}
		if pub, err := k.publicKey(info); err == nil {
			return k, pub, nil
		}
	}
	return JWK{}, nil, jwtInvalid("no usable key in the provider's JWKS fits the token's algorithm")
}

// publicKey decodes the JWK into an RSA or ECDSA public key suitable for alg.
func (k JWK) publicKey(alg jwtAlg) (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("malformed RSA JWK")
		}
		exp := new(big.Int).SetBytes(e).Int64()
		if exp < 3 || exp%2 == 0 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}, nil
	case "EC":
		if k.Crv != alg.crv {
			return nil, errors.New("EC curve does not fit the algorithm")
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != alg.size || len(y) != alg.size {
			return nil, errors.New("malformed EC JWK")
		}
		// ParseUncompressedPublicKey also checks that the point is on the curve.
		return ecdsa.ParseUncompressedPublicKey(alg.curve, append(append([]byte{4}, x...), y...))
	}
	return nil, errors.New("unsupported key type")
}

// verifySig checks a JWS signature over digest.
func verifySig(pub crypto.PublicKey, alg jwtAlg, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, alg.hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		if len(sig) != 2*alg.size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:alg.size])
		s := new(big.Int).SetBytes(sig[alg.size:])
		return ecdsa.Verify(k, digest, r, s)
	}
	return false
}

// optString returns claim name as a string; ok is false only when it is present but not a string.
func optString(raw map[string]any, name string) (string, bool) {
	v, present := raw[name]
	if !present {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// audience normalises "aud", which RFC 7519 allows to be a string or an array of strings.
func audience(v any) ([]string, bool) {
	switch a := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{a}, true
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// numericDate reads a NumericDate claim (seconds since the epoch, possibly fractional).
// present reports whether the claim exists; ok is false when it exists but is not a sane number.
func numericDate(raw map[string]any, name string) (t time.Time, present, ok bool) {
	v, present := raw[name]
	if !present {
		return time.Time{}, false, true
	}
	f, isNum := v.(float64)
	// Beyond 2^53 float seconds lose precision, and no real token is dated that far out.
	if !isNum || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<53 {
		return time.Time{}, true, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, true
}
