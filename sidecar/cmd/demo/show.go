package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// The demo prints what the model sees, but a reader needs less than a model: a long JSON document
// the model may quote is summarized, and a session table the reader has already seen is shown by
// its changed rows only. The demo's own notes are marked ┆; the model's text is marked │.

// longParam is the length above which a string parameter is shortened in the printed call.
const longParam = 80

// shownInput is input for printing: long string parameters (an encoded message) cut short.
func shownInput(input map[string]any) map[string]any {
	params, ok := input["params"].(map[string]any)
	if !ok {
		return input
	}
	short := maps.Clone(params)
	for k, v := range short {
		if s, ok := v.(string); ok && utf8.RuneCountInString(s) > longParam {
			short[k] = fmt.Sprintf("%s… (%d characters)", string([]rune(s)[:40]), utf8.RuneCountInString(s))
		}
	}
	out := maps.Clone(input)
	out["params"] = short
	return out
}

// tableRows remembers the session table the reader last saw, row by session name.
type tableRows map[string]string

// sessionOf is the session name a table row is about, without its "(default)" mark.
func sessionOf(row string) string {
	cell, _, _ := strings.Cut(strings.TrimPrefix(row, "| "), " |")
	return strings.TrimSuffix(cell, " (default)")
}

// display turns the model's text into the lines the demo prints: model lines as "│ …", the demo's
// notes as "┆ …".
func (d *demo) display(text string) []string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var out []string
	model := func(l string) { out = append(out, "  │ "+l) }
	note := func(format string, a ...any) { out = append(out, "  ┆ "+fmt.Sprintf(format, a...)) }
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "```json":
			end := i + 1
			for end < len(lines) && lines[end] != "```" {
				end++
			}
			note("(then the decoded message itself, %d lines of JSON for the model to quote; the summary above is what it says)", end-i-1)
			i = end
		case strings.HasPrefix(l, "| Session |") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---"):
			end := i + 2
			for end < len(lines) && strings.HasPrefix(lines[end], "| ") {
				end++
			}
			d.showTable(lines[i], lines[i+1], lines[i+2:end], model, note)
			i = end - 1
		default:
			model(l)
		}
	}
	return out
}

// showTable prints a session table in full the first time, and afterwards only the rows that
// changed since the reader saw them, with a note for the rest and for sessions that are gone.
func (d *demo) showTable(header, rule string, rows []string, model func(string), note func(string, ...any)) {
	now := make(tableRows, len(rows))
	var changed []string
	unchanged := 0
	for _, r := range rows {
		name := sessionOf(r)
		now[name] = r
		if d.lastTable[name] == r {
			unchanged++
		} else {
			changed = append(changed, r)
		}
	}
	var gone []string
	for name := range d.lastTable {
		if _, ok := now[name]; !ok {
			gone = append(gone, name)
		}
	}
	d.lastTable = now
	if unchanged == 0 {
		model(header)
		model(rule)
		for _, r := range rows {
			model(r)
		}
		return
	}
	goneNote := ""
	if len(gone) > 0 {
		slices.Sort(gone)
		goneNote = fmt.Sprintf("; no longer listed: %s", strings.Join(gone, ", "))
	}
	if len(changed) == 0 {
		note("(the session table: %d rows, each as shown above%s)", unchanged, goneNote)
		return
	}
	model(header)
	model(rule)
	for _, r := range changed {
		model(r)
	}
	note("(and %d more rows as shown above%s)", unchanged, goneNote)
}
