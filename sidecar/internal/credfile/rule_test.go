package credfile

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"awsflow-sts/sidecar/internal/protocol"
)

// TestProfileNamePatternAgrees checks that the generated pattern, which decides and which the
// extension checks names with, accepts exactly the names profileNameProblem finds nothing wrong
// with, over names built from the characters each part of the rule is about.
func TestProfileNamePatternAgrees(t *testing.T) {
	alphabet := []rune("ab[]#;= -_.é\t\r\n\x00\x7f\u0085\u00a0\u2028\u2029\u3000\u200b\ufeff\U0001F600")
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"", "a", " ", strings.Repeat("x", protocol.ProfileNameMaxLength),
		strings.Repeat("x", protocol.ProfileNameMaxLength+1), strings.Repeat("😀", protocol.ProfileNameMaxLength), "de\xffv"}
	for range 20000 {
		n := rng.IntN(6)
		if rng.IntN(50) == 0 {
			n = protocol.ProfileNameMaxLength - 2 + rng.IntN(4)
		}
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		names = append(names, b.String())
	}
	for _, name := range names {
		matches := utf8.ValidString(name) && profileNamePattern.MatchString(name)
		if problem := profileNameProblem(name); matches != (problem == nil) {
			t.Errorf("%q: the pattern matches %t, but profileNameProblem says %v", name, matches, problem)
		}
	}
}
