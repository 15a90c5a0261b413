// Package credserver serves the AWS container credentials provider protocol on the loopback
// interface, so that every process the user starts (the AWS CLI, the SDKs, Terraform) gets live
// credentials without any secret in its environment or on disk: it sets
// AWS_CONTAINER_CREDENTIALS_FULL_URI to the server's URL and AWS_CONTAINER_AUTHORIZATION_TOKEN to
// its bearer token, and the SDK's default credential chain does the rest.
//
// GET / answers the active identity's credentials and GET /session/NAME a named session's, as
// {"AccessKeyId","SecretAccessKey","Token","Expiration"} (and "AccountId" when known). Every other request is refused: a
// method other than GET with 405, a wrong or missing token with 403, and a peer that is not on
// the loopback interface with nothing at all (its connection is closed unanswered). Errors are
// JSON {"code","message"}, the shape the SDKs read. The log has one line per request with its
// method, path and status, never a header or a body.
package credserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/redact"
)

// Bounds of the server. Credentials are small and their clients local: anything slower or larger
// than these is not a credentials client.
const (
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes = 8 << 10
	// ReadHeaderTimeout bounds how long a client may take to send its headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds how long a client may take to send its whole request.
	ReadTimeout = 10 * time.Second
	// IdleTimeout closes a kept-alive connection no request has used for this long.
	IdleTimeout = 30 * time.Second
	// DefaultLookupTimeout bounds one lookup, a refresh of the session included, when
	// Config.LookupTimeout is zero.
	DefaultLookupTimeout = 60 * time.Second
	// DefaultMaxInFlight is how many lookups run at once when Config.MaxInFlight is zero; further
	// requests wait for one to finish, within the lookup bound.
	DefaultMaxInFlight = 4
	// DefaultMaxConns is how many connections may be open at once when Config.MaxConns is zero;
	// further connections are closed unanswered (the SDKs retry).
	DefaultMaxConns = 32
	// shutdownGrace is how long Close lets requests in flight finish before it cuts them off.
	shutdownGrace = 5 * time.Second
)

// RefreshHorizon is the Expiration given with keys that do not expire, counted from the
// request: the AWS CLI (botocore) and the JavaScript SDK refuse an answer without Token and
// Expiration, and the SDKs ask again before it, so a long-running process also follows a change
// of the active session within it.
const RefreshHorizon = time.Hour

// SessionPrefix is the path prefix of a named session: /session/NAME.
const SessionPrefix = "/session/"

// Credentials are what one request is answered with.
type Credentials struct {
	// AccessKeyID is the access key id.
	AccessKeyID string
	// SecretAccessKey is the secret access key.
	SecretAccessKey string
	// SessionToken is the session token; empty for long-term keys.
	SessionToken string
	// Expiration is when the credentials stop working; zero for credentials that do not expire
	// (the answer then gives RefreshHorizon from now, as when to ask again).
	Expiration time.Time
	// AccountID is the account the credentials act in, when known.
	AccountID string
}

// Lookup returns the credentials of a session by name; "" names the active identity. It returns
// an *Error for an answer other than 500; its message may quote anything, as it is scrubbed.
type Lookup func(ctx context.Context, name string) (Credentials, error)

// Error is a refusal with its HTTP status, code and message, sent as {"code","message"}.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is a short error code, such as SessionNotFound.
	Code string
	// Message says what happened and what to do.
	Message string
}

