package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// Input secrets: canaries the tests hand to the sidecar, which must never come back out.
const (
	tradeInToken     = "TRADEIN-CANARY-7f3a9c2e"
	tradeInEchoToken = "TRADEIN-ECHO-CANARY-55d1e0a9"
	mfaCode          = "864209"
	badMFACode       = "86420Q"
	mfaSerial        = "arn:aws:iam::123456789012:mfa/alice"
)

// leakCheck looks for secrets in text.
type leakCheck struct {
	secrets []string         // whole values
	short   []*regexp.Regexp // short all-digit values, matched only where not part of a longer number
}

func (c *leakCheck) add(values ...string) {
	for _, v := range values {
		if v == "" {
			continue
		}
		if len(v) < 8 && strings.Trim(v, "0123456789") == "" {
			c.short = append(c.short, regexp.MustCompile(`(^|[^0-9.])`+v+`([^0-9]|$)`))
			continue
		}
		c.secrets = append(c.secrets, v)
		// Parts of long secrets count too: a clipped or truncated secret is still a leak.
		if len(v) >= 48 {
			c.secrets = append(c.secrets, v[:24], v[len(v)/2-12:len(v)/2+12], v[len(v)-24:])
		}
	}
}

// find returns the first secret in b (or in its JSON-decoded strings, should an escape hide one).
func (c *leakCheck) find(b []byte) (string, bool) {
	texts := [][]byte{b}
	var v any
	if json.Unmarshal(b, &v) == nil {
		var all []string
		collectStrings(v, &all)
		texts = append(texts, []byte(strings.Join(all, "\n")))
	}
	for _, text := range texts {
		for _, s := range c.secrets {
			if bytes.Contains(text, []byte(s)) {
				return s, true
			}
		}
		for _, re := range c.short {
			if re.Match(text) {
				return re.String(), true
			}
		}
	}
	return "", false
}

func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case map[string]any:
		for k, e := range x {
			*out = append(*out, k)
			collectStrings(e, out)
		}
	}
}

// checkLines reports every line of text that carries a secret.
func (c *leakCheck) checkLines(t *testing.T, where string, text []byte) {
	t.Helper()
	n := 0
	for _, line := range bytes.Split(text, []byte("\n")) {
		if s, ok := c.find(line); ok {
			n++
			if n <= 5 {
				t.Errorf("%s carries a secret (%.16s…): %s", where, s, tail(string(line), 600))
			}
		}
	}
	if n > 5 {
		t.Errorf("%s: %d lines carry secrets in all", where, n)
	}
}

