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
	if err := m.settingsConstraints(contributes); err != nil {
		return nil, err
	}
	var b strings.Builder
	root.render(&b, "")
	b.WriteString("\n")
	return []byte(b.String()), nil
}

// SettingPrefix is the prefix of the extension's settings that mirror Settings properties.
const SettingPrefix = "awsflowSts."

// settingsConstraints copies the constraints and defaults of the Settings properties into
// contributes.configuration's awsflowSts.* settings, so VS Code checks what the sidecar checks.
// An empty string is the default of a string setting, so its pattern also admits "".
func (m *Model) settingsConstraints(contributes *node) error {
	settings, _ := m.Types.Lookup(SettingsType)
	var props *node
	if conf := contributes.get("configuration"); conf != nil && conf.isObj {
		props = conf.get("properties")
	}
	for _, p := range settings.Properties {
		d := p.Def
		if !d.constrained() && len(d.Default) == 0 {
			continue
		}
		key := SettingPrefix + p.Name
		var prop *node
		if props != nil {
			prop = props.get(key)
		}
		if prop == nil || !prop.isObj {
			return fmt.Errorf("package.json: contributes.configuration.properties lacks %s, which protocol/model.json constrains", key)
		}
		if len(d.Default) > 0 {
			def, err := parseOrdered(d.Default)
			if err != nil {
				return fmt.Errorf("%s default: %w", key, err)
			}
			prop.set("default", def)
		}
		if d.Minimum != nil {
			prop.set("minimum", &node{scalar: fmt.Sprint(*d.Minimum)})
			prop.set("maximum", &node{scalar: fmt.Sprint(*d.Maximum)})
		}
		if d.Pattern != "" {
			prop.set("pattern", &node{scalar: quoteJS("^$|" + d.Pattern)})
		}
		if len(d.Enum) > 0 {
			enum, err := toNode(d.Enum)
			if err != nil {
				return err
			}
			prop.set("enum", enum)
		}
	}
	return nil
}
