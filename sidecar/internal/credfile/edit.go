package credfile

import (
	"bytes"
	"strings"
	"unicode"
)

// The keys this package writes or removes, lower-cased as the SDKs compare them.
const (
	keyAccessKeyID   = "aws_access_key_id"
	keySecretKey     = "aws_secret_access_key"
	keySessionToken  = "aws_session_token"
	keySecurityToken = "aws_security_token" // a legacy alias of aws_session_token that some SDKs still read
)

// line is one line of the file: its text and the line ending that followed it, kept apart so an
// edit can change the text and keep the ending exactly.
type line struct {
	text string // without the line ending
	eol  string // "\r\n", "\n", or "" for a last line without one
}

// splitLines cuts data into lines; joining their text and endings gives data back unchanged.
func splitLines(data []byte) []line {
	var out []line
	s := string(data)
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, line{text: s})
			break
		}
		l := line{text: s[:i], eol: "\n"}
		if strings.HasSuffix(l.text, "\r") {
			l.text, l.eol = l.text[:len(l.text)-1], "\r\n"
		}
		out = append(out, l)
		s = s[i+1:]
	}
	return out
}

// kind is what a line is to the INI format.
type kind int

const (
	kindOther   kind = iota // text the format does not define, kept as it is
	kindBlank               // empty or only spaces
	kindComment             // starts with # or ; after optional spaces
	kindHeader              // [name], optionally followed by a comment
	kindKey                 // key = value
)

// parsed is what classify makes of a line.
type parsed struct {
	kind  kind
	name  string // a header's section name, or a key line's key in lower case
	value string // a key line's value, trimmed
}

// classify reads one line's text. A byte-order mark is ignored, since editors put one before the
// first header. Anything after a header's closing bracket is taken as a comment, and a key's
// value runs to the end of the line, as the SDKs read them.
func classify(text string) parsed {
	t := strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
	switch {
	case t == "":
		return parsed{kind: kindBlank}
	case t[0] == '#' || t[0] == ';':
		return parsed{kind: kindComment}
	case t[0] == '[':
		end := strings.IndexByte(t, ']')
		if end < 0 {
			return parsed{kind: kindOther}
		}
		return parsed{kind: kindHeader, name: strings.TrimSpace(t[1:end])}
	}
	key, value, ok := strings.Cut(t, "=")
	if !ok {
		return parsed{kind: kindOther}
	}
	return parsed{kind: kindKey, name: strings.ToLower(strings.TrimSpace(key)), value: strings.TrimSpace(value)}
}

// withValue rewrites a key line as "key = value", keeping the indentation and spelling of the key
// and the line's own ending.
func withValue(l line, value string) line {
	key, _, _ := strings.Cut(l.text, "=")
	return line{text: strings.TrimRightFunc(key, unicode.IsSpace) + " = " + value, eol: l.eol}
}

// edit returns old with creds written into profile, and whether the profile was added.
func edit(old []byte, profile string, creds Credentials, overwriteLongTerm bool) ([]byte, bool, error) {
	lines := splitLines(old)
	nl := newline(old)
	want := []line{
		{text: keyAccessKeyID + " = " + creds.AccessKeyID, eol: nl},
		{text: keySecretKey + " = " + creds.SecretAccessKey, eol: nl},
	}
	if creds.SessionToken != "" {
		want = append(want, line{text: keySessionToken + " = " + creds.SessionToken, eol: nl})
	}

	start, end := findSection(lines, profile)
	if start < 0 {
		return appendSection(old, lines, profile, want, nl), true, nil
	}

	body := make([]parsed, end-start)
	last := start // the last line of the section that is neither blank nor a comment
	longTerm, hasToken := false, false
	for i := start + 1; i < end; i++ {
		p := classify(lines[i].text)
		body[i-start] = p
		if p.kind == kindKey || p.kind == kindOther {
			last = i
		}
		switch {
		case p.kind != kindKey:
		case p.name == keyAccessKeyID && strings.HasPrefix(p.value, "AKIA"):
			longTerm = true
		case p.name == keySessionToken && p.value != "":
			hasToken = true
		}
	}
	if longTerm && !hasToken && !overwriteLongTerm {
		return nil, false, ErrLongTermKeys
	}

	values := map[string]string{keyAccessKeyID: creds.AccessKeyID, keySecretKey: creds.SecretAccessKey}
	if creds.SessionToken != "" {
		values[keySessionToken] = creds.SessionToken
	}
	written := map[string]bool{}
	out := make([]line, 0, len(lines)+len(want))
	out = append(out, lines[:start+1]...)
	for i := start; i < end; i++ {
		if i > start {
			l, p := lines[i], body[i-start]
			switch {
			case p.kind != kindKey:
				out = append(out, l)
			case p.name == keySecurityToken:
				// Dropped: left beside the new aws_session_token it would shadow it in some SDKs.
			case p.name == keyAccessKeyID || p.name == keySecretKey || p.name == keySessionToken:
				// The first line of a key takes the new value; a repeated or unwanted one is dropped,
				// since a later duplicate would win when the SDKs read the section.
				if v, ok := values[p.name]; ok && !written[p.name] {
					out = append(out, withValue(l, v))
					written[p.name] = true
				}
			default:
				out = append(out, l)
			}
		}
		if i == last {
			out = appendMissing(out, want, written, nl)
		}
	}
	out = append(out, lines[end:]...)

	var b bytes.Buffer
	for _, l := range out {
		b.WriteString(l.text + l.eol)
	}
	return b.Bytes(), false, nil
}

// appendSection returns old with the section [header] and its key lines added at the end, after
// a blank line; every byte of old is kept.
func appendSection(old []byte, lines []line, header string, want []line, nl string) []byte {
	var b bytes.Buffer
	b.Write(old)
	if n := len(lines); n > 0 {
		if lines[n-1].eol == "" {
			b.WriteString(nl)
		}
		if classify(lines[n-1].text).kind != kindBlank {
			b.WriteString(nl)
		}
	}
	b.WriteString("[" + header + "]" + nl)
	for _, l := range want {
		b.WriteString(l.text + l.eol)
	}
	return b.Bytes()
}

// newline is the line ending lines added to old take: CRLF when old has one, so that a CRLF file
// stays CRLF for editors that care.
func newline(old []byte) string {
	if bytes.Contains(old, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// findSection returns the line range [start, end) of the first section named profile, header
// included, or -1 when there is none.
func findSection(lines []line, profile string) (start, end int) {
	start = -1
	for i, l := range lines {
		p := classify(l.text)
		if p.kind != kindHeader {
			continue
		}
		if start >= 0 {
			return start, i
		}
		if p.name == profile {
			start = i
		}
	}
	return start, len(lines)
}

// appendMissing appends the wanted key lines not yet written, first ending the previous line if it
// was the file's last and had no line ending.
func appendMissing(out, want []line, written map[string]bool, nl string) []line {
	for _, w := range want {
		key, _, _ := strings.Cut(w.text, " ")
		if written[key] {
			continue
		}
		if n := len(out); n > 0 && out[n-1].eol == "" {
			out[n-1].eol = nl
		}
		out = append(out, w)
	}
	return out
}
