package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const (
	token   = "FwoGZXIvYXdzEXAMPLETOKEN0123456789+abc/def=ghiJKLmnoPQRstuVWXyz"
	key     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	shortV  = "Sh0rt-Secr3t"
	mfa     = "864209"
	xmlish  = `<samlp:Response ID="r1">&lt;signed&gt; assertion body</samlp:Response>`
	account = "123456789012"
)

func newSecrets() *Secrets {
	var s Secrets
	s.Add(token, key, shortV, mfa, xmlish, "1234567", "abc", "")
	return &s
}

func TestScrub(t *testing.T) {
	s := newSecrets()
	tests := []struct{ name, in, want string }{
		{"none", "nothing here", "nothing here"},
		{"empty", "", ""},
		{"whole secret", "key=" + key + ".", "key=[redacted]."},
		{"fragment of 16", "x " + token[10:26] + " y", "x [redacted] y"},
		{"fragment of 15 is kept", "x " + token[10:25] + " y", "x " + token[10:25] + " y"},
		{"fragment at the start", token[:20] + "…", "[redacted]…"},
		{"fragment at the end", "…" + token[len(token)-17:], "…[redacted]"},
		{"upper-cased", "echo " + strings.ToUpper(token) + " end", "echo [redacted] end"},
		{"lower-cased fragment", "echo " + strings.ToLower(key[5:30]), "echo [redacted]"},
		{"URL-encoded", "raw: Token=" + url.QueryEscape(token) + "&Action=X", "raw: Token=[redacted]&Action=X"},
		{"URL-encoded upper-cased", "RAW: " + strings.ToUpper(url.QueryEscape(token)), "RAW: [redacted]"},
		{"two copies, one placeholder", token + token, "[redacted]"},
		{"two separate copies", token + " and " + key, "[redacted] and [redacted]"},
		{"short secret whole", "p=" + shortV + ";", "p=[redacted];"},
		{"short secret any case", "p=" + strings.ToUpper(shortV), "p=[redacted]"},
		{"short secret before a long one", "p=" + shortV + " " + token + " 864209", "p=[redacted] [redacted] [redacted]"},
		{"codes, short and long secrets mixed", "864209 " + token + shortV + "!", "[redacted] [redacted]!"},
		{"short secret cut is kept", "p=" + shortV[:7], "p=" + shortV[:7]},
		{"code alone", "code 864209.", "code [redacted]."},
		{"code in a query", "TokenCode=864209&SerialNumber=x", "TokenCode=[redacted]&SerialNumber=x"},
		{"code quoted", `"TokenCode":"864209"`, `"TokenCode":"[redacted]"`},
		{"seven-digit code", "code 1234567", "code [redacted]"},
		{"code inside a longer number", "id 18642091", "id 18642091"},
		{"code inside a word", "ab864209 864209cd x_864209", "ab864209 864209cd x_864209"},
		{"code as a decimal fraction", "duration_ms=1.864209 v=864209.5", "duration_ms=1.864209 v=864209.5"},
		{"code in an account id", "arn:aws:iam::" + account + ":role/Dev", "arn:aws:iam::" + account + ":role/Dev"},
		{"code in a timestamp", "2026-01-01T10:00:00.864209Z", "2026-01-01T10:00:00.864209Z"},
		{"too short to register", "abc", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Scrub(tt.in); got != tt.want {
				t.Fatalf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if n := s.Len(); n != 6 {
		t.Fatalf("Len = %d, want 6", n)
	}
}

// TestScrubKeepsJSON scrubs JSON text whose strings hold secrets in their escaped form, cut at
// every position: the result must stay valid JSON and hold no fragment.
func TestScrubKeepsJSON(t *testing.T) {
	s := newSecrets()
	quoted := `say "hello" \ then a tab	and a long tail 0123456789abcdef`
	s.Add(quoted)
	for _, secret := range []string{xmlish, quoted, token} {
		for cut := range len(secret) - FragmentLen {
			part := secret[cut:]
			b, err := json.Marshal(map[string]string{"message": "STS said: " + part + " (echo)"})
			if err != nil {
				t.Fatal(err)
			}
			got := s.Scrub(string(b))
			if !json.Valid([]byte(got)) {
				t.Fatalf("cut %d of %.20q: scrubbed JSON is not JSON: %s", cut, secret, got)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatal(err)
			}
			if f, ok := fragmentIn(m["message"], secret); ok {
				t.Fatalf("cut %d: fragment %q left in %q", cut, f, m["message"])
			}
		}
	}
}

// TestScrubFindsEveryFragment embeds random runs of random secrets in random text.
func TestScrubFindsEveryFragment(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_."
	randString := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var s Secrets
	var secrets []string
	for range 50 {
		v := randString(16 + r.IntN(400))
		secrets = append(secrets, v)
		s.Add(v)
	}
	for i := range 2000 {
		v := secrets[r.IntN(len(secrets))]
		n := FragmentLen + r.IntN(len(v)-FragmentLen+1)
		at := r.IntN(len(v) - n + 1)
		frag := v[at : at+n]
		switch i % 3 {
		case 1:
			frag = strings.ToUpper(frag)
		case 2:
			frag = url.QueryEscape(frag)
		}
		text := "before " + frag + " after"
		got := s.Scrub(text)
		if got != "before [redacted] after" {
			t.Fatalf("Scrub(%q) = %q", text, got)
		}
	}
}

func TestScrubLeavesOrdinaryText(t *testing.T) {
	s := newSecrets()
	for _, text := range []string{
		"operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 4f0e7a4c-1d2b-4a8e-9b1c-3d5e6f708192",
		"arn:aws:sts::123456789012:assumed-role/Dev/alice expires 2026-05-01T10:10:00Z (in 59 minutes)",
		`{"secondsLeft":1138642091,"accessKeyId":"ASIA…VV7A"}`,
		Placeholder + " " + Placeholder,
	} {
		if got := s.Scrub(text); got != text {
			t.Errorf("Scrub(%q) = %q", text, got)
		}
	}
}

func TestScrubIsIdempotent(t *testing.T) {
	s := newSecrets()
	text := "a " + token + " b " + strings.ToUpper(key[3:22]) + " c 864209"
	once := s.Scrub(text)
	if twice := s.Scrub(once); twice != once || once != "a [redacted] b [redacted] c [redacted]" {
		t.Fatalf("once %q, twice %q", once, s.Scrub(once))
	}
}

func TestZeroValueScrubsNothing(t *testing.T) {
	var s Secrets
	if got := s.Scrub("abc 864209 " + token); got != "abc 864209 "+token {
		t.Fatalf("got %q", got)
	}
	if s.Len() != 0 {
		t.Fatal("zero value has secrets")
	}
}

func TestManySecretsGrowTheFilter(t *testing.T) {
	var s Secrets
	var last string
	for i := range 400 {
		last = fmt.Sprintf("IQoJb3JpZ2luX2VjE%04d", i) + strings.Repeat(fmt.Sprintf("%08x", i*7919), 60)
		s.Add(last)
	}
	if got := s.Scrub("x " + last[200:240] + " y"); got != "x [redacted] y" {
		t.Fatalf("got %q", got)
	}
	if got := s.Scrub("arn:aws:iam::123456789012:role/Dev"); got != "arn:aws:iam::123456789012:role/Dev" {
		t.Fatalf("got %q", got)
	}
}

func TestConcurrentAddScrub(t *testing.T) {
	var s Secrets
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			v := fmt.Sprintf("secret-value-%d", i)
			s.Add(v)
			if got := s.Scrub("<" + v + ">"); got != "<[redacted]>" {
				t.Errorf("Scrub after Add(%q) = %q", v, got)
			}
		})
	}
	wg.Wait()
}

