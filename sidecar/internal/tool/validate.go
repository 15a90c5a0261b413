package tool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// Limits STS applies across parameters: inline and managed policy plaintext together, tag sizes.
const (
	maxPolicyPlaintext = 2048
	maxTagKey          = 128
	maxTagValue        = 256
)

var (
	tagPattern    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	policyPattern = regexp.MustCompile(`^[\t\n\r\x{20}-\x{FF}]+$`)
)

// Validate checks the model's params for a command against the protocol's rules and returns them
// converted to the types the STS operations take. Every problem is reported at once, each saying how
// to fix it; secret values are never echoed.
func Validate(spec *protocol.CommandSpec, raw json.RawMessage) (stsops.Args, error) {
	fields, err := decodeObject(raw)
	if err != nil {
		return nil, invalidParams(spec.Name, "params for %s must be a JSON object of parameter names to values: %v", spec.Name, err)
	}
	args := stsops.Args{}
	var problems []string
	for _, name := range sortedNames(fields) {
		p, ok := spec.Param(name)
		if !ok {
			problems = append(problems, unknownParam(spec, name))
			continue
		}
		if isNull(fields[name]) {
			continue // the model often sends null for "not given"
		}
		v, err := convert(p, fields[name])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %v.", name, err))
			continue
		}
		args[name] = v
	}
	problems = append(problems, crossChecks(spec, args, fields)...)
	if len(problems) > 0 {
		return nil, &Error{
			Code:    protocol.CodeInvalidParams,
			Command: spec.Name,
			Message: fmt.Sprintf("%s was not run: %s", spec.Name, strings.Join(problems, " ")),
			Hint:    "Fix the parameters and call again. " + describeParams(spec),
		}
	}
	return args, nil
}

func decodeObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return fields, nil
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("got %s", jsonKind(trimmed))
	}
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, err
	}
	return fields, nil
}

func sortedNames(m map[string]json.RawMessage) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func jsonKind(raw []byte) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// describeParams lists what a command takes, required ones marked.
func describeParams(spec *protocol.CommandSpec) string {
	names := spec.ParamNames()
	if len(names) == 0 {
		return spec.Name + " takes no parameters."
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n
		if p, _ := spec.Param(n); p.Required {
			parts[i] += " (required)"
		} else if alt := oneOfPartners(spec, n); alt != "" {
			parts[i] += " (or " + alt + ")"
		}
	}
	return spec.Name + " takes: " + strings.Join(parts, ", ") + "."
}

func unknownParam(spec *protocol.CommandSpec, name string) string {
	msg := fmt.Sprintf("%s does not take %q.", spec.Name, clip.Echo(name))
	if why, ok := spec.WrongParams[name]; ok {
		if _, real := spec.Param(why); real {
			return msg + fmt.Sprintf(" Use %q instead.", why)
		}
		return msg + " " + why + "."
	}
	if best := closest(name, spec.ParamNames()); best != "" {
		return msg + fmt.Sprintf(" Did you mean %q?", best)
	}
	return msg
}

