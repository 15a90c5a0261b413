package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/credserver"
	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/protocol"
)

// endpointGet sends GET url with the token and returns the status and the JSON body.
func endpointGet(t *testing.T, url, token string) (int, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", token)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]string{}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("answered %d with %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, body
}

// TestCredentialsEndpointServesSessions: the endpoint serves the active session, a named one and
// the base identity; a session in its refresh window is re-made before it is served; an expired
// session, a token session and an unknown one are refused; and the endpoint closes with Serve.
func TestCredentialsEndpointServesSessions(t *testing.T) {
	l := startLasting(t)
	ep := result(t, l.method(protocol.MethodCredentialsEndpoint, nil))
	url, token := ep["url"].(string), ep["authorizationToken"].(string)
	if again := result(t, l.method(protocol.MethodCredentialsEndpoint, nil)); again["url"] != url || again["authorizationToken"] != token {
		t.Fatal("a second credentials/endpoint answered another endpoint")
	}
	if got := l.srv.secrets.Scrub(token); strings.Contains(got, token) {
		t.Fatal("the endpoint's token is not registered with the scrubber")
	}

	status, body := endpointGet(t, url, token)
	if status != http.StatusOK || body["AccessKeyId"] != localsts.DemoAccessKeyID || body["SecretAccessKey"] != localsts.DemoSecretAccessKey {
		t.Fatalf("with no session active: %d, key %q; want the base identity's keys", status, body["AccessKeyId"])
	}
	if exp, err := time.Parse(time.RFC3339, body["Expiration"]); err != nil || body["Token"] != "" ||
		!exp.After(l.clock.Now()) || exp.After(l.clock.Now().Add(credserver.RefreshHorizon)) {
		t.Errorf("the base identity's long-term keys: Token %q, Expiration %q; want none, and when to ask again", body["Token"], body["Expiration"])
	}

	mfa := sessionData(t, l.invoke("GetSessionToken", map[string]any{"SerialNumber": localsts.DemoMFASerial, "TokenCode": localsts.DemoMFACode,
		"DurationSeconds": 900, "SessionName": "mfa"}))
	l.invoke("GetWebIdentityToken", map[string]any{"Audience": []string{"https://api.example.com"}, "SigningAlgorithm": "RS256", "DurationSeconds": 3600, "SessionName": "jwt"})
	dev := sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "RoleSessionName": "dev", "DurationSeconds": 900}))
	sessionData(t, l.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/Auditor", "RoleSessionName": "aud", "DurationSeconds": 3600}))
	result(t, l.method("sessions/use", map[string]any{"name": "dev"}))
	status, body = endpointGet(t, url, token)
	if status != http.StatusOK || body["AccessKeyId"] == localsts.DemoAccessKeyID || body["Token"] == "" || body["Expiration"] != dev["expiration"] {
		t.Fatalf("with dev active: %d, expiration %q (want %v)", status, body["Expiration"], dev["expiration"])
	}
	devKey := body["AccessKeyId"]
	status, named := endpointGet(t, url+"session/aud", token)
	if status != http.StatusOK || named["AccessKeyId"] == devKey {
		t.Fatalf("/session/aud: %d, the same key as dev: %v", status, named["AccessKeyId"] == devKey)
	}

	// In dev's refresh window, a request re-makes it before answering.
	exp, _ := time.Parse(time.RFC3339, dev["expiration"].(string))
	l.takeEvents()
	l.clock.Set(exp.Add(-time.Minute))
	status, body = endpointGet(t, url, token)
	if status != http.StatusOK || body["AccessKeyId"] == devKey {
		t.Fatalf("in the refresh window: %d, same key %v; want dev re-made", status, body["AccessKeyId"] == devKey)
	}
	result(t, l.method("sessions/list", nil))
	if ev := l.takeEvents(); count(ev, "sessions/changed:refreshed:dev") != 1 {
		t.Fatalf("events %v, want dev refreshed once", ev)
	}
	if fresh, _ := time.Parse(time.RFC3339, body["Expiration"]); !fresh.After(exp) {
		t.Fatalf("the re-made session expires at %v, not after the old %v", fresh, exp)
	}

	// The MFA session cannot be re-made without a human: once it has expired it is refused. (The
	// clock moves only minutes, within SigV4's skew, and no STS call is made from here on.)
	mfaExp, _ := time.Parse(time.RFC3339, mfa["expiration"].(string))
	l.clock.Set(mfaExp.Add(time.Second))
	for path, want := range map[string]struct {
		status int
		code   string
	}{
		"session/mfa":                         {http.StatusGone, "SessionExpired"},
		"session/jwt":                         {http.StatusConflict, "NotCredentials"},
		"session/nothing":                     {http.StatusNotFound, "SessionNotFound"},
		"session/" + strings.Repeat("n", 200): {http.StatusNotFound, "SessionNotFound"},
	} {
		status, body := endpointGet(t, url+path, token)
		if status != want.status || body["code"] != want.code || body["message"] == "" {
			t.Errorf("%s: %d %v, want %d %s", path[:min(len(path), 20)], status, body["code"], want.status, want.code)
		}
	}

	// Serve ending closes the endpoint.
	result(t, l.method("shutdown", nil))
	l.send(map[string]any{"jsonrpc": "2.0", "method": "exit"})
	select {
	case <-l.served:
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after exit")
	}
	l.served <- serveResult{} // for the harness's cleanup
	if c, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")); err == nil {
		c.Close()
		t.Fatal("the endpoint still accepts connections after Serve returned")
	}
}
