package stsops

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultRequestTimeoutSeconds bounds an STS call, retries included, when the settings name no
// requestTimeoutSeconds.
const DefaultRequestTimeoutSeconds = 30

// MaxResponseBytes is the most an answer may carry: STS's own answers are a few kilobytes.
const MaxResponseBytes = 1 << 20

// connectTimeout bounds dialling and the TLS handshake of one attempt, below the request timeout.
const connectTimeout = 10 * time.Second

// errTooLarge is what reading an answer past MaxResponseBytes returns.
var errTooLarge = fmt.Errorf("the answer is larger than %d bytes", MaxResponseBytes)

// TimeoutError says a call did not complete within the request timeout.
type TimeoutError struct {
	// Seconds is the request timeout that ran out.
	Seconds int64
	// Credentials tells whether the time ran out while the signing credentials were being fetched
	// (SSO, a credential_process, a role profile's own AssumeRole), not while STS was asked.
	Credentials bool
	// Err is what the SDK returned when the time ran out.
	Err error
}

// Error says how long the call waited.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no answer within %d s: %v", e.Seconds, e.Err)
}

// Unwrap returns the SDK's error.
func (e *TimeoutError) Unwrap() error { return e.Err }

// EndpointError says the endpoint answered, but not as STS does: its answer is not STS XML (HTML,
// garbage, cut short or too large), or it does not implement the operation. Retrying does not help.
type EndpointError struct {
	// Endpoint is the scheme and host the request went to.
	Endpoint string
	// Operation is the STS operation asked for.
	Operation string
	// Status is the HTTP status of the answer (0 when unknown).
	Status int
	// Reason says briefly what was wrong with the answer; it never quotes the answer.
	Reason string
}

// Error names the endpoint, the status and what was wrong.
func (e *EndpointError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s answered %s: %s", e.Endpoint, e.Operation, e.Reason)
	}
	return fmt.Sprintf("%s answered %s with HTTP %d: %s", e.Endpoint, e.Operation, e.Status, e.Reason)
}

// unsupportedCodes are the AWS error codes of an endpoint that does not know an operation.
var unsupportedCodes = map[string]bool{"InvalidAction": true, "UnknownOperation": true, "UnsupportedOperation": true}

// IsUnsupportedCode tells whether an AWS error code means the endpoint does not implement the
// operation.
func IsUnsupportedCode(code string) bool { return unsupportedCodes[code] }

// gatewayStatus are the statuses a proxy or load balancer answers with its own page while STS is
// briefly unavailable: worth retrying even when the page is not STS XML.
func gatewayStatus(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// requestTimeout is the settings' bound on one call.
func requestTimeout(seconds int64) time.Duration {
	if seconds <= 0 {
		seconds = DefaultRequestTimeoutSeconds
	}
	return time.Duration(seconds) * time.Second
}

// newHTTPClient returns the client every call of a configuration goes through (STS, and the SSO
// and credential services the SDK asks itself): dialling, the TLS handshake and the wait for an
// answer's headers are bounded; boundAttempts bounds each attempt as a whole, the reading of the
// answer included. It stays an SDK BuildableClient, so a custom CA bundle can still be added.
// (Not http.Client.Timeout: the cancel it runs once an answer has been read can close a kept-alive
// connection after it went back to the pool, and the next call on it fails.)
func newHTTPClient(timeout time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = min(timeout, connectTimeout)
	}).WithTransportOptions(func(tr *http.Transport) {
		tr.TLSHandshakeTimeout = min(timeout, connectTimeout)
		tr.ResponseHeaderTimeout = timeout
	})
}

// configOptions are the API options of every client of a configuration (STS, SSO): each attempt is
// bounded in time, and each answer capped at MaxResponseBytes so a huge one never reaches memory
// (STS's answers are checked further by checkAnswer).
func configOptions(timeout time.Duration) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{
		func(s *middleware.Stack) error {
			if _, ok := s.Finalize.Get(attemptID); ok {
				return nil
			}
			// After: inside the retry loop, so the bound is per attempt.
			return s.Finalize.Add(attemptBound{timeout}, middleware.After)
		},
		func(s *middleware.Stack) error {
			if _, ok := s.Deserialize.Get(capBodyID); ok {
				return nil
			}
			// After: innermost, so the body is capped before any deserializer reads it.
			return s.Deserialize.Add(capBody{}, middleware.After)
		},
	}
}

