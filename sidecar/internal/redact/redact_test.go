package redact

import (
	"fmt"
	"sync"
	"testing"
)

func TestScrub(t *testing.T) {
	var s Secrets
	s.Add("wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "1234567", "")
	tests := []struct{ name, in, want string }{
		{"none", "nothing here", "nothing here"},
		{"longest wins", "key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.", "key=[redacted]."},
		{"prefix alone", "x wJalrXUtnFEMI/K7MDENG y", "x [redacted] y"},
		{"short values ignored", "code 1234567", "code 1234567"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Scrub(tt.in); got != tt.want {
				t.Fatalf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
}

func TestZeroValueScrubsNothing(t *testing.T) {
	var s Secrets
	if got := s.Scrub("abc"); got != "abc" {
		t.Fatalf("got %q", got)
	}
}

func TestConcurrentAddScrub(t *testing.T) {
	var s Secrets
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("secret-value-%d", i)
			s.Add(v)
			if got := s.Scrub("<" + v + ">"); got != "<[redacted]>" {
				t.Errorf("Scrub after Add(%q) = %q", v, got)
			}
		}()
	}
	wg.Wait()
}

func ExampleSecrets() {
	var s Secrets
	s.Add("FwoGZXIvYXdzEXAMPLETOKEN")
	fmt.Println(s.Scrub("token FwoGZXIvYXdzEXAMPLETOKEN expired"))
	// Output: token [redacted] expired
}
