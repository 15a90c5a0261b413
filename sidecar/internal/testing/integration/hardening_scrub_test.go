package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// fragmentCheck finds secrets by any fragment: a run of fragmentLen characters of a secret, in any
// letter case; and short codes as whole numbers.
type fragmentCheck struct {
	secrets []string
	codes   []*regexp.Regexp
}

func (c *fragmentCheck) add(values ...string) {
	for _, v := range values {
		switch {
		case len(v) >= ststest.FragmentLen:
			c.secrets = append(c.secrets, v)
		case v != "" && strings.Trim(v, "0123456789") == "":
			c.codes = append(c.codes, regexp.MustCompile(`(^|[^0-9.])`+v+`([^0-9]|$)`))
		}
	}
}

// find returns the first fragment or code in text, also looking inside JSON-encoded strings.
func (c *fragmentCheck) find(text []byte) (string, bool) {
	texts := []string{string(text)}
	var v any
	if json.Unmarshal(text, &v) == nil {
		var all []string
		collectStrings(v, &all)
		texts = append(texts, strings.Join(all, "\n"))
	}
	for _, t := range texts {
		for _, s := range c.secrets {
			if f, ok := ststest.Fragment(t, s); ok {
				return f, true
			}
		}
		for _, re := range c.codes {
			if re.MatchString(t) {
				return re.String(), true
			}
		}
	}
	return "", false
}

func (c *fragmentCheck) checkLines(t *testing.T, where string, text []byte) {
	t.Helper()
	for _, line := range bytes.Split(text, []byte("\n")) {
		if f, ok := c.find(line); ok {
			t.Errorf("%s carries %q: %s", where, f, tail(string(line), 600))
			return
		}
	}
}

