package clip

import (
	"strings"
	"testing"
)

func TestTo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short kept", "abc", 5, "abc"},
		{"exact kept", "abcde", 5, "abcde"},
		{"long cut", "abcdef", 5, "abcde…"},
		{"never splits a rune", "ab€cd", 3, "ab…"},
		{"zero", "abc", 0, "…"},
		{"negative", "abc", -1, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := To(tt.in, tt.n); got != tt.want {
				t.Errorf("To(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestEcho(t *testing.T) {
	got := Echo(strings.Repeat("x", 1<<20))
	if want := strings.Repeat("x", MaxEcho) + Ellipsis; got != want {
		t.Errorf("Echo of 1 MiB = %d bytes, want %d", len(got), len(want))
	}
}
