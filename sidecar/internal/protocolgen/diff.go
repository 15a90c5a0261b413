package protocolgen

import (
	"fmt"
	"strings"
)

// lineDiff shows the first differing lines of two texts, enough to see what went stale.
func lineDiff(have, want string) string {
	a, b := strings.Split(have, "\n"), strings.Split(want, "\n")
	var out strings.Builder
	shown := 0
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x == y {
			continue
		}
		fmt.Fprintf(&out, "  line %d:\n  - %s\n  + %s\n", i+1, x, y)
		if shown++; shown == 10 {
			out.WriteString("  …\n")
			break
		}
	}
	return out.String()
}
