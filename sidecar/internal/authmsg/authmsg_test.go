package authmsg

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const explicitDenyMsg = `{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"DenyRunInstances","effect":"DENY","principals":{"items":[{"value":"AROAEXAMPLE"}]},"principalGroups":{"items":[]},"actions":{"items":[{"value":"ec2:RunInstances"}]},"resources":{"items":[{"value":"*"}]},"conditions":{"items":[]}}]},"failures":{"items":[]},"context":{"principal":{"id":"AROAEXAMPLE:alice","name":"alice","arn":"arn:aws:sts::123456789012:assumed-role/Dev/alice"},"action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:123456789012:instance/*","conditions":{"items":[{"key":"ec2:Region","values":{"items":[{"value":"us-east-1"}]}},{"key":"aws:username","values":{"items":[{"value":"alice"}]}}]}}}`

const allowedMsg = `{"allowed":true,"explicitDeny":false,"matchedStatements":{"items":[{"statementId":"AllowS3Read","effect":"ALLOW","sourcePolicyName":"ReadOnly","sourcePolicyId":"ANPAEXAMPLE","sourcePolicyType":"IAM Policy","actions":{"items":[{"value":"s3:GetObject"}]},"resources":{"items":[{"value":"arn:aws:s3:::bucket/*"}]},"conditions":{"items":[{"key":"aws:SecureTransport","values":{"items":[{"value":"true"}]}}]},"unknownField":{"x":1}}]},"failures":{"items":[]},"context":{"principal":{"arn":"arn:aws:iam::123456789012:user/bob"},"action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key"}}`

const implicitDenyMsg = `{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[{"value":"no identity-based policy allows the action"}]},"context":{"principal":{"id":"AIDAEXAMPLE","name":"carol"},"action":"iam:CreateRole","resource":"arn:aws:iam::123456789012:role/New","conditions":{"items":[{"key":"aws:username","values":{"items":[{"value":"carol"}]}},{"key":"aws:PrincipalTag/team","values":{"items":[{"value":"blue"},{"value":"green"}]}},{"key":"aws:CurrentTime","values":{"items":[{"value":"2024-01-01T00:00:00Z"}]}},{"key":"aws:MultiFactorAuthPresent","values":{"items":[{"value":"false"}]}}]}}}`

