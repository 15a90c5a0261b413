package protocolgen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Rules are the facts about the files the sidecar writes that the extension checks too, so a
// name refused by one side is refused by the other with the same words.
type Rules struct {
	ProfileName     ProfileNameRule     `json:"profileName"`
	CredentialsFile CredentialsFileRule `json:"credentialsFile"`
}

// ProfileNameRule says which profile names the shared credentials file can hold.
type ProfileNameRule struct {
	Description string `json:"description"`
	// MaxLength is the longest name, in characters (code points).
	MaxLength int `json:"maxLength"`
	// Forbidden lists the characters that would break a section header ([ ]) or start a
	// comment (# ;); line breaks, control characters and surrounding spaces are refused too.
	Forbidden string `json:"forbidden"`
	// Rule is the sentence stating the rule; {maxLength} and {forbidden} are filled in.
	Rule string `json:"rule"`
}

// CredentialsFileRule names the shared credentials file the AWS CLI and SDKs read.
type CredentialsFileRule struct {
	Description string `json:"description"`
	// EnvVar, when set and not empty, names the file.
	EnvVar string `json:"envVar"`
	// DefaultPath is the file otherwise, starting with ~/ for the home directory.
	DefaultPath string `json:"defaultPath"`
}

// Text is a sentence both languages show. {slot} is a string argument, {slot:q} one shown
// quoted, and {@Name} the text of another Text without slots.
type Text struct {
	Description string `json:"description"`
	Text        string `json:"text"`
}

// Confirm is the confirmation card of a command that mints credentials or a token.
type Confirm struct {
	// Title is the card's title, a question.
	Title string `json:"title"`
	// What is a template (see TextPart) for the first sentence: what will be minted, from what.
	What string `json:"what"`
}

// TextPart is one piece of a parsed invocation or confirmation template: literal text, or a
// slot reading a parameter. The template syntax is:
//
//	{P}               the value of parameter P ("" when absent)
//	{P|fallback}      the value of P, or the fallback text when absent
//	{P?then|else}     the template then when P has a value, else the template else ("|else" optional)
//	{P*?then|else}    the same, testing whether P was given at all (any value, even "")
//	{P=v?then|else}   the same, testing whether P's value is v; v "@reservedSessionName" is the
//	                  model's reserved session name
//	{>fragment}       the model's textFragments entry of that name
type TextPart struct {
	// Text is the literal text of a part that reads no parameter (Param "").
	Text string
	// Param is the parameter a slot reads; List says it is a list of strings, shown joined.
	Param string
	List  bool
	// Given makes a condition test that Param was given at all rather than that it has a value;
	// Equals makes it test that Param's value is *Equals.
	Given  bool
	Equals *string
	// Fallback is what a plain slot shows when Param has no value.
	Fallback *string
	// Then and Else are what a condition shows when it holds and when it does not.
	Then, Else []TextPart
	// cond marks a condition, whose Then may be empty.
	cond bool
}

// slotName matches a text slot: {name} or {name:q}.
var slotName = regexp.MustCompile(`\{(@?[A-Za-z][A-Za-z0-9]*)(:q)?\}`)

// textSlot is one argument of a Text.
type textSlot struct {
	name   string
	quoted bool
}

// textPiece is literal text or a slot, in order.
type textPiece struct {
	lit  string
	slot *textSlot
}

// textPieces splits a Text, with {@Name} references already inlined, into literals and slots.
func (m *Model) textPieces(name string) ([]textPiece, error) {
	t, err := m.expandText(name, 0)
	if err != nil {
		return nil, err
	}
	var out []textPiece
	last := 0
	for _, loc := range slotName.FindAllStringSubmatchIndex(t, -1) {
		if loc[0] > last {
			out = append(out, textPiece{lit: t[last:loc[0]]})
		}
		out = append(out, textPiece{slot: &textSlot{name: t[loc[2]:loc[3]], quoted: loc[4] >= 0}})
		last = loc[1]
	}
	if last < len(t) {
		out = append(out, textPiece{lit: t[last:]})
	}
	return out, nil
}