// Error is the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Config is what a server needs.
type Config struct {
	// Lookup answers a request that passed every check.
	Lookup Lookup
	// Logger receives one line per request: method, path, status and duration.
	Logger *zap.Logger
	// Secrets holds every secret the sidecar knows; the bearer token is added to it, and every
	// message and logged path is scrubbed with it.
	Secrets *redact.Secrets
	// LookupTimeout bounds one lookup (DefaultLookupTimeout when zero).
	LookupTimeout time.Duration
	// MaxInFlight is how many lookups run at once (DefaultMaxInFlight when zero).
	MaxInFlight int
	// MaxConns is how many connections may be open at once (DefaultMaxConns when zero).
	MaxConns int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is a running endpoint. Close stops it.
type Server struct {
	cfg    Config
	log    *zap.Logger
	token  string
	url    string
	port   string
	http   *http.Server
	slots  chan struct{} // one per lookup running
	ctx    context.Context
	cancel context.CancelFunc
	served chan struct{} // closed once http.Server.Serve has returned
	once   sync.Once
}

// Start listens on a random port of 127.0.0.1 and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Lookup == nil || cfg.Logger == nil || cfg.Secrets == nil {
		return nil, errors.New("credserver: Lookup, Logger and Secrets are required")
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = DefaultLookupTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	// Registered before anything can quote it.
	cfg.Secrets.Add(token)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1 for the credentials endpoint: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger.Named("credentials-endpoint"),
		token:  token,
		url:    "http://127.0.0.1:" + port + "/",
		port:   port,
		slots:  make(chan struct{}, cfg.MaxInFlight),
		ctx:    ctx,
		cancel: cancel,
		served: make(chan struct{}),
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      cfg.LookupTimeout + ReadTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          log.New(scrubbedWriter{s}, "", 0),
	}
	guarded := &loopbackListener{Listener: ln, slots: make(chan struct{}, cfg.MaxConns), log: s.log}
	go func() {
		defer close(s.served)
		_ = s.http.Serve(guarded) // ErrServerClosed once Close is called
	}()
	s.log.Info("credentials endpoint listening", zap.String("addr", ln.Addr().String()))
	return s, nil
}

// newToken is 256 random bits in hex.
func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("credserver: no randomness for the bearer token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// URL is http://127.0.0.1:PORT/, the active identity's URL; append session/NAME for a named one.
func (s *Server) URL() string { return s.url }

// Token is the bearer token requests must carry in Authorization, verbatim.
func (s *Server) Token() string { return s.token }

// Close stops the server: lookups in flight are cancelled, requests get a short grace to finish,
// and it returns once nothing of the server runs any more. Calling it again does nothing.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err = s.http.Shutdown(ctx); err != nil {
			err = errors.Join(err, s.http.Close())
		}
		<-s.served
		s.log.Info("credentials endpoint closed")
	})
	return err
}

// ServeHTTP checks the request, answers it and logs one line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackAddr(r.RemoteAddr) {
		// The listener refuses such peers already; a second check costs nothing. Nothing is
		// answered: the connection is closed.
		s.log.Warn("refused a peer that is not on the loopback interface")
		panic(http.ErrAbortHandler)
	}
	start := time.Now()
	status, code := s.serve(w, r)
	fields := []zap.Field{
		zap.String("method", s.scrub(clip.Echo(r.Method))),
		zap.String("path", s.scrub(clip.Echo(r.URL.Path))),
		zap.Int("status", status),
		zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if code != "" {
		fields = append(fields, zap.String("code", code))
	}
	s.log.Info("credentials request", fields...)
}

// serve answers the request and returns the status and, for a refusal, its code.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return s.fail(w, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", Message: "the credentials endpoint answers GET only"})
	}
	if !authorized(r.Header.Values("Authorization"), s.token) {
		return s.fail(w, &Error{Status: http.StatusForbidden, Code: "AccessDenied",
			Message: "the Authorization header is missing or wrong; set AWS_CONTAINER_AUTHORIZATION_TOKEN to the token the sidecar gave"})
	}
	if !s.hostAllowed(r.Host) {
		return s.fail(w, &Error{Status: http.StatusForbidden, Code: "AccessDenied",
			Message: "the Host header does not name this endpoint; use the URL the sidecar gave"})
	}
	name, ok := sessionName(r.URL.Path)
	if !ok {
		return s.fail(w, &Error{Status: http.StatusNotFound, Code: "NotFound",
			Message: "no such path: GET / answers the active session, GET /session/NAME a named one"})
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.LookupTimeout)
	defer cancel()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return s.fail(w, &Error{Status: http.StatusServiceUnavailable, Code: "Busy", Message: "too many credentials requests at once; try again"})
	}
	cr, err := s.cfg.Lookup(ctx, name)
	if err != nil {
		return s.fail(w, s.lookupError(ctx, err))
	}
	body, err := json.Marshal(answer{
		AccessKeyID:     cr.AccessKeyID,
		SecretAccessKey: cr.SecretAccessKey,
		Token:           cr.SessionToken,
		Expiration:      s.expiration(cr.Expiration),
		AccountID:       cr.AccountID,
	})
	if err != nil {
		return s.fail(w, &Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "the credentials could not be encoded"})
	}
	writeJSON(w, http.StatusOK, body)
	return http.StatusOK, ""
}