// attemptBound gives each attempt its own deadline; the answer is read (deserialized) within it.
type attemptBound struct{ timeout time.Duration }

// ID names the middleware.
func (attemptBound) ID() string { return attemptID }

// HandleFinalize runs one attempt under the deadline, with a request body the transport can
// finish writing after the answer has come back (see plainBody).
func (m attemptBound) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		in.Request = plainBody(req)
	}
	return next.HandleFinalize(ctx, in)
}

// plainBody returns req with a body that hides its io.WriterTo. The SDK closes the request body as
// soon as the answer's headers are in, and a closed body's WriteTo answers io.EOF, which the
// transport, if it is still finishing the request, takes for a failed write: it drops the
// connection while the answer is being read. A plain Read answers io.EOF too, which is the end of
// the body, not an error.
func plainBody(req *smithyhttp.Request) *smithyhttp.Request {
	s, ok := req.GetStream().(io.ReadSeeker)
	if _, writerTo := s.(io.WriterTo); !ok || !writerTo || req.RewindStream() != nil {
		return req
	}
	plain, err := req.SetStream(readSeeker{s})
	if err != nil {
		return req
	}
	return plain
}

// readSeeker is an io.ReadSeeker and nothing more.
type readSeeker struct{ io.ReadSeeker }

// capBody wraps the body of an answer in a cappedBody.
type capBody struct{}

// ID names the middleware.
func (capBody) ID() string { return capBodyID }

// HandleDeserialize caps the body the transport returned.
func (capBody) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil && resp.Body != nil {
		resp.Body = &cappedBody{rc: resp.Body, left: MaxResponseBytes}
	}
	return out, md, err
}

// cappedBody reads at most left bytes and fails if there are more.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	// One byte beyond the cap tells a body of exactly the cap from a longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), errTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// boundOptions are the API options that bound every STS call: the overall deadline (held while
// prompting counts open MFA prompts) and the check that the answer is STS XML.
func boundOptions(timeout time.Duration, prompting *atomic.Int32) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{
		func(s *middleware.Stack) error {
			if _, ok := s.Initialize.Get(deadlineID); ok {
				return nil
			}
			return s.Initialize.Add(deadline{timeout, prompting}, middleware.Before)
		},
		func(s *middleware.Stack) error {
			if _, ok := s.Deserialize.Get(checkAnswerID); ok {
				return nil
			}
			// After: innermost, so it reads the raw answer before the SDK's deserializer does.
			return s.Deserialize.Add(checkAnswer{}, middleware.After)
		},
	}
}

// newRetryer is the SDK's standard retryer (throttling, 5xx, transport errors) that never retries an
// answer that is not STS.
func newRetryer(maxAttempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.Retryables = append([]retry.IsErrorRetryable{notSTS{}}, o.Retryables...)
	})
}

// notSTS says an EndpointError is not worth retrying, unless a gateway answered it.
type notSTS struct{}

// IsErrorRetryable answers No for an EndpointError that is not a gateway's page.
func (notSTS) IsErrorRetryable(err error) aws.Ternary {
	var ee *EndpointError
	if errors.As(err, &ee) && !gatewayStatus(ee.Status) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

const (
	deadlineID    = "awsflowDeadline"
	checkAnswerID = "awsflowCheckAnswer"
	capBodyID     = "awsflowCapBody"
	attemptID     = "awsflowAttempt"
)

// deadline bounds a whole operation: credentials, every attempt and the waits between them.
type deadline struct {
	timeout   time.Duration
	prompting *atomic.Int32
}

// ID names the middleware.
func (deadline) ID() string { return deadlineID }

// HandleInitialize runs the operation under the deadline and says so when it ran out.
func (m deadline) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	bounded, expired, cancel := withDeadline(ctx, m.timeout, m.prompting)
	defer cancel()
	out, md, err := next.HandleInitialize(bounded, in)
	if err != nil && ctx.Err() == nil && (expired() || isTimeout(err)) {
		var te *TimeoutError
		if !errors.As(err, &te) {
			err = &TimeoutError{Seconds: int64(m.timeout / time.Second), Credentials: credentialsText(err), Err: err}
		}
	}
	return out, md, err
}

