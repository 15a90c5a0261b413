package tool

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", 65)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"` + strings.Repeat("x", 2000) + `"}]}`
	tests := []struct {
		name    string
		command string
		params  string
		want    []string // substrings of the error; none means it must pass
	}{
		{"ok minimal", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me"}`, nil},
		{"null params", "GetCallerIdentity", `null`, nil},
		{"null value is absent", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","ExternalId":null}`, nil},
		{"params not an object", "GetCallerIdentity", `["x"]`, []string{"must be a JSON object", "got an array"}},
		{"missing required", "AssumeRole", `{}`, []string{"Give one of RoleArn or Profile: RoleArn is the ARN of the role", "RoleSessionName is required with RoleArn", "AssumeRole takes: RoleArn (or Profile), RoleSessionName"}},
		{"profile needs no RoleSessionName", "AssumeRole", `{"Profile":"dev"}`, nil},
		{"RoleArn and Profile", "AssumeRole", `{"Profile":"dev","RoleArn":"arn:aws:iam::123456789012:role/Dev"}`, []string{"Give only one of RoleArn or Profile"}},
		{"serial alone asks for the code", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","SerialNumber":"arn:aws:iam::123456789012:mfa/alice"}`, nil},
		{"code needs a serial", "GetSessionToken", `{"TokenCode":"123456"}`, []string{"TokenCode needs SerialNumber"}},
		{"unknown param, case", "AssumeRole", `{"roleArn":"x"}`, []string{`does not take "roleArn"`, `Did you mean "RoleArn"?`}},
		{"unknown param, typo", "AssumeRole", `{"RoleSesionName":"x"}`, []string{`Did you mean "RoleSessionName"?`}},
		{"unknown param, nothing close", "GetCallerIdentity", `{"Banana":1}`, []string{`does not take "Banana"`, "takes: Session, Region"}},
		{"a wrong GetWebIdentityToken param", "GetWebIdentityToken", `{"WebIdentityToken":"x","Audience":["a"],"SigningAlgorithm":"RS256"}`, []string{"it takes Audience and SigningAlgorithm", "AssumeRoleWithWebIdentity"}},
		{"a wrong GetDelegatedAccessToken param", "GetDelegatedAccessToken", `{"Token":"abcd"}`, []string{`Use "TradeInToken" instead`, "TradeInToken is required"}},
		{"local commands take no Session", "ListSessions", `{"Session":"x"}`, []string{`ListSessions does not take "Session"`, "ListSessions takes: Filter."}},
		{"ListSessions filter with markup", "ListSessions", "{\"Filter\":\"`dev`\"}", []string{"Filter has characters"}},
		{"ListSessions filter ok", "ListSessions", `{"Filter":"arn:aws:sts::123456789012:assumed-role/Dev"}`, nil},
		{"session name too long", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"` + long + `"}`, []string{"RoleSessionName must be 2 to 64 characters long, but is 65"}},
		{"session name bad chars", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"my session"}`, []string{"RoleSessionName has characters STS does not allow", `(got "my session")`}},
		{"role name not ARN", "AssumeRole", `{"RoleArn":"DevRoleName-xxxxxxxxxxx","RoleSessionName":"me"}`, []string{"RoleArn has characters STS does not allow"}},
		{"duration under AssumeRole min", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","DurationSeconds":899}`, []string{"is 899 but must be between 900 and 43200"}},
		{"duration over GetSessionToken max", "GetSessionToken", `{"DurationSeconds":129601}`, []string{"between 900 and 129600"}},
		{"AssumeRoot max 900", "AssumeRoot", `{"TargetPrincipal":"111122223333","TaskPolicyArn":"S3UnlockBucketPolicy","DurationSeconds":901}`, []string{"between 0 and 900"}},
		{"GetWebIdentityToken 60-3600", "GetWebIdentityToken", `{"Audience":"a","SigningAlgorithm":"RS256","DurationSeconds":59}`, []string{"between 60 and 3600"}},
		{"duration as string ok", "GetSessionToken", `{"DurationSeconds":"900"}`, nil},
		{"duration not a number", "GetSessionToken", `{"DurationSeconds":"an hour"}`, []string{`must be a whole number, not "an hour"`}},
		{"duration fraction", "GetSessionToken", `{"DurationSeconds":900.5}`, []string{"whole number"}},
		{"task policy unknown", "AssumeRoot", `{"TargetPrincipal":"111122223333","TaskPolicyArn":"AdministratorAccess"}`, []string{"must be one of IAMAuditRootUserCredentials"}},
		{"task policy full ARN", "AssumeRoot", `{"TargetPrincipal":"111122223333","TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy"}`, nil},
		{"target principal bad", "AssumeRoot", `{"TargetPrincipal":"12345678901x","TaskPolicyArn":"S3UnlockBucketPolicy"}`, []string{"TargetPrincipal has characters"}},
		{"signing algorithm", "GetWebIdentityToken", `{"Audience":["a"],"SigningAlgorithm":"HS256"}`, []string{"must be one of RS256, ES384"}},
		{"audience 11 items", "GetWebIdentityToken", `{"Audience":["1","2","3","4","5","6","7","8","9","10","11"],"SigningAlgorithm":"RS256"}`, []string{"must have 1 to 10 items, but has 11"}},
		{"audience empty list", "GetWebIdentityToken", `{"Audience":[],"SigningAlgorithm":"RS256"}`, []string{"must have 1 to 10 items, but has 0"}},
		{"MFA code 5 digits", "GetSessionToken", `{"SerialNumber":"arn:aws:iam::123456789012:mfa/me","TokenCode":"12345"}`, []string{"TokenCode must be 6 to 6 characters"}},
		{"MFA code letters", "GetSessionToken", `{"SerialNumber":"arn:aws:iam::123456789012:mfa/me","TokenCode":"12345a"}`, []string{"TokenCode has characters"}},
		{"MFA code as number", "GetSessionToken", `{"SerialNumber":"arn:aws:iam::123456789012:mfa/me","TokenCode":123456}`, nil},
		{"serial too short", "GetSessionToken", `{"SerialNumber":"abc","TokenCode":"123456"}`, []string{"SerialNumber must be 9 to 256"}},
		{"external id short", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","ExternalId":"x"}`, []string{"ExternalId must be 2 to 1224"}},
		{"federation name 33", "GetFederationToken", `{"Name":"` + strings.Repeat("n", 33) + `"}`, []string{"Name must be 2 to 32"}},
		{"access key id short", "GetAccessKeyInfo", `{"AccessKeyId":"AKIA123"}`, []string{"AccessKeyId must be 16 to 128"}},
		{"decode with line break", "DecodeAuthorizationMessage", `{"EncodedMessage":"abc\ndef"}`, []string{"EncodedMessage has characters"}},
		{"tags as map ok", "GetFederationToken", `{"Name":"bob","Tags":{"team":"a","env":"dev"}}`, nil},
		{"tags duplicate keys", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Tags":[{"Key":"Team","Value":"a"},{"Key":"team","Value":"b"}]}`, []string{"twice (tag keys are case-insensitive)"}},
		{"tags bad char", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Tags":[{"Key":"a*b","Value":"x"}]}`, []string{"characters STS does not allow"}},
		{"tags value missing", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Tags":[{"Key":"a"}]}`, []string{"needs both Key and Value"}},
		{"tags 51", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Tags":` + manyTags(51) + `}`, []string{"has 51 tags; STS allows at most 50"}},
		{"transitive key not a tag", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Tags":[{"Key":"a","Value":"x"}],"TransitiveTagKeys":["b"]}`, []string{`TransitiveTagKeys names "b"`}},
		{"policy arns 11", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","PolicyArns":` + manyARNs(11) + `}`, []string{"must have 0 to 10 items, but has 11"}},
		{"policy arns objects ok", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","PolicyArns":[{"arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}]}`, nil},
		{"policy arn not ARN", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","PolicyArns":["ReadOnlyAccessPolicyName"]}`, []string{"is not an ARN"}},
		{"policy not JSON", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Policy":"allow everything"}`, []string{"MalformedPolicyDocument"}},
		{"policy without Statement", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Policy":{"Version":"2012-10-17"}}`, []string{`has no "Statement"`}},
		{"policy too long", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Policy":` + mustQuote(policy) + `}`, []string{"STS takes 1 to 2048"}},
		{"policy plus arns too long", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","Policy":` + mustQuote(policy[:1900]+`"}]}`) + `,"PolicyArns":` + manyARNs(5) + `}`, []string{"Policy and PolicyArns together"}},
		{"web identity both token and file", "AssumeRoleWithWebIdentity", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","WebIdentityToken":"abcd","WebIdentityTokenFile":"/x"}`, []string{"Give only one of WebIdentityToken or WebIdentityTokenFile"}},
		{"web identity neither", "AssumeRoleWithWebIdentity", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev"}`, []string{"Give one of WebIdentityToken or WebIdentityTokenFile"}},
		{"reserved session name", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me","SessionName":"base"}`, []string{"reserved for the base identity"}},
		{"region bad", "GetCallerIdentity", `{"Region":"Europe"}`, []string{"Region must be 9 to 25"}},
		{"region ok", "GetCallerIdentity", `{"Region":"eu-west-1"}`, nil},
		{"several problems at once", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"m","DurationSeconds":1}`, []string{"RoleSessionName must be", "DurationSeconds is 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, ok := protocol.Command(tt.command)
			if !ok {
				t.Fatalf("no command %s", tt.command)
			}
			_, err := Validate(spec, json.RawMessage(tt.params))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("expected an error")
			}
			te := toolErr(t, err, protocol.CodeInvalidParams)
			contains(t, te.Error(), tt.want...)
		})
	}
}

func TestValidateConverts(t *testing.T) {
	spec, _ := protocol.Command("AssumeRoot")
	args, err := Validate(spec, json.RawMessage(`{"TargetPrincipal":111122223333,"TaskPolicyArn":"IAMCreateRootUserPassword","DurationSeconds":"600"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := args.Str("TaskPolicyArn"); got != "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword" {
		t.Errorf("TaskPolicyArn = %q", got)
	}
	if got := args.Str("TargetPrincipal"); got != "111122223333" {
		t.Errorf("TargetPrincipal = %q", got)
	}
	var typed protocol.AssumeRootParams
	typed.Fill(args)
	if got := *typed.DurationSeconds; got != 600 {
		t.Errorf("DurationSeconds = %d", got)
	}
	spec, _ = protocol.Command("GetFederationToken")
	args, err = Validate(spec, json.RawMessage(`{"Name":"bob","Policy":{"Version":"2012-10-17","Statement":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := args.Str("Policy"); got != `{"Version":"2012-10-17","Statement":[]}` {
		t.Errorf("Policy = %q (objects are sent compact)", got)
	}
}

func TestSecretsNeverEchoed(t *testing.T) {
	secret := "CANARY-SECRET-not-for-errors-0123456789"
	for _, tt := range []struct{ command, params string }{
		{"AssumeRoleWithWebIdentity", `{"RoleArn":"x","WebIdentityToken":"` + secret + strings.Repeat("z", 20000) + `"}`},
		{"GetDelegatedAccessToken", `{"TradeInToken":"` + secret + strings.Repeat("z", 20000) + `"}`},
		{"AssumeRoleWithSAML", `{"SAMLAssertion":"` + secret + `\u0000","RoleArn":1}`},
	} {
		spec, _ := protocol.Command(tt.command)
		_, err := Validate(spec, json.RawMessage(tt.params))
		if err == nil {
			t.Fatalf("%s: expected an error", tt.command)
		}
		if strings.Contains(err.Error(), "CANARY") {
			t.Fatalf("%s: secret echoed: %v", tt.command, err)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"RoleArn", "RoleSessionName", "DurationSeconds", "ExternalId"}
	for in, want := range map[string]string{"rolearn": "RoleArn", "RoleSesionName": "RoleSessionName", "Duration": "", "ExternalID": "ExternalId", "xyz": ""} {
		if got := closest(in, names); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTimeLeft(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "expired", -time.Minute: "expired", 30 * time.Second: "in under a minute", 5 * time.Minute: "in 5 min",
		time.Hour: "in 1 h", 90 * time.Minute: "in 1 h 30 min", 36 * time.Hour: "in 36 h",
	} {
		if got := timeLeft(d); got != want {
			t.Errorf("timeLeft(%v) = %q, want %q", d, got, want)
		}
	}
}

func manyTags(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, `{"Key":"k`+strings.Repeat("x", i)+`","Value":"v"}`)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func manyARNs(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, `"arn:aws:iam::123456789012:policy/p`+strings.Repeat("x", i)+`"`)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func mustQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
