package federation

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// JWTInfo holds a web identity token's header and registered claims; the
// signature and any other claims are left out.
type JWTInfo struct {
	// Issuer is the iss claim; STS matches it to an IAM OIDC provider.
	Issuer string
	// Subject is the sub claim.
	Subject string
	// Audience is the aud claim, normalised to a list.
	Audience []string
	// ExpiresAt is the exp claim; zero if absent.
	ExpiresAt time.Time
	// IssuedAt is the iat claim; zero if absent.
	IssuedAt time.Time
	// NotBefore is the nbf claim; zero if absent.
	NotBefore time.Time
	// Algorithm is the header's alg.
	Algorithm string
	// KeyID is the header's kid, which STS looks up in the provider's JWKS.
	KeyID string
}

// maxUnixSeconds is the end of year 9999, a bound that rejects nonsense
// timestamps before they overflow time.Time arithmetic.
const maxUnixSeconds = 253402300799

// ParseJWT decodes, but does NOT verify, the header and payload of a compact
// JWS (header.payload.signature, base64url without padding). Surrounding
// whitespace and a "Bearer " prefix are ignored. aud may be a string or an
// array; exp, iat and nbf are numeric seconds and may be fractional. Errors
// never include any part of the token.
func ParseJWT(token string) (*JWTInfo, error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" {
		return nil, errors.New("the web identity token is empty")
	}
	parts := strings.Split(token, ".")
	switch len(parts) {
	case 3:
	case 5:
		return nil, errors.New("the token has 5 dot-separated parts: it is an encrypted JWE, whose claims cannot be read; STS needs a signed JWT (3 parts)")
	default:
		return nil, fmt.Errorf("the token has %d dot-separated part(s); a JWT has 3 (header.payload.signature)", len(parts))
	}
	header, err := decodeSegment(parts[0], "header")
	if err != nil {
		return nil, err
	}
	payload, err := decodeSegment(parts[1], "payload")
	if err != nil {
		return nil, err
	}

	info := &JWTInfo{}
	if info.Algorithm, err = stringClaim(header, "alg", "header"); err != nil {
		return nil, err
	}
	if info.KeyID, err = stringClaim(header, "kid", "header"); err != nil {
		return nil, err
	}
	if info.Issuer, err = stringClaim(payload, "iss", "claim"); err != nil {
		return nil, err
	}
	if info.Subject, err = stringClaim(payload, "sub", "claim"); err != nil {
		return nil, err
	}
	if info.Audience, err = audienceClaim(payload["aud"]); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &info.ExpiresAt}, {"iat", &info.IssuedAt}, {"nbf", &info.NotBefore}} {
		if *c.dst, err = timeClaim(payload, c.name); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// Expired reports whether the token's exp is at or before now (RFC 7519
// requires now to be strictly before exp). A token without exp never expires.
func (j *JWTInfo) Expired(now time.Time) bool {
	return !j.ExpiresAt.IsZero() && !now.Before(j.ExpiresAt)
}

// decodeSegment base64url-decodes one segment into a JSON object.
func decodeSegment(seg, what string) (map[string]json.RawMessage, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("the token %s is not base64url", what)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, fmt.Errorf("the token %s is not a JSON object", what)
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func stringClaim(m map[string]json.RawMessage, name, kind string) (string, error) {
	raw, ok := m[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("the token's %s %s is not a string", name, kind)
	}
	return s, nil
}

func audienceClaim(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, nil
	}
	return nil, errors.New("the token's aud claim is neither a string nor an array of strings")
}

// timeClaim reads a NumericDate, keeping sub-second precision when present.
func timeClaim(m map[string]json.RawMessage, name string) (time.Time, error) {
	raw, ok := m[name]
	if !ok || isNull(raw) {
		return time.Time{}, nil
	}
	var n json.Number
	// json.Number would also accept a quoted number; NumericDate must be bare.
	if raw = bytes.TrimSpace(raw); raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return time.Time{}, fmt.Errorf("the token's %s claim is not a number", name)
	}
	if i, err := n.Int64(); err == nil {
		if i < -maxUnixSeconds || i > maxUnixSeconds {
			return time.Time{}, fmt.Errorf("the token's %s claim is out of range", name)
		}
		return time.Unix(i, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxUnixSeconds {
		return time.Time{}, fmt.Errorf("the token's %s claim is out of range", name)
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9))).UTC(), nil
}
