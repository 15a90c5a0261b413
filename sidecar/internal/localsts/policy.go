package localsts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// policy is a parsed trust policy.
type policy struct {
	Statements []statement
}

// statement is one policy statement; Action or NotAction, Principal or NotPrincipal.
type statement struct {
	Sid          string
	Allow        bool
	Principal    *principalSet
	NotPrincipal *principalSet
	Action       []string
	NotAction    []string
	Conditions   []condition
}

// principalSet is a statement's Principal element; Any is "*".
type principalSet struct {
	Any       bool
	AWS       []string
	Federated []string
	Service   []string
}

// condition is one key of one operator block, e.g. StringEquals {"sts:ExternalId": [...]}.
type condition struct {
	Operator string // as written, for messages
	op       string // base operator, lower case, without IfExists and set qualifier
	ifExists bool
	set      string // "", "foranyvalue" or "forallvalues"
	Key      string
	Values   []string
}

// conditionOps are the base condition operators the evaluator understands.
var conditionOps = map[string]bool{
	"stringequals": true, "stringnotequals": true, "stringequalsignorecase": true,
	"stringnotequalsignorecase": true, "stringlike": true, "stringnotlike": true,
	"numericequals": true, "numericnotequals": true, "numericlessthan": true,
	"numericlessthanequals": true, "numericgreaterthan": true, "numericgreaterthanequals": true,
	"dateequals": true, "datenotequals": true, "datelessthan": true, "datelessthanequals": true,
	"dategreaterthan": true, "dategreaterthanequals": true,
	"bool": true, "arnequals": true, "arnlike": true, "arnnotequals": true, "arnnotlike": true,
	"null": true,
}

// parsePolicy reads a policy document strictly enough to reject what IAM rejects in a trust
// policy, with a message that names the offending element.
func parsePolicy(raw json.RawMessage) (*policy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	for k := range top {
		if k != "Version" && k != "Id" && k != "Statement" {
			return nil, fmt.Errorf("unknown element %q (want Version, Id, Statement)", k)
		}
	}
	if v, ok := top["Version"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || (s != "2012-10-17" && s != "2008-10-17") {
			return nil, fmt.Errorf("Version must be \"2012-10-17\" or \"2008-10-17\"")
		}
	}
	raws, err := objectOrList(top["Statement"])
	if err != nil || len(raws) == 0 {
		return nil, errors.New("Statement must be a statement object or a non-empty list of them")
	}
	p := &policy{}
	for i, r := range raws {
		st, err := parseStatement(r)
		if err != nil {
			return nil, fmt.Errorf("Statement[%d]: %v", i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func objectOrList(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	if raw[0] == '[' {
		var l []json.RawMessage
		err := json.Unmarshal(raw, &l)
		return l, err
	}
	if raw[0] == '{' {
		return []json.RawMessage{raw}, nil
	}
	return nil, errors.New("not an object or list")
}

// stringOrList decodes "x" or ["x", "y"]; numbers and booleans become their JSON text, which is
// how IAM treats condition values.
func stringOrList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	var items []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(it, &n); err == nil {
			out = append(out, n.String())
			continue
		}
		var b bool
		if err := json.Unmarshal(it, &b); err == nil {
			out = append(out, strconv.FormatBool(b))
			continue
		}
		return nil, fmt.Errorf("%s is not a string", it)
	}
	return out, nil
}

func parseStatement(raw json.RawMessage) (statement, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return statement{}, errors.New("not a JSON object")
	}
	var st statement
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &st.Sid)
		case "Effect":
			var e string
			if json.Unmarshal(v, &e) != nil || (e != "Allow" && e != "Deny") {
				return st, fmt.Errorf("Effect must be \"Allow\" or \"Deny\", not %s", v)
			}
			st.Allow = e == "Allow"
		case "Principal":
			st.Principal, err = parsePrincipal(v)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipal(v)
		case "Action":
			st.Action, err = stringOrList(v)
		case "NotAction":
			st.NotAction, err = stringOrList(v)
		case "Condition":
			st.Conditions, err = parseConditions(v)
		case "Resource", "NotResource":
			return st, fmt.Errorf("a trust policy must not have %s (the role is the resource)", k)
		default:
			return st, fmt.Errorf("unknown element %q", k)
		}
		if err != nil {
			return st, fmt.Errorf("%s: %v", k, err)
		}
	}
	if _, ok := m["Effect"]; !ok {
		return st, errors.New("Effect is required")
	}
	if (st.Principal == nil) == (st.NotPrincipal == nil) {
		return st, errors.New("exactly one of Principal and NotPrincipal is required in a trust policy")
	}
	if (st.Action == nil) == (st.NotAction == nil) {
		return st, errors.New("exactly one of Action and NotAction is required")
	}
	for _, a := range append(append([]string{}, st.Action...), st.NotAction...) {
		if a != "*" && !strings.Contains(a, ":") {
			return st, fmt.Errorf("action %q must be SERVICE:ACTION or *", a)
		}
	}
	return st, nil
}

