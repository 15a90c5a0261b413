package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
)

// credEndpoint is the result of credentials/endpoint.
type credEndpoint struct {
	URL   string `json:"url"`
	Token string `json:"authorizationToken"`
}

// endpointPeer is a program that reads credentials the way the AWS SDKs do, from
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN, and prints whom STS
// says it is.
type endpointPeer struct {
	name string
	// arn runs the program with env and returns the ARN it printed.
	arn func(t *testing.T, env []string) string
}

// peerEnv is a child environment with no credentials of its own: no AWS variables of this
// machine, an empty HOME and shared files that do not exist, so only the endpoint can answer.
func peerEnv(t *testing.T, url, token string) []string {
	t.Helper()
	dir := t.TempDir()
	env := cleanEnviron()
	return append(env,
		"HOME="+dir,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI="+url,
		"AWS_CONTAINER_AUTHORIZATION_TOKEN="+token,
	)
}

// runPeer runs cmd to completion and returns its stdout, failing the test with its output if it
// fails.
func runPeer(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd.Args, " "), err, stdout.Bytes(), tail(stderr.String(), 4000))
	}
	return stdout.String()
}

// endpointPeers are the AWS CLI, aws-sdk-go-v2 and @aws-sdk/client-sts, each pointed at the local
// STS; a peer this machine lacks is reported as a skip when it is used.
func endpointPeers(t *testing.T, ls *localSTSProc) []endpointPeer {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	testdata := filepath.Join(root, "sidecar", "internal", "testing", "integration", "testdata", "credendpoint")
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)

	cli := endpointPeer{name: "aws-cli", arn: func(t *testing.T, env []string) string {
		aws, err := exec.LookPath("aws")
		if err != nil {
			t.Skip("the AWS CLI (aws) is not installed on this machine")
		}
		cmd := exec.CommandContext(ctx, aws, "sts", "get-caller-identity", "--endpoint-url", ls.endpoint, "--region", ls.region,
			"--output", "text", "--query", "Arn")
		cmd.Env = append(env, "AWS_ENDPOINT_URL_STS="+ls.endpoint, "AWS_MAX_ATTEMPTS=1")
		return strings.TrimSpace(runPeer(t, cmd))
	}}

	gosdkBin := filepath.Join(t.TempDir(), "gosdk")
	build := exec.CommandContext(ctx, "go", "build", "-o", gosdkBin, "./sidecar/internal/testing/integration/testdata/credendpoint/gosdk")
	build.Dir = root
	out, buildErr := build.CombinedOutput()
	gosdk := endpointPeer{name: "aws-sdk-go-v2", arn: func(t *testing.T, env []string) string {
		if buildErr != nil {
			t.Fatalf("go build of the aws-sdk-go-v2 peer: %v\n%s", buildErr, out)
		}
		cmd := exec.CommandContext(ctx, gosdkBin, "-endpoint", ls.endpoint, "-region", ls.region)
		cmd.Env = env
		lines := strings.Split(strings.TrimSpace(runPeer(t, cmd)), "\n")
		if len(lines) != 2 || lines[1] != "CredentialsEndpointProvider" {
			t.Fatalf("aws-sdk-go-v2 printed %q; want the ARN, then the credentials' source CredentialsEndpointProvider", lines)
		}
		return lines[0]
	}}

	node := endpointPeer{name: "@aws-sdk/client-sts", arn: func(t *testing.T, env []string) string {
		nodeBin, err := exec.LookPath("node")
		if err != nil {
			t.Skip("node is not installed on this machine")
		}
		if _, err := os.Stat(filepath.Join(root, "node_modules", "@aws-sdk", "client-sts", "package.json")); err != nil {
			t.Skip("@aws-sdk/client-sts is not installed (run npm ci at the repository's root)")
		}
		cmd := exec.CommandContext(ctx, nodeBin, filepath.Join(testdata, "client-sts.mjs"), ls.endpoint, ls.region)
		cmd.Env = env
		return strings.TrimSpace(runPeer(t, cmd))
	}}
	return []endpointPeer{cli, gosdk, node}
}

// endpointGet sends a request to the endpoint and returns the status, the Allow header and the
// body.
func endpointGet(t *testing.T, method, url string, auth ...string) (int, string, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]string{}
	if method != http.MethodHead && len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s %s answered %d with %q, not a JSON object of strings", method, url, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header.Get("Allow"), body
}

