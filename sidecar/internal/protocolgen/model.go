// Package protocolgen turns protocol/model.json, the single source of truth of the contract, into
// the files that must agree with it: the tool's JSON input schema, the Go protocol package's data
// and types, and (with the extension) the TypeScript types and package.json's tool block.
package protocolgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Model is protocol/model.json decoded.
type Model struct {
	ProtocolVersion     int              `json:"protocolVersion"`
	Tool                Tool             `json:"tool"`
	ReservedSessionName string           `json:"reservedSessionName"`
	CommonParams        []string         `json:"commonParams"`
	Commands            []Command        `json:"commands"`
	Params              map[string]Param `json:"params"`
	Errors              []ErrorDef       `json:"errors"`
	Methods             []MethodDef      `json:"methods"`
	Types               OrderedTypes     `json:"types"`
	Rules               Rules            `json:"rules"`
	Texts               map[string]Text  `json:"texts"`
	// TextFragments are template pieces the commands' invocation and confirm texts share.
	TextFragments map[string]string `json:"textFragments"`
}

// Tool is what VS Code shows of the tool and what the model reads of it.
type Tool struct {
	Name              string   `json:"name"`
	ToolReferenceName string   `json:"toolReferenceName"`
	DisplayName       string   `json:"displayName"`
	UserDescription   string   `json:"userDescription"`
	ModelDescription  string   `json:"modelDescription"`
	Tags              []string `json:"tags"`
}

// Command is one STSTool command.
type Command struct {
	Name        string            `json:"name"`
	Summary     string            `json:"summary"`
	Mints       string            `json:"mints"`
	Auth        string            `json:"auth"`
	Local       bool              `json:"local"`
	Params      []CommandParam    `json:"params"`
	OneOf       [][]string        `json:"oneOf"`
	WrongParams map[string]string `json:"wrongParams"`
	// Invocation is the template (see TextPart) of the progress line shown while the command runs.
	Invocation string `json:"invocation"`
	// Confirm is the confirmation card of a command that mints; nil for the rest.
	Confirm *Confirm `json:"confirm"`
	// ReadOnly marks a command that changes nothing, neither in AWS nor in the stored sessions
	// (an MCP client's readOnlyHint).
	ReadOnly bool `json:"readOnly"`
	// Frontends lists the front ends that offer the command (FrontendVSCode, FrontendMCP); empty
	// means every one.
	Frontends []string `json:"frontends"`
}

// CommandParam is a parameter as one command takes it.
type CommandParam struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Minimum  *int64 `json:"minimum"`
	Maximum  *int64 `json:"maximum"`
	Default  *int64 `json:"default"`
}

// Param is a parameter's general rule.
type Param struct {
	Type        string   `json:"type"`
	MinLength   int      `json:"minLength"`
	MaxLength   int      `json:"maxLength"`
	MinItems    int      `json:"minItems"`
	MaxItems    int      `json:"maxItems"`
	Minimum     *int64   `json:"minimum"`
	Maximum     *int64   `json:"maximum"`
	Pattern     string   `json:"pattern"`
	Enum        []string `json:"enum"`
	EnumPrefix  string   `json:"enumPrefix"`
	Secret      bool     `json:"secret"`
	Description string   `json:"description"`
	// CommandNotes add a sentence to the schema's description for what one command takes the
	// parameter as; a schema without that command leaves it out.
	CommandNotes map[string]string `json:"commandNotes"`
}

