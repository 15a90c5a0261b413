package localsts

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parameter patterns, as STS's API model states them (the text is what error messages quote).
var (
	patSessionName = pattern(`[\w+=,.@-]*`)
	patExternalID  = pattern(`[\w+=,.@:\/-]*`)
	patSerial      = pattern(`[\w+=/:,.@-]*`)
	patTokenCode   = pattern(`[\d]*`)
	patPolicy      = pattern(`[\u0009\u000A\u000D\u0020-\u00FF]+`)
	patFedName     = pattern(`[\w+=,.@-]*`)
	patAccessKeyID = pattern(`[\w]*`)
	patTagKey      = pattern(`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	patTagValue    = pattern(`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
	patArn         = pattern(`[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`)
)

// stsPattern is a constraint pattern: the regexp, anchored, and its text as STS quotes it.
type stsPattern struct {
	re   *regexp.Regexp
	text string
}

func pattern(text string) stsPattern {
	goText := strings.NewReplacer(`\u0009`, `\x{0009}`, `\u000A`, `\x{000A}`, `\u000D`, `\x{000D}`,
		`\u0020`, `\x{0020}`, `\u00FF`, `\x{00FF}`, `\u007E`, `\x{007E}`, `\u0085`, `\x{0085}`,
		`\u00A0`, `\x{00A0}`, `\uD7FF`, `\x{D7FF}`, `\uE000`, `\x{E000}`, `\uFFFD`, `\x{FFFD}`,
		`\u10000`, `\x{10000}`, `\u10FFFF`, `\x{10FFFF}`).Replace(text)
	return stsPattern{re: regexp.MustCompile(`^(?:` + goText + `)$`), text: text}
}

// validator collects constraint violations so they are reported together, as STS does:
// "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint:
// Member must have length greater than or equal to 2; Value …".
type validator struct{ msgs []string }

// secretMembers are never echoed in messages (STS leaves sensitive values out too).
var secretMembers = map[string]bool{"tokenCode": true, "sAMLAssertion": true, "webIdentityToken": true, "tradeInToken": true}

func (v *validator) fail(member, value string, null bool, constraint string) {
	var what string
	switch {
	case null:
		what = "Value null"
	case secretMembers[member]:
		what = "Value"
	default:
		what = "Value '" + value + "'"
	}
	v.msgs = append(v.msgs, what+" at '"+member+"' failed to satisfy constraint: "+constraint)
}

func (v *validator) err() error {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return errBadRequest("ValidationError", "1 validation error detected: %s", v.msgs[0])
	}
	return errBadRequest("ValidationError", "%d validation errors detected: %s", len(v.msgs), strings.Join(v.msgs, "; "))
}

// str checks an optional (or, with required, mandatory) string parameter.
func (v *validator) str(form map[string][]string, param, member string, required bool, minLen, maxLen int, p *stsPattern) (string, bool) {
	vals, present := form[param]
	if !present {
		if required {
			v.fail(member, "", true, "Member must not be null")
		}
		return "", false
	}
	val := vals[0]
	v.check(member, val, minLen, maxLen, p)
	return val, true
}

