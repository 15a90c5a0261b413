package protocolgen

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerated fails when a file derived from protocol/model.json was not regenerated.
func TestGenerated(t *testing.T) {
	stale, err := Stale(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Fatalf("generated files are stale; run `make generate`:\n%s", strings.Join(stale, "\n"))
	}
}