// withDeadline returns ctx cancelled once timeout has passed, except that the time does not run
// out while prompting counts an open MFA prompt (the user is typing a code the call waits for):
// then it runs again in full. expired tells whether the time ran out.
func withDeadline(ctx context.Context, timeout time.Duration, prompting *atomic.Int32) (bounded context.Context, expired func() bool, cancel context.CancelFunc) {
	bounded, cancelCtx := context.WithCancel(ctx)
	var (
		mu    sync.Mutex
		timer *time.Timer
		out   bool
	)
	mu.Lock()
	timer = time.AfterFunc(timeout, func() {
		mu.Lock()
		defer mu.Unlock()
		if prompting != nil && prompting.Load() > 0 {
			timer.Reset(timeout)
			return
		}
		out = true
		cancelCtx()
	})
	mu.Unlock()
	expired = func() bool {
		mu.Lock()
		defer mu.Unlock()
		return out
	}
	cancel = func() {
		mu.Lock()
		timer.Stop()
		mu.Unlock()
		cancelCtx()
	}
	return bounded, expired, cancel
}

// isTimeout tells whether err is an attempt's own time running out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// checkAnswer reads the raw answer of an attempt (within the attempt's time and size bounds) and
// turns one that is not STS XML into an EndpointError before the SDK tries to parse it.
type checkAnswer struct{}

// ID names the middleware.
func (checkAnswer) ID() string { return checkAnswerID }

// HandleDeserialize checks the answer the transport returned.
func (checkAnswer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.Body == nil {
		return out, md, err
	}
	body := resp.Body
	// The SDK drains what is left after deserializing: nothing, once this has read or dropped it.
	resp.Body = http.NoBody
	fail := func(reason string) (middleware.DeserializeOutput, middleware.Metadata, error) {
		_ = body.Close() // unread bytes are dropped with the connection
		return out, md, &EndpointError{Endpoint: endpointOf(in.Request), Operation: awsmiddleware.GetOperationName(ctx), Status: resp.StatusCode, Reason: reason}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusNotImplemented:
		return fail("it does not implement the operation")
	case resp.ContentLength > MaxResponseBytes:
		return fail(errTooLarge.Error())
	}
	// Capped here too: capBody may sit outside this middleware.
	answer, rerr := io.ReadAll(&cappedBody{rc: body, left: MaxResponseBytes})
	_ = body.Close()
	switch {
	case errors.Is(rerr, errTooLarge):
		return fail(errTooLarge.Error())
	case rerr != nil:
		// A connection lost or timed out mid-answer: the retryer and the deadline decide.
		return out, md, fmt.Errorf("read the answer: %w", rerr)
	}
	if reason := notSTSXML(answer, resp.StatusCode); reason != "" {
		return fail(reason)
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	return out, md, nil
}

// notSTSXML says why an answer is not one STS gives ("" when it may be): a success is one
// well-formed XML document whose root is an ...Response element; an error is empty, or well-formed
// XML whose root is ErrorResponse (or Error).
func notSTSXML(body []byte, status int) string {
	success := status >= 200 && status < 300
	if len(bytes.TrimSpace(body)) == 0 {
		if success {
			return "the answer is empty, not STS XML"
		}
		return ""
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			cut := errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF")
			if strings.EqualFold(root, "html") || root == "" && !cut {
				return notXML(body)
			}
			return "the XML answer is malformed or cut short"
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	switch {
	case root == "" || strings.EqualFold(root, "html"):
		return notXML(body)
	case !strings.HasSuffix(root, "Response") && (success || root != "Error"):
		return "the XML answer is not an STS response"
	}
	return ""
}

// notXML says what a non-XML answer looks like, without quoting it.
func notXML(body []byte) string {
	head := strings.ToLower(string(body[:min(len(body), 512)]))
	switch {
	case strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html"):
		return "the answer is an HTML page, not STS XML"
	case strings.HasPrefix(strings.TrimSpace(head), "{"):
		return "the answer is JSON, not STS XML"
	}
	return "the answer is not XML"
}

// endpointOf is the scheme and host a request went to.
func endpointOf(req any) string {
	r, ok := req.(*smithyhttp.Request)
	if !ok || r.URL == nil {
		return "the endpoint"
	}
	return r.URL.Scheme + "://" + r.URL.Host
}