func (v *validator) check(member, val string, minLen, maxLen int, p *stsPattern) {
	n := utf8.RuneCountInString(val)
	if n < minLen {
		v.fail(member, val, false, fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	}
	if n > maxLen {
		v.fail(member, val, false, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	}
	if p != nil && n > 0 && !p.re.MatchString(val) {
		v.fail(member, val, false, "Member must satisfy regular expression pattern: "+p.text)
	}
}

// integer reads an optional integer parameter within [lo, hi]; absent yields def.
func (v *validator) integer(form map[string][]string, param, member string, lo, hi, def int) (int, error) {
	vals, present := form[param]
	if !present {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(vals[0]))
	if err != nil {
		return 0, errBadRequest("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected an integer.", vals[0], param)
	}
	if n < lo {
		v.fail(member, vals[0], false, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	}
	if n > hi {
		v.fail(member, vals[0], false, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
	return n, nil
}

// listMember is one element of a Query-protocol list (Name.member.N[.Field]), in index order.
type listMember struct {
	index  int
	fields map[string]string // "" for scalar lists
}

// members parses Name.member.N and Name.member.N.Field parameters, ordered by N. "Name=" alone
// (an empty list) yields none.
func members(form map[string][]string, name string) []listMember {
	prefix := name + ".member."
	byIndex := map[int]*listMember{}
	for k, vals := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			continue
		}
		m := byIndex[n]
		if m == nil {
			m = &listMember{index: n, fields: map[string]string{}}
			byIndex[n] = m
		}
		m.fields[field] = vals[0]
	}
	out := make([]listMember, 0, len(byIndex))
	for _, m := range byIndex {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

func listText(vals []string) string { return "[" + strings.Join(vals, ", ") + "]" }

// sessionPolicy is the validated session policy input shared by AssumeRole*, and
// GetFederationToken.
type sessionPolicy struct {
	policy string
	arns   []string
}

// policyParams validates Policy and PolicyArns.member.N.arn.
func (v *validator) policyParams(form map[string][]string) sessionPolicy {
	var sp sessionPolicy
	sp.policy, _ = v.str(form, "Policy", "policy", false, 1, 2048, &patPolicy)
	ms := members(form, "PolicyArns")
	for _, m := range ms {
		a := m.fields["arn"]
		v.check(fmt.Sprintf("policyArns.%d.member.arn", m.index), a, 20, 2048, &patArn)
		sp.arns = append(sp.arns, a)
	}
	if len(ms) > 10 {
		v.fail("policyArns", listText(sp.arns), false, "Member must have length less than or equal to 10")
	}
	return sp
}

// checkPolicyJSON is the MalformedPolicyDocument check that runs after parameter validation.
func (sp sessionPolicy) checkJSON() error {
	if sp.policy == "" {
		return nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(sp.policy), &doc); err != nil {
		return errBadRequest("MalformedPolicyDocument", "Syntax errors in policy.")
	}
	if _, ok := doc["Statement"]; !ok {
		return errBadRequest("MalformedPolicyDocument", "Syntax errors in policy.")
	}
	return nil
}

// tagParams validates Tags.member.N.Key/Value (≤ 50) and, when transitive is set,
// TransitiveTagKeys.member.N (≤ 50, each among the tags).
func (v *validator) tagParams(form map[string][]string, transitive bool) (tags []tag, trans []string) {
	ms := members(form, "Tags")
	for _, m := range ms {
		t := tag{m.fields["Key"], m.fields["Value"]}
		if _, ok := m.fields["Key"]; !ok {
			v.fail(fmt.Sprintf("tags.%d.member.key", m.index), "", true, "Member must not be null")
		} else {
			v.check(fmt.Sprintf("tags.%d.member.key", m.index), t.Key, 1, 128, &patTagKey)
		}
		if _, ok := m.fields["Value"]; !ok {
			v.fail(fmt.Sprintf("tags.%d.member.value", m.index), "", true, "Member must not be null")
		} else {
			v.check(fmt.Sprintf("tags.%d.member.value", m.index), t.Value, 0, 256, &patTagValue)
		}
		tags = append(tags, t)
	}
	if len(tags) > 50 {
		v.fail("tags", fmt.Sprintf("[%d tags]", len(tags)), false, "Member must have length less than or equal to 50")
	}
	if !transitive {
		return tags, nil
	}
	tms := members(form, "TransitiveTagKeys")
	for _, m := range tms {
		k := m.fields[""]
		v.check(fmt.Sprintf("transitiveTagKeys.%d.member", m.index), k, 1, 128, &patTagKey)
		trans = append(trans, k)
	}
	if len(trans) > 50 {
		v.fail("transitiveTagKeys", listText(trans), false, "Member must have length less than or equal to 50")
	}
	return tags, trans
}

// checkTags applies the rules STS checks after validation: keys are unique ignoring case, and
// transitive keys must be among the tags.
func checkTags(tags []tag, trans []string) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return errBadRequest("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
		if strings.HasPrefix(k, "aws:") {
			return errBadRequest("InvalidParameterValue", "Tag keys cannot start with the 'aws:' prefix.")
		}
	}
	for _, k := range trans {
		if !seen[strings.ToLower(k)] {
			return errBadRequest("InvalidParameterValue", "The specified transitive tag key must be included in the requested tags.")
		}
	}
	return nil
}

// packedCapacity is the packed (compressed) budget that PackedPolicySize is a percentage of.
// STS packs session policies and tags into the session token in a binary, compressed form with
// a fixed budget; deflate over the same inputs behaves alike: repetitive JSON packs small, many
// long random tags overflow it.
const packedCapacity = 2048

// packedPolicySize is the PackedPolicySize percentage for a session's policy, policy ARNs and
// tags (0 when there are none): ceil(100 × deflated size / packedCapacity).
func packedPolicySize(sp sessionPolicy, tags []tag) int {
	var raw bytes.Buffer
	if sp.policy != "" {
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(sp.policy)) == nil {
			raw.Write(compact.Bytes())
		} else {
			raw.WriteString(sp.policy)
		}
	}
	for _, a := range sp.arns {
		raw.WriteString(a)
		raw.WriteByte(0)
	}
	for _, t := range tags {
		raw.WriteString(t.Key)
		raw.WriteByte(0)
		raw.WriteString(t.Value)
		raw.WriteByte(0)
	}
	if raw.Len() == 0 {
		return 0
	}
	var packed bytes.Buffer
	w, _ := flate.NewWriter(&packed, flate.BestCompression)
	w.Write(raw.Bytes())
	w.Close()
	return (packed.Len()*100 + packedCapacity - 1) / packedCapacity
}

// errPackedTooLarge is STS's answer when policies and tags do not fit the session token.
func errPackedTooLarge(pct int) error {
	return &apiError{status: http.StatusBadRequest, code: "PackedPolicyTooLarge",
		message: fmt.Sprintf("Packed size of consumed session policies and session tags is %d%% of the allowed maximum; reduce the session policy or the session tags.", pct)}
}

func itoa(n int) string { return strconv.Itoa(n) }
