// Package protocol holds the contract between the extension and the sidecar as Go values: the
// STSTool commands and their parameter rules, the JSON-RPC methods, their params and result types,
// and the error codes. Everything in protocol_gen.go is generated from protocol/model.json by
// `go run ./sidecar/cmd/protogen`; this file holds the hand-written types that data is made of.
package protocol

import (
	"encoding/json"
	"regexp"
)

// ParamType is the shape a tool parameter's value takes.
type ParamType int

// The parameter shapes the model may use.
const (
	// TypeString is a JSON string.
	TypeString ParamType = iota + 1
	// TypeInteger is a JSON integer (a string of digits is accepted too).
	TypeInteger
	// TypeStringList is a list of strings (a single string is accepted as a list of one).
	TypeStringList
	// TypeARNList is a list of ARNs, as strings or as {"arn": …} objects.
	TypeARNList
	// TypeTags is a list of {"Key", "Value"} objects (an object of key → value is accepted too).
	TypeTags
	// TypePolicy is an IAM policy document, as a JSON string or as an object.
	TypePolicy
)

// ParamSpec is what the model may pass for one parameter, across all commands.
type ParamSpec struct {
	// Name is the parameter's name, as the STS API spells it.
	Name string
	// Type is the value's shape.
	Type ParamType
	// MinLength and MaxLength bound each string's length in characters (0: unbounded).
	MinLength, MaxLength int
	// MinItems and MaxItems bound a list's length (0: unbounded).
	MinItems, MaxItems int
	// Minimum and Maximum bound an integer when HasRange is set.
	Minimum, Maximum int64
	// HasRange tells whether Minimum and Maximum apply.
	HasRange bool
	// Pattern, when set, must match each string.
	Pattern *regexp.Regexp
	// Enum, when set, lists the allowed values.
	Enum []string
	// EnumPrefix, when set, is a prefix a value may carry in front of an Enum member (an ARN form).
	EnumPrefix string
	// Secret marks values that must never appear in output, logs or errors.
	Secret bool
	// Description is the text the model reads.
	Description string
}

// CommandParam is one parameter as a particular command takes it.
type CommandParam struct {
	// Spec is the parameter's general rule.
	Spec *ParamSpec
	// Required tells whether the command needs it.
	Required bool
	// HasRange tells whether Minimum, Maximum and Default override the general rule for this command.
	HasRange bool
	// Minimum and Maximum bound an integer for this command.
	Minimum, Maximum int64
	// Default is the value STS uses when the parameter is omitted.
	Default int64
}

// Mints says what a command creates.
type Mints string

// What commands create.
const (
	// MintsNothing is for commands that only read.
	MintsNothing Mints = ""
	// MintsCredentials is for commands that return temporary credentials.
	MintsCredentials Mints = "credentials"
	// MintsToken is for commands that return a token (a JWT).
	MintsToken Mints = "token"
)

// Auth says how a command's STS call is authenticated.
type Auth string

// How commands authenticate.
const (
	// AuthSigned calls are SigV4-signed with the caller's credentials.
	AuthSigned Auth = "signed"
	// AuthAnonymous calls are unsigned: the assertion or token is the proof.
	AuthAnonymous Auth = "anonymous"
	// AuthNone commands do not call STS.
	AuthNone Auth = "none"
)

// CommandSpec describes one STSTool command.
type CommandSpec struct {
	// Name is the command as the model names it.
	Name string
	// Summary is one sentence on what it does.
	Summary string
	// Mints says what it creates.
	Mints Mints
	// Auth says how it calls STS.
	Auth Auth
	// Local commands act on the sidecar's own state only.
	Local bool
	// MCPOnly commands are offered by the MCP server's tool only, not by the extension's.
	MCPOnly bool
	// Params are the command's own parameters, in the model's order, without the common ones.
	Params []CommandParam
	// OneOf lists groups of parameters of which exactly one must be given.
	OneOf [][]string
	// WrongParams maps names the model may wrongly use to the real parameter or an explanation.
	WrongParams map[string]string
}

// ErrorSpec describes one error code.
type ErrorSpec struct {
	// Name is the code's name.
	Name string
	// Code is the JSON-RPC error code.
	Code int64
	// Kind is the value of data.kind.
	Kind string
	// Description says when it happens.
	Description string
}

// Command returns the spec of the named command.
func Command(name string) (*CommandSpec, bool) {
	c, ok := commandIndex[name]
	return c, ok
}

// Param returns the command's rule for the named parameter, common parameters included.
func (c *CommandSpec) Param(name string) (CommandParam, bool) {
	for _, p := range c.Params {
		if p.Spec.Name == name {
			return p, true
		}
	}
	if c.Local {
		return CommandParam{}, false
	}
	for _, s := range CommonParams {
		if s.Name == name {
			return CommandParam{Spec: s}, true
		}
	}
	return CommandParam{}, false
}

// ParamNames lists every parameter the command takes, its own first, then the common ones.
func (c *CommandSpec) ParamNames() []string {
	names := make([]string, 0, len(c.Params)+len(CommonParams))
	for _, p := range c.Params {
		names = append(names, p.Spec.Name)
	}
	if c.Local {
		return names
	}
	for _, s := range CommonParams {
		names = append(names, s.Name)
	}
	return names
}

// CommandNames lists the commands the extension's tool offers, in the model's order.
func CommandNames() []string {
	var names []string
	for _, c := range Commands {
		if !c.MCPOnly {
			names = append(names, c.Name)
		}
	}
	return names
}

// MCPCommandNames lists the commands the MCP server's tool offers, in the model's order.
func MCPCommandNames() []string {
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = c.Name
	}
	return names
}

// ErrorKind returns data.kind for an error code (KindInternal when unknown).
func ErrorKind(code int64) string {
	for _, e := range Errors {
		if e.Code == code {
			return e.Kind
		}
	}
	return KindInternal
}

// LocalInvoke tells whether tool/invoke params name a command that only acts on the session
// store (ListSessions, UseSession, ForgetSession): such a call runs in the local lane. Params that
// do not decode are not local; the method reports them.
func LocalInvoke(params json.RawMessage) bool {
	var p struct {
		Command string `json:"command"`
	}
	if json.Unmarshal(params, &p) != nil {
		return false
	}
	spec, ok := Command(p.Command)
	return ok && spec.Local
}

// Tag is one session tag, as the Tags parameter takes it.
type Tag struct {
	// Key is the tag's key (case-insensitive for STS).
	Key string `json:"Key"`
	// Value is the tag's value.
	Value string `json:"Value"`
}

// The getters the generated Fill methods read validated arguments with: a value of another type
// (none, or a bug) reads as not given.

func argString(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

// argInt32 narrows a validated integer; every integer parameter's range fits in 32 bits.
func argInt32(v any) *int32 {
	if n, ok := v.(int64); ok {
		n32 := int32(n)
		return &n32
	}
	return nil
}

func argStrings(v any) []string {
	list, _ := v.([]string)
	return list
}

func argTags(v any) []Tag {
	tags, _ := v.([]Tag)
	return tags
}

var commandIndex = func() map[string]*CommandSpec {
	m := make(map[string]*CommandSpec, len(Commands))
	for i := range Commands {
		m[Commands[i].Name] = &Commands[i]
	}
	return m
}()
