package localsts

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTrustPolicyEvaluation(t *testing.T) {
	alice := trustRequest{Actions: []string{"sts:AssumeRole"}, Account: DemoAccount, ARNs: []string{userARN(DemoAccount, "alice")}, Context: map[string][]string{}}
	devSession := trustRequest{Actions: []string{"sts:AssumeRole"}, Account: DemoAccount,
		ARNs: []string{assumedRoleARN(DemoAccount, "Dev", "s1"), roleARN(DemoAccount, "Dev")}, Context: map[string][]string{}}
	withCtx := func(r trustRequest, kv ...string) trustRequest {
		r.Context = map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Context[kv[i]] = append(r.Context[kv[i]], kv[i+1])
		}
		return r
	}
	withActions := func(r trustRequest, actions ...string) trustRequest { r.Actions = actions; return r }
	allow := func(principal, action, condition string) string {
		s := `{"Statement":{"Sid":"s","Effect":"Allow","Principal":` + principal + `,"Action":` + action
		if condition != "" {
			s += `,"Condition":` + condition
		}
		return s + `}}`
	}
	tests := []struct {
		name     string
		policy   string
		req      trustRequest
		allowed  bool
		explicit bool
	}{
		{"account id trusts a user of the account", allow(`{"AWS":"123456789012"}`, `"sts:AssumeRole"`, ""), alice, true, false},
		{"account root ARN trusts a role session of the account", allow(`{"AWS":"arn:aws:iam::123456789012:root"}`, `"sts:AssumeRole"`, ""), devSession, true, false},
		{"other account trusts nobody here", allow(`{"AWS":"111122223333"}`, `"sts:AssumeRole"`, ""), alice, false, false},
		{"role ARN trusts its sessions", allow(`{"AWS":["arn:aws:iam::123456789012:role/Dev"]}`, `"sts:AssumeRole"`, ""), devSession, true, false},
		{"role ARN does not trust users", allow(`{"AWS":"arn:aws:iam::123456789012:role/Dev"}`, `"sts:AssumeRole"`, ""), alice, false, false},
		{"star principal", allow(`"*"`, `"sts:AssumeRole"`, ""), alice, true, false},
		{"wildcard action", allow(`"*"`, `"sts:Assume*"`, ""), alice, true, false},
		{"actions are case-insensitive", allow(`"*"`, `"STS:assumerole"`, ""), alice, true, false},
		{"other action", allow(`"*"`, `"sts:AssumeRoleWithSAML"`, ""), alice, false, false},
		{"every action must be allowed", allow(`"*"`, `"sts:AssumeRole"`, ""), withActions(alice, "sts:AssumeRole", "sts:TagSession"), false, false},
		{"NotAction", `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"sts:TagSession"}}`, alice, true, false},
		{"NotPrincipal", `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}}`, alice, true, false},
		{"explicit deny wins", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:*"},{"Sid":"no","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}`,
			alice, false, true},
		{"StringEquals matches", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"e1"}}`), withCtx(alice, "sts:externalid", "e1"), true, false},
		{"StringEquals is case-sensitive", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"e1"}}`), withCtx(alice, "sts:externalid", "E1"), false, false},
		{"StringEquals with a missing key", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"e1"}}`), alice, false, false},
		{"condition keys are case-insensitive", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEquals":{"STS:EXTERNALID":"e1"}}`), withCtx(alice, "sts:externalid", "e1"), true, false},
		{"any listed value", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":["e0","e1"]}}`), withCtx(alice, "sts:externalid", "e1"), true, false},
		{"StringNotEquals with a missing key", allow(`"*"`, `"sts:AssumeRole"`, `{"StringNotEquals":{"sts:ExternalId":"e1"}}`), alice, true, false},
		{"StringNotEquals matching", allow(`"*"`, `"sts:AssumeRole"`, `{"StringNotEquals":{"sts:ExternalId":"e1"}}`), withCtx(alice, "sts:externalid", "e1"), false, false},
		{"StringLike", allow(`"*"`, `"sts:AssumeRole"`, `{"StringLike":{"sts:RoleSessionName":"ci-*-??"}}`), withCtx(alice, "sts:rolesessionname", "ci-build-01"), true, false},
		{"StringLike mismatch", allow(`"*"`, `"sts:AssumeRole"`, `{"StringLike":{"sts:RoleSessionName":"ci-*"}}`), withCtx(alice, "sts:rolesessionname", "dev"), false, false},
		{"StringEqualsIgnoreCase", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"Platform"}}`), withCtx(alice, "aws:principaltag/team", "platform"), true, false},
		{"Bool true", allow(`"*"`, `"sts:AssumeRole"`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), withCtx(alice, "aws:multifactorauthpresent", "true"), true, false},
		{"Bool with the key absent", allow(`"*"`, `"sts:AssumeRole"`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), alice, false, false},
		{"Bool with a JSON boolean", allow(`"*"`, `"sts:AssumeRole"`, `{"Bool":{"aws:MultiFactorAuthPresent":true}}`), withCtx(alice, "aws:multifactorauthpresent", "true"), true, false},
		{"BoolIfExists with the key absent", allow(`"*"`, `"sts:AssumeRole"`, `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`), alice, true, false},
		{"BoolIfExists with the key present", allow(`"*"`, `"sts:AssumeRole"`, `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`), withCtx(alice, "aws:multifactorauthpresent", "true"), false, false},
		{"NumericLessThan", allow(`"*"`, `"sts:AssumeRole"`, `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`), withCtx(alice, "aws:multifactorauthage", "120"), true, false},
		{"NumericLessThan too old", allow(`"*"`, `"sts:AssumeRole"`, `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`), withCtx(alice, "aws:multifactorauthage", "7200"), false, false},
		{"Null true means absent", allow(`"*"`, `"sts:AssumeRole"`, `{"Null":{"sts:ExternalId":"true"}}`), alice, true, false},
		{"Null false means present", allow(`"*"`, `"sts:AssumeRole"`, `{"Null":{"sts:ExternalId":"false"}}`), alice, false, false},
		{"ForAllValues with no tags", allow(`"*"`, `"sts:AssumeRole"`, `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`), alice, true, false},
		{"ForAllValues with an extra tag", allow(`"*"`, `"sts:AssumeRole"`, `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`), withCtx(alice, "aws:tagkeys", "a", "aws:tagkeys", "c"), false, false},
		{"ForAnyValue", allow(`"*"`, `"sts:AssumeRole"`, `{"ForAnyValue:StringEquals":{"aws:TagKeys":["c"]}}`), withCtx(alice, "aws:tagkeys", "a", "aws:tagkeys", "c"), true, false},
		{"ForAnyValue with the key absent", allow(`"*"`, `"sts:AssumeRole"`, `{"ForAnyValue:StringEquals":{"aws:TagKeys":["c"]}}`), alice, false, false},
		{"ArnLike", allow(`"*"`, `"sts:AssumeRole"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/*"}}`), withCtx(devSession, "aws:principalarn", roleARN(DemoAccount, "Dev")), true, false},
		{"all operators must hold", allow(`"*"`, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"e1"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}`),
			withCtx(alice, "sts:externalid", "e1"), false, false},
		{"federated principal", allow(`{"Federated":"arn:aws:iam::123456789012:saml-provider/DemoIdP"}`, `"sts:AssumeRoleWithSAML"`, ""),
			trustRequest{Actions: []string{"sts:AssumeRoleWithSAML"}, Federated: samlProviderARN(DemoAccount, "DemoIdP")}, true, false},
		{"federated principal by OIDC host", allow(`{"Federated":"token.actions.githubusercontent.com"}`, `"sts:AssumeRoleWithWebIdentity"`, ""),
			trustRequest{Actions: []string{"sts:AssumeRoleWithWebIdentity"}, Federated: oidcProviderARN(DemoAccount, "token.actions.githubusercontent.com")}, true, false},
		{"AWS principals do not trust federated callers", allow(`{"AWS":"123456789012"}`, `"sts:AssumeRoleWithSAML"`, ""),
			trustRequest{Actions: []string{"sts:AssumeRoleWithSAML"}, Federated: samlProviderARN(DemoAccount, "DemoIdP")}, false, false},
		{"placeholders expand", allow(`{"Federated":"arn:aws:iam::123456789012:oidc-provider/${localsts:oidc}"}`, `"sts:AssumeRoleWithWebIdentity"`, `{"StringEquals":{"${localsts:oidc}:aud":"demo-client"}}`),
			trustRequest{Actions: []string{"sts:AssumeRoleWithWebIdentity"}, Federated: oidcProviderARN(DemoAccount, "127.0.0.1:9/_localsts/oidc"),
				Context: map[string][]string{"127.0.0.1:9/_localsts/oidc:aud": {"demo-client"}},
				Expand:  func(s string) string { return strings.ReplaceAll(s, OIDCPlaceholder, "127.0.0.1:9/_localsts/oidc") }}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePolicy(json.RawMessage(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			allowed, explicit := p.decide(tt.req)
			if allowed != tt.allowed || explicit != tt.explicit {
				t.Fatalf("allowed %v explicit %v, want %v %v", allowed, explicit, tt.allowed, tt.explicit)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"a*", "a/b/c", true},
		{"*", "", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*b*", "aaabaaa", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	} {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			if got := globMatch(tt.pattern, tt.s); got != tt.want {
				t.Fatalf("globMatch(%q, %q) = %v", tt.pattern, tt.s, got)
			}
		})
	}
}

func TestPackedPolicySize(t *testing.T) {
	small := packedPolicySize(sessionPolicy{policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}, nil)
	for _, tt := range []struct {
		name     string
		sp       sessionPolicy
		tags     []tag
		min, max int
	}{
		{"nothing", sessionPolicy{}, nil, 0, 0},
		{"a small policy", sessionPolicy{policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}, nil, 1, 10},
		{"whitespace does not count", sessionPolicy{policy: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ { \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\" } ]\n}"}, nil, small, small},
		{"a few tags", sessionPolicy{}, []tag{{"team", "blue"}, {"project", "x"}}, 1, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := packedPolicySize(tt.sp, tt.tags); got < tt.min || got > tt.max {
				t.Fatalf("PackedPolicySize %d, want %d..%d", got, tt.min, tt.max)
			}
		})
	}
}