func TestParse(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		allowed      bool
		explicitDeny bool
		decision     string
		principal    Principal
		action       string
		resource     string
		context      []Condition
		matched      []Statement
		failures     []string
	}{
		{
			name: "explicit deny", in: explicitDenyMsg,
			explicitDeny: true, decision: DecisionExplicitDeny,
			principal: Principal{ID: "AROAEXAMPLE:alice", Name: "alice", ARN: "arn:aws:sts::123456789012:assumed-role/Dev/alice"},
			action:    "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/*",
			context: []Condition{{Key: "aws:username", Values: []string{"alice"}}, {Key: "ec2:Region", Values: []string{"us-east-1"}}},
			matched: []Statement{{StatementID: "DenyRunInstances", Effect: "DENY", Principals: []string{"AROAEXAMPLE"}, Actions: []string{"ec2:RunInstances"}, Resources: []string{"*"}}},
		},
		{
			name: "allowed", in: allowedMsg,
			allowed: true, decision: DecisionAllowed,
			principal: Principal{ARN: "arn:aws:iam::123456789012:user/bob"},
			action:    "s3:GetObject", resource: "arn:aws:s3:::bucket/key",
			matched: []Statement{{StatementID: "AllowS3Read", Effect: "ALLOW", SourcePolicy: "ReadOnly (ANPAEXAMPLE, IAM Policy)",
				Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::bucket/*"},
				Conditions: []Condition{{Key: "aws:SecureTransport", Values: []string{"true"}}}}},
		},
		{
			name: "implicit deny with multiple context values sorted by key", in: implicitDenyMsg,
			decision:  DecisionImplicitDeny,
			principal: Principal{ID: "AIDAEXAMPLE", Name: "carol"},
			action:    "iam:CreateRole", resource: "arn:aws:iam::123456789012:role/New",
			context: []Condition{
				{Key: "aws:CurrentTime", Values: []string{"2024-01-01T00:00:00Z"}},
				{Key: "aws:MultiFactorAuthPresent", Values: []string{"false"}},
				{Key: "aws:PrincipalTag/team", Values: []string{"blue", "green"}},
				{Key: "aws:username", Values: []string{"carol"}},
			},
			failures: []string{"no identity-based policy allows the action"},
		},
		{
			name: "missing fields", in: `{"allowed":false}`,
			decision: DecisionImplicitDeny,
		},
		{
			name: "wrong types are skipped, bare arrays accepted", in: `{"allowed":"yes","explicitDeny":true,"matchedStatements":[{"statementId":"S1","effect":"DENY","actions":["s3:*"],"resources":{"items":[{"value":42}]}}],"context":{"action":"s3:PutObject","principal":7}}`,
			explicitDeny: true, decision: DecisionExplicitDeny, action: "s3:PutObject",
			matched: []Statement{{StatementID: "S1", Effect: "DENY", Actions: []string{"s3:*"}, Resources: []string{"42"}}},
		},
		{
			name: "source policy with only type", in: `{"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"X","effect":"DENY","sourcePolicyType":"SCP"}]}}`,
			explicitDeny: true, decision: DecisionExplicitDeny,
			matched: []Statement{{StatementID: "X", Effect: "DENY", SourcePolicy: "SCP"}},
		},
		{
			name: "STS response wrapper", in: `{"DecodedMessage":` + strconvQuote(explicitDenyMsg) + `}`,
			explicitDeny: true, decision: DecisionExplicitDeny,
			principal: Principal{ID: "AROAEXAMPLE:alice", Name: "alice", ARN: "arn:aws:sts::123456789012:assumed-role/Dev/alice"},
			action:    "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/*",
			context: []Condition{{Key: "aws:username", Values: []string{"alice"}}, {Key: "ec2:Region", Values: []string{"us-east-1"}}},
			matched: []Statement{{StatementID: "DenyRunInstances", Effect: "DENY", Principals: []string{"AROAEXAMPLE"}, Actions: []string{"ec2:RunInstances"}, Resources: []string{"*"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Allowed != tt.allowed || m.ExplicitDeny != tt.explicitDeny || m.Decision != tt.decision {
				t.Errorf("allowed/explicitDeny/decision = %v/%v/%q, want %v/%v/%q", m.Allowed, m.ExplicitDeny, m.Decision, tt.allowed, tt.explicitDeny, tt.decision)
			}
			if m.Principal != tt.principal {
				t.Errorf("Principal = %+v, want %+v", m.Principal, tt.principal)
			}
			if m.Action != tt.action || m.Resource != tt.resource {
				t.Errorf("Action/Resource = %q/%q, want %q/%q", m.Action, m.Resource, tt.action, tt.resource)
			}
			if !reflect.DeepEqual(m.Context, tt.context) {
				t.Errorf("Context = %#v, want %#v", m.Context, tt.context)
			}
			if !reflect.DeepEqual(m.Matched, tt.matched) {
				t.Errorf("Matched = %#v, want %#v", m.Matched, tt.matched)
			}
			if !reflect.DeepEqual(m.Failures, tt.failures) {
				t.Errorf("Failures = %#v, want %#v", m.Failures, tt.failures)
			}
			if !json.Valid(m.Raw) || !strings.Contains(string(m.Raw), "\n  \"") {
				t.Errorf("Raw is not two-space indented JSON: %s", m.Raw)
			}
		})
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestParseErrors(t *testing.T) {
	long := "AQoDYXdzEJr" + strings.Repeat("x", 500) + "TAILMARKER"
	tests := []struct {
		name, in, wantSub string
	}{
		{"empty", "", "decoded message is not JSON: "},
		{"truncated object", `{"allowed":`, "decoded message is not JSON: "},
		{"encoded token instead of JSON", long, "decoded message is not JSON: "},
		{"array", `[1,2]`, "expected an object"},
		{"string", `"hello"`, "expected an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error", tt.in, m)
			}
			if !strings.HasPrefix(err.Error(), "decoded message is not JSON: ") || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not contain %q", err, tt.wantSub)
			}
			if strings.Contains(err.Error(), "TAILMARKER") || strings.Contains(err.Error(), strings.Repeat("x", maxEcho)) {
				t.Errorf("error echoes more than %d characters of input: %q", maxEcho, err)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		firstLine string
		contains  []string
		absent    []string
	}{
		{
			name:      "explicit deny",
			in:        explicitDenyMsg,
			firstLine: "**Explicit deny**: `ec2:RunInstances` on `arn:aws:ec2:us-east-1:123456789012:instance/*` for `arn:aws:sts::123456789012:assumed-role/Dev/alice`.",
			contains: []string{
				"**Deciding statements**", "- `DenyRunInstances` (DENY): actions `ec2:RunInstances`; resources `*`",
				"**Request context**\n- `aws:username` = `alice`\n- `ec2:Region` = `us-east-1`\n",
				"**What to do next**: An explicit Deny wins over any Allow: find statement `DenyRunInstances` (in an SCP, permission boundary, session policy or identity/resource policy) and narrow it or request an exception.",
			},
			absent: []string{"No policy allowed", "was allowed"},
		},
		{
			name:      "allowed",
			in:        allowedMsg,
			firstLine: "**Allowed**: `s3:GetObject` on `arn:aws:s3:::bucket/key` for `arn:aws:iam::123456789012:user/bob`.",
			contains: []string{
				"`AllowS3Read` (ALLOW)", "source policy `ReadOnly (ANPAEXAMPLE, IAM Policy)`", "conditions `aws:SecureTransport` = `true`",
				"**What to do next**: The request was allowed by these statements.",
			},
			absent: []string{"explicit Deny", "No policy allowed"},
		},
		{
			name:      "implicit deny",
			in:        implicitDenyMsg,
			firstLine: "**Implicit deny** (no statement allowed it): `iam:CreateRole` on `arn:aws:iam::123456789012:role/New` for `carol`.",
			contains: []string{
				"- none matched the request", "**Failures**", "- `aws:PrincipalTag/team` = `blue`, `green`",
				"**What to do next**: No policy allowed `iam:CreateRole` on `arn:aws:iam::123456789012:role/New`: add an Allow for it to the principal's identity policy (or the resource policy), and check permission boundaries, session policies and SCPs.",
			},
			absent: []string{"explicit Deny", "was allowed"},
		},
		{
			name:      "missing fields",
			in:        `{"explicitDeny":true}`,
			firstLine: "**Explicit deny**: `(unknown action)` on `(unknown resource)`.",
			contains:  []string{"find the Deny statement"},
			absent:    []string{"**Request context**", " for `"},
		},
		{
			name:      "backticks in values cannot break code spans",
			in:        "{\"context\":{\"action\":\"a`b\",\"resource\":\"r\\nx\"}}",
			firstLine: "**Implicit deny** (no statement allowed it): `` a`b `` on `r x`.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			md := m.Markdown()
			if first, _, _ := strings.Cut(md, "\n"); first != tt.firstLine {
				t.Errorf("first line = %q, want %q", first, tt.firstLine)
			}
			for _, s := range tt.contains {
				if !strings.Contains(md, s) {
					t.Errorf("Markdown lacks %q:\n%s", s, md)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(md, s) {
					t.Errorf("Markdown unexpectedly contains %q:\n%s", s, md)
				}
			}
		})
	}
}

func TestExtractEncoded(t *testing.T) {
	long := strings.Repeat("Ab0_-+/", 40) + "=="
	tests := []struct {
		name, text, want string
		wantOK           bool
	}{
		{"ec2 style", "You are not authorized to perform this operation. Encoded authorization failure message: abcDEF-_123...", "abcDEF-_123", true},
		{"cli error with request id", "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: " + long + "\n\tstatus code: 403, request id: 1234", long, true},
		{"quoted token", `Encoded authorization failure message: "QWxhZGRpbjpvcGVu"`, "QWxhZGRpbjpvcGVu", true},
		{"no token", "AccessDenied: User is not authorized to perform: s3:GetObject", "", false},
		{"phrase without token", "Encoded authorization failure message: ", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ExtractEncoded(tt.text)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("ExtractEncoded = (%q, %v), want (%q, %v)", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func ExampleParse() {
	m, err := Parse(`{"allowed":false,"explicitDeny":false,"context":{"principal":{"arn":"arn:aws:iam::123456789012:user/bob"},"action":"s3:PutObject","resource":"arn:aws:s3:::logs/a.txt"}}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Decision)
	fmt.Print(m.Markdown())
	// Output:
	// implicit deny (no statement allowed it)
	// **Implicit deny** (no statement allowed it): `s3:PutObject` on `arn:aws:s3:::logs/a.txt` for `arn:aws:iam::123456789012:user/bob`.
	//
	// **Deciding statements**
	// - none matched the request
	//
	// **What to do next**: No policy allowed `s3:PutObject` on `arn:aws:s3:::logs/a.txt`: add an Allow for it to the principal's identity policy (or the resource policy), and check permission boundaries, session policies and SCPs.
}