// TestSecretsNeverLeave mints every kind of credential and token in one sidecar at debug level,
// with failures tempted to echo their input, and checks that no secret (issued by STS, the base
// profile's key, or handed in) reaches stdout except in sessions/export answers, stderr or the log
// file; and that sessions/export does return the issued ones, so the canaries are real.
func TestSecretsNeverLeave(t *testing.T) {
	fake := startFake(t)
	env := scratchEnv(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "sidecar.log")

	exp := time.Now().Add(2 * time.Hour)
	samlInline := ststest.SAMLResponse(exp, "arn:aws:iam::123456789012:role/SamlInline,arn:aws:iam::123456789012:saml-provider/Idp")
	samlFromFile := ststest.SAMLResponse(exp.Add(time.Minute), "arn:aws:iam::123456789012:role/SamlFile,arn:aws:iam::123456789012:saml-provider/Idp")
	claims := func(sub string) map[string]any {
		return map[string]any{"iss": "https://issuer.example.com", "sub": sub, "aud": "sts.amazonaws.com", "exp": exp.Unix(), "iat": time.Now().Unix()}
	}
	jwtInline := ststest.JWT(claims("user-inline"), "RS256")
	jwtFromFile := ststest.JWT(claims("user-file"), "RS256")
	jwtRejected := ststest.JWT(claims("user-rejected-by-sts"), "RS256")
	jwtWrongPlace := ststest.JWT(claims("user-wrong-param"), "ES384")
	tradeInLong := "TRADEIN-LONG-CANARY-" + strings.Repeat("9f8e7d6c5b4a", 1700) // over the 20,000 limit
	samlPath := filepath.Join(dir, "saml.b64")
	tokenPath := filepath.Join(dir, "token.jwt")
	if err := os.WriteFile(samlPath, []byte(samlFromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenPath, []byte(jwtFromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startServe(t, env, "--log-level", "debug", "--log-file", logFile)
	settings := fakeSettings(fake)
	settings["logLevel"] = "debug"
	p.initialize(settings)

	// Failures first, while nothing has been minted yet.
	fake.Fail("AssumeRoleWithWebIdentity", ststest.Failure{Status: 400, Code: "InvalidIdentityToken", Message: "bad token"})
	m := p.call("tool/invoke", invokeParams("AssumeRoleWithWebIdentity", map[string]any{
		"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "rejected", "WebIdentityToken": jwtRejected}))
	if _, d := mustError(t, m, 1001); d.Kind != "aws" || d.AWSCode != "InvalidIdentityToken" {
		t.Errorf("rejected web identity token: data %+v, want kind aws, awsCode InvalidIdentityToken", d)
	}
	fake.Fail("AssumeRoleWithWebIdentity", ststest.Failure{})

	// STS echoing a secret input in its error: the scrubber must catch it.
	fake.Fail("GetDelegatedAccessToken", ststest.Failure{Status: 400, Code: "InvalidParameterValue",
		Message: "The trade-in token " + tradeInEchoToken + " is not valid"})
	m = p.call("tool/invoke", invokeParams("GetDelegatedAccessToken", map[string]any{"TradeInToken": tradeInEchoToken}))
	if e, _ := mustError(t, m, 1001); !strings.Contains(e.Message, "[redacted]") {
		t.Errorf("the echoed trade-in token was not replaced by [redacted]: %q", e.Message)
	}
	fake.Fail("GetDelegatedAccessToken", ststest.Failure{})

	fake.Fail("GetSessionToken", ststest.Failure{Code: "AccessDenied", Message: "MultiFactorAuthentication failed with invalid MFA one time pass code."})
	m = p.call("tool/invoke", invokeParams("GetSessionToken", map[string]any{"SerialNumber": mfaSerial, "TokenCode": mfaCode, "SessionName": "mfa-denied"}))
	mustError(t, m, 1001)
	fake.Fail("GetSessionToken", ststest.Failure{})

	// Validation errors on calls carrying secrets, in the right and in the wrong place.
	for _, c := range []struct {
		command string
		params  map[string]any
	}{
		{"GetDelegatedAccessToken", map[string]any{"TradeInToken": tradeInToken, "Bogus": "x"}},
		{"GetDelegatedAccessToken", map[string]any{"Token": tradeInToken}},
		{"GetDelegatedAccessToken", map[string]any{"TradeInToken": tradeInLong}},
		{"GetWebIdentityToken", map[string]any{"WebIdentityToken": jwtWrongPlace, "Audience": []string{"a"}, "SigningAlgorithm": "RS256"}},
		{"AssumeRoleWithWebIdentity", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "both", "WebIdentityToken": jwtInline, "WebIdentityTokenFile": tokenPath}},
		{"AssumeRoleWithWebIdentity", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "typed", "WebIdentityToken": map[string]any{"token": jwtInline}}},
		{"AssumeRoleWithSAML", map[string]any{"SAMLAssertion": samlInline, "SAMLAssertionFile": samlPath}},
		{"AssumeRoleWithSAML", map[string]any{"SAMLAssertion": samlInline, "DurationSeconds": 5}},
		{"GetSessionToken", map[string]any{"SerialNumber": mfaSerial, "TokenCode": badMFACode}},
		{"GetSessionToken", map[string]any{"TokenCode": mfaCode}},
		{"AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "x y", "SerialNumber": mfaSerial, "TokenCode": mfaCode, "Secret": baseSecret}},
	} {
		m := p.call("tool/invoke", invokeParams(c.command, c.params))
		if _, d := mustError(t, m, -32602); d.Kind != "validation" {
			t.Errorf("%s: data.kind %q, want validation", c.command, d.Kind)
		}
	}
	// A secret in method params of the wrong type.
	mustError(t, p.call("sessions/use", map[string]any{"name": []string{tradeInToken}}), -32602)
	mustError(t, p.call("sessions/export", map[string]any{"name": map[string]any{"TradeInToken": tradeInToken}}), -32602)

	// Every command that mints.
	type minted struct{ name, command string }
	var sessions []minted
	mint := func(command, want string, params map[string]any) string {
		t.Helper()
		r := p.invoke(command, params)
		name := storedAs(t, command, r, want)
		sessions = append(sessions, minted{name, command})
		return name
	}
	mint("AssumeRole", "dev", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"})
	mint("AssumeRoleWithSAML", "saml-inline", map[string]any{"SAMLAssertion": samlInline, "SessionName": "saml-inline"})
	mint("AssumeRoleWithSAML", "saml-file", map[string]any{"SAMLAssertionFile": samlPath, "SessionName": "saml-file"})
	mint("AssumeRoleWithWebIdentity", "web-inline", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "web-inline", "WebIdentityToken": jwtInline})
	mint("AssumeRoleWithWebIdentity", "web-file", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Web", "RoleSessionName": "web-file", "WebIdentityTokenFile": tokenPath})
	mint("AssumeRoot", "", map[string]any{"TargetPrincipal": "111122223333", "TaskPolicyArn": "IAMAuditRootUserCredentials"})
	mint("GetDelegatedAccessToken", "", map[string]any{"TradeInToken": tradeInToken})
	mint("GetFederationToken", "bob", map[string]any{"Name": "bob", "PolicyArns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}})
	mint("GetSessionToken", "mfa-session", map[string]any{"SerialNumber": mfaSerial, "TokenCode": mfaCode})
	jwtSession := mint("GetWebIdentityToken", "", map[string]any{"Audience": []string{"https://api.example.com"}, "SigningAlgorithm": "RS256"})
	// Role chaining: dev's secret key signs this one.
	mint("AssumeRole", "ops", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Ops", "RoleSessionName": "ops", "Session": "dev"})

	// The secrets were really sent: the fake saw the input canaries.
	seen := map[string]bool{}
	for _, req := range fake.Requests() {
		for _, vs := range req.Form {
			for _, v := range vs {
				seen[v] = true
			}
		}
	}
	for _, s := range []string{samlInline, samlFromFile, jwtInline, jwtFromFile, jwtRejected, tradeInToken, tradeInEchoToken, mfaCode} {
		if !seen[s] {
			t.Errorf("the fake STS never received the input secret %.16s…", s)
		}
	}

	// GetCallerIdentity as each session; the token session holds no credentials to sign with.
	for _, s := range sessions {
		m := p.call("tool/invoke", invokeParams("GetCallerIdentity", map[string]any{"Session": s.name}))
		if s.name == jwtSession {
			if _, d := mustError(t, m, 1003); d.Kind != "rule" {
				t.Errorf("GetCallerIdentity as the token session: data.kind %q, want rule", d.Kind)
			}
			continue
		}
		r := mustInvokeResult(t, m, "GetCallerIdentity as "+s.name)
		if !strings.Contains(r.Text, "session `"+s.name+"`") {
			t.Errorf("GetCallerIdentity as %s does not name the session:\n%s", s.name, r.Text)
		}
	}
	p.invoke("ListSessions", nil)
	p.invoke("UseSession", map[string]any{"SessionName": "ops"})
	p.invoke("GetCallerIdentity", nil)
	p.invoke("UseSession", map[string]any{"SessionName": "base"})
	var l sessionList
	mustResult(t, p.call("sessions/list", nil), &l)
	for _, s := range sessions {
		if !slices.Contains(l.names(), s.name) {
			t.Errorf("sessions/list lacks %q: %q", s.name, l.names())
		}
	}

	// sessions/export returns the issued secrets: the canaries are real.
	exportIDs := map[string]bool{}
	exportedSecrets := map[string]bool{}
	for _, s := range sessions {
		id, ch := p.request("sessions/export", map[string]any{"name": s.name})
		exportIDs[fmt.Sprint(id)] = true
		m := p.await(id, ch)
		var ex exported
		mustResult(t, m, &ex)
		if s.name == jwtSession {
			if ex.WebIdentityToken == "" {
				t.Errorf("export of %s lacks the issued token: %s", s.name, m.Raw)
			}
		} else if ex.SecretAccessKey == "" || ex.SessionToken == "" {
			t.Errorf("export of %s lacks credentials: %s", s.name, m.Raw)
		}
		for _, v := range []string{ex.SecretAccessKey, ex.SessionToken, ex.WebIdentityToken} {
			if v != "" {
				exportedSecrets[v] = true
			}
		}
	}
	issued := fake.Secrets()
	if len(issued) != 2*(len(sessions)-1)+1 {
		t.Errorf("the fake issued %d secrets for %d sessions", len(issued), len(sessions))
	}
	for _, s := range issued {
		if !exportedSecrets[s] {
			t.Errorf("issued secret %.20s… was not returned by sessions/export", s)
		}
	}
	for s := range exportedSecrets {
		if !slices.Contains(issued, s) {
			t.Errorf("sessions/export returned %.20s…, which the fake never issued", s)
		}
	}

	// Forget one; its secrets are gone from export too.
	mustResult(t, p.call("sessions/forget", map[string]any{"name": "dev"}), nil)
	mustError(t, p.call("sessions/export", map[string]any{"name": "dev"}), 1002)
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}

	var check leakCheck
	check.add(issued...)
	check.add(baseSecret, samlInline, samlFromFile, jwtInline, jwtFromFile, jwtRejected, jwtWrongPlace,
		tradeInToken, tradeInEchoToken, tradeInLong[:64], mfaCode, badMFACode)
	// Distinctive parts shared by every issued secret and every test JWT's signature.
	check.add("FAKESECRETKEY", "FAKESESSIONTOKEN", jwtInline[strings.LastIndex(jwtInline, ".")+1:])

	msgs := p.messages()
	if len(msgs) < 50 {
		t.Errorf("only %d messages read; the test did not run what it meant to", len(msgs))
	}
	exports := 0
	for _, m := range msgs {
		if exportIDs[idKey(m.ID)] && m.Error == nil {
			// The positive control: the checker does see the secrets where they belong.
			exports++
			if _, ok := check.find(m.Raw); !ok {
				t.Errorf("the leak check finds no secret in a sessions/export answer: %s", m.Raw)
			}
			continue
		}
		if s, ok := check.find(m.Raw); ok {
			t.Errorf("stdout message carries a secret (%.16s…): %s", s, tail(string(m.Raw), 800))
		}
	}
	if exports != len(sessions) {
		t.Errorf("%d sessions/export answers, want %d", exports, len(sessions))
	}
	stderr := p.stderr.Bytes()
	check.checkLines(t, "stderr", stderr)
	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	check.checkLines(t, "the log file", logged)
	// The logs were written at debug level and cover the calls, so the check above means something.
	for _, want := range []string{`"level":"debug"`, `"command":"AssumeRoleWithSAML"`, `"command":"GetDelegatedAccessToken"`, `"aws_code":"InvalidIdentityToken"`, `"msg":"session exported"`} {
		if !bytes.Contains(logged, []byte(want)) {
			t.Errorf("the log file has no %s", want)
		}
	}
	if !bytes.Contains(stderr, []byte(`"command":"GetDelegatedAccessToken"`)) {
		t.Errorf("stderr does not carry the log")
	}

	t.Run("CallSubcommand", func(t *testing.T) { callSecrets(t, fake, env, &check) })
	t.Run("CallScrubsSecretEchoedBySTS", func(t *testing.T) { callEcho(t, fake, env, &check) })
}

// callSecrets runs minting and failing commands through `awsflow-sts call` and checks what it
// prints.
func callSecrets(t *testing.T, fake *ststest.Server, env []string, check *leakCheck) {
	before := len(fake.Secrets())
	common := []string{"--endpoint-url", fake.URL, "--region", "us-east-1", "--log-level", "debug"}

	r := runCall(t, env, append([]string{"AssumeRole", "--params", `{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"cli"}`, "--json"}, common...)...)
	if r.code != 0 {
		t.Fatalf("call AssumeRole: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var res invokeResult
	if err := json.Unmarshal(r.stdout, &res); err != nil {
		t.Fatalf("call AssumeRole --json: %v\n%s", err, r.stdout)
	}
	if name := str(t, res.Data, "session.name"); name != "cli" {
		t.Errorf("call AssumeRole stored session %q, want cli", name)
	}
	outputs := []callResult{r}

	for _, args := range [][]string{
		{"GetDelegatedAccessToken", "--params", `{"TradeInToken":"` + tradeInToken + `"}`, "--json"},
		{"GetSessionToken", "--params", `{"SerialNumber":"` + mfaSerial + `","TokenCode":"` + mfaCode + `"}`},
		{"GetWebIdentityToken", "--params", `{"Audience":["https://api.example.com"],"SigningAlgorithm":"ES384"}`, "--json"},
	} {
		r := runCall(t, env, append(args, common...)...)
		if r.code != 0 {
			t.Errorf("call %s: exit %d\n%s\n%s", args[0], r.code, r.stdout, r.stderr)
		}
		outputs = append(outputs, r)
	}
	issued := fake.Secrets()[before:]
	if len(issued) != 7 {
		t.Errorf("the calls minted %d secrets, want 7", len(issued))
	}
	check.add(issued...)

	for _, args := range [][]string{
		{"GetDelegatedAccessToken", "--params", `{"TradeInToken":"` + tradeInToken + `","Bogus":1}`, "--json"},
		{"GetDelegatedAccessToken", "--params", `{"TradeInToken":"` + tradeInToken + `","Bogus":1}`},
		{"GetDelegatedAccessToken", "--params", `{"TradeInToken":"` + tradeInToken}, // not JSON
		{"GetSessionToken", "--params", `{"SerialNumber":"` + mfaSerial + `","TokenCode":"` + badMFACode + `"}`, "--json"},
	} {
		r := runCall(t, env, append(args, common...)...)
		if r.code == 0 {
			t.Errorf("call %s with bad params succeeded:\n%s", strings.Join(args, " "), r.stdout)
		}
		outputs = append(outputs, r)
	}

	for i, o := range outputs {
		check.checkLines(t, fmt.Sprintf("call #%d stdout", i+1), o.stdout)
		check.checkLines(t, fmt.Sprintf("call #%d stderr", i+1), o.stderr)
	}
}

// callEcho runs `awsflow-sts call` against an STS whose error message echoes the secret input: as
// `serve` does, `call` must scrub the secrets it has seen from every error it prints.
func callEcho(t *testing.T, fake *ststest.Server, env []string, check *leakCheck) {
	fake.Fail("GetDelegatedAccessToken", ststest.Failure{Status: 400, Code: "InvalidParameterValue", Message: "The trade-in token " + tradeInEchoToken + " is not valid"})
	defer fake.Fail("GetDelegatedAccessToken", ststest.Failure{})
	for _, asJSON := range []bool{true, false} {
		args := []string{"GetDelegatedAccessToken", "--params", `{"TradeInToken":"` + tradeInEchoToken + `"}`,
			"--endpoint-url", fake.URL, "--region", "us-east-1"}
		if asJSON {
			args = append(args, "--json")
		}
		r := runCall(t, env, args...)
		if r.code != 1 || !bytes.Contains(append(r.stdout, r.stderr...), []byte("InvalidParameterValue")) {
			t.Errorf("call GetDelegatedAccessToken (json %v) against a failing STS: exit %d\n%s\n%s", asJSON, r.code, r.stdout, r.stderr)
		}
		check.checkLines(t, fmt.Sprintf("call (json %v) stdout", asJSON), r.stdout)
		check.checkLines(t, fmt.Sprintf("call (json %v) stderr", asJSON), r.stderr)
	}
}

// TestLeakCheck makes sure the leak check is not blind: it finds whole secrets, parts of long ones,
// JSON-escaped ones, and short codes only where they stand alone.
func TestLeakCheck(t *testing.T) {
	var c leakCheck
	long := "SECRET-" + strings.Repeat("0123456789abcdef", 5)
	c.add("TRADEIN-CANARY-7f3a9c2e", long, "864209", "a+b<c>d&e=f")
	for _, leak := range []string{
		`{"message":"token TRADEIN-CANARY-7f3a9c2e"}`,
		`{"m":"` + long[30:70] + `"}`,
		`{"m":"code 864209."}`,
		`864209`,
		`{"m":"a+b\u003cc\u003ed\u0026e=f"}`,
	} {
		if _, ok := c.find([]byte(leak)); !ok {
			t.Errorf("missed the secret in %s", leak)
		}
	}
	for _, clean := range []string{
		`{"secondsLeft":1138642091}`,
		`{"time":"2026-01-01T00:00:00.864Z","duration_ms":1.864209}`,
		`{"accessKeyId":"ASIA…0002","text":"TRADEIN-CANARY redacted"}`,
	} {
		if s, ok := c.find([]byte(clean)); ok {
			t.Errorf("found %q in %s", s, clean)
		}
	}
}
