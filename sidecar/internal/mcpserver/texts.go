package mcpserver

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	"awsflow-sts/sidecar/internal/protocol"
)

// The texts around a call before it runs, rendered from the model's templates exactly as the
// extension's invocation.ts renders them (protocol/testdata/texts.json holds cases both check):
// the progress line and the confirmation the user answers. Parameter values are the model's
// input, shown trimmed, on one line and cut; no template reads a secret parameter.

// maxShown is the longest parameter value echoed, in UTF-16 code units as the extension counts.
const maxShown = 120

// Params are a tool call's parameters as the model sent them, decoded from JSON.
type Params = map[string]any

// Invocation is the progress line of a command: what it acts on, never a secret value.
func Invocation(command string, params Params) string {
	t, ok := protocol.CommandTexts[command]
	spec, known := protocol.Command(command)
	if !ok || !known {
		return "Running STSTool command " + shorten(command)
	}
	if spec.Local {
		return renderText(t.Invocation, params, plain)
	}
	read := map[string]bool{}
	paramsRead(t.Invocation, read)
	rest := Params{}
	for k, v := range params {
		rest[k] = v
	}
	for _, p := range protocol.CommonParams {
		if read[p.Name] {
			delete(rest, p.Name)
		}
	}
	return renderText(t.Invocation, params, plain) + commonSuffix(rest)
}

// Confirmation is the title and the message the user confirms a command with (the extension's
// confirmation card); ok is false for a command that is not confirmed.
func Confirmation(command string, params Params) (title, message string, ok bool) {
	t, hasText := protocol.CommandTexts[command]
	spec, known := protocol.Command(command)
	if !hasText || !known || t.ConfirmWhat == nil {
		return "", "", false
	}
	if spec.Mints == "" {
		first := renderText(t.ConfirmWhat, params, code)
		return t.ConfirmTitle, first + ".\n\nThe credentials file gets the secret key; chat sees only the profile name and the file's path.", true
	}
	kept := "The credentials stay in the awsflow-sts sidecar; chat sees only the masked access key id."
	if spec.Mints == protocol.MintsToken {
		kept = "The token stays in the awsflow-sts sidecar; chat never sees it."
	}
	var first []string
	for _, s := range []string{renderText(t.ConfirmWhat, params, code), duration(spec, params), regionPart(params)} {
		if s != "" {
			first = append(first, s)
		}
	}
	message = strings.Join([]string{strings.Join(first, " ") + ".", identityUsed(spec, params), sessionLine(params), kept}, "\n\n")
	return t.ConfirmTitle, message, true
}

func regionPart(params Params) string {
	if r, ok := str(params, "Region"); ok {
		return "in " + code(r)
	}
	return ""
}

func duration(spec *protocol.CommandSpec, params Params) string {
	given, isGiven := seconds(params, "DurationSeconds")
	s := given
	if !isGiven {
		p, ok := spec.Param("DurationSeconds")
		if !ok || !p.HasRange {
			return ""
		}
		s = float64(p.Default)
	}
	if isGiven {
		return "for " + humanDuration(s)
	}
	return "for the default " + humanDuration(s)
}

func humanDuration(s float64) string {
	if math.Mod(s, 3600) == 0 && s >= 3600 {
		return jsNumber(s/3600) + " hour" + plural(s != 3600)
	}
	if math.Mod(s, 60) == 0 && s >= 60 {
		return jsNumber(s/60) + " minute" + plural(s != 60)
	}
	return jsNumber(s) + " seconds"
}

func plural(many bool) string {
	if many {
		return "s"
	}
	return ""
}

func identityUsed(spec *protocol.CommandSpec, params Params) string {
	if spec.Auth == protocol.AuthAnonymous {
		return "No AWS credentials are used: STS checks the identity provider's signature."
	}
	if s, ok := str(params, "Session"); ok {
		return "Signed with the credentials of session " + code(s) + "."
	}
	if p, ok := str(params, "Profile"); ok {
		return "Signed with the credentials of the source_profile of " + code(p) + "."
	}
	return "Signed with the default identity (the active session, or your configured AWS profile)."
}

