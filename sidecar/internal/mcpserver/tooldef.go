package mcpserver

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"awsflow-sts/sidecar/internal/protocol"
)

// MetaReadOnlyCommands is the tool's _meta key listing the commands that change nothing: the
// tool's annotations hold for all of its commands, so the per-command hint is published here.
const MetaReadOnlyCommands = "awsflow-sts/readOnlyCommands"

// MetaConfirmedCommands is the tool's _meta key listing the commands the user confirms first.
const MetaConfirmedCommands = "awsflow-sts/confirmedCommands"

// toolDef is STSTool as MCP clients list it: the generated input schema as it is, and hints that
// are true of every command (some mint credentials; none deletes anything in AWS).
func toolDef() *mcp.Tool {
	no, yes := false, true
	var confirmed []string
	for i := range protocol.Commands {
		if needsConsent(&protocol.Commands[i]) {
			confirmed = append(confirmed, protocol.Commands[i].Name)
		}
	}
	return &mcp.Tool{
		Name:        protocol.ToolName,
		Title:       "AWS STS",
		Description: protocol.ModelDescription,
		InputSchema: json.RawMessage(protocol.MCPInputSchema),
		Annotations: &mcp.ToolAnnotations{
			Title:           "AWS STS",
			ReadOnlyHint:    false,
			DestructiveHint: &no,
			IdempotentHint:  false,
			OpenWorldHint:   &yes,
		},
		Meta: mcp.Meta{
			MetaReadOnlyCommands:  protocol.ReadOnlyCommands,
			MetaConfirmedCommands: confirmed,
		},
	}
}
