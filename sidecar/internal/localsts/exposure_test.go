package localsts

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// TestSignedBodyReplay captures a correctly signed GetCallerIdentity and sends its headers with a
// GetSessionToken body of the same length: no declared payload hash may make that verify, and no
// secret key may come back.
func TestSignedBodyReplay(t *testing.T) {
	e := sharedEnv(t)
	now := time.Now()
	const captured = callerIdentityBody + "&Pad=xxxxxxxxxxxx"
	replayed := "Action=GetSessionToken&Version=2011-06-15&P="
	replayed += strings.Repeat("p", len(captured)-len(replayed)) // Content-Length is signed too
	sign := func(t *testing.T, declared, signedHash string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(captured))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if declared != "" {
			r.Header.Set("X-Amz-Content-Sha256", declared)
		}
		creds := aws.Credentials{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}
		if err := v4.NewSigner().SignHTTP(ctx, creds, r, signedHash, "sts", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		return r
	}
	capturedHash := hex.EncodeToString(sha256sum(captured))
	for _, tt := range []struct {
		name, declared, signedHash string
	}{
		{"UNSIGNED-PAYLOAD", unsignedPayload, unsignedPayload},
		{"unsigned-payload in lower case", strings.ToLower(unsignedPayload), strings.ToLower(unsignedPayload)},
		{"the captured body's hash declared", capturedHash, capturedHash},
		{"no declared hash", "", capturedHash},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sign(t, tt.declared, tt.signedHash)
			r.Body, r.ContentLength = bodyOf(replayed), int64(len(replayed))
			resp := e.do(r)
			if strings.Contains(resp.body, "SecretAccessKey") || strings.Contains(resp.body, "<Credentials>") {
				t.Fatalf("the replay got credentials (status %d)", resp.status) // the body is not printed: it holds the secret
			}
			if resp.status != http.StatusForbidden || resp.errorCode() != "SignatureDoesNotMatch" {
				t.Fatalf("replay answered %d %s: %s", resp.status, resp.errorCode(), resp.body)
			}
		})
	}
	t.Run("the captured request itself, signed over its body", func(t *testing.T) {
		if resp := e.do(sign(t, capturedHash, capturedHash)); resp.status != http.StatusOK {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
	t.Run("the captured request itself, unsigned payload", func(t *testing.T) {
		resp := e.do(sign(t, unsignedPayload, unsignedPayload))
		if resp.status != http.StatusForbidden || !strings.Contains(resp.body, "x-amz-content-sha256") {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
}

// boundedEnv is a local STS served by HTTPServer (not httptest's bare server), with a short
// read timeout.
func boundedEnv(t *testing.T, readTimeout time.Duration) *env {
	t.Helper()
	srv, err := New(DefaultConfig(), Options{ReadTimeout: readTimeout})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = srv.HTTPServer()
	hs.Start()
	t.Cleanup(hs.Close)
	return &env{t: t, srv: srv, url: hs.URL, clock: &ststest.Clock{}}
}

func TestHTTPServerBounds(t *testing.T) {
	srv, err := New(DefaultConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer()
	if hs.ReadHeaderTimeout != DefaultReadTimeout || hs.ReadTimeout != DefaultReadTimeout || hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Fatalf("unbounded server: header %v, read %v, idle %v, max header %d", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}
}

// TestBodyDripCutOff sends headers and then a byte of body at a time: the server must give up
// on the request instead of waiting for the rest.
func TestBodyDripCutOff(t *testing.T) {
	e := boundedEnv(t, 300*time.Millisecond)
	// Generous: the server gives up after 0.3 s.
	b, err := ststest.DripBody(strings.TrimPrefix(e.url, "http://"), 50*time.Millisecond, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && !bytes.Contains(b, []byte("RequestTimeout")) {
		t.Fatalf("unexpected answer to a dripped body: %s", b)
	}
}

func TestOversizeBody(t *testing.T) {
	e := boundedEnv(t, 0)
	big := "Action=GetCallerIdentity&Version=2011-06-15&X=" + strings.Repeat("a", maxBody)
	for _, tt := range []struct {
		name string
		body func() io.Reader
	}{
		{"declared length", func() io.Reader { return strings.NewReader(big) }},
		// A reader the client cannot size is sent chunked, so only the cap while reading stops it.
		{"chunked", func() io.Reader { return io.MultiReader(strings.NewReader(big)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/", tt.body())
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp := e.do(req)
			if resp.status != http.StatusRequestEntityTooLarge || resp.errorCode() != "RequestEntityTooLarge" {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			// The server keeps serving.
			if got := aws.ToString(whoami(t, e.alice()).Arn); !strings.HasSuffix(got, ":user/alice") {
				t.Fatal(got)
			}
		})
	}
	t.Run("a SAML-sized body is not too large", func(t *testing.T) {
		body := "Action=GetCallerIdentity&Version=2011-06-15&X=" + strings.Repeat("%2B", 100000)
		req := e.signedRequest(t, body, DemoAccessKeyID, DemoSecretAccessKey, "", time.Now(), "us-east-1", "sts")
		if resp := e.do(req); resp.status != http.StatusOK {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
	})
}

func TestDemoAllowed(t *testing.T) {
	for _, tt := range []struct {
		remote string
		allow  bool
		want   bool
	}{
		{"127.0.0.1:40000", false, true},
		{"127.9.8.7:1", false, true},
		{"[::1]:40000", false, true},
		{"[::ffff:127.0.0.1]:40000", false, true},
		{"192.0.2.7:40000", false, false},
		{"10.0.0.5:1", false, false},
		{"[2001:db8::1]:1", false, false},
		{"[fe80::1%eth0]:1", false, false},
		{"0.0.0.0:1", false, false},
		{"", false, false},
		{"localhost:1", false, false}, // RemoteAddr is an address; a name is not trusted
		{"not an address", false, false},
		{"192.0.2.7:40000", true, true},
		{"", true, true},
	} {
		t.Run(tt.remote+map[bool]string{true: " allowed", false: ""}[tt.allow], func(t *testing.T) {
			if got := demoAllowed(tt.remote, tt.allow); got != tt.want {
				t.Fatalf("demoAllowed(%q, %v) = %v", tt.remote, tt.allow, got)
			}
		})
	}
}

func TestPublishedSecrets(t *testing.T) {
	for _, tt := range []struct {
		name       string
		id, secret string
		want       bool
	}{
		{"the demo key", DemoAccessKeyID, DemoSecretAccessKey, true},
		{"another default user's key", bobAccessKeyID, bobSecretAccessKey, true},
		{"the demo key id with a secret of its own", DemoAccessKeyID, strings.Repeat("s", 40), false},
		{"a key of its own", "AKIAEXAMPLEEXAMPLE12", DemoSecretAccessKey, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := isPublishedKey(tt.id, tt.secret); got != tt.want {
				t.Fatalf("isPublishedKey = %v", got)
			}
		})
	}
	if !isPublishedSSOToken(DemoSSOAccessToken) || isPublishedSSOToken("a-token-of-its-own") {
		t.Fatal("isPublishedSSOToken is wrong")
	}
}

// remoteEnv serves srv as if every request came from peer, another host.
func remoteEnv(t *testing.T, srv *Server, peer string) *env {
	t.Helper()
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = peer
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return &env{t: t, srv: srv, url: hs.URL, clock: &ststest.Clock{}}
}

func TestRemoteDemoRefused(t *testing.T) {
	const peer = "192.0.2.7:40000"
	newSrv := func(t *testing.T, cfg *Config, allow bool) *Server {
		srv, err := New(cfg, Options{AllowRemoteDemo: allow})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	strict := newSrv(t, DefaultConfig(), false)
	local, remote := sharedLocal(t, strict), remoteEnv(t, strict, peer)
	lenient := remoteEnv(t, newSrv(t, DefaultConfig(), true), peer)

	// sso calls the portal's GetRoleCredentials with the demo token.
	sso := func(e *env) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/federation/credentials?account_id="+MemberAccount+"&role_name="+DemoSSOPermissionSet, nil)
		req.Header.Set("x-amz-sso_bearer_token", DemoSSOAccessToken)
		resp := e.do(req)
		return resp.status, resp.body
	}
	samlRoute := func(e *env) (int, string) {
		var out map[string]string
		return e.postJSON("/_localsts/saml/assertion", map[string]any{"subject": "alice", "roles": []string{role("SamlDev")}}, &out), ""
	}
	oidcRoute := func(e *env) (int, string) {
		var out map[string]string
		return e.postJSON("/_localsts/oidc/token", map[string]any{"sub": "alice", "aud": DemoOIDCClientID}, &out), ""
	}

	t.Run("the demo key from another host", func(t *testing.T) {
		_, err := remote.alice().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden, "--"+AllowRemoteDemoFlag)
		if strings.Contains(err.Error(), DemoSecretAccessKey) {
			t.Fatal("the refusal quotes the secret key")
		}
		_, err = remote.bob().GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden, "192.0.2.7")
	})
	t.Run("the demo SSO token from another host", func(t *testing.T) {
		status, body := sso(remote)
		if status != http.StatusForbidden || !strings.Contains(body, "--"+AllowRemoteDemoFlag) || strings.Contains(body, DemoSSOAccessToken) {
			t.Fatalf("%d %s", status, body)
		}
	})
	for _, tt := range []struct {
		name  string
		route func(*env) (int, string)
	}{{"the demo SAML IdP", samlRoute}, {"the demo OIDC issuer", oidcRoute}} {
		t.Run(tt.name+" from another host", func(t *testing.T) {
			if status, _ := tt.route(remote); status != http.StatusForbidden {
				t.Fatalf("remote: %d", status)
			}
			if status, _ := tt.route(local); status != http.StatusOK {
				t.Fatalf("local: %d", status)
			}
			if status, _ := tt.route(lenient); status != http.StatusOK {
				t.Fatalf("allowed remote: %d", status)
			}
		})
	}
	t.Run("the demo identity from this host", func(t *testing.T) {
		whoami(t, local.alice())
		if status, body := sso(local); status != http.StatusOK {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("the demo identity from another host with the flag", func(t *testing.T) {
		whoami(t, lenient.alice())
		if status, body := sso(lenient); status != http.StatusOK {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("credentials that are not published, from another host", func(t *testing.T) {
		// A session issued on this host is not public: it may be used from elsewhere.
		dev := local.assume(local.alice(), &sts.AssumeRoleInput{RoleArn: aws.String(role("Dev")), RoleSessionName: aws.String("handed-over")})
		whoami(t, remote.with(dev.Credentials))
		// Nor is a config's own secret for a published key id.
		cfg := DefaultConfig()
		own := strings.Repeat("k", 40)
		cfg.Users[0].AccessKeys[0].Secret = own
		whoami(t, remoteEnv(t, newSrv(t, cfg, false), peer).client(DemoAccessKeyID, own, ""))
	})
}

// sharedLocal serves srv to loopback peers, as httptest does.
func sharedLocal(t *testing.T, srv *Server) *env {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, srv: srv, url: hs.URL, clock: &ststest.Clock{}}
}
