package stsops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/testing/ststest"
)

// callBound is how long a bounded call may take before the test calls it hung: generous, the
// request timeouts under test are 1 s.
const callBound = 20 * time.Second

func TestNotSTSXML(t *testing.T) {
	ok := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult/></GetCallerIdentityResponse>`
	stsErr := `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>x</RequestId></ErrorResponse>`
	html := `<!DOCTYPE html><html><head><title>500</title></head><body><h1>Internal Server Error</h1></body></html>`
	tests := []struct {
		name   string
		body   string
		status int
		want   string // a fragment of the reason; "" when the answer may be STS's
	}{
		{"success", ok, 200, ""},
		{"error", stsErr, 403, ""},
		{"bare Error root", `<Error><Code>Throttling</Code></Error>`, 400, ""},
		{"empty error", "", 503, ""},
		{"empty success", "  ", 200, "empty"},
		{"HTML error page", html, 500, "HTML page"},
		{"HTML success", html, 200, "HTML page"},
		{"HTML with entities", "<html><body>&nbsp;</body></html>", 500, "HTML page"},
		{"garbage", "\x00\x01 this is not XML at all }{", 200, "not XML"},
		{"JSON", `{"message":"not found"}`, 400, "JSON"},
		{"cut short", ok[:len(ok)-30], 200, "cut short"},
		{"cut short in the root tag", ok[:60], 200, "cut short"},
		{"other XML", `<note><to>x</to></note>`, 200, "not an STS response"},
		{"other XML error", `<note><to>x</to></note>`, 400, "not an STS response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notSTSXML([]byte(tt.body), tt.status)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Fatalf("notSTSXML = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCappedBody(t *testing.T) {
	for _, n := range []int{0, 10, MaxResponseBytes - 1, MaxResponseBytes, MaxResponseBytes + 1, 3 * MaxResponseBytes} {
		b := &cappedBody{rc: io.NopCloser(bytes.NewReader(make([]byte, n))), left: MaxResponseBytes}
		got, err := io.ReadAll(b)
		if n > MaxResponseBytes {
			if !errors.Is(err, errTooLarge) || len(got) > MaxResponseBytes {
				t.Errorf("%d bytes: read %d, err %v; want at most the cap and errTooLarge", n, len(got), err)
			}
			continue
		}
		if err != nil || len(got) != n {
			t.Errorf("%d bytes: read %d, err %v", n, len(got), err)
		}
	}
}

// faultyClients returns clients pointed at url with retries on and a 1-s request timeout.
func faultyClients(url string, attempts int64) *Clients {
	return NewClients(protocol.Settings{EndpointURL: url, Region: "us-east-1", MaxAttempts: attempts, RequestTimeoutSeconds: 1})
}

// callerIdentity runs GetCallerIdentity signed by the fake's base key, failing the test if it is
// not answered within callBound.
func callerIdentity(t *testing.T, c *Clients) error {
	t.Helper()
	id := Identity{Credentials: &aws.Credentials{AccessKeyID: ststest.BaseKeyID, SecretAccessKey: "secret"}}
	ctx, cancel := context.WithTimeout(context.Background(), callBound)
	defer cancel()
	_, err := GetCallerIdentity(ctx, Call[protocol.GetCallerIdentityParams]{Client: func(ctx context.Context) (*sts.Client, error) { return c.Client(ctx, id, "") }})
	if ctx.Err() != nil {
		t.Fatalf("GetCallerIdentity was not answered within %v", callBound)
	}
	return err
}

// TestBoundedCalls: the request timeout ends a hung call, an answer that is not STS is reported as
// such after one request, and throttling and gateway pages are still retried.
func TestBoundedCalls(t *testing.T) {
	t.Run("hang", func(t *testing.T) {
		fake := ststest.New()
		defer fake.Close()
		fake.Inject("GetCallerIdentity", ststest.Hang)
		err := callerIdentity(t, faultyClients(fake.URL, 3))
		var te *TimeoutError
		if !errors.As(err, &te) || te.Seconds != 1 || te.Credentials {
			t.Fatalf("err = %v, want a TimeoutError of 1 s", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		fake := ststest.New()
		defer fake.Close()
		fake.Inject("GetCallerIdentity", ststest.Garbage)
		err := callerIdentity(t, faultyClients(fake.URL, 3))
		var ee *EndpointError
		if !errors.As(err, &ee) || ee.Operation != "GetCallerIdentity" || ee.Endpoint != fake.URL || ee.Status != 200 {
			t.Fatalf("err = %v, want an EndpointError for GetCallerIdentity at %s", err, fake.URL)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("asked %d times, want once", n)
		}
	})
	t.Run("throttling", func(t *testing.T) {
		fake := ststest.New()
		defer fake.Close()
		fake.Fail("GetCallerIdentity", ststest.Failure{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
		c := faultyClients(fake.URL, 2)
		c.Update(protocol.Settings{EndpointURL: fake.URL, Region: "us-east-1", MaxAttempts: 2, RequestTimeoutSeconds: 30})
		if err := callerIdentity(t, c); err == nil || !strings.Contains(err.Error(), "Throttling") {
			t.Fatalf("err = %v, want Throttling", err)
		}
		if n := len(fake.Requests()); n != 2 {
			t.Errorf("asked %d times, want 2 (retried)", n)
		}
	})

	// Answers the fake does not give: a huge body without a length, a gateway's page.
	var requests atomic.Int64
	var answer atomic.Pointer[func(w http.ResponseWriter)]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // as STS reads the request before it answers
		(*answer.Load())(w)
	}))
	defer srv.Close()
	t.Run("huge without a length", func(t *testing.T) {
		requests.Store(0)
		answer.Store(ptr(func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/xml")
			chunk := []byte(strings.Repeat("<a>x</a>", 8192))
			for range 2 * MaxResponseBytes / len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush() // chunked: no Content-Length to refuse early
			}
		}))
		// A timeout of its own: sending the megabyte may take a while on a loaded machine.
		c := faultyClients(srv.URL, 3)
		c.Update(protocol.Settings{EndpointURL: srv.URL, Region: "us-east-1", MaxAttempts: 3, RequestTimeoutSeconds: 30})
		err := callerIdentity(t, c)
		var ee *EndpointError
		if !errors.As(err, &ee) || !strings.Contains(ee.Reason, "larger than") {
			t.Fatalf("err = %v, want an EndpointError for a too large answer", err)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("asked %d times, want once", n)
		}
	})
	t.Run("gateway page", func(t *testing.T) {
		requests.Store(0)
		answer.Store(ptr(func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><body>503 Service Temporarily Unavailable</body></html>"))
		}))
		c := faultyClients(srv.URL, 2)
		c.Update(protocol.Settings{EndpointURL: srv.URL, Region: "us-east-1", MaxAttempts: 2, RequestTimeoutSeconds: 30})
		err := callerIdentity(t, c)
		var ee *EndpointError
		if !errors.As(err, &ee) || ee.Status != 503 {
			t.Fatalf("err = %v, want an EndpointError with status 503", err)
		}
		if n := requests.Load(); n != 2 {
			t.Errorf("asked %d times, want 2: a gateway's page is retried", n)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestDeadlineWaitsForPrompt: the request timeout does not run out while the user is asked for an
// MFA code, and runs out once the prompt is answered.
func TestDeadlineWaitsForPrompt(t *testing.T) {
	var prompting atomic.Int32
	prompting.Add(1)
	const timeout = 20 * time.Millisecond
	ctx, expired, cancel := withDeadline(context.Background(), timeout, &prompting)
	defer cancel()
	time.Sleep(10 * timeout)
	if expired() || ctx.Err() != nil {
		t.Fatal("the deadline ran out while a prompt was open")
	}
	prompting.Add(-1)
	select {
	case <-ctx.Done():
	case <-time.After(callBound):
		t.Fatalf("the deadline did not run out within %v of the prompt closing", callBound)
	}
	if !expired() {
		t.Error("expired() is false after the deadline ran out")
	}

	ctx, expired, cancel = withDeadline(context.Background(), time.Hour, nil)
	cancel()
	if ctx.Err() == nil || expired() {
		t.Errorf("cancel: ctx.Err() = %v, expired() = %v; want cancelled, not expired", ctx.Err(), expired())
	}
}

// TestPromptOutlastsRequestTimeout: a role profile whose MFA code takes longer to type than the
// request timeout still gets its call through.
func TestPromptOutlastsRequestTimeout(t *testing.T) {
	ststest.UseProfile(t, "default", ststest.BaseKeyID, "secret")
	f, err := os.OpenFile(os.Getenv("AWS_CONFIG_FILE"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, "\n[profile mfa]\nrole_arn = arn:aws:iam::%[1]s:role/Ops\nsource_profile = default\nmfa_serial = arn:aws:iam::%[1]s:mfa/alice\n", ststest.Account)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	fake := ststest.New()
	defer fake.Close()
	c := NewClients(protocol.Settings{Region: "us-east-1", EndpointURL: fake.URL, MaxAttempts: 1, RequestTimeoutSeconds: 1})
	c.SetPrompt(func(ctx context.Context, serial, reason string) (string, error) {
		select {
		case <-time.After(1500 * time.Millisecond): // the user types slower than the timeout
			return "123456", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), callBound)
	defer cancel()
	cl, err := c.Client(ctx, Identity{Profile: "mfa"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GetCallerIdentity(ctx, Call[protocol.GetCallerIdentityParams]{Client: func(context.Context) (*sts.Client, error) { return cl, nil }}); err != nil {
		t.Fatalf("GetCallerIdentity after a slow MFA prompt: %v", err)
	}
}

// TestPlainBody: an attempt's request body keeps its content and length but no longer offers
// WriteTo, whose io.EOF after the SDK closes the body would make the transport drop the
// connection mid-answer.
func TestPlainBody(t *testing.T) {
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	req, err := req.SetStream(strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := req.GetStream().(io.WriterTo); !ok {
		t.Fatal("the test needs a body that offers WriteTo")
	}
	plain := plainBody(req)
	if _, ok := plain.GetStream().(io.WriterTo); ok {
		t.Error("the attempt's body still offers WriteTo")
	}
	if n, ok, err := plain.StreamLength(); err != nil || !ok || n != 43 {
		t.Errorf("StreamLength = %d, %v, %v; want 43", n, ok, err)
	}
	body, err := io.ReadAll(plain.Build(context.Background()).Body)
	if err != nil || string(body) != "Action=GetCallerIdentity&Version=2011-06-15" {
		t.Errorf("body = %q, %v", body, err)
	}
	if !plain.IsStreamSeekable() || plain.RewindStream() != nil {
		t.Error("the attempt's body can no longer be rewound for a retry")
	}
}
