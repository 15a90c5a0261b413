// Package authmsg turns the JSON returned by STS DecodeAuthorizationMessage
// into a structured Message and a short Markdown explanation for a model.
//
// AWS does not document the message schema and it varies between services,
// so decoding is deliberately lenient: unknown fields are ignored, missing
// fields stay empty and values of an unexpected type are skipped.
package authmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Decision texts used in Message.Decision.
const (
	// DecisionAllowed means a statement allowed the request.
	DecisionAllowed = "allowed"
	// DecisionExplicitDeny means a Deny statement matched, which overrides any Allow.
	DecisionExplicitDeny = "explicit deny"
	// DecisionImplicitDeny means nothing allowed the request, so it was denied by default.
	DecisionImplicitDeny = "implicit deny (no statement allowed it)"
)

// Statement is one policy statement that took part in the decision.
type Statement struct {
	// StatementID is the statement's Sid, or "" when the policy gave none.
	StatementID string
	// Effect is "ALLOW" or "DENY" as AWS reports it.
	Effect string
	// SourcePolicy names the policy holding the statement, from whichever of
	// sourcePolicyName, sourcePolicyId and sourcePolicyType were present.
	SourcePolicy string
	// Principals are the statement's principal values.
	Principals []string
	// Actions are the statement's action patterns.
	Actions []string
	// Resources are the statement's resource patterns.
	Resources []string
	// Conditions are the statement's condition keys and values.
	Conditions []Condition
}

// Condition is a condition key with its values, either from a statement or
// from the request context.
type Condition struct {
	// Key is the condition key, e.g. "aws:SourceIp".
	Key string
	// Values are the key's values in the order AWS listed them.
	Values []string
}

// Principal is the caller the decision was made for.
type Principal struct {
	// ID is the principal's unique id, e.g. "AROAEXAMPLE:alice".
	ID string
	// Name is the principal's friendly name.
	Name string
	// ARN is the principal's ARN.
	ARN string
}

// Message is a parsed decoded authorization message.
type Message struct {
	// Allowed is AWS's "allowed" flag.
	Allowed bool
	// ExplicitDeny is AWS's "explicitDeny" flag.
	ExplicitDeny bool
	// Decision is one of DecisionAllowed, DecisionExplicitDeny or DecisionImplicitDeny.
	Decision string
	// Principal is the caller from the request context.
	Principal Principal
	// Action is the requested action, e.g. "ec2:RunInstances".
	Action string
	// Resource is the requested resource ARN.
	Resource string
	// Context holds the request context keys, sorted by key so output is stable.
	Context []Condition
	// Matched are the statements that matched the request.
	Matched []Statement
	// Failures are AWS's failure entries, rendered as text.
	Failures []string
	// Raw is the decoded JSON, re-indented with two spaces.
	Raw json.RawMessage
}

// itemList decodes AWS's {"items":[...]} wrapper; a bare array or a single
// value is accepted too, because the wrapper is not applied consistently.
type itemList[T any] []T

// UnmarshalJSON implements json.Unmarshaler and never fails: items that do
// not fit T are skipped so one odd entry does not hide the rest.
func (l *itemList[T]) UnmarshalJSON(b []byte) error {
	var out itemList[T]
	for _, raw := range unwrapItems(b) {
		var v T
		if err := json.Unmarshal(raw, &v); err == nil || isTypeError(err) {
			out = append(out, v)
		}
	}
	*l = out
	return nil
}

// textList decodes a list of values as text, whatever their JSON type.
type textList []string

// UnmarshalJSON implements json.Unmarshaler and never fails.
func (l *textList) UnmarshalJSON(b []byte) error {
	var out textList
	for _, raw := range unwrapItems(b) {
		if s := text(raw); s != "" {
			out = append(out, s)
		}
	}
	*l = out
	return nil
}

// unwrapItems returns the elements of {"items":[...]}, of [...], or the value
// itself; null yields nothing.
func unwrapItems(b []byte) []json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	switch b[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(b, &obj) == nil {
			if items, ok := obj["items"]; ok {
				return unwrapItems(items)
			}
		}
	case '[':
		var arr []json.RawMessage
		if json.Unmarshal(b, &arr) == nil {
			return arr
		}
		return nil
	}
	return []json.RawMessage{b}
}

// text renders a value as plain text: strings as themselves, {"value":x} as
// x, and anything else as compact JSON.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if v, ok := obj["value"]; ok {
			return text(v)
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

type rawCondition struct {
	Key    string   `json:"key"`
	Values textList `json:"values"`
}

