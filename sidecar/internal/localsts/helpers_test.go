package localsts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// env is a running local STS.
type env struct {
	t     *testing.T
	srv   *Server
	url   string
	clock *ststest.Clock
}

// shared servers are expensive (RSA key generation), so tests that do not change the clock or
// consume trade-in tokens share one per config.
var (
	sharedOnce sync.Once
	sharedSrv  *Server
	sharedErr  error
)

// newEnv starts a fresh server for cfg (DefaultConfig when nil).
func newEnv(t *testing.T, cfg *Config) *env {
	t.Helper()
	if cfg == nil {
		cfg = DefaultConfig()
	}
	clock := &ststest.Clock{}
	srv, err := New(cfg, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	srv.SetBaseURL(hs.URL)
	return &env{t: t, srv: srv, url: hs.URL, clock: clock}
}

// sharedEnv is a server on the default config shared by read-mostly tests.
func sharedEnv(t *testing.T) *env {
	t.Helper()
	sharedOnce.Do(func() { sharedSrv, sharedErr = New(DefaultConfig(), Options{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	hs := httptest.NewServer(sharedSrv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, srv: sharedSrv, url: hs.URL, clock: &ststest.Clock{}}
}

// client is an SDK STS client signing with the given keys (anonymous when id is empty).
func (e *env) client(id, secret, token string) *sts.Client {
	opts := sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.url),
		RetryMaxAttempts: 1,
		HTTPSignerV4:     shiftedSigner{e.clock},
	}
	if id != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	}
	return sts.New(opts)
}

// shiftedSigner signs on the server's clock, so tests that move the clock forward keep their
// requests inside the 15-minute window.
type shiftedSigner struct{ clock *ststest.Clock }

func (s shiftedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	t time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(s.clock.Shift()), optFns...)
}

func (e *env) alice() *sts.Client { return e.client(DemoAccessKeyID, DemoSecretAccessKey, "") }
func (e *env) bob() *sts.Client   { return e.client(bobAccessKeyID, bobSecretAccessKey, "") }
func (e *env) carol() *sts.Client { return e.client(carolAccessKeyID, carolSecretAccessKey, "") }

// with signs with issued credentials.
func (e *env) with(c *types.Credentials) *sts.Client {
	e.t.Helper()
	if c == nil {
		e.t.Fatal("no credentials")
	}
	return e.client(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

var ctx = context.Background()

func role(name string) string { return roleARN(DemoAccount, name) }

// assume runs AssumeRole and fails the test on error.
func (e *env) assume(c *sts.Client, in *sts.AssumeRoleInput) *sts.AssumeRoleOutput {
	e.t.Helper()
	out, err := c.AssumeRole(ctx, in)
	if err != nil {
		e.t.Fatalf("AssumeRole %s: %v", aws.ToString(in.RoleArn), err)
	}
	return out
}

// whoami returns GetCallerIdentity's answer for the client.
func whoami(t *testing.T, c *sts.Client) *sts.GetCallerIdentityOutput {
	t.Helper()
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return out
}

// wantAPIError checks that err is the AWS error code with the HTTP status (and, when msg is not
// empty, a message containing it).
func wantAPIError(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no HTTP response in %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("%s: HTTP status = %d, want %d", code, re.HTTPStatusCode(), status)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("%s: no request id", code)
	}
	if msg != "" && !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s message = %q, want it to contain %q", code, ae.ErrorMessage(), msg)
	}
}

// postJSON calls a /_localsts/ route.
func (e *env) postJSON(path string, body, out any) int {
	e.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s: %v: %s", path, err, data)
		}
	}
	return resp.StatusCode
}

// rawResponse is an STS answer read without the SDK.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// do sends a hand-built request.
func (e *env) do(req *http.Request) rawResponse {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// errorCode pulls <Code> out of an error body.
func (r rawResponse) errorCode() string {
	_, rest, ok := strings.Cut(r.body, "<Code>")
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, "</Code>")
	return code
}