// expandText is the text of name with every {@Name} replaced by that text, which must have no slots.
func (m *Model) expandText(name string, depth int) (string, error) {
	t, ok := m.Texts[name]
	if !ok {
		return "", fmt.Errorf("text %s is not defined", name)
	}
	if depth > 8 {
		return "", fmt.Errorf("text %s: references nest too deep", name)
	}
	var err error
	out := slotName.ReplaceAllStringFunc(t.Text, func(s string) string {
		sub := slotName.FindStringSubmatch(s)
		ref, ok := strings.CutPrefix(sub[1], "@")
		if !ok || err != nil {
			return s
		}
		var inner string
		if inner, err = m.expandText(ref, depth+1); err == nil && slotName.MatchString(inner) {
			err = fmt.Errorf("text %s: referenced text %s has slots", name, ref)
		}
		return inner
	})
	if strings.ContainsAny(slotName.ReplaceAllString(out, ""), "{}") {
		return "", fmt.Errorf("text %s: a brace outside a {slot}", name)
	}
	return out, err
}

// textNames lists the texts in name order.
func (m *Model) textNames() []string {
	names := make([]string, 0, len(m.Texts))
	for name := range m.Texts {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ProfileNameRuleText is the rule's sentence with its slots filled in.
func (r ProfileNameRule) ProfileNameRuleText() string {
	return strings.NewReplacer("{maxLength}", fmt.Sprint(r.MaxLength), "{forbidden}", r.forbiddenList()).Replace(r.Rule)
}

// forbiddenList is "[ ] # ;": the forbidden characters as a sentence shows them.
func (r ProfileNameRule) forbiddenList() string {
	chars := strings.Split(r.Forbidden, "")
	return strings.Join(chars, " ")
}

// ProfileNamePattern is the whole rule as one regular expression that Go's regexp and
// JavaScript's (with the u flag) read alike: 1 to MaxLength characters, none forbidden or a
// control character (Cc), and no space or other separator (Z) at either end.
func (r ProfileNameRule) ProfileNamePattern() string {
	var class strings.Builder
	for _, c := range r.Forbidden {
		if c == '-' { // a range inside a class; QuoteMeta leaves it alone
			class.WriteString(`\-`)
			continue
		}
		class.WriteString(regexp.QuoteMeta(string(c)))
	}
	class.WriteString(`\p{Cc}`)
	inner := "[^" + class.String() + "]"
	edge := "[^" + class.String() + `\p{Z}]`
	if r.MaxLength == 1 {
		return "^" + edge + "$"
	}
	return fmt.Sprintf("^%s(?:%s{0,%d}%s)?$", edge, inner, r.MaxLength-2, edge)
}

// checkRules checks the rules and texts: each is stated, a pattern compiles, a template parses.
// A model without rules parses (generating from it fails), so tests can use a small one.
func (m *Model) checkRules() error {
	if m.Rules != (Rules{}) {
		if err := m.Rules.check(); err != nil {
			return err
		}
	}
	return m.checkTexts()
}

// check checks that each rule is stated and the profile-name pattern compiles.
func (r Rules) check() error {
	p := r.ProfileName
	switch {
	case p.MaxLength < 1:
		return fmt.Errorf("rules.profileName: maxLength must be at least 1")
	case p.Forbidden == "" || !utf8.ValidString(p.Forbidden):
		return fmt.Errorf("rules.profileName: forbidden must list characters")
	case !strings.Contains(p.Rule, "{maxLength}"):
		return fmt.Errorf("rules.profileName: the rule must state {maxLength}")
	}
	if _, err := regexp.Compile(p.ProfileNamePattern()); err != nil {
		return fmt.Errorf("rules.profileName: %w", err)
	}
	f := r.CredentialsFile
	if f.EnvVar == "" || !strings.HasPrefix(f.DefaultPath, "~/") {
		return fmt.Errorf("rules.credentialsFile: needs envVar and a defaultPath starting with ~/")
	}
	return nil
}

// checkTexts checks the texts and the commands' templates.
func (m *Model) checkTexts() error {
	for _, name := range m.textNames() {
		if _, err := m.textPieces(name); err != nil {
			return err
		}
	}
	for _, c := range m.Commands {
		if c.Invocation == "" {
			return fmt.Errorf("command %s: no invocation text", c.Name)
		}
		if _, err := m.parseTemplate(c.Invocation); err != nil {
			return fmt.Errorf("command %s: invocation: %w", c.Name, err)
		}
		if (c.Confirm != nil) != (c.Mints != "" || c.WritesSecrets()) {
			return fmt.Errorf("command %s: a confirmation card is for exactly the commands that mint or write a secret", c.Name)
		}
		if c.Confirm != nil {
			if _, err := m.parseTemplate(c.Confirm.What); err != nil {
				return fmt.Errorf("command %s: confirm: %w", c.Name, err)
			}
		}
	}
	return nil
}

// parseTemplate parses an invocation or confirmation template (see TextPart), with fragments
// inlined and every parameter it reads defined.
func (m *Model) parseTemplate(s string) ([]TextPart, error) {
	p := &templateParser{m: m, s: s}
	parts, err := p.seq("")
	if err == nil && p.i < len(p.s) {
		err = fmt.Errorf("unexpected %q at %d", p.s[p.i], p.i)
	}
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", s, err)
	}
	return parts, nil
}

type templateParser struct {
	m     *Model
	s     string
	i     int
	depth int
}

// seq reads literal text and slots up to one of stop (not consumed) or the end.
func (p *templateParser) seq(stop string) ([]TextPart, error) {
	var parts []TextPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, TextPart{Text: lit.String()})
			lit.Reset()
		}
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case strings.IndexByte(stop, c) >= 0:
			flush()
			return parts, nil
		case c == '}':
			return nil, fmt.Errorf("unmatched } at %d", p.i)
		case c == '{':
			flush()
			slot, err := p.slot()
			if err != nil {
				return nil, err
			}
			parts = append(parts, slot...)
		default:
			lit.WriteByte(c)
			p.i++
		}
	}
	flush()
	return parts, nil
}