// useSession makes a session the active one.
func useSession(t *testing.T, p *proc, name string) {
	t.Helper()
	var l sessionList
	mustResult(t, p.call("sessions/use", map[string]any{"name": name}), &l)
	if l.Active != name {
		t.Fatalf("sessions/use %s: active is %q", name, l.Active)
	}
}

// TestCredentialsEndpoint runs the sidecar as a process against the local STS and has the AWS
// CLI, aws-sdk-go-v2 and @aws-sdk/client-sts, each a process of its own with nothing but the two
// container-credentials variables, ask STS who they are: each is the active session, follows
// sessions/use at its next call, and reads a named session at /session/NAME. The endpoint refuses
// a wrong token, other methods, unknown and token sessions; the token never reaches the log; and
// the endpoint goes away with the sidecar.
func TestCredentialsEndpoint(t *testing.T) {
	ls := startLocalSTS(t)
	h := newProfileHome(t)
	h.writeConfig(t, "[default]\nregion = "+ls.region+"\n")
	env := h.env(t, "AWS_ACCESS_KEY_ID="+ls.accessKeyID, "AWS_SECRET_ACCESS_KEY="+ls.secretAccessKey)
	p := startServe(t, env, "--log-level", "debug")
	p.initialize(map[string]any{"endpointUrl": ls.endpoint, "region": ls.region, "maxAttempts": 1})

	var ep credEndpoint
	mustResult(t, p.call(protocol.MethodCredentialsEndpoint, nil), &ep)
	if !strings.HasPrefix(ep.URL, "http://127.0.0.1:") || !strings.HasSuffix(ep.URL, "/") || len(ep.Token) != 64 {
		t.Fatalf("credentials/endpoint answered url %q and a token of %d characters", ep.URL, len(ep.Token))
	}
	var again credEndpoint
	mustResult(t, p.call(protocol.MethodCredentialsEndpoint, nil), &again)
	if again != ep {
		t.Fatal("a second credentials/endpoint started another endpoint")
	}

	for _, s := range []struct{ role, name string }{{"Dev", "ep-dev"}, {"Auditor", "ep-auditor"}} {
		p.invoke("AssumeRole", map[string]any{"RoleArn": "arn:aws:iam::" + ls.account + ":role/" + s.role, "RoleSessionName": s.name})
	}
	p.invoke("GetWebIdentityToken", map[string]any{"Audience": []string{"https://api.example.com"}, "SigningAlgorithm": "RS256", "SessionName": "ep-jwt"})
	devARN := "arn:aws:sts::" + ls.account + ":assumed-role/Dev/ep-dev"
	auditorARN := "arn:aws:sts::" + ls.account + ":assumed-role/Auditor/ep-auditor"
	aliceARN := "arn:aws:iam::" + ls.account + ":user/alice"

	peers := endpointPeers(t, ls)
	active := peerEnv(t, ep.URL, ep.Token)
	for _, peer := range peers {
		t.Run(peer.name, func(t *testing.T) {
			useSession(t, p, "ep-dev")
			if arn := peer.arn(t, active); arn != devARN {
				t.Fatalf("with ep-dev active: %s, want %s", arn, devARN)
			}
			useSession(t, p, "ep-auditor")
			if arn := peer.arn(t, active); arn != auditorARN {
				t.Fatalf("after sessions/use ep-auditor: %s, want %s", arn, auditorARN)
			}
			if arn := peer.arn(t, peerEnv(t, ep.URL+"session/ep-dev", ep.Token)); arn != devARN {
				t.Fatalf("/session/ep-dev while ep-auditor is active: %s, want %s", arn, devARN)
			}
			useSession(t, p, protocol.ReservedSessionName)
			if arn := peer.arn(t, active); arn != aliceARN {
				t.Fatalf("with no session active: %s, want the base identity %s", arn, aliceARN)
			}
		})
	}

	t.Run("answers", func(t *testing.T) {
		useSession(t, p, "ep-dev")
		status, _, body := endpointGet(t, http.MethodGet, ep.URL, ep.Token)
		if status != http.StatusOK || body["AccessKeyId"] == "" || body["SecretAccessKey"] == "" || body["Token"] == "" || body["Expiration"] == "" {
			t.Fatalf("GET / answered %d with fields %v", status, keys(body))
		}
		if _, ok := body["SessionToken"]; ok {
			t.Fatal("the answer names the session token SessionToken; the protocol calls it Token")
		}
		useSession(t, p, protocol.ReservedSessionName)
		status, _, body = endpointGet(t, http.MethodGet, ep.URL, ep.Token)
		if status != http.StatusOK || body["AccessKeyId"] != ls.accessKeyID {
			t.Fatalf("the base identity: %d %v", status, keys(body))
		}
		// botocore and the JavaScript SDK require both, also for keys that do not expire.
		if _, err := time.Parse(time.RFC3339, body["Expiration"]); err != nil || body["Token"] != "" {
			t.Fatalf("long-term keys: Token %q, Expiration %q; want an empty Token and when to ask again", body["Token"], body["Expiration"])
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			auth         []string
			status       int
			code         string
		}{
			{http.MethodGet, "", nil, http.StatusForbidden, "AccessDenied"},
			{http.MethodGet, "", []string{"wrong"}, http.StatusForbidden, "AccessDenied"},
			{http.MethodGet, "session/ep-dev", []string{strings.ToUpper(ep.Token)}, http.StatusForbidden, "AccessDenied"},
			{http.MethodPost, "", []string{ep.Token}, http.StatusMethodNotAllowed, "MethodNotAllowed"},
			{http.MethodPut, "session/ep-dev", []string{ep.Token}, http.StatusMethodNotAllowed, "MethodNotAllowed"},
			{http.MethodDelete, "", nil, http.StatusMethodNotAllowed, "MethodNotAllowed"},
			{http.MethodGet, "session/no-such", []string{ep.Token}, http.StatusNotFound, "SessionNotFound"},
			{http.MethodGet, "session/ep-jwt", []string{ep.Token}, http.StatusConflict, "NotCredentials"},
			{http.MethodGet, "other", []string{ep.Token}, http.StatusNotFound, "NotFound"},
		} {
			status, allow, body := endpointGet(t, c.method, ep.URL+c.path, c.auth...)
			if status != c.status || body["code"] != c.code || body["message"] == "" {
				t.Errorf("%s /%s answered %d with code %q and fields %v, want %d %s", c.method, c.path, status, body["code"], keys(body), c.status, c.code)
			}
			if c.status == http.StatusMethodNotAllowed && allow != http.MethodGet {
				t.Errorf("%s answered Allow %q, want GET", c.method, allow)
			}
			if _, ok := body["SecretAccessKey"]; ok {
				t.Errorf("%s /%s was given credentials", c.method, c.path)
			}
		}
		if _, _, body := endpointGet(t, http.MethodGet, ep.URL+"session/ep-jwt", ep.Token); !strings.Contains(body["message"], "web identity token") {
			t.Errorf("the token session's refusal does not say why: %q", body["message"])
		}
	})

	t.Run("no secrets in the log", func(t *testing.T) {
		var check leakCheck
		check.add(ep.Token, ls.secretAccessKey)
		for _, name := range []string{"ep-dev", "ep-auditor"} {
			var e exported
			mustResult(t, p.call("sessions/export", map[string]any{"name": name}), &e)
			check.add(e.SecretAccessKey, e.SessionToken)
		}
		logged := p.stderr.Bytes()
		check.checkLines(t, "the sidecar's stderr", logged)
		if !bytes.Contains(logged, []byte(`"path":"/session/ep-dev"`)) || !bytes.Contains(logged, []byte(`"status":403`)) {
			t.Errorf("the log lacks the endpoint's request lines:\n%s", tail(string(logged), 4000))
		}
	})

	// The endpoint ends with the sidecar.
	if code := p.shutdownAndExit(); code != 0 {
		t.Fatalf("the sidecar exited %d", code)
	}
	c, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(ep.URL, "http://"), "/"))
	if err == nil {
		c.Close()
		t.Fatal("the endpoint still accepts connections after the sidecar exited")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("dialing the closed endpoint: %v", err)
	}
}

// keys lists an object's member names, to report an answer without its secrets.
func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