func sessionLine(params Params) string {
	for _, k := range []string{"SessionName", "RoleSessionName", "Name"} {
		if name, ok := str(params, k); ok {
			return "Stored as session " + code(name) + "."
		}
	}
	return "Stored as a new session."
}

// commonSuffix is " (from session x, in eu-west-1)": the common parameters of every STS command.
func commonSuffix(params Params) string {
	var parts []string
	if s, ok := str(params, "Session"); ok {
		parts = append(parts, "from session "+s)
	}
	if r, ok := str(params, "Region"); ok {
		parts = append(parts, "in "+r)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// renderText renders a template; show styles each value (and fallback) it shows.
func renderText(parts []protocol.TextPart, params Params, show func(string) string) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Param == "" {
			b.WriteString(p.Text)
			continue
		}
		var v string
		var has bool
		if p.List {
			v, has = list(params, p.Param)
		} else {
			v, has = str(params, p.Param)
		}
		if !p.Cond {
			switch {
			case has:
				b.WriteString(show(v))
			case p.HasFallback:
				b.WriteString(show(p.Fallback))
			}
			continue
		}
		var holds bool
		switch {
		case p.Given:
			_, holds = params[p.Param]
		case p.HasEquals:
			holds = has && v == p.Equals
		default:
			holds = has
		}
		if holds {
			b.WriteString(renderText(p.Then, params, show))
		} else {
			b.WriteString(renderText(p.Else, params, show))
		}
	}
	return b.String()
}

// paramsRead adds the parameters a template reads to into.
func paramsRead(parts []protocol.TextPart, into map[string]bool) {
	for _, p := range parts {
		if p.Param == "" {
			continue
		}
		into[p.Param] = true
		paramsRead(p.Then, into)
		paramsRead(p.Else, into)
	}
}

func plain(v string) string { return v }

// code is v as inline Markdown code; a backtick in v would end the span early.
func code(v string) string { return "`" + strings.ReplaceAll(v, "`", "'") + "`" }

// str is a non-empty string parameter, trimmed and cut, or a finite number as JavaScript writes it.
func str(params Params, key string) (string, bool) {
	switch v := params[key].(type) {
	case string:
		if t := strings.TrimFunc(v, isJSSpace); t != "" {
			return shorten(t), true
		}
	case float64:
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			return jsNumber(v), true
		}
	}
	return "", false
}

// list is a string or list-of-strings parameter, joined for display.
func list(params Params, key string) (string, bool) {
	v, ok := params[key].([]any)
	if !ok {
		return str(params, key)
	}
	var items []string
	for _, x := range v {
		if s, ok := x.(string); ok && s != "" {
			items = append(items, s)
		}
	}
	if len(items) == 0 {
		return "", false
	}
	return shorten(strings.Join(items, ", ")), true
}

// seconds is a finite number parameter.
func seconds(params Params, key string) (float64, bool) {
	v, ok := params[key].(float64)
	return v, ok && !math.IsInf(v, 0) && !math.IsNaN(v)
}

// shorten puts v on one line and cuts it to maxShown UTF-16 code units, as the extension does.
func shorten(v string) string {
	var b strings.Builder
	space := false
	for _, r := range v {
		if isJSSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	oneLine := b.String()
	units := utf16.Encode([]rune(oneLine))
	if len(units) <= maxShown {
		return oneLine
	}
	return string(utf16.Decode(units[:maxShown-1])) + "…"
}

// isJSSpace reports whether r is white space or a line terminator to JavaScript (\s, trim).
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsNumber writes a number as JavaScript's String(n) does.
func jsNumber(v float64) string {
	if v == 0 {
		return "0"
	}
	abs := math.Abs(v)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(v, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[:1]
		digits := strings.TrimLeft(exp[1:], "0")
		return fmt.Sprintf("%se%s%s", mant, sign, digits)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