// slot reads one {…} at p.i.
func (p *templateParser) slot() ([]TextPart, error) {
	start := p.i
	p.i++ // {
	if p.i < len(p.s) && p.s[p.i] == '>' {
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed fragment at %d", start)
		}
		name := p.s[p.i+1 : p.i+end]
		p.i += end + 1
		frag, ok := p.m.TextFragments[name]
		if !ok {
			return nil, fmt.Errorf("fragment %s is not defined", name)
		}
		if p.depth > 8 {
			return nil, fmt.Errorf("fragments nest too deep")
		}
		sub := &templateParser{m: p.m, s: frag, depth: p.depth + 1}
		parts, err := sub.seq("")
		if err == nil && sub.i < len(sub.s) {
			err = fmt.Errorf("unexpected %q", sub.s[sub.i])
		}
		if err != nil {
			return nil, fmt.Errorf("fragment %s: %w", name, err)
		}
		return parts, nil
	}
	n := p.i
	for p.i < len(p.s) && isAlnum(p.s[p.i]) {
		p.i++
	}
	var part TextPart
	part.Param = p.s[n:p.i]
	def, ok := p.m.Params[part.Param]
	if !ok {
		return nil, fmt.Errorf("slot at %d: parameter %q is not defined", start, part.Param)
	}
	part.List = def.Type == "stringList" || def.Type == "arnList"
	if p.i < len(p.s) && p.s[p.i] == '*' {
		part.Given = true
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '=' {
		end := strings.IndexByte(p.s[p.i:], '?')
		if end < 0 {
			return nil, fmt.Errorf("slot at %d: = needs ?", start)
		}
		v := p.s[p.i+1 : p.i+end]
		if v == "@reservedSessionName" {
			v = p.m.ReservedSessionName
		}
		part.Equals = &v
		p.i += end
	}
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unclosed slot at %d", start)
	}
	switch p.s[p.i] {
	case '}':
		p.i++
	case '|':
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed slot at %d", start)
		}
		fb := p.s[p.i+1 : p.i+end]
		if strings.ContainsAny(fb, "{|") {
			return nil, fmt.Errorf("slot at %d: a fallback is plain text", start)
		}
		part.Fallback = &fb
		p.i += end + 1
	case '?':
		p.i++
		part.cond = true
		var err error
		if part.Then, err = p.seq("|}"); err != nil {
			return nil, err
		}
		if p.i < len(p.s) && p.s[p.i] == '|' {
			p.i++
			if part.Else, err = p.seq("}"); err != nil {
				return nil, err
			}
		}
		if p.i >= len(p.s) || p.s[p.i] != '}' {
			return nil, fmt.Errorf("unclosed slot at %d", start)
		}
		p.i++
	default:
		return nil, fmt.Errorf("slot at %d: unexpected %q after the parameter name", start, p.s[p.i])
	}
	if !part.cond && (part.Given || part.Equals != nil) {
		return nil, fmt.Errorf("slot at %d: * and = need ?", start)
	}
	return []TextPart{part}, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
