package integration

import (
	"regexp"
	"strings"
	"testing"

	"awsflow-sts/sidecar/internal/localsts"
)

// TestCallReadsMFACode: `awsflow-sts call` asks for an MFA code on stderr and reads it from stdin;
// with no input it says how to give one, and the code never appears in what it prints.
func TestCallReadsMFACode(t *testing.T) {
	ls := startLocalSTS(t)
	h := newProfileHome(t)
	h.writeConfig(t, "[default]\nregion = us-east-1\n")
	env := h.env(t, "AWS_ACCESS_KEY_ID="+ls.accessKeyID, "AWS_SECRET_ACCESS_KEY="+ls.secretAccessKey)
	params := `{"RoleArn":"arn:aws:iam::` + ls.account + `:role/Admin","RoleSessionName":"cli-admin","SerialNumber":"` + localsts.DemoMFASerial + `"}`

	res := runCallInput(t, env, localsts.DemoMFACode+"\n", "AssumeRole", "--params", params, "--endpoint-url", ls.endpoint)
	if res.code != 0 || !strings.Contains(string(res.stdout), "assumed-role/Admin/cli-admin") {
		t.Fatalf("call exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(string(res.stderr), "MFA code for "+localsts.DemoMFASerial) {
		t.Errorf("no prompt on stderr:\n%s", res.stderr)
	}
	// As a word of its own: the demo account id begins with the same digits.
	if regexp.MustCompile(`\b` + localsts.DemoMFACode + `\b`).Match(append(res.stdout, res.stderr...)) {
		t.Error("the MFA code was printed")
	}

	res = runCallInput(t, env, "", "AssumeRole", "--params", params, "--endpoint-url", ls.endpoint)
	if res.code == 0 || !strings.Contains(string(res.stderr), "pass TokenCode") {
		t.Fatalf("without input: exit %d, want a failure saying to pass TokenCode:\n%s", res.code, res.stderr)
	}
}
