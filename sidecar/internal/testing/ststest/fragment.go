package ststest

import "strings"

// FragmentLen is the shortest run of a secret that must never appear in anything the sidecar
// says. It is the rule's own number, kept here apart from the scrubber's, so that tests do not
// take the code's word for it.
const FragmentLen = 16

// Fragment returns the first run of FragmentLen characters of secret found in text, ignoring
// ASCII letter case, and whether there is one.
func Fragment(text, secret string) (string, bool) {
	low, s := asciiLower(text), asciiLower(secret)
	for i := 0; i+FragmentLen <= len(s); i++ {
		if f := s[i : i+FragmentLen]; strings.Contains(low, f) {
			return f, true
		}
	}
	return "", false
}

// asciiLower lowers ASCII letters only: strings.ToLower would also rewrite invalid UTF-8, which
// hostile text may hold.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