// ErrorDef is one error code.
type ErrorDef struct {
	Name        string `json:"name"`
	Code        int64  `json:"code"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
}

// MethodDef is one JSON-RPC method.
type MethodDef struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Direction is "serverToClient" for what the sidecar sends the extension; empty otherwise.
	Direction string `json:"direction"`
	Params    string `json:"params"`
	Result    string `json:"result"`
	// Lane is where the sidecar runs a method it receives (see the Lane constants); empty for
	// methods the sidecar sends.
	Lane        string `json:"lane"`
	Description string `json:"description"`
}

// The lanes a method the sidecar receives may run in.
const (
	// LaneInline methods run on the read loop, in order, before later messages are read.
	LaneInline = "inline"
	// LaneLocal methods answer from the sidecar's own state, in a lane slow endpoints cannot fill.
	LaneLocal = "local"
	// LaneNetwork methods may wait on the network.
	LaneNetwork = "network"
	// LaneCommand is tool/invoke's: local for a command that only acts on the session store,
	// network otherwise.
	LaneCommand = "command"
	// LaneTransport methods are answered by the JSON-RPC transport itself (exit, $/cancelRequest).
	LaneTransport = "transport"
)

// TypeDef is a params or result shape, a small subset of JSON Schema.
type TypeDef struct {
	Type        string       `json:"type"`
	Ref         string       `json:"$ref"`
	Description string       `json:"description"`
	Items       *TypeDef     `json:"items"`
	Properties  OrderedTypes `json:"properties"`
	Required    []string     `json:"required"`
	// Pattern, Minimum, Maximum, Enum and Default constrain a property of Settings: the sidecar
	// checks them (SettingRules) and package.json's awsflowSts.* settings carry them.
	Pattern string          `json:"pattern"`
	Minimum *int64          `json:"minimum"`
	Maximum *int64          `json:"maximum"`
	Enum    []string        `json:"enum"`
	Default json.RawMessage `json:"default"`
}

// SettingsType names the type whose property constraints become SettingRules and package.json's
// awsflowSts.* settings.
const SettingsType = "Settings"

// constrained reports whether d carries a value constraint.
func (d TypeDef) constrained() bool {
	return d.Pattern != "" || d.Minimum != nil || d.Maximum != nil || len(d.Enum) > 0
}

// NamedType is one entry of an ordered set of types or properties.
type NamedType struct {
	Name string
	Def  TypeDef
}

// OrderedTypes keeps the model's order, so generated code reads like the model.
type OrderedTypes []NamedType

// UnmarshalJSON decodes a JSON object, keeping its key order.
func (o *OrderedTypes) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var def TypeDef
		if err := dec.Decode(&def); err != nil {
			return fmt.Errorf("%v: %w", tok, err)
		}
		*o = append(*o, NamedType{Name: tok.(string), Def: def})
	}
	_, err := dec.Token()
	return err
}

// Lookup returns the named entry.
func (o OrderedTypes) Lookup(name string) (TypeDef, bool) {
	for _, t := range o {
		if t.Name == name {
			return t.Def, true
		}
	}
	return TypeDef{}, false
}

// ParseModel decodes and checks the model.
func ParseModel(data []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("check model: %w", err)
	}
	return &m, nil
}

var paramTypes = map[string]string{
	"string": "TypeString", "integer": "TypeInteger", "stringList": "TypeStringList",
	"arnList": "TypeARNList", "tags": "TypeTags", "policy": "TypePolicy",
}

func (m *Model) check() error {
	for _, name := range m.CommonParams {
		if _, ok := m.Params[name]; !ok {
			return fmt.Errorf("common param %s is not defined", name)
		}
	}
	used := map[string]bool{}
	for _, c := range m.Commands {
		for _, p := range c.Params {
			if _, ok := m.Params[p.Name]; !ok {
				return fmt.Errorf("command %s: param %s is not defined", c.Name, p.Name)
			}
			used[p.Name] = true
		}
		for _, group := range c.OneOf {
			for _, name := range group {
				if !hasParam(c, name) {
					return fmt.Errorf("command %s: oneOf names %s, which it does not take", c.Name, name)
				}
			}
		}
	}
	for _, name := range m.CommonParams {
		used[name] = true
	}
	for _, name := range m.ParamNames() {
		for cmd := range m.Params[name].CommandNotes {
			if c, ok := m.command(cmd); !ok || !hasParam(c, name) {
				return fmt.Errorf("param %s: a note for %s, which does not take it", name, cmd)
			}
		}
	}
	for _, c := range m.Commands {
		for _, f := range c.Frontends {
			if f != FrontendVSCode && f != FrontendMCP {
				return fmt.Errorf("command %s: unknown front end %q", c.Name, f)
			}
		}
		if c.ReadOnly && (c.Mints != "" || c.Confirm != nil) {
			return fmt.Errorf("command %s: a read-only command mints nothing and is not confirmed", c.Name)
		}
	}
	for _, name := range m.ParamNames() {
		if !used[name] {
			return fmt.Errorf("param %s is used by no command", name)
		}
		if _, ok := paramTypes[m.Params[name].Type]; !ok {
			return fmt.Errorf("param %s: unknown type %q", name, m.Params[name].Type)
		}
	}
	if err := m.checkSettings(); err != nil {
		return err
	}
	if err := m.checkRules(); err != nil {
		return err
	}
	for _, meth := range m.Methods {
		if err := meth.checkLane(); err != nil {
			return err
		}
		for _, t := range []string{meth.Params, meth.Result} {
			if _, ok := m.Types.Lookup(t); t != "" && !ok {
				return fmt.Errorf("method %s: type %s is not defined", meth.Name, t)
			}
		}
	}
	return nil
}

// checkSettings checks the constraints of the Settings properties: only Settings has any, a
// pattern compiles and is for a string, a range is whole and for an integer, an enum is for a
// string.
func (m *Model) checkSettings() error {
	for _, t := range m.Types {
		for _, p := range t.Def.Properties {
			d := p.Def
			if !d.constrained() && len(d.Default) == 0 {
				continue
			}
			where := t.Name + "." + p.Name
			switch {
			case t.Name != SettingsType:
				return fmt.Errorf("%s: only %s properties take constraints", where, SettingsType)
			case d.Pattern != "" && d.Type != "string":
				return fmt.Errorf("%s: a pattern needs type string", where)
			case len(d.Enum) > 0 && d.Type != "string":
				return fmt.Errorf("%s: an enum needs type string", where)
			case (d.Minimum == nil) != (d.Maximum == nil):
				return fmt.Errorf("%s: give both minimum and maximum, or neither", where)
			case d.Minimum != nil && d.Type != "integer":
				return fmt.Errorf("%s: a range needs type integer", where)
			case d.Minimum != nil && *d.Minimum > *d.Maximum:
				return fmt.Errorf("%s: minimum is above maximum", where)
			}
			if d.Pattern != "" {
				if _, err := regexp.Compile(d.Pattern); err != nil {
					return fmt.Errorf("%s: pattern: %w", where, err)
				}
			}
		}
	}
	return nil
}

// checkLane makes sure every method the sidecar receives names its lane, and only those do.
func (d MethodDef) checkLane() error {
	switch {
	case d.Direction == "serverToClient" && d.Lane != "":
		return fmt.Errorf("method %s: the sidecar sends it, so it takes no lane", d.Name)
	case d.Direction == "serverToClient":
		return nil
	}
	switch d.Lane {
	case LaneInline, LaneLocal, LaneNetwork, LaneCommand, LaneTransport:
		return nil
	}
	return fmt.Errorf("method %s: lane %q is not one of %s, %s, %s, %s, %s", d.Name, d.Lane, LaneInline, LaneLocal, LaneNetwork, LaneCommand, LaneTransport)
}

func hasParam(c Command, name string) bool {
	for _, p := range c.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// command returns the named command.
func (m *Model) command(name string) (Command, bool) {
	for _, c := range m.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// forFrontend is the model as one front end offers it: only its commands, and only the
// parameters they take.
func (m *Model) forFrontend(frontend string) *Model {
	out := *m
	out.Commands = nil
	used := map[string]bool{}
	for _, name := range m.CommonParams {
		used[name] = true
	}
	for _, c := range m.Commands {
		if !c.offeredBy(frontend) {
			continue
		}
		out.Commands = append(out.Commands, c)
		for _, p := range c.Params {
			used[p.Name] = true
		}
	}
	out.Params = map[string]Param{}
	for name, p := range m.Params {
		if used[name] {
			out.Params[name] = p
		}
	}
	return &out
}

// ParamNames lists the parameters in name order.
func (m *Model) ParamNames() []string {
	names := make([]string, 0, len(m.Params))
	for name := range m.Params {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// CommandsTaking lists the commands that take a parameter (every non-local one for common ones).
func (m *Model) CommandsTaking(param string) []string {
	var out []string
	for _, c := range m.Commands {
		if hasParam(c, param) {
			out = append(out, c.Name)
		}
	}
	for _, name := range m.CommonParams {
		if name != param {
			continue
		}
		var local []string
		for _, c := range m.Commands {
			if c.Local {
				local = append(local, c.Name)
			}
		}
		return []string{"every command except " + strings.Join(local, ", ")}
	}
	return out
}
