// Package clip shortens peer-controlled strings before they are echoed back in an error or
// written to a log, so that a hostile 1 MiB name cannot bloat an answer or a log line.
package clip

import "unicode/utf8"

// MaxEcho is the most bytes of a name or value (a method, command, parameter, session or profile
// name, an id) that an error message quotes back; the rest is replaced by "…".
const MaxEcho = 100

// Ellipsis marks where a string was cut.
const Ellipsis = "…"

// Echo returns s cut to MaxEcho bytes, for quoting a peer-controlled name or value in an error.
func Echo(s string) string {
	return To(s, MaxEcho)
}

// To returns s cut to at most n bytes, never inside a UTF-8 sequence, with Ellipsis appended when
// anything was cut.
func To(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + Ellipsis
}