// closest finds the parameter a misspelt name most likely meant: a case-insensitive match, else
// the nearest by edit distance when it is near enough to be a typo.
func closest(name string, candidates []string) string {
	if len(name) > clip.MaxEcho {
		// Too long to be a typo of any name, and too costly to compare.
		return ""
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func convert(p protocol.CommandParam, raw json.RawMessage) (any, error) {
	s := p.Spec
	switch s.Type {
	case protocol.TypeInteger:
		return convertInt(p, raw)
	case protocol.TypeStringList:
		list, err := stringList(raw, true)
		if err != nil {
			return nil, err
		}
		return list, checkList(s, list)
	case protocol.TypeARNList:
		list, err := arnList(raw)
		if err != nil {
			return nil, err
		}
		return list, checkList(s, list)
	case protocol.TypeTags:
		return convertTags(s, raw)
	case protocol.TypePolicy:
		return convertPolicy(s, raw)
	default:
		str, err := scalarString(raw)
		if err != nil {
			return nil, err
		}
		return checkString(s, str)
	}
}

func scalarString(raw json.RawMessage) (string, error) {
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str, nil
	}
	// Numbers are taken as their text: an account id or MFA code sent unquoted.
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("must be a string, not %s", jsonKind(bytes.TrimSpace(raw)))
}

func convertInt(p protocol.CommandParam, raw json.RawMessage) (int64, error) {
	str, err := scalarString(raw)
	if err != nil {
		return 0, fmt.Errorf("must be a whole number of seconds")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(str), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("must be a whole number, not %q", clip.To(str, 20))
	}
	lo, hi := p.Spec.Minimum, p.Spec.Maximum
	if p.HasRange {
		lo, hi = p.Minimum, p.Maximum
	}
	if (p.HasRange || p.Spec.HasRange) && (n < lo || n > hi) {
		return 0, fmt.Errorf("is %d but must be between %d and %d", n, lo, hi)
	}
	return n, nil
}

func checkString(s *protocol.ParamSpec, v string) (string, error) {
	if len(s.Enum) > 0 {
		short := strings.TrimPrefix(v, s.EnumPrefix)
		for _, e := range s.Enum {
			if e == short || (s.EnumPrefix == "" && strings.EqualFold(e, v)) {
				return s.EnumPrefix + e, nil
			}
		}
		return "", fmt.Errorf("must be one of %s%s", strings.Join(s.Enum, ", "), valueForError(s, v))
	}
	n := utf8.RuneCountInString(v)
	if s.MinLength > 0 && n < s.MinLength || s.MaxLength > 0 && n > s.MaxLength {
		return "", fmt.Errorf("must be %d to %d characters long, but is %d%s", s.MinLength, s.MaxLength, n, valueForError(s, v))
	}
	if s.Pattern != nil && !s.Pattern.MatchString(v) {
		return "", fmt.Errorf("has characters STS does not allow (allowed: %s)%s", patternText(s.Pattern), valueForError(s, v))
	}
	return v, nil
}

// valueForError quotes a short non-secret value, so the model sees what it sent.
func valueForError(s *protocol.ParamSpec, v string) string {
	if s.Secret {
		return ""
	}
	return fmt.Sprintf(" (got %q)", clip.To(v, 80))
}

func patternText(re *regexp.Regexp) string {
	p := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$")
	return strings.ReplaceAll(p, `\w`, `A-Za-z0-9_`)
}

func stringList(raw json.RawMessage, allowScalar bool) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	if allowScalar {
		if s, err := scalarString(raw); err == nil {
			return []string{s}, nil
		}
	}
	return nil, fmt.Errorf("must be a list of strings")
}

func arnList(raw json.RawMessage) ([]string, error) {
	if list, err := stringList(raw, true); err == nil {
		return list, nil
	}
	var objs []map[string]string
	if err := json.Unmarshal(raw, &objs); err != nil {
		return nil, fmt.Errorf(`must be a list of policy ARNs (strings, or {"arn": …} objects)`)
	}
	list := make([]string, 0, len(objs))
	for _, o := range objs {
		arn := o["arn"]
		if arn == "" {
			arn = o["Arn"]
		}
		list = append(list, arn)
	}
	return list, nil
}

func checkList(s *protocol.ParamSpec, list []string) error {
	if len(list) < s.MinItems || s.MaxItems > 0 && len(list) > s.MaxItems {
		return fmt.Errorf("must have %d to %d items, but has %d", s.MinItems, s.MaxItems, len(list))
	}
	for i, v := range list {
		if _, err := checkString(&protocol.ParamSpec{MinLength: s.MinLength, MaxLength: s.MaxLength}, v); err != nil {
			return fmt.Errorf("item %d %v", i+1, err)
		}
		if s.Type == protocol.TypeARNList && !strings.HasPrefix(v, "arn:") {
			return fmt.Errorf("item %d is not an ARN (got %q); managed policies look like arn:aws:iam::aws:policy/ReadOnlyAccess", i+1, clip.To(v, 80))
		}
	}
	return nil
}

