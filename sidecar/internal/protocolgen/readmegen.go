package protocolgen

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// ReadmePath is the repository README, for engineers: it carries the generated settings table and
// JSON-RPC method list.
const ReadmePath = "README.md"

// UserPagePath is the user page that scripts/package.sh packs into every VSIX as its README (the
// marketplace page): it carries the generated settings table and palette command list.
const UserPagePath = "MARKETPLACE.md"

// The generated blocks of the Markdown pages. Each sits between a begin and an end marker comment,
// "<!-- protogen:NAME begin ... -->" and "<!-- protogen:NAME end -->", and protogen rewrites only
// what lies between them.
const (
	// BlockSettings is the table of every awsflowSts.* setting in package.json.
	BlockSettings = "settings"
	// BlockCommands is the table of every palette command in package.json.
	BlockCommands = "commands"
	// BlockMethods is the table of every JSON-RPC method in the model, with its direction.
	BlockMethods = "methods"
)

// docBlocks names the blocks each page must carry; a page that lacks one fails generation, so a
// table cannot silently disappear from a page.
var docBlocks = map[string][]string{
	ReadmePath:   {BlockSettings, BlockMethods},
	UserPagePath: {BlockSettings, BlockCommands},
}

// settingSuffix ends every setting's description in package.json; the pages say it once, above
// the table, instead of in every row.
const settingSuffix = " Only you set this: the `STSTool` the model calls has no parameter for it and cannot change it."

var markerRE = regexp.MustCompile(`<!-- protogen:([a-z]+) (begin|end)[^>]*-->`)

// docFiles renders the Markdown pages named in docBlocks from their current text (docs, keyed by
// path), with every generated block replaced; pkg is the generated package.json.
func (m *Model) docFiles(pkg []byte, docs map[string][]byte) (map[string][]byte, error) {
	blocks, err := m.docTables(pkg)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(docBlocks))
	for path, want := range docBlocks {
		text, ok := docs[path]
		if !ok {
			return nil, fmt.Errorf("%s: missing (it carries the generated %s tables)", path, strings.Join(want, " and "))
		}
		rendered, found, err := replaceBlocks(string(text), blocks)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, name := range want {
			if !found[name] {
				return nil, fmt.Errorf("%s: no <!-- protogen:%s begin --> … <!-- protogen:%s end --> block", path, name, name)
			}
		}
		out[path] = []byte(rendered)
	}
	return out, nil
}

// replaceBlocks replaces the body of every marked block in text with blocks[name], reporting which
// blocks it found; an unknown name, an end without a begin or a begin without an end is an error.
func replaceBlocks(text string, blocks map[string]string) (string, map[string]bool, error) {
	found := map[string]bool{}
	var b strings.Builder
	rest := text
	for {
		loc := markerRE.FindStringSubmatchIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String(), found, nil
		}
		name, kind := rest[loc[2]:loc[3]], rest[loc[4]:loc[5]]
		if kind != "begin" {
			return "", nil, fmt.Errorf("<!-- protogen:%s end --> without a begin", name)
		}
		body, ok := blocks[name]
		if !ok {
			return "", nil, fmt.Errorf("unknown generated block %q", name)
		}
		if found[name] {
			return "", nil, fmt.Errorf("block %q appears twice", name)
		}
		found[name] = true
		b.WriteString(rest[:loc[1]])
		after := rest[loc[1]:]
		end := "<!-- protogen:" + name + " end -->"
		i := strings.Index(after, end)
		if i < 0 {
			return "", nil, fmt.Errorf("<!-- protogen:%s begin --> without %s", name, end)
		}
		if inner := markerRE.FindString(after[:i]); inner != "" {
			return "", nil, fmt.Errorf("block %q holds another marker %s", name, inner)
		}
		b.WriteString("\n" + body + end)
		rest = after[i+len(end):]
	}
}

// docTables renders every generated block's body (ending with a newline).
func (m *Model) docTables(pkg []byte) (map[string]string, error) {
	settings, err := settingsTable(pkg)
	if err != nil {
		return nil, err
	}
	commands, err := commandsTable(pkg)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		BlockSettings: settings,
		BlockCommands: commands,
		BlockMethods:  m.methodsTable(),
	}, nil
}

