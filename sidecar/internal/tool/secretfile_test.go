package tool

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// fileCanary stands in for a secret in a file that is not a token; no answer may repeat it.
const fileCanary = "FILECANARYwJalrXUtnFEMI/K7MDENG/bPxRfiCY"

// credentialsFile is what a model might point a token parameter at.
const credentialsFile = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + fileCanary + "\n"

// fileCase is one secret-file parameter and what the runner must make of it.
type fileCase struct {
	name    string
	command string
	params  map[string]any
	// content is what the file holds, whose size no error may give; read says the runner read
	// it, so that it must be registered as a secret; sent says whether STS must be called.
	content string
	read    bool
	sent    bool
	want    []string
}

// runFileCases invokes each case and checks that refused files reach no endpoint and leave no
// trace of their content or size in the error, while their content is registered as a secret.
func runFileCases(t *testing.T, tests []fileCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var res *protocol.InvokeResult
			var err error
			within(t, 20*time.Second, func() { res, err = h.try(tt.command, tt.params) })
			sent := len(h.fake.Requests()) > 0
			if sent != tt.sent {
				t.Fatalf("STS called: %v, want %v (err %v)", sent, tt.sent, err)
			}
			if tt.sent {
				must(t, err)
				contains(t, res.Text, tt.want...)
				return
			}
			te := toolErr(t, err, protocol.CodeInvalidParams)
			contains(t, te.Error(), tt.want...)
			if te.Hint == "" {
				t.Errorf("no hint: %v", te)
			}
			for _, leak := range []string{fileCanary, "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key", "bytes"} {
				if strings.Contains(te.Error(), leak) {
					t.Errorf("the error quotes %q: %v", leak, te)
				}
			}
			if n := len(tt.content); n > 0 {
				if strings.Contains(te.Error(), strconv.Itoa(n)) {
					t.Errorf("the error gives the file's size %d: %v", n, te)
				}
			}
			if tt.read && strings.Contains(h.runner.Secrets.Scrub(tt.content), fileCanary) {
				t.Errorf("the file's content was not registered as a secret")
			}
		})
	}
}

// within fails the test if f has not returned after d: a read that blocks is the bug.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("not answered within %v", d)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	jwt := ststest.JWT(map[string]any{"iss": "https://issuer.example.com", "sub": "file-user", "aud": "sts.amazonaws.com", "exp": now.Add(time.Hour).Unix()}, "RS256")
	saml := ststest.SAMLResponse(now.Add(time.Hour), roleArn+",arn:aws:iam::123456789012:saml-provider/Okta")
	must(t, os.MkdirAll(filepath.Join(home, ".aws"), 0o700))
	writeFile(t, filepath.Join(home, ".aws"), "credentials", credentialsFile)
	writeFile(t, home, "token.jwt", jwt+"\n")
	creds := writeFile(t, dir, "credentials", credentialsFile)
	oneLine := strings.Repeat("A", 30) + fileCanary
	oneLineFile := writeFile(t, dir, "one-line", oneLine)
	huge := strings.Repeat("eyJ"+fileCanary, 700) // over 20,000 characters
	hugeFile := writeFile(t, dir, "huge", huge)
	justOver := jwt + "." + strings.Repeat("x", 20000-len(jwt))
	justOverFile := writeFile(t, dir, "just-over", justOver)
	tokenFile := writeFile(t, dir, "token", "\n  "+jwt+"\r\n")
	samlFile := writeFile(t, dir, "saml.b64", saml+"\n")
	rawXML := writeFile(t, dir, "saml.xml", "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">"+fileCanary+"</samlp:Response>")
	opaque := writeFile(t, dir, "opaque", "Atza|IwEBIOpaqueAccessTokenExample0123456789\n")
	empty := writeFile(t, dir, "empty", " \n")
	web := func(file string, extra ...string) map[string]any {
		p := map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": file}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}
	const arwwi, arws = protocol.CmdAssumeRoleWithWebIdentity, protocol.CmdAssumeRoleWithSAML
	runFileCases(t, []fileCase{
		{name: "valid JWT file", command: arwwi, params: web(tokenFile), sent: true, want: []string{"Token subject: file-user"}},
		{name: "~/ expanded", command: arwwi, params: web("~/token.jwt"), sent: true, want: []string{"Token subject: file-user"}},
		{name: "valid SAML file", command: arws, params: map[string]any{"SAMLAssertionFile": samlFile}, sent: true, want: []string{"Okta"}},
		{name: "opaque token with ProviderId", command: arwwi, params: web(opaque, "ProviderId", "www.amazon.com"), sent: true, want: []string{"stored as session `web`"}},
		{name: "AWS credentials file", command: arwwi, params: web(creds), content: credentialsFile, read: true,
			want: []string{"WebIdentityTokenFile does not hold a JWT (three base64url parts with a JSON header)", "identity provider writes"}},
		{name: "~/.aws/credentials", command: arwwi, params: web("~/.aws/credentials"), content: credentialsFile, read: true, want: []string{"does not hold a JWT"}},
		{name: "one word that is no JWT", command: arwwi, params: web(oneLineFile), content: oneLine, read: true, want: []string{"does not hold a JWT"}},
		{name: "credentials file with ProviderId", command: arwwi, params: web(creds, "ProviderId", "www.amazon.com"), content: credentialsFile, read: true,
			want: []string{"does not hold an OAuth 2.0 access token"}},
		{name: "credentials file as SAML", command: arws, params: map[string]any{"SAMLAssertionFile": creds}, content: credentialsFile, read: true,
			want: []string{"SAMLAssertionFile does not hold a SAML response (base64 of an XML document whose root is samlp:Response)"}},
		{name: "JWT as SAML", command: arws, params: map[string]any{"SAMLAssertionFile": tokenFile}, content: jwt, want: []string{"does not hold a SAML response"}},
		{name: "raw XML as SAML", command: arws, params: map[string]any{"SAMLAssertionFile": rawXML}, want: []string{"does not hold a SAML response"}},
		{name: "oversize", command: arwwi, params: web(hugeFile), content: huge, want: []string{"is larger than STS takes for a web identity token (at most 20000 characters)"}},
		{name: "one character over", command: arwwi, params: web(justOverFile), content: justOver, want: []string{"is larger than STS takes"}},
		{name: "empty", command: arwwi, params: web(empty), want: []string{"is empty"}},
		{name: "directory", command: arwwi, params: web(dir), want: []string{"is a directory, not a file"}},
		{name: "relative path", command: arwwi, params: web("token"), want: []string{"must be an absolute path or start with ~/"}},
		{name: "missing", command: arwwi, params: web(filepath.Join(dir, "nope")), want: []string{"cannot read WebIdentityTokenFile: there is no file at"}},
	})
}