// fragmentIn returns a FragmentLen run of secret found in text, ignoring ASCII case only (as Scrub
// does: strings.ToLower would also rewrite invalid UTF-8).
func fragmentIn(text, secret string) (string, bool) {
	low := lower(text)
	for i := 0; i+FragmentLen <= len(secret); i++ {
		if f := lower(secret[i : i+FragmentLen]); strings.Contains(low, f) {
			return f, true
		}
	}
	return "", false
}

func ExampleSecrets() {
	var s Secrets
	s.Add("FwoGZXIvYXdzEXAMPLETOKEN", "864209")
	fmt.Println(s.Scrub("token FwoGZXIvYXdzEXAMPLETOKEN expired"))
	fmt.Println(s.Scrub("echo: FWOGZXIVYXDZEXAMP… code 864209, account 123864209456"))
	// Output:
	// token [redacted] expired
	// echo: [redacted]… code [redacted], account 123864209456
}

// TestInputsAreBounded: inputs stay scrubbed while a call holds them and for a while after, but a
// stream of large ones cannot grow the index without end; values added with Add always stay.
func TestInputsAreBounded(t *testing.T) {
	defer func(was int) { maxInputBytes = was }(maxInputBytes)
	maxInputBytes = 64 << 10
	var s Secrets
	key := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	s.Add(key)
	// 8 KB of base64 text of its own per input, like a small assertion.
	big := func(i int) string {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		b := make([]byte, 6_000)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	held := big(0)
	releaseHeld := s.AddInput(held)
	var last string
	for i := 1; i <= 40; i++ {
		last = big(i)
		s.AddInput(last)()
		if s.inputBytes > maxInputBytes+2*len(last) {
			t.Fatalf("after %d inputs of %d bytes the index keeps %d bytes of inputs", i, len(last), s.inputBytes)
		}
	}
	for name, v := range map[string]string{"the base key": key, "an input still held": held[100:140], "the newest input": last[100:140]} {
		if got := s.Scrub("x " + v + " y"); strings.Contains(got, v) {
			t.Errorf("%s is no longer scrubbed: %q", name, got)
		}
	}
	if got := s.Scrub("x " + big(1)[100:140] + " y"); !strings.Contains(got, big(1)[100:140]) {
		t.Errorf("the oldest released input is still indexed after %d bytes of newer ones", 40*len(last))
	}
	releaseHeld()
	releaseHeld() // a second call does nothing
	if e := s.values[maphash.String(s.seed, held)]; e != nil && e.pins != 0 {
		t.Errorf("pins = %d after release, want 0", e.pins)
	}
	// An input that turns out to be a lasting secret (Add) is never dropped.
	lasting := big(100)
	s.AddInput(lasting)()
	s.Add(lasting)
	for i := 101; i <= 140; i++ {
		s.AddInput(big(i))()
	}
	if got := s.Scrub(lasting[200:240]); got != Placeholder {
		t.Errorf("a value added with Add after AddInput was dropped: %q", got)
	}
}
