package protocolgen

import (
	"bytes"
	"fmt"
	"math"
)

// goParamTypes is the Go type of a parameter's value in a command's params struct; strings and
// integers are pointers, nil when the parameter was not given.
var goParamTypes = map[string]struct{ typ, get string }{
	"string":     {"*string", "argString"},
	"policy":     {"*string", "argString"},
	"integer":    {"*int32", "argInt32"},
	"stringList": {"[]string", "argStrings"},
	"arnList":    {"[]string", "argStrings"},
	"tags":       {"[]Tag", "argTags"},
}

// paramsOf lists the parameters a command takes, its own first, then the common ones (for the
// commands that call STS).
func (m *Model) paramsOf(c Command) []string {
	names := make([]string, 0, len(c.Params)+len(m.CommonParams))
	for _, p := range c.Params {
		names = append(names, p.Name)
	}
	if !c.Local {
		names = append(names, m.CommonParams...)
	}
	return names
}

// paramsFile renders ParamsGoPath: per command a struct of its parameters, typed, and the method
// that fills it from the values the validator produced.
func (m *Model) paramsFile() ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(generatedHeader)
	w("package protocol\n\n")
	for _, c := range m.Commands {
		name := m.paramsStructName(c)
		w("// %s are the parameters of %s as the tool's validator leaves them: checked\n", name, c.Name)
		w("// and coerced to their types. One not given is nil.\ntype %s struct {\n", name)
		for _, pn := range m.paramsOf(c) {
			p := m.Params[pn]
			t, ok := goParamTypes[p.Type]
			if !ok {
				return nil, fmt.Errorf("param %s: no Go type for %q", pn, p.Type)
			}
			if p.Type == "integer" && (p.Minimum == nil || p.Maximum == nil || *p.Minimum < math.MinInt32 || *p.Maximum > math.MaxInt32) {
				return nil, fmt.Errorf("param %s: an integer needs a minimum and maximum within 32 bits, as STS takes it", pn)
			}
			w("\t// %s: %s\n\t%s %s `json:\"%s,omitempty\"`\n", pn, p.Description, pn, t.typ, pn)
		}
		w("}\n\n")
		w("// Fill sets p from validated arguments by parameter name (string, int64, []string or []Tag).\n")
		w("func (p *%s) Fill(args map[string]any) {\n", name)
		for _, pn := range m.paramsOf(c) {
			w("\tp.%s = %s(args[%q])\n", pn, goParamTypes[m.Params[pn].Type].get, pn)
		}
		w("}\n\n")
	}
	return formatGo(ParamsGoPath, b.Bytes())
}

// paramsStructName is the name of a command's params struct: <Command>Params, or
// <Command>CommandParams when a protocol type already has that name (WriteProfile's).
func (m *Model) paramsStructName(c Command) string {
	if _, taken := m.Types.Lookup(c.Name + "Params"); taken {
		return c.Name + "CommandParams"
	}
	return c.Name + "Params"
}