func convertTags(s *protocol.ParamSpec, raw json.RawMessage) ([]protocol.Tag, error) {
	type tag struct {
		Key   *string `json:"Key"`
		Value *string `json:"Value"`
	}
	var list []tag
	if err := json.Unmarshal(raw, &list); err != nil {
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf(`must be a list of {"Key": …, "Value": …} objects`)
		}
		for _, k := range sortedStrings(m) {
			v := m[k]
			list = append(list, tag{Key: &k, Value: &v})
		}
	}
	if s.MaxItems > 0 && len(list) > s.MaxItems {
		return nil, fmt.Errorf("has %d tags; STS allows at most %d", len(list), s.MaxItems)
	}
	seen := map[string]bool{}
	out := make([]protocol.Tag, 0, len(list))
	for i, t := range list {
		if t.Key == nil || t.Value == nil {
			return nil, fmt.Errorf("item %d needs both Key and Value", i+1)
		}
		k, v := *t.Key, *t.Value
		switch {
		case utf8.RuneCountInString(k) < 1 || utf8.RuneCountInString(k) > maxTagKey:
			return nil, fmt.Errorf("key %q must be 1 to %d characters", clip.To(k, 40), maxTagKey)
		case utf8.RuneCountInString(v) > maxTagValue:
			return nil, fmt.Errorf("value of %q must be at most %d characters", clip.To(k, 40), maxTagValue)
		case !tagPattern.MatchString(k) || !tagPattern.MatchString(v):
			return nil, fmt.Errorf("tag %q has characters STS does not allow (letters, digits, spaces and _.:/=+-@)", clip.To(k, 40))
		case seen[strings.ToLower(k)]:
			return nil, fmt.Errorf("has the key %q twice (tag keys are case-insensitive)", clip.To(k, 40))
		}
		seen[strings.ToLower(k)] = true
		out = append(out, protocol.Tag{Key: k, Value: v})
	}
	return out, nil
}