// settingDoc is what a settings row shows of one contributes.configuration property.
type settingDoc struct {
	Type                string          `json:"type"`
	Default             json.RawMessage `json:"default"`
	Minimum             *float64        `json:"minimum"`
	Maximum             *float64        `json:"maximum"`
	Enum                []string        `json:"enum"`
	MarkdownDescription string          `json:"markdownDescription"`
	Description         string          `json:"description"`
}

// settingsTable lists every awsflowSts.* setting of package.json in its order: name, default and
// description (with the allowed range or values).
func settingsTable(pkg []byte) (string, error) {
	root, err := parseOrdered(pkg)
	if err != nil {
		return "", fmt.Errorf("read package.json: %w", err)
	}
	var props *node
	if c := root.get("contributes"); c != nil {
		if conf := c.get("configuration"); conf != nil && conf.isObj {
			props = conf.get("properties")
		}
	}
	if props == nil || !props.isObj {
		return "", fmt.Errorf("package.json has no contributes.configuration.properties")
	}
	var b strings.Builder
	b.WriteString("| Setting | Default | What it does |\n|---|---|---|\n")
	rows := 0
	for _, p := range props.obj {
		if !strings.HasPrefix(p.key, SettingPrefix) {
			continue
		}
		var s strings.Builder
		p.val.render(&s, "")
		var d settingDoc
		if err := json.Unmarshal([]byte(s.String()), &d); err != nil {
			return "", fmt.Errorf("package.json %s: %w", p.key, err)
		}
		desc := d.MarkdownDescription
		if desc == "" {
			desc = d.Description
		}
		desc = strings.TrimSuffix(desc, settingSuffix)
		if d.Minimum != nil && d.Maximum != nil {
			desc += fmt.Sprintf(" From %v to %v.", *d.Minimum, *d.Maximum)
		}
		if len(d.Enum) > 0 {
			desc += " One of `" + strings.Join(d.Enum, "`, `") + "`."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", p.key, defaultCell(d.Default), cell(desc))
		rows++
	}
	if rows == 0 {
		return "", fmt.Errorf("package.json has no %s* settings", SettingPrefix)
	}
	return b.String(), nil
}

// defaultCell shows a setting's default: on/off for booleans, "empty" for "", else the value.
func defaultCell(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case string:
		if x == "" {
			return "empty"
		}
		return "`" + x + "`"
	default:
		return "`" + string(raw) + "`"
	}
}

// commandsTable lists every palette command of package.json as the palette shows it, with its id.
func commandsTable(pkg []byte) (string, error) {
	var v struct {
		Contributes struct {
			Commands []struct {
				Command  string `json:"command"`
				Title    string `json:"title"`
				Category string `json:"category"`
			} `json:"commands"`
		} `json:"contributes"`
	}
	if err := json.Unmarshal(pkg, &v); err != nil {
		return "", fmt.Errorf("read package.json: %w", err)
	}
	if len(v.Contributes.Commands) == 0 {
		return "", fmt.Errorf("package.json has no contributes.commands")
	}
	var b strings.Builder
	b.WriteString("| In the palette | Command id |\n|---|---|\n")
	for _, c := range v.Contributes.Commands {
		title := c.Title
		if c.Category != "" {
			title = c.Category + ": " + title
		}
		fmt.Fprintf(&b, "| %s | `%s` |\n", cell(title), c.Command)
	}
	return b.String(), nil
}

// methodsTable lists every JSON-RPC method of the model in its order, with who sends it.
func (m *Model) methodsTable() string {
	var b strings.Builder
	b.WriteString("| Method | Sent by | Kind | What it does |\n|---|---|---|---|\n")
	for _, meth := range m.Methods {
		from := "extension → sidecar"
		if meth.Direction == "serverToClient" {
			from = "sidecar → extension"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", meth.Name, from, meth.Kind, cell(meth.Description))
	}
	return b.String()
}

// cell makes text safe for one Markdown table cell: one line, pipes escaped.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
