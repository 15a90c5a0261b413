package protocolgen

import (
	"regexp"
	"strings"
	"testing"
)

// TestProfileNamePatternReadsAlike checks the generated pattern on names both ways: Go reads it
// here, and the same string goes to JavaScript's RegExp with the u flag, whose syntax for what the
// pattern uses (negated classes, \p{Cc}, \p{Z}, {m,n}) is the same.
func TestProfileNamePatternReadsAlike(t *testing.T) {
	m, err := ParseModel(readRoot(t, ModelPath))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(m.Rules.ProfileName.ProfileNamePattern())
	max := m.Rules.ProfileName.MaxLength
	for name, want := range map[string]bool{
		"dev": true, "my profile": true, "ünïcødé": true, "x": true, strings.Repeat("é", max): true,
		"": false, " dev": false, "dev ": false, "dev\u00a0": false, "de[v": false, "dev;1": false, "a\nb": false,
		"a\x00b": false, strings.Repeat("x", max+1): false,
	} {
		if got := re.MatchString(name); got != want {
			t.Errorf("%q: matches %t, want %t", name, got, want)
		}
	}
}