func sortedStrings(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func convertPolicy(s *protocol.ParamSpec, raw json.RawMessage) (string, error) {
	var doc string
	if err := json.Unmarshal(raw, &doc); err != nil {
		trimmed := bytes.TrimSpace(raw)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return "", fmt.Errorf("must be an IAM policy document (a JSON string or object)")
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, trimmed); err != nil {
			return "", fmt.Errorf("is not valid JSON: %v", err)
		}
		doc = compact.String()
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(doc), &obj); err != nil {
		return "", fmt.Errorf("is not a JSON policy document (STS would answer MalformedPolicyDocument): %v", err)
	}
	if _, ok := obj["Statement"]; !ok {
		return "", fmt.Errorf(`has no "Statement"; a policy looks like {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	}
	if n := utf8.RuneCountInString(doc); n < s.MinLength || n > s.MaxLength {
		return "", fmt.Errorf("is %d characters; STS takes %d to %d (send it without spaces, or use PolicyArns)", n, s.MinLength, s.MaxLength)
	}
	if !policyPattern.MatchString(doc) {
		return "", fmt.Errorf("has characters outside tab, line breaks and U+0020 to U+00FF, which STS refuses")
	}
	return doc, nil
}

// crossChecks applies the rules that involve more than one parameter.
// A parameter that was given but failed its own check is not reported again as missing.
func crossChecks(spec *protocol.CommandSpec, a stsops.Args, given map[string]json.RawMessage) []string {
	var problems []string
	for _, p := range spec.Params {
		if p.Required {
			if _, sent := given[p.Spec.Name]; !sent && !satisfiedByAlternative(spec, p.Spec.Name, a) {
				problems = append(problems, fmt.Sprintf("%s is required: %s", p.Spec.Name, p.Spec.Description))
			}
		}
	}
	for _, group := range spec.OneOf {
		sent := 0
		for _, n := range group {
			if raw, ok := given[n]; ok && !isNull(raw) {
				sent++
			}
		}
		switch {
		case sent == 0 && slices.ContainsFunc(group, isFileParam):
			problems = append(problems, fmt.Sprintf("Give one of %s (a file path keeps the secret out of chat).", strings.Join(group, " or ")))
		case sent == 0:
			problems = append(problems, fmt.Sprintf("Give one of %s: %s", strings.Join(group, " or "), describeGroup(group)))
		case sent > 1:
			problems = append(problems, fmt.Sprintf("Give only one of %s.", strings.Join(group, " or ")))
		}
	}
	_, serial := a["SerialNumber"]
	_, code := a["TokenCode"]
	_, profile := a["Profile"]
	if code && !serial && !profile {
		problems = append(problems, "TokenCode needs SerialNumber: give the MFA device's serial number (or leave both out and the user is asked for a code when one is needed).")
	}
	if _, ok := spec.Param(protocol.ParamProfile.Name); ok && !profile && a.Str("RoleSessionName") == "" {
		if _, sent := given["RoleSessionName"]; !sent {
			problems = append(problems, "RoleSessionName is required with RoleArn: "+protocol.ParamRoleSessionName.Description)
		}
	}
	if keys := a.Strings("TransitiveTagKeys"); len(keys) > 0 {
		tagKeys := map[string]bool{}
		tags, _ := a["Tags"].([]protocol.Tag)
		for _, t := range tags {
			tagKeys[strings.ToLower(t.Key)] = true
		}
		for _, k := range keys {
			if !tagKeys[strings.ToLower(k)] {
				problems = append(problems, fmt.Sprintf("TransitiveTagKeys names %q, which is not one of Tags.", clip.To(k, 40)))
			}
		}
	}
	if total := policyPlaintext(a); total > maxPolicyPlaintext {
		problems = append(problems, fmt.Sprintf("Policy and PolicyArns together are %d characters; STS allows %d in all.", total, maxPolicyPlaintext))
	}
	if a.Str("SessionName") == protocol.ReservedSessionName && spec.Mints != protocol.MintsNothing {
		problems = append(problems, fmt.Sprintf("SessionName %q is reserved for the base identity; choose another name.", protocol.ReservedSessionName))
	}
	return problems
}

func isFileParam(name string) bool {
	_, ok := fileParams[name]
	return ok
}

// oneOfPartners names the parameters that may stand in for name, or "".
func oneOfPartners(spec *protocol.CommandSpec, name string) string {
	for _, group := range spec.OneOf {
		if i := slices.Index(group, name); i >= 0 {
			return strings.Join(slices.Delete(slices.Clone(group), i, i+1), " or ")
		}
	}
	return ""
}

// describeGroup explains each parameter of a one-of group by the first sentence of its description.
func describeGroup(group []string) string {
	parts := make([]string, len(group))
	for i, n := range group {
		desc := protocol.Params[n].Description
		if j := strings.Index(desc, ". "); j > 0 {
			desc = desc[:j]
		}
		parts[i] = n + " is " + lowerFirst(strings.TrimSuffix(desc, "."))
	}
	return strings.Join(parts, "; ") + "."
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func satisfiedByAlternative(spec *protocol.CommandSpec, name string, a stsops.Args) bool {
	for _, group := range spec.OneOf {
		if slices.Contains(group, name) {
			for _, n := range group {
				if _, ok := a[n]; ok {
					return true
				}
			}
		}
	}
	return false
}

func policyPlaintext(a stsops.Args) int {
	n := utf8.RuneCountInString(a.Str("Policy"))
	for _, arn := range a.Strings("PolicyArns") {
		n += len(arn)
	}
	return n
}