func parsePrincipal(raw json.RawMessage) (*principalSet, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", not %q", s)
		}
		return &principalSet{Any: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("must be \"*\" or an object")
	}
	ps := &principalSet{}
	for k, v := range m {
		vals, err := stringOrList(v)
		if err != nil || len(vals) == 0 {
			return nil, fmt.Errorf("%s: must be a string or a non-empty list of strings", k)
		}
		switch k {
		case "AWS":
			ps.AWS = vals
		case "Federated":
			ps.Federated = vals
		case "Service":
			ps.Service = vals
		default:
			return nil, fmt.Errorf("unknown principal type %q (want AWS, Federated or Service)", k)
		}
	}
	return ps, nil
}

func parseConditions(raw json.RawMessage) ([]condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, errors.New("must be an object of operator → {key: values}")
	}
	var out []condition
	for opName, keys := range ops {
		c := condition{Operator: opName}
		base := strings.ToLower(opName)
		if q, rest, ok := strings.Cut(base, ":"); ok {
			if q != "foranyvalue" && q != "forallvalues" {
				return nil, fmt.Errorf("unknown set operator %q", opName)
			}
			c.set, base = q, rest
		}
		if strings.HasSuffix(base, "ifexists") && base != "null" {
			c.ifExists, base = true, strings.TrimSuffix(base, "ifexists")
		}
		if !conditionOps[base] {
			return nil, fmt.Errorf("unsupported condition operator %q", opName)
		}
		c.op = base
		for key, v := range keys {
			vals, err := stringOrList(v)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %v", opName, key, err)
			}
			cc := c
			cc.Key, cc.Values = key, vals
			out = append(out, cc)
		}
	}
	// Map order is random; sorting keeps evaluation and messages deterministic.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// trustRequest is what a trust policy is evaluated against.
type trustRequest struct {
	// Actions must all be allowed (e.g. sts:AssumeRole plus sts:TagSession when tagging).
	Actions []string
	// Account is the calling principal's account ("" for federated callers).
	Account string
	// ARNs identify an AWS caller: its ARN, and for role sessions also the role's ARN.
	ARNs []string
	// Federated is the identity provider ARN for SAML and web identity callers.
	Federated string
	// Context holds the request's condition keys, by lower-case key.
	Context map[string][]string
	// Expand replaces placeholders (OIDCPlaceholder) in policy strings.
	Expand func(string) string
}

// decide evaluates the policy: an explicit Deny wins, then an Allow, else the implicit deny.
func (p *policy) decide(req trustRequest) (allowed, explicitDeny bool) {
	allowed = true
	for _, action := range req.Actions {
		allowedThis := false
		for _, st := range p.Statements {
			if !st.matches(action, req) {
				continue
			}
			if !st.Allow {
				return false, true
			}
			allowedThis = true
		}
		allowed = allowed && allowedThis
	}
	return allowed, false
}

func (st *statement) matches(action string, req trustRequest) bool {
	switch {
	case st.Principal != nil && !st.Principal.matches(req):
		return false
	case st.NotPrincipal != nil && st.NotPrincipal.matches(req):
		return false
	case st.Action != nil && !anyWildcard(st.Action, action):
		return false
	case st.NotAction != nil && anyWildcard(st.NotAction, action):
		return false
	}
	for _, c := range st.Conditions {
		if !c.holds(req) {
			return false
		}
	}
	return true
}

