package tool

import (
	"strings"
	"testing"

	"awsflow-sts/sidecar/internal/protocol"
)

func TestMCPOnlyCommandsAreUnknownToTheExtensionsRunner(t *testing.T) {
	h := newHarness(t)
	_, err := h.try(protocol.CmdWriteProfile, map[string]any{"SessionName": "dev", "Profile": "dev"})
	te := toolErr(t, err, protocol.CodeInvalidParams)
	contains(t, te.Message, `There is no STSTool command "WriteProfile"`)
	if te.Hint == "" || strings.Contains(te.Hint, "WriteProfile") {
		t.Errorf("the hint offers WriteProfile: %q", te.Hint)
	}
	h.runner.OfferMCPOnly()
	_, err = h.try(protocol.CmdWriteProfile, map[string]any{"SessionName": "dev", "Profile": "dev"})
	te = toolErr(t, err, protocol.CodeSessionError) // known now; there is no session dev
	if te.Command != protocol.CmdWriteProfile {
		t.Errorf("command %q", te.Command)
	}
}
