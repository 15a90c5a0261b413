package protocolgen

import (
	"bytes"
	"encoding/json"
	"strings"
)

// schema is a JSON Schema node, with fields in the order a reader expects.
type schema struct {
	Type                 string        `json:"type,omitempty"`
	Description          string        `json:"description,omitempty"`
	Enum                 []string      `json:"enum,omitempty"`
	MinLength            int           `json:"minLength,omitempty"`
	MaxLength            int           `json:"maxLength,omitempty"`
	Minimum              *int64        `json:"minimum,omitempty"`
	Maximum              *int64        `json:"maximum,omitempty"`
	MinItems             int           `json:"minItems,omitempty"`
	MaxItems             int           `json:"maxItems,omitempty"`
	Items                *schema       `json:"items,omitempty"`
	Properties           *orderedProps `json:"properties,omitempty"`
	Required             []string      `json:"required,omitempty"`
	AdditionalProperties *bool         `json:"additionalProperties,omitempty"`
}

type prop struct {
	name string
	s    *schema
}

// orderedProps marshals as a JSON object in insertion order.
type orderedProps []prop

func (o orderedProps) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.s)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// InputSchema is the STSTool inputSchema that package.json declares.
func (m *Model) InputSchema() any {
	var cmdDesc strings.Builder
	cmdDesc.WriteString("The STS command to run.")
	names := make([]string, len(m.Commands))
	for i, c := range m.Commands {
		names[i] = c.Name
		cmdDesc.WriteString(" " + c.Name + ": " + c.Summary)
	}
	params := orderedProps{}
	for _, name := range m.ParamNames() {
		params = append(params, prop{name, m.paramSchema(name)})
	}
	return &schema{
		Type: "object",
		Properties: &orderedProps{
			{"command", &schema{Type: "string", Description: cmdDesc.String(), Enum: names}},
			{"params", &schema{
				Type:        "object",
				Description: "The command's parameters, named exactly as in the AWS STS API. Each parameter says which commands take it; a parameter the command does not take is refused with the list of those it does.",
				Properties:  &params,
			}},
		},
		Required: []string{"command"},
	}
}

func (m *Model) paramSchema(name string) *schema {
	p := m.Params[name]
	desc := p.Description
	for _, c := range m.Commands {
		if note, ok := p.CommandNotes[c.Name]; ok {
			desc += " " + note
		}
	}
	desc += " Used by: " + strings.Join(m.CommandsTaking(name), ", ") + "."
	str := func() *schema {
		return &schema{Type: "string", MinLength: p.MinLength, MaxLength: p.MaxLength}
	}
	var s *schema
	switch p.Type {
	case "integer":
		s = &schema{Type: "integer", Minimum: p.Minimum, Maximum: p.Maximum}
	case "stringList", "arnList":
		s = &schema{Type: "array", Items: str(), MinItems: p.MinItems, MaxItems: p.MaxItems}
	case "tags":
		s = &schema{Type: "array", MaxItems: p.MaxItems, Items: &schema{
			Type: "object",
			Properties: &orderedProps{
				{"Key", &schema{Type: "string", MinLength: 1, MaxLength: 128}},
				{"Value", &schema{Type: "string", MaxLength: 256}},
			},
			Required: []string{"Key", "Value"},
		}}
	default:
		s = str()
		if p.EnumPrefix == "" {
			s.Enum = p.Enum
		}
	}
	s.Description = desc
	return s
}

func marshalIndent(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
