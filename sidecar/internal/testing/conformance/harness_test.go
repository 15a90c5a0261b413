package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

type local struct {
	url   string
	demo  localsts.DemoIdentity
	clock *ststest.Clock
	srv   *localsts.Server
}

// startLocal serves the default config on a loopback port until the test ends.
func startLocal(t *testing.T) *local {
	t.Helper()
	c := &ststest.Clock{}
	srv, err := localsts.New(localsts.DefaultConfig(), localsts.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	srv.SetBaseURL(hs.URL)
	return &local{url: hs.URL, demo: srv.Demo(), clock: c, srv: srv}
}

// post calls one of the local STS's own /_localsts/ routes.
func (l *local) post(t *testing.T, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(l.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s: %s", path, resp.Status, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s: %v: %s", path, err, data)
	}
}

func (l *local) samlAssertion(t *testing.T, roleName string) string {
	t.Helper()
	var out struct {
		SAMLAssertion string `json:"samlAssertion"`
	}
	acct := l.demo.Account
	l.post(t, "/_localsts/saml/assertion", map[string]any{"subject": "alice@example.com", "roleSessionName": "alice",
		"roles": []string{"arn:aws:iam::" + acct + ":role/" + roleName + ",arn:aws:iam::" + acct + ":saml-provider/DemoIdP"}}, &out)
	return out.SAMLAssertion
}

func (l *local) webIdentityToken(t *testing.T, aud string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	l.post(t, "/_localsts/oidc/token", map[string]any{"sub": "user-1", "aud": aud, "expiresIn": 600}, &out)
	return out.Token
}

func (l *local) encoded(t *testing.T, m localsts.DenialMessage) string {
	t.Helper()
	var out struct {
		EncodedMessage string `json:"encodedMessage"`
	}
	l.post(t, "/_localsts/encode-message", m, &out)
	return out.EncodedMessage
}

func (l *local) role(name string) string { return "arn:aws:iam::" + l.demo.Account + ":role/" + name }
