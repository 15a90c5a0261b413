package protocolgen

import (
	"fmt"
	"strings"
)

// languageModelTool is package.json's contributes.languageModelTools entry for STSTool.
type languageModelTool struct {
	Name                    string   `json:"name"`
	ToolReferenceName       string   `json:"toolReferenceName"`
	DisplayName             string   `json:"displayName"`
	UserDescription         string   `json:"userDescription"`
	ModelDescription        string   `json:"modelDescription"`
	Tags                    []string `json:"tags"`
	Icon                    string   `json:"icon"`
	CanBeReferencedInPrompt bool     `json:"canBeReferencedInPrompt"`
	InputSchema             any      `json:"inputSchema"`
}

// packageJSON returns package.json with contributes.languageModelTools generated from the model
// and every other byte as JSON.stringify(v, null, 2) lays it out.
func (m *Model) packageJSON(current []byte) ([]byte, error) {
	root, err := parseOrdered(current)
	if err != nil {
		return nil, fmt.Errorf("read package.json: %w", err)
	}
	if !root.isObj {
		return nil, fmt.Errorf("package.json is not a JSON object")
	}
	tools, err := toNode([]languageModelTool{{
		Name:                    m.Tool.Name,
		ToolReferenceName:       m.Tool.ToolReferenceName,
		DisplayName:             m.Tool.DisplayName,
		UserDescription:         m.Tool.UserDescription,
		ModelDescription:        m.Tool.ModelDescription,
		Tags:                    m.Tool.Tags,
		Icon:                    "$(key)",
		CanBeReferencedInPrompt: true,
		InputSchema:             m.InputSchema(),
	}})
	if err != nil {
		return nil, err
	}
	contributes := root.get("contributes")
	if contributes == nil || !contributes.isObj {
		contributes = &node{isObj: true}
		root.set("contributes", contributes)
	}
	contributes.set("languageModelTools", tools)
	var b strings.Builder
	root.render(&b, "")
	b.WriteString("\n")
	return []byte(b.String()), nil
}
