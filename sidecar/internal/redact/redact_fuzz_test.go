package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzScrub checks Scrub's promises on any secret and any text: no run of FragmentLen characters
// of the secret is left, in any case; a second Scrub changes nothing; and scrubbed JSON stays JSON.
func FuzzScrub(f *testing.F) {
	f.Add("FwoGZXIvYXdzEXAMPLETOKEN0123456789+/=", "echo FwoGZXIvYXdzEXAMPLETOKEN0123456789+/= end")
	f.Add(`say "hi" \ <tag>&amp; 0123456789abcdef`, `{"m":"say \"hi\" \\ \u003ctag\u003e\u0026amp; 0123"}`)
	f.Add("864209", "code 864209, account 123864209456")
	f.Add("aaaaaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, secret, text string) {
		var s Secrets
		s.Add(secret)
		// ASCII case only: strings.ToUpper would also replace invalid UTF-8.
		for _, in := range []string{text, text + secret + text, upper(secret)} {
			out := s.Scrub(in)
			if len(secret) >= FragmentLen && strings.Trim(secret, "0123456789") != "" {
				if _, ok := fragmentIn(out, secret); ok {
					t.Fatalf("Scrub(%q) = %q keeps a fragment of %q", in, out, secret)
				}
			}
			if again := s.Scrub(out); again != out {
				t.Fatalf("Scrub is not idempotent: %q then %q", out, again)
			}
		}
		b, err := json.Marshal(map[string]string{"m": text + secret})
		if err != nil {
			t.Skip()
		}
		if out := s.Scrub(string(b)); !json.Valid([]byte(out)) {
			t.Fatalf("Scrub(%s) = %s is not JSON", b, out)
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
