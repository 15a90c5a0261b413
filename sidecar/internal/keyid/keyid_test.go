package keyid

import (
	"fmt"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		id         string
		wantOK     bool
		wantName   string
		wantTemp   bool
		wantPrefix string
	}{
		{"temporary key", "ASIAY34FZKBOKMUTVV7A", true, "temporary access key (STS)", true, "ASIA"},
		{"long-term key", "AKIAIOSFODNN7EXAMPLE", true, "long-term access key", false, "AKIA"},
		{"role", "AROAEXAMPLEID123", true, "IAM role", false, "AROA"},
		{"bearer token", "ABIAEXAMPLE", true, "STS bearer token", true, "ABIA"},
		{"context credential", "ACCAEXAMPLE", true, "context-specific credential", false, "ACCA"},
		{"surrounding whitespace", "  AIDAEXAMPLE\n", true, "IAM user", false, "AIDA"},
		{"unknown prefix", "ZZZZEXAMPLE", false, "", false, ""},
		{"lower case prefix", "asiaEXAMPLE", false, "", false, ""},
		{"too short", "ASI", false, "", false, ""},
		{"empty", "", false, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := Classify(tt.id)
			if ok != tt.wantOK {
				t.Fatalf("Classify(%q) ok = %v, want %v", tt.id, ok, tt.wantOK)
			}
			if k.Name != tt.wantName || k.Temporary != tt.wantTemp || k.Prefix != tt.wantPrefix {
				t.Errorf("Classify(%q) = %+v, want name %q temporary %v prefix %q", tt.id, k, tt.wantName, tt.wantTemp, tt.wantPrefix)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name, id, want string
	}{
		{"full key", "ASIAY34FZKBOKMUTVV7A", "ASIA…VV7A"},
		{"exactly 12", "AKIA12345678", "AKIA…5678"},
		{"11 chars", "AKIA1234567", "AK…"},
		{"4 chars", "AKIA", "AK…"},
		{"3 chars", "ABC", "A…"},
		{"2 chars", "AB", "A…"},
		{"1 char", "A", "…"},
		{"empty", "", ""},
		{"whitespace trimmed", " ASIAY34FZKBOKMUTVV7A\n", "ASIA…VV7A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.id); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

func TestAccountOffline(t *testing.T) {
	tests := []struct {
		name, id, want string
		wantOK         bool
	}{
		{"known vector", "ASIAY34FZKBOKMUTVV7A", "609629065308", true},
		{"known vector with whitespace", "\tASIAY34FZKBOKMUTVV7A ", "609629065308", true},
		{"unknown prefix", "ZZZZY34FZKBOKMUTVV7A", "", false},
		{"too short", "ASIAY34FZKBOKMU", "", false},
		{"non-base32 digit", "ASIAY34FZKBOKMUTVV1A", "", false},
		{"lower case body", "ASIAy34fzkbokmutvv7a", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AccountOffline(tt.id)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("AccountOffline(%q) = (%q, %v), want (%q, %v)", tt.id, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// encodeKey is the inverse of AccountOffline's transform: it builds a key id
// whose body encodes account, with noise in the bits the decoder must ignore.
func encodeKey(prefix string, account uint64, noise byte) string {
	v := account<<7 | uint64(noise&0x7f)
	if noise&0x80 != 0 {
		v |= 1 << 47 // the top bit is outside the account mask
	}
	b := make([]byte, 10)
	for i := 5; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	for i := 6; i < len(b); i++ {
		b[i] = noise ^ byte(i*37)
	}
	return prefix + b32.EncodeToString(b)
}

func TestAccountOfflineRoundTrip(t *testing.T) {
	accounts := []uint64{1, 123456789012, 609629065308, 555555555555, 999999999999}
	prefixes := []string{"ASIA", "AKIA"}
	noises := []byte{0x00, 0x7f, 0xff, 0x5a}
	for _, acct := range accounts {
		for _, p := range prefixes {
			for _, n := range noises {
				want := fmt.Sprintf("%012d", acct)
				id := encodeKey(p, acct, n)
				t.Run(fmt.Sprintf("%s/%s/noise%02x", want, p, n), func(t *testing.T) {
					if len(id) != 20 {
						t.Fatalf("helper built %q of length %d, want 20", id, len(id))
					}
					got, ok := AccountOffline(id)
					if !ok || got != want {
						t.Errorf("AccountOffline(%q) = (%q, %v), want (%q, true)", id, got, ok, want)
					}
				})
			}
		}
	}
}

func ExampleAccountOffline() {
	id := "ASIAY34FZKBOKMUTVV7A"
	kind, _ := Classify(id)
	account, _ := AccountOffline(id)
	fmt.Println(Mask(id), kind.Name, account)
	// Output: ASIA…VV7A temporary access key (STS) 609629065308
}