type rawStatement struct {
	StatementID      string                 `json:"statementId"`
	Effect           string                 `json:"effect"`
	SourcePolicyName string                 `json:"sourcePolicyName"`
	SourcePolicyID   string                 `json:"sourcePolicyId"`
	SourcePolicyType string                 `json:"sourcePolicyType"`
	Principals       textList               `json:"principals"`
	PrincipalGroups  textList               `json:"principalGroups"`
	Actions          textList               `json:"actions"`
	Resources        textList               `json:"resources"`
	Conditions       itemList[rawCondition] `json:"conditions"`
}

type rawMessage struct {
	Allowed           bool                   `json:"allowed"`
	ExplicitDeny      bool                   `json:"explicitDeny"`
	MatchedStatements itemList[rawStatement] `json:"matchedStatements"`
	Failures          textList               `json:"failures"`
	Context           struct {
		Principal struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			ARN  string `json:"arn"`
		} `json:"principal"`
		Action     string                 `json:"action"`
		Resource   string                 `json:"resource"`
		Conditions itemList[rawCondition] `json:"conditions"`
	} `json:"context"`
}

// maxEcho bounds how much of a bad input an error repeats, so a pasted blob
// does not flood the model's context.
const maxEcho = 80

// Parse parses the decoded message string returned by STS
// DecodeAuthorizationMessage. The whole STS response object
// ({"DecodedMessage":"..."}) is accepted too. Input that is not a JSON
// object yields an error starting "decoded message is not JSON: ".
func Parse(decoded string) (*Message, error) {
	data := []byte(strings.TrimSpace(decoded))
	if !json.Valid(data) {
		return nil, fmt.Errorf("decoded message is not JSON: %s (pass the DecodedMessage returned by STS DecodeAuthorizationMessage, not the encoded token)", preview(decoded))
	}
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("decoded message is not JSON: expected an object, got %s", preview(decoded))
	}
	var wrapper struct {
		DecodedMessage *string `json:"DecodedMessage"`
	}
	if json.Unmarshal(data, &wrapper) == nil && wrapper.DecodedMessage != nil {
		return Parse(*wrapper.DecodedMessage)
	}

	var rm rawMessage
	// A type mismatch leaves the other fields decoded; that is the leniency we want.
	if err := json.Unmarshal(data, &rm); err != nil && !isTypeError(err) {
		return nil, fmt.Errorf("decoded message is not JSON: %v", err)
	}

	m := &Message{
		Allowed:      rm.Allowed,
		ExplicitDeny: rm.ExplicitDeny,
		Principal: Principal{
			ID:   rm.Context.Principal.ID,
			Name: rm.Context.Principal.Name,
			ARN:  rm.Context.Principal.ARN,
		},
		Action:   rm.Context.Action,
		Resource: rm.Context.Resource,
		Failures: rm.Failures,
	}
	switch {
	case rm.ExplicitDeny:
		m.Decision = DecisionExplicitDeny
	case rm.Allowed:
		m.Decision = DecisionAllowed
	default:
		m.Decision = DecisionImplicitDeny
	}
	m.Context = conditions(rm.Context.Conditions)
	sort.SliceStable(m.Context, func(i, j int) bool { return m.Context[i].Key < m.Context[j].Key })
	for _, rs := range rm.MatchedStatements {
		m.Matched = append(m.Matched, Statement{
			StatementID:  rs.StatementID,
			Effect:       rs.Effect,
			SourcePolicy: sourcePolicy(rs.SourcePolicyName, rs.SourcePolicyID, rs.SourcePolicyType),
			Principals:   append(rs.Principals, rs.PrincipalGroups...),
			Actions:      rs.Actions,
			Resources:    rs.Resources,
			Conditions:   conditions(rs.Conditions),
		})
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err == nil {
		m.Raw = buf.Bytes()
	}
	return m, nil
}

func conditions(rcs []rawCondition) []Condition {
	var out []Condition
	for _, rc := range rcs {
		if rc.Key == "" && len(rc.Values) == 0 {
			continue
		}
		out = append(out, Condition{Key: rc.Key, Values: rc.Values})
	}
	return out
}

// sourcePolicy joins the policy name (or id) with the remaining details in
// parentheses, e.g. "DenyEC2 (p-abc123, SCP)".
func sourcePolicy(name, id, typ string) string {
	name, id, typ = strings.TrimSpace(name), strings.TrimSpace(id), strings.TrimSpace(typ)
	head := name
	var extra []string
	if head == "" {
		head = id
	} else if id != "" && id != name {
		extra = append(extra, id)
	}
	if typ != "" {
		if head == "" {
			return typ
		}
		extra = append(extra, typ)
	}
	if len(extra) == 0 {
		return head
	}
	return head + " (" + strings.Join(extra, ", ") + ")"
}

