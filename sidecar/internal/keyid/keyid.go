// Package keyid recognises AWS access key ids and unique ids by their
// prefix, masks them for display, and estimates the owning account offline.
//
// The sidecar's output is read by an AI model, so ids are masked before they
// are shown; none of these functions ever handles a secret access key.
package keyid

import (
	"encoding/base32"
	"fmt"
	"strings"
)

// Kind is what a key id's 4-char prefix says it is.
type Kind struct {
	// Prefix is the 4-character prefix, e.g. "ASIA".
	Prefix string
	// Name is a short human description, e.g. "temporary access key (STS)".
	Name string
	// Temporary is true for prefixes that only STS mints, whose credentials expire.
	Temporary bool
}

// kinds lists the documented IAM unique-id prefixes.
var kinds = map[string]Kind{
	"AKIA": {Prefix: "AKIA", Name: "long-term access key"},
	"ASIA": {Prefix: "ASIA", Name: "temporary access key (STS)", Temporary: true},
	"AIDA": {Prefix: "AIDA", Name: "IAM user"},
	"AROA": {Prefix: "AROA", Name: "IAM role"},
	"AGPA": {Prefix: "AGPA", Name: "IAM group"},
	"AIPA": {Prefix: "AIPA", Name: "instance profile"},
	"ANPA": {Prefix: "ANPA", Name: "managed policy"},
	"ANVA": {Prefix: "ANVA", Name: "policy version"},
	"APKA": {Prefix: "APKA", Name: "public key"},
	"ASCA": {Prefix: "ASCA", Name: "certificate"},
	"ABIA": {Prefix: "ABIA", Name: "STS bearer token", Temporary: true},
	"ACCA": {Prefix: "ACCA", Name: "context-specific credential"},
}

// Classify reports what kind of id id is, judged by its 4-character prefix.
// Surrounding whitespace is ignored because ids are often pasted. It returns
// false for an unknown prefix.
func Classify(id string) (Kind, bool) {
	id = strings.TrimSpace(id)
	if len(id) < 4 {
		return Kind{}, false
	}
	k, ok := kinds[id[:4]]
	return k, ok
}

// Mask shortens id so it can be shown without revealing it: the first 4 and
// last 4 characters joined by "…". Ids shorter than 12 characters keep only
// their first 2 characters (fewer for 1–3 character ids), so a short id is
// never shown whole. Mask("") is "".
func Mask(id string) string {
	r := []rune(strings.TrimSpace(id))
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 12:
		return string(r[:min(2, len(r)/2)]) + "…"
	default:
		return string(r[:4]) + "…" + string(r[len(r)-4:])
	}
}

// b32 decodes the key body; ids are unpadded base32 in the standard alphabet.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// AccountOffline estimates the 12-digit AWS account that owns id without
// calling AWS, by decoding the account number embedded in the id's body.
//
// This is a heuristic: the encoding is undocumented and only holds for ids
// minted since about 2019; older ids decode to a wrong number. STS's
// GetAccessKeyInfo answer is authoritative and should be preferred when a
// call is possible. ok is false for unknown prefixes, ids shorter than 16
// characters and bodies with characters outside A–Z and 2–7.
func AccountOffline(id string) (account string, ok bool) {
	id = strings.TrimSpace(id)
	if len(id) < 16 {
		return "", false
	}
	if _, known := Classify(id); !known {
		return "", false
	}
	body := id[4:]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return "", false
		}
	}
	// 10 base32 characters carry 50 bits, enough for the 6 bytes we need.
	b, err := b32.DecodeString(body[:10])
	if err != nil || len(b) < 6 {
		return "", false
	}
	var v uint64
	for _, x := range b[:6] {
		v = v<<8 | uint64(x)
	}
	acct := (v & 0x7fffffffff80) >> 7
	if acct > 999_999_999_999 {
		return "", false // 40 bits hold more than 12 digits; no real id decodes to that
	}
	return fmt.Sprintf("%012d", acct), true
}