// answer is the container credentials provider's success body. Token, not SessionToken, is the
// protocol's name; it is "" for long-term keys, but present: botocore and the JavaScript SDK
// require it.
type answer struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

// expiration is t in RFC 3339 UTC, or for credentials that do not expire, RefreshHorizon from now.
func (s *Server) expiration(t time.Time) string {
	if t.IsZero() {
		t = s.cfg.Now().Add(RefreshHorizon)
	}
	return t.UTC().Format(time.RFC3339)
}

// lookupError is the refusal for a lookup's error.
func (s *Server) lookupError(ctx context.Context, err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case s.ctx.Err() != nil:
		return &Error{Status: http.StatusServiceUnavailable, Code: "ShuttingDown", Message: "the sidecar is shutting down"}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Status: http.StatusGatewayTimeout, Code: "Timeout",
			Message: fmt.Sprintf("the credentials were not ready within %s", s.cfg.LookupTimeout)}
	}
	s.log.Error("credentials lookup failed", zap.String("error", s.scrub(err.Error())))
	return &Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "the credentials could not be read; see the sidecar's log"}
}

// fail writes e, its message scrubbed, and returns its status and code.
func (s *Server) fail(w http.ResponseWriter, e *Error) (int, string) {
	body, err := json.Marshal(map[string]string{"code": e.Code, "message": s.scrub(e.Message)})
	if err != nil {
		body = []byte(`{"code":"InternalError","message":"internal error"}`)
	}
	writeJSON(w, e.Status, body)
	return e.Status, e.Code
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that went away has nothing to be told
}

// scrub removes every known secret from text.
func (s *Server) scrub(text string) string { return s.cfg.Secrets.Scrub(text) }

// hostAllowed is true for the Host the URL names (and localhost on the same port): a page a
// browser was tricked into loading under another name (DNS rebinding) never matches.
func (s *Server) hostAllowed(host string) bool {
	return host == "127.0.0.1:"+s.port || host == "localhost:"+s.port
}

// sessionName is the session a path names: "" for /, NAME for /session/NAME; false for any other
// path.
func sessionName(path string) (string, bool) {
	if path == "/" {
		return "", true
	}
	name, ok := strings.CutPrefix(path, SessionPrefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// loopbackAddr is true for a host:port on the loopback interface.
func loopbackAddr(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// loopbackListener closes, unanswered, connections from peers not on the loopback interface and
// connections beyond the cap.
type loopbackListener struct {
	net.Listener
	slots chan struct{}
	log   *zap.Logger
}

// Accept returns the next loopback connection within the cap.
func (l *loopbackListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !loopbackAddr(c.RemoteAddr().String()) {
			_ = c.Close()
			l.log.Warn("refused a peer that is not on the loopback interface")
			continue
		}
		select {
		case l.slots <- struct{}{}:
			return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			_ = c.Close()
			l.log.Warn("refused a connection: too many open", zap.Int("max", cap(l.slots)))
		}
	}
}

// slotConn gives its slot back when closed.
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// scrubbedWriter logs net/http's own messages at debug level, scrubbed.
type scrubbedWriter struct{ s *Server }

// Write logs p as one line.
func (w scrubbedWriter) Write(p []byte) (int, error) {
	w.s.log.Debug("http server", zap.String("message", w.s.scrub(clip.Echo(strings.TrimSpace(string(p))))))
	return len(p), nil
}
