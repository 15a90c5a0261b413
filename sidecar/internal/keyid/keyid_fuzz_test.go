package keyid

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzKeyID feeds arbitrary ids to Classify, Mask and AccountOffline. Nothing panics; Mask never
// shows more than the first and last 4 characters (never a short id whole, never its middle);
// an offline account is 12 digits and only for a known prefix; and an account encoded into a
// key's body decodes back to itself.
func FuzzKeyID(f *testing.F) {
	f.Fuzz(func(t *testing.T, id string, account uint64) {
		trimmed := strings.TrimSpace(id)
		kind, known := Classify(id)
		if known && (kind.Prefix != trimmed[:4] || kind.Name == "") {
			t.Fatalf("Classify(%q) = %+v", id, kind)
		}
		checkMask(t, trimmed, Mask(id))
		if acct, ok := AccountOffline(id); ok {
			if !known || len(acct) != 12 || strings.Trim(acct, "0123456789") != "" {
				t.Fatalf("AccountOffline(%q) = %q (known prefix %v)", id, acct, known)
			}
		}

		// Round trip through keyid_test.go's encoder, with the fuzzer's noise in the other bits.
		want := account % 1_000_000_000_000
		key := encodeKey("ASIA", want, byte(account>>40))
		if got, ok := AccountOffline(key); !ok || got != fmt.Sprintf("%012d", want) {
			t.Fatalf("AccountOffline(%q) = %q, %v; want %012d", key, got, ok, want)
		}
	})
}

// checkMask checks Mask's promise for a trimmed id.
func checkMask(t *testing.T, id, masked string) {
	t.Helper()
	r := []rune(id)
	switch {
	case len(r) == 0:
		if masked != "" {
			t.Fatalf("Mask(%q) = %q, want empty", id, masked)
		}
	case len(r) < 12:
		if utf8.RuneCountInString(masked) > 3 || !strings.HasSuffix(masked, "…") {
			t.Fatalf("Mask(%q) = %q shows too much of a short id", id, masked)
		}
	default:
		if masked != string(r[:4])+"…"+string(r[len(r)-4:]) {
			t.Fatalf("Mask(%q) = %q, want the first and last 4 characters", id, masked)
		}
	}
}