// preview returns at most maxEcho runes of s, quoted, for error messages.
func preview(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "empty input"
	}
	if utf8.RuneCountInString(s) > maxEcho {
		s = string([]rune(s)[:maxEcho-1]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Markdown renders a concise explanation for a model: the decision line, the
// deciding statements, the request context and a one-line next step.
func (m *Message) Markdown() string {
	var b strings.Builder
	action := orUnknown(m.Action, "unknown action")
	resource := orUnknown(m.Resource, "unknown resource")

	switch m.Decision {
	case DecisionExplicitDeny:
		b.WriteString("**Explicit deny**: ")
	case DecisionAllowed:
		b.WriteString("**Allowed**: ")
	default:
		b.WriteString("**Implicit deny** (no statement allowed it): ")
	}
	fmt.Fprintf(&b, "%s on %s", code(action), code(resource))
	if p := firstNonEmpty(m.Principal.ARN, m.Principal.Name, m.Principal.ID); p != "" {
		fmt.Fprintf(&b, " for %s", code(p))
	}
	b.WriteString(".\n\n**Deciding statements**\n")
	if len(m.Matched) == 0 {
		b.WriteString("- none matched the request\n")
	}
	for _, s := range m.Matched {
		b.WriteString("- ")
		b.WriteString(code(orUnknown(s.StatementID, "no statement id")))
		if s.Effect != "" {
			fmt.Fprintf(&b, " (%s)", s.Effect)
		}
		var parts []string
		if len(s.Actions) > 0 {
			parts = append(parts, "actions "+codeList(s.Actions))
		}
		if len(s.Resources) > 0 {
			parts = append(parts, "resources "+codeList(s.Resources))
		}
		if s.SourcePolicy != "" {
			parts = append(parts, "source policy "+code(s.SourcePolicy))
		}
		if len(s.Conditions) > 0 {
			var cs []string
			for _, c := range s.Conditions {
				cs = append(cs, code(c.Key)+" = "+codeList(c.Values))
			}
			parts = append(parts, "conditions "+strings.Join(cs, "; "))
		}
		if len(parts) > 0 {
			b.WriteString(": " + strings.Join(parts, "; "))
		}
		b.WriteString("\n")
	}
	if len(m.Failures) > 0 {
		b.WriteString("\n**Failures**\n")
		for _, f := range m.Failures {
			b.WriteString("- " + code(f) + "\n")
		}
	}
	if len(m.Context) > 0 {
		b.WriteString("\n**Request context**\n")
		for _, c := range m.Context {
			fmt.Fprintf(&b, "- %s = %s\n", code(c.Key), codeList(c.Values))
		}
	}
	b.WriteString("\n**What to do next**: ")
	b.WriteString(m.nextStep(action, resource))
	b.WriteString("\n")
	return b.String()
}

// nextStep tailors the advice to the decision, because the fix for an
// explicit deny (narrow the Deny) is the opposite of an implicit one (add an Allow).
func (m *Message) nextStep(action, resource string) string {
	switch m.Decision {
	case DecisionExplicitDeny:
		var ids, all []string
		for _, s := range m.Matched {
			if s.StatementID == "" {
				continue
			}
			all = append(all, code(s.StatementID))
			if strings.EqualFold(s.Effect, "deny") {
				ids = append(ids, code(s.StatementID))
			}
		}
		if len(ids) == 0 {
			ids = all
		}
		target := "the Deny statement"
		switch {
		case len(ids) == 1:
			target = "statement " + ids[0]
		case len(ids) > 1:
			target = "statements " + strings.Join(ids, ", ")
		}
		return "An explicit Deny wins over any Allow: find " + target +
			" (in an SCP, permission boundary, session policy or identity/resource policy) and narrow it or request an exception."
	case DecisionAllowed:
		return "The request was allowed by these statements."
	default:
		return "No policy allowed " + code(action) + " on " + code(resource) +
			": add an Allow for it to the principal's identity policy (or the resource policy), and check permission boundaries, session policies and SCPs."
	}
}

func orUnknown(s, placeholder string) string {
	if s == "" {
		return "(" + placeholder + ")"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func codeList(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// code wraps s in a Markdown code span that survives backticks and newlines
// inside s, so values from the message cannot break the surrounding Markdown.
func code(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// encodedRE matches the phrase AWS services put before the encoded message.
var encodedRE = regexp.MustCompile(`(?i)Encoded authorization failure message:\s*["']?([A-Za-z0-9_\-+/=]{8,})`)

// ExtractEncoded finds "Encoded authorization failure message: <token>" in
// any AWS error text and returns the token, ready for
// DecodeAuthorizationMessage. ok is false when the text has no such token.
func ExtractEncoded(text string) (token string, ok bool) {
	sub := encodedRE.FindStringSubmatch(text)
	if sub == nil {
		return "", false
	}
	return sub[1], true
}
