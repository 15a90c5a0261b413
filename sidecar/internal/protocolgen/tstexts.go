package protocolgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// tsTextPartType declares TextPart in protocol.gen.ts; see TextPart for the template syntax.
const tsTextPartType = `/**
 * One piece of an invocation or confirmation template: literal text, or a slot reading a parameter.
 * A slot without then shows the parameter's value, or its fallback; one with then is a condition.
 */
export type TextPart =
  | string
  | {
      /** The parameter read. */
      readonly param: string;
      /** Whether the parameter is a list of strings, shown joined. */
      readonly list?: boolean;
      /** What a plain slot shows when the parameter has no value. */
      readonly fallback?: string;
      /** Whether the condition is that the parameter was given at all (any value), not that it has one. */
      readonly given?: boolean;
      /** Whether the condition is that the parameter's value is this. */
      readonly equals?: string;
      /** What a condition shows when it holds. */
      readonly then?: readonly TextPart[];
      /** What a condition shows when it does not. */
      readonly else?: readonly TextPart[];
    };

`

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// tsTemplate renders a template of the model (checked by ParseModel) as a TextPart[] literal.
func (m *Model) tsTemplate(s string) string {
	parts, err := m.parseTemplate(s)
	if err != nil {
		panic(fmt.Sprintf("ParseModel let an invalid template through: %v", err))
	}
	return tsParts(parts)
}

func tsParts(parts []TextPart) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		if p.Param == "" {
			out[i] = jsString(p.Text)
			continue
		}
		fields := []string{"param: " + jsString(p.Param)}
		if p.List {
			fields = append(fields, "list: true")
		}
		if p.Fallback != nil {
			fields = append(fields, "fallback: "+jsString(*p.Fallback))
		}
		if p.Given {
			fields = append(fields, "given: true")
		}
		if p.Equals != nil {
			fields = append(fields, "equals: "+jsString(*p.Equals))
		}
		if p.cond {
			fields = append(fields, "then: "+tsParts(p.Then))
			if len(p.Else) > 0 {
				fields = append(fields, "else: "+tsParts(p.Else))
			}
		}
		out[i] = "{ " + strings.Join(fields, ", ") + " }"
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// tsRules renders the profile-name rule, the credentials file's location and the shared texts.
func (m *Model) tsRules(w func(format string, args ...any)) {
	p := m.Rules.ProfileName
	w("/** The longest profile name, in characters. %s */\n", p.Description)
	w("export const PROFILE_NAME_MAX_LENGTH = %d;\n", p.MaxLength)
	w("/** The characters a profile name cannot hold, besides line breaks and control characters. */\n")
	w("export const PROFILE_NAME_FORBIDDEN = %s;\n", jsString(p.Forbidden))
	w("/** The profile-name rule as a sentence. */\nexport const PROFILE_NAME_RULE = %s;\n", jsString(p.ProfileNameRuleText()))
	w("/** Matches exactly the valid profile names: the rule the sidecar's credentials file writer enforces. */\n")
	w("export const PROFILE_NAME_PATTERN = new RegExp(%s, \"u\");\n\n", jsString(p.ProfileNamePattern()))
	f := m.Rules.CredentialsFile
	w("/** Names the shared credentials file when set and not empty. %s */\n", f.Description)
	w("export const CREDENTIALS_FILE_ENV = %s;\n", jsString(f.EnvVar))
	w("/** The shared credentials file otherwise, with ~ for the home directory. */\n")
	w("export const CREDENTIALS_FILE_DEFAULT = %s;\n\n", jsString(f.DefaultPath))
	for _, name := range m.textNames() {
		pieces, err := m.textPieces(name)
		if err != nil {
			panic(fmt.Sprintf("ParseModel let an invalid text through: %v", err))
		}
		var terms, args []string
		seen := map[string]bool{}
		for _, pc := range pieces {
			switch {
			case pc.slot == nil:
				terms = append(terms, jsString(pc.lit))
			case pc.slot.quoted:
				terms = append(terms, "JSON.stringify("+pc.slot.name+")")
			default:
				terms = append(terms, pc.slot.name)
			}
			if pc.slot != nil && !seen[pc.slot.name] {
				seen[pc.slot.name] = true
				args = append(args, pc.slot.name+": string")
			}
		}
		if len(terms) == 0 {
			terms = []string{`""`}
		}
		desc := m.Texts[name].Description
		w("/** %s */\n", strings.ToUpper(desc[:1])+desc[1:])
		if len(args) == 0 {
			w("export const %s = %s;\n\n", upperSnake(name), strings.Join(terms, " + "))
			continue
		}
		w("export function %s(%s): string {\n  return %s;\n}\n\n", lowerFirst(name), strings.Join(args, ", "), strings.Join(terms, " + "))
	}
}

// upperSnake turns TokenSessionHolds into TOKEN_SESSION_HOLDS.
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}