func anyWildcard(patterns []string, action string) bool {
	for _, p := range patterns {
		if globMatch(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// globMatch is IAM's wildcard match: * matches any run of characters (slashes included, unlike
// path.Match), ? exactly one.
func globMatch(p, s string) bool {
	// Iterative matcher that backtracks only to the last star, so it cannot blow up.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func (ps *principalSet) matches(req trustRequest) bool {
	if ps.Any {
		return true
	}
	expand := req.Expand
	if expand == nil {
		expand = func(s string) string { return s }
	}
	if req.Federated != "" {
		for _, f := range ps.Federated {
			f = expand(f)
			if f == req.Federated || (!strings.HasPrefix(f, "arn:") && strings.HasSuffix(req.Federated, ":oidc-provider/"+f)) {
				return true
			}
		}
		return false
	}
	for _, a := range ps.AWS {
		switch {
		case a == "*":
			return true
		case a == req.Account || a == rootARN(req.Account):
			return true
		}
		for _, arn := range req.ARNs {
			if a == arn {
				return true
			}
		}
	}
	return false
}

// holds evaluates one condition key against the request context, following IAM's rules for
// missing keys, IfExists, negated operators and the ForAnyValue/ForAllValues set qualifiers.
func (c *condition) holds(req trustRequest) bool {
	key := c.Key
	if req.Expand != nil {
		key = req.Expand(key)
	}
	ctxVals, present := req.Context[strings.ToLower(key)]
	values := c.Values
	if req.Expand != nil {
		values = make([]string, len(c.Values))
		for i, v := range c.Values {
			values[i] = req.Expand(v)
		}
	}
	if c.op == "null" {
		want := len(values) > 0 && strings.EqualFold(values[0], "true")
		return want == !present
	}
	negated := strings.Contains(c.op, "not")
	if !present {
		switch {
		case c.ifExists, c.set == "forallvalues":
			return true
		case c.set == "foranyvalue":
			return false
		default:
			return negated
		}
	}
	one := func(v string) bool { return matchValue(c.op, v, values) }
	switch c.set {
	case "forallvalues":
		for _, v := range ctxVals {
			if !one(v) {
				return false
			}
		}
		return true
	default: // ForAnyValue, and single-valued keys
		if negated && c.set == "" {
			// A negated operator holds when no context value matches any policy value.
			for _, v := range ctxVals {
				if !one(v) {
					return false
				}
			}
			return true
		}
		for _, v := range ctxVals {
			if one(v) {
				return true
			}
		}
		return false
	}
}

// matchValue reports whether the context value v satisfies op against any of the policy
// values. Negated operators return true when v matches none of them.
func matchValue(op, v string, policyVals []string) bool {
	positive := strings.Replace(op, "not", "", 1)
	hit := false
	for _, pv := range policyVals {
		if matchOne(positive, v, pv) {
			hit = true
			break
		}
	}
	if positive != op {
		return !hit
	}
	return hit
}

func matchOne(op, v, pv string) bool {
	switch op {
	case "stringequals":
		return v == pv
	case "stringequalsignorecase":
		return strings.EqualFold(v, pv)
	case "stringlike", "arnlike":
		return globMatch(pv, v)
	case "arnequals":
		return v == pv
	case "bool":
		return strings.EqualFold(v, pv)
	case "numericequals", "numericlessthan", "numericlessthanequals", "numericgreaterthan", "numericgreaterthanequals":
		a, err1 := strconv.ParseFloat(v, 64)
		b, err2 := strconv.ParseFloat(pv, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compare(op[len("numeric"):], a, b)
	case "dateequals", "datelessthan", "datelessthanequals", "dategreaterthan", "dategreaterthanequals":
		a, ok1 := parseDate(v)
		b, ok2 := parseDate(pv)
		if !ok1 || !ok2 {
			return false
		}
		return compare(op[len("date"):], float64(a.Unix()), float64(b.Unix()))
	}
	return false
}

func compare(rel string, a, b float64) bool {
	switch rel {
	case "equals":
		return a == b
	case "lessthan":
		return a < b
	case "lessthanequals":
		return a <= b
	case "greaterthan":
		return a > b
	case "greaterthanequals":
		return a >= b
	}
	return false
}

func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