// TestEchoingEndpointLearnsNothing runs every command that carries a secret against an endpoint
// that quotes the request back, upper-cased and URL-encoded too, in errors (Echo) and in
// successes (EchoSuccess): the MFA code the user typed, a trade-in token, a SAML assertion, a web
// identity token (inline and from a file) and the issued session tokens must not come out in any
// fragment, in results, errors or the log.
func TestEchoingEndpointLearnsNothing(t *testing.T) {
	fake := startFake(t)
	env := scratchEnv(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "sidecar.log")
	const typedCode = "739104"
	exp := time.Now().Add(2 * time.Hour)
	tradeIn := "TRADEIN-ECHO-" + strings.Repeat("k3Vn8Qw1", 6)
	samlInline := ststest.SAMLResponse(exp, "arn:aws:iam::123456789012:role/Saml,arn:aws:iam::123456789012:saml-provider/Idp")
	samlFromFile := ststest.SAMLResponse(exp.Add(time.Minute), "arn:aws:iam::123456789012:role/SamlFile,arn:aws:iam::123456789012:saml-provider/Idp")
	claims := func(sub string) map[string]any {
		return map[string]any{"iss": "https://issuer.example.com", "sub": sub, "aud": "sts.amazonaws.com", "exp": exp.Unix()}
	}
	jwtInline := ststest.JWT(claims("echo-inline"), "RS256")
	jwtFromFile := ststest.JWT(claims("echo-file"), "RS256")
	samlPath := filepath.Join(dir, "saml.b64")
	tokenPath := filepath.Join(dir, "token.jwt")
	if err := os.WriteFile(samlPath, []byte(samlFromFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenPath, []byte(jwtFromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startServe(t, env, "--log-level", "debug", "--log-file", logFile)
	p.setAnswer(func(m *message) (any, *rpcError) { return map[string]string{"tokenCode": typedCode}, nil })
	settings := fakeSettings(fake)
	settings["logLevel"] = "debug"
	// One attempt: calls in a row reuse kept-alive connections, and none may fail on one that a
	// bound closed after it went back to the pool.
	settings["maxAttempts"] = 1
	p.initialize(settings)
	// A session whose token signs an echoed call.
	storedAs(t, "AssumeRole", p.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev"}), "dev")

	role := "arn:aws:iam::123456789012:role/Web"
	calls := []struct {
		action string
		params map[string]any
	}{
		{"GetSessionToken", map[string]any{"SerialNumber": mfaSerial}},
		{"GetDelegatedAccessToken", map[string]any{"TradeInToken": tradeIn}},
		{"AssumeRoleWithSAML", map[string]any{"SAMLAssertion": samlInline}},
		{"AssumeRoleWithSAML", map[string]any{"SAMLAssertionFile": samlPath}},
		{"AssumeRoleWithWebIdentity", map[string]any{"RoleArn": role, "RoleSessionName": "web", "WebIdentityToken": jwtInline}},
		{"AssumeRoleWithWebIdentity", map[string]any{"RoleArn": role, "RoleSessionName": "web", "WebIdentityTokenFile": tokenPath}},
		{"GetCallerIdentity", map[string]any{"Session": "dev"}},
	}
	var answers []*message
	echoed := 0
	for _, fault := range []ststest.Fault{ststest.Echo, ststest.EchoSuccess} {
		for _, c := range calls {
			fake.Inject(c.action, fault)
			m := p.call("tool/invoke", invokeParams(c.action, c.params))
			fake.Inject(c.action, ststest.NoFault)
			if fault == ststest.Echo {
				mustError(t, m, 1001)
			} else {
				mustInvokeResult(t, m, c.action)
			}
			if bytes.Contains(m.Raw, []byte("[redacted]")) {
				echoed++
			}
			answers = append(answers, m)
		}
	}
	// The code was typed into the prompt, twice (once per fault), never passed as a param.
	asked := 0
	for _, n := range p.notifications() {
		if n.Method == "mfa/tokenCode" {
			asked++
		}
	}
	if asked != 2 {
		t.Errorf("the user was asked for an MFA code %d times, want 2", asked)
	}
	// Every input secret really reached the endpoint, so its echo was there to scrub.
	seen := map[string]bool{}
	for _, req := range fake.Requests() {
		for _, vs := range req.Form {
			for _, v := range vs {
				seen[v] = true
			}
		}
	}
	for _, s := range []string{typedCode, tradeIn, samlInline, samlFromFile, jwtInline, jwtFromFile} {
		if !seen[s] {
			t.Errorf("the endpoint never received %.16s…", s)
		}
	}
	if echoed < len(calls) {
		t.Errorf("only %d answers had anything scrubbed; the endpoint did not echo", echoed)
	}
	var l sessionList
	mustResult(t, p.call("sessions/list", nil), &l)
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}

	var check fragmentCheck
	check.add(typedCode, tradeIn, samlInline, samlFromFile, jwtInline, jwtFromFile, baseSecret)
	check.add(fake.Secrets()...)
	for _, m := range p.messages() {
		if f, ok := check.find(m.Raw); ok {
			t.Errorf("a message carries %q: %s", f, tail(string(m.Raw), 800))
		}
	}
	check.checkLines(t, "stderr", p.stderr.Bytes())
	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	check.checkLines(t, "the log file", logged)
	if !bytes.Contains(logged, []byte(`"command":"GetDelegatedAccessToken"`)) {
		t.Errorf("the log does not cover the calls")
	}
}

// TestFragmentCheck makes sure the check is not blind: it finds a cut, upper-cased or
// JSON-escaped run of a secret, and a code only as a whole number.
func TestFragmentCheck(t *testing.T) {
	var c fragmentCheck
	long := "SECRET+" + strings.Repeat("0123456789abcdef", 3)
	c.add(long, "739104")
	for _, leak := range []string{
		`{"m":"` + long[5:21] + `"}`,
		strings.ToUpper(long[20:40]),
		`{"m":"\u0053ECRET+0123456789ab"}`,
		`code=739104&x`,
	} {
		if _, ok := c.find([]byte(leak)); !ok {
			t.Errorf("missed the secret in %s", leak)
		}
	}
	for _, clean := range []string{long[5:20], "account 173910412", "t=10:00:00.739104Z", `{"duration_ms":1.739104}`} {
		if f, ok := c.find([]byte(clean)); ok {
			t.Errorf("found %q in %s", f, clean)
		}
	}
}
