package credserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"awsflow-sts/sidecar/internal/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitBound only keeps a hang from stalling the run; nothing measures it.
const waitBound = 30 * time.Second

// logBuffer is a zap sink safe for concurrent writers and readers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Sync() error { return nil }

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a running server with its log and secrets.
type harness struct {
	t       *testing.T
	srv     *Server
	log     *logBuffer
	secrets *redact.Secrets
	client  *http.Client
}

var good = Credentials{
	AccessKeyID:     "ASIAEXAMPLEEXAMPLE01",
	SecretAccessKey: "secretSECRETsecretSECRETsecretSECRET0001",
	SessionToken:    "sessionTOKENsessionTOKENsessionTOKEN0001",
	Expiration:      time.Date(2031, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 2*3600)),
	AccountID:       "123456789012",
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, log: &logBuffer{}, secrets: &redact.Secrets{}}
	h.secrets.Add(good.SecretAccessKey, good.SessionToken)
	cfg.Logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), h.log, zapcore.DebugLevel))
	cfg.Secrets = h.secrets
	if cfg.Lookup == nil {
		cfg.Lookup = func(context.Context, string) (Credentials, error) { return good, nil }
	}
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	// No keep-alive: every connection ends with its request, so nothing outlives the test.
	h.client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitBound}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// do sends a request to path with the given Authorization values (none when nil).
func (h *harness) do(method, path string, auth []string) (*http.Response, map[string]string) {
	h.t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(h.srv.URL(), "/")+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	body := map[string]string{}
	if method != http.MethodHead {
		if err := json.Unmarshal(raw, &body); err != nil {
			h.t.Fatalf("%s %s answered %d with a body that is not a JSON object of strings: %v: %q", method, path, resp.StatusCode, err, raw)
		}
	}
	return resp, body
}

func (h *harness) get(path string) (*http.Response, map[string]string) {
	return h.do(http.MethodGet, path, []string{h.srv.Token()})
}

func TestTokenAndURL(t *testing.T) {
	h := start(t, Config{})
	tok := h.srv.Token()
	if b, err := hex.DecodeString(tok); err != nil || len(b) != 32 {
		t.Fatalf("token is not 256 bits in hex: %d chars, %v", len(tok), err)
	}
	if got := h.secrets.Scrub("token=" + tok); strings.Contains(got, tok) || strings.Contains(got, tok[:redact.FragmentLen]) {
		t.Fatalf("the token was not registered with the scrubber: %s", got)
	}
	if !strings.HasPrefix(h.srv.URL(), "http://127.0.0.1:") || !strings.HasSuffix(h.srv.URL(), "/") {
		t.Fatalf("URL %s", h.srv.URL())
	}
	other := start(t, Config{})
	if other.srv.Token() == tok || other.srv.URL() == h.srv.URL() {
		t.Fatal("two servers share a token or a port")
	}
}

func TestServesActiveAndNamedSessions(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	h := start(t, Config{Lookup: func(_ context.Context, name string) (Credentials, error) {
		mu.Lock()
		asked = append(asked, name)
		mu.Unlock()
		return good, nil
	}})
	resp, body := h.get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / answered %d %v", resp.StatusCode, body)
	}
	want := map[string]string{
		"AccessKeyId":     good.AccessKeyID,
		"SecretAccessKey": good.SecretAccessKey,
		"Token":           good.SessionToken,
		"Expiration":      "2031-05-06T05:08:09Z",
		"AccountId":       good.AccountID,
	}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Fatalf("GET / answered %v, want %v", body, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if resp, _ := h.get("/session/dev-role"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /session/dev-role answered %d", resp.StatusCode)
	}
	if resp, _ := h.get("/session/a%20b?x=1"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /session/a%%20b answered %d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(asked) != fmt.Sprint([]string{"", "dev-role", "a b"}) {
		t.Fatalf("lookups %q", asked)
	}
}

// TestLongTermKeysAskAgainWithinTheHorizon: keys that do not expire are answered with an empty
// Token and an Expiration RefreshHorizon from the request, which botocore and the JavaScript SDK
// require.
func TestLongTermKeysAskAgainWithinTheHorizon(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	h := start(t, Config{Now: func() time.Time { return at }, Lookup: func(context.Context, string) (Credentials, error) {
		return Credentials{AccessKeyID: "AKIAEXAMPLEEXAMPLE01", SecretAccessKey: good.SecretAccessKey}, nil
	}})
	resp, body := h.get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	want := map[string]string{
		"AccessKeyId":     "AKIAEXAMPLEEXAMPLE01",
		"SecretAccessKey": good.SecretAccessKey,
		"Token":           "",
		"Expiration":      at.Add(RefreshHorizon).Format(time.RFC3339),
	}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Fatalf("long-term keys answered %v, want %v", body, want)
	}
}

// noLookup fails the test if a lookup runs: refusals happen before any.
func noLookup(t *testing.T) Lookup {
	return func(context.Context, string) (Credentials, error) {
		t.Error("a refused request reached the lookup")
		return Credentials{}, errors.New("refused request looked up")
	}
}

func TestWrongOrMissingTokenIs403(t *testing.T) {
	h := start(t, Config{Lookup: noLookup(t)})
	tok := h.srv.Token()
	cases := map[string][]string{
		"missing":             nil,
		"empty":               {""},
		"wrong":               {strings.Repeat("0", len(tok))},
		"one character short": {tok[:len(tok)-1]},
		"with a suffix":       {tok + "0"},
		"Bearer scheme":       {"Bearer " + tok},
		"upper case":          {strings.ToUpper(tok)},
		"twice":               {tok, tok},
		"wrong then right":    {"x", tok},
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/", "/session/dev", "/nowhere"} {
				resp, body := h.do(http.MethodGet, path, auth)
				if resp.StatusCode != http.StatusForbidden || body["code"] != "AccessDenied" || body["message"] == "" {
					t.Fatalf("GET %s answered %d %v, want 403 AccessDenied", path, resp.StatusCode, body)
				}
			}
		})
	}
}

func TestOtherMethodsAre405(t *testing.T) {
	h := start(t, Config{Lookup: noLookup(t)})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions, "PROPFIND"} {
		for _, auth := range [][]string{{h.srv.Token()}, nil} {
			resp, body := h.do(m, "/", auth)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodGet {
				t.Fatalf("%s answered %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
			}
			if m != http.MethodHead && body["code"] != "MethodNotAllowed" {
				t.Fatalf("%s answered %v", m, body)
			}
		}
	}
}

func TestUnknownPathsAre404(t *testing.T) {
	h := start(t, Config{Lookup: noLookup(t)})
	for _, p := range []string{"/x", "/session", "/session/", "/session/a/b", "/sessions/a", "//"} {
		resp, body := h.get(p)
		if resp.StatusCode != http.StatusNotFound || body["code"] != "NotFound" {
			t.Fatalf("GET %s answered %d %v", p, resp.StatusCode, body)
		}
	}
}

func TestWrongHostIs403(t *testing.T) {
	h := start(t, Config{Lookup: noLookup(t)})
	req, err := http.NewRequest(http.MethodGet, h.srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "attacker.example:80"
	req.Header.Set("Authorization", h.srv.Token())
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign Host answered %d", resp.StatusCode)
	}
}

func TestLookupErrors(t *testing.T) {
	var h *harness
	h = start(t, Config{Lookup: func(_ context.Context, name string) (Credentials, error) {
		switch name {
		case "gone":
			return Credentials{}, &Error{Status: http.StatusNotFound, Code: "SessionNotFound", Message: `there is no session "gone"`}
		case "jwt":
			return Credentials{}, &Error{Status: http.StatusConflict, Code: "NotCredentials", Message: "holds a token " + h.srv.Token()}
		default:
			return Credentials{}, fmt.Errorf("internal detail quoting %s and %s", good.SecretAccessKey, h.srv.Token())
		}
	}})
	resp, body := h.get("/session/gone")
	if resp.StatusCode != http.StatusNotFound || body["code"] != "SessionNotFound" || body["message"] != `there is no session "gone"` {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	resp, body = h.get("/session/jwt")
	if resp.StatusCode != http.StatusConflict || body["code"] != "NotCredentials" || strings.Contains(body["message"], h.srv.Token()[:redact.FragmentLen]) {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	resp, body = h.get("/session/other")
	if resp.StatusCode != http.StatusInternalServerError || body["code"] != "InternalError" || strings.Contains(body["message"], "internal detail") {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	logged := h.log.String()
	if !strings.Contains(logged, "internal detail quoting") {
		t.Errorf("the cause of an internal error is not in the log:\n%s", logged)
	}
	for _, s := range []string{good.SecretAccessKey, h.srv.Token()} {
		if strings.Contains(logged, s[:redact.FragmentLen]) || strings.Contains(logged, s[len(s)-redact.FragmentLen:]) {
			t.Errorf("the log quotes a secret:\n%s", logged)
		}
	}
}

func TestTokenNeverLogged(t *testing.T) {
	h := start(t, Config{})
	tok := h.srv.Token()
	h.get("/")
	h.get("/session/" + tok)
	h.get("/" + tok + "?token=" + tok)
	h.do(http.MethodGet, "/", []string{tok + "x"})
	h.do(http.MethodGet, "/", []string{"Bearer " + tok})
	h.do(http.MethodPost, "/"+tok, []string{tok})
	logged := h.log.String()
	var lines int
	sc := bufio.NewScanner(strings.NewReader(logged))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "credentials request") {
			lines++
		}
		for i := 0; i+redact.FragmentLen <= len(tok); i += 8 {
			if strings.Contains(strings.ToLower(line), tok[i:i+redact.FragmentLen]) {
				t.Fatalf("a log line carries part of the token: %s", line)
			}
		}
		for _, s := range []string{good.SecretAccessKey, good.SessionToken} {
			if strings.Contains(line, s[:redact.FragmentLen]) {
				t.Fatalf("a log line carries a credential: %s", line)
			}
		}
	}
	if lines != 6 {
		t.Fatalf("%d request lines, want 6:\n%s", lines, logged)
	}
	for _, want := range []string{`"method":"GET"`, `"path":"/"`, `"status":200`, `"status":403`, `"status":405`, `"method":"POST"`} {
		if !strings.Contains(logged, want) {
			t.Errorf("the log lacks %s:\n%s", want, logged)
		}
	}
}

// TestComparisonIsConstantTime checks authorized's answers and that it compares with
// crypto/subtle, never with == or strings functions, whose time depends on where the first
// difference is.
func TestComparisonIsConstantTime(t *testing.T) {
	tok := strings.Repeat("ab", 32)
	for _, c := range []struct {
		values []string
		want   bool
	}{
		{[]string{tok}, true}, {nil, false}, {[]string{""}, false}, {[]string{tok[1:] + "a"}, false},
		{[]string{tok, tok}, false}, {[]string{tok + " "}, false},
	} {
		if got := authorized(c.values, tok); got != c.want {
			t.Errorf("authorized(%q) = %v", c.values, got)
		}
	}
	f, err := parser.ParseFile(token.NewFileSet(), "auth.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "authorized" {
			fn = d
		}
	}
	if fn == nil {
		t.Fatal("auth.go has no func authorized")
	}
	var constantTime bool
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok {
				if id.Name == "subtle" && n.Sel.Name == "ConstantTimeCompare" {
					constantTime = true
				}
				if id.Name == "strings" || id.Name == "bytes" {
					t.Errorf("authorized uses %s.%s", id.Name, n.Sel.Name)
				}
			}
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				for _, side := range []ast.Expr{n.X, n.Y} {
					if id, ok := side.(*ast.Ident); ok && id.Name == "token" {
						t.Errorf("authorized compares the token with %s", n.Op)
					}
				}
			}
		}
		return true
	})
	if !constantTime {
		t.Error("authorized does not call subtle.ConstantTimeCompare")
	}
}

func TestHeaderSizeBound(t *testing.T) {
	h := start(t, Config{Lookup: noLookup(t)})
	req, err := http.NewRequest(http.MethodGet, h.srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", h.srv.Token())
	req.Header.Set("X-Padding", strings.Repeat("p", 4*MaxHeaderBytes))
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("an oversize header block answered %d", resp.StatusCode)
	}
}

// fakeListener hands out conns with chosen peer addresses, then reports itself closed.
type fakeListener struct {
	conns chan net.Conn
}

func (l *fakeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l *fakeListener) Close() error   { return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// peerConn is one end of a pipe that claims a peer address and records its closing.
type peerConn struct {
	net.Conn
	remote net.Addr
	closed chan struct{}
	once   sync.Once
}

func (c *peerConn) RemoteAddr() net.Addr { return c.remote }
func (c *peerConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func newPeerConn(t *testing.T, ip net.IP) *peerConn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &peerConn{Conn: a, remote: &net.TCPAddr{IP: ip, Port: 40000}, closed: make(chan struct{})}
}

func TestListenerRefusesNonLoopbackPeersAndExtraConns(t *testing.T) {
	fl := &fakeListener{conns: make(chan net.Conn, 8)}
	l := &loopbackListener{Listener: fl, slots: make(chan struct{}, 1), log: zap.NewNop()}
	remote := newPeerConn(t, net.IPv4(10, 1, 2, 3))
	mapped := newPeerConn(t, net.ParseIP("::ffff:192.168.1.9"))
	first := newPeerConn(t, net.IPv4(127, 0, 0, 1))
	extra := newPeerConn(t, net.IPv4(127, 0, 0, 2))
	after := newPeerConn(t, net.IPv6loopback)
	fl.conns <- remote
	fl.conns <- mapped
	fl.conns <- first
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr() != first.remote {
		t.Fatalf("accepted %v, want the loopback peer", c.RemoteAddr())
	}
	for _, p := range []*peerConn{remote, mapped} {
		select {
		case <-p.closed:
		default:
			t.Fatalf("the connection from %v was not closed", p.remote)
		}
	}
	fl.conns <- extra
	fl.conns <- after
	close(fl.conns)
	// The cap is 1 and first holds it: extra is closed; once first closes, after is accepted.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if c2.RemoteAddr() != extra.remote {
		t.Fatalf("accepted %v after the slot was freed, want %v", c2.RemoteAddr(), extra.remote)
	}
	// after is over the cap now that extra holds the slot: it is closed, then the listener ends.
	if c3, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept over the cap returned %v, %v; want net.ErrClosed", c3, err)
	}
	<-after.closed
	c2.Close()
}

func TestNonLoopbackAddressIsNotListenedOn(t *testing.T) {
	h := start(t, Config{Lookup: noLookup(t)})
	ip := nonLoopbackIPv4(t)
	if ip == "" {
		t.Skip("this machine has no non-loopback IPv4 address")
	}
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(h.srv.URL(), "http://"), "/"))
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), waitBound)
	if err == nil {
		c.Close()
		t.Fatalf("%s:%s accepted a connection", ip, port)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5": true, "127.9.9.9:5": true, "[::1]:5": true, "[::ffff:127.0.0.1]:5": true,
		"10.0.0.1:5": false, "[::ffff:10.0.0.1]:5": false, "192.168.0.1:5": false, "": false, "localhost:5": false, "[fe80::1]:5": false,
	} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v", addr, got)
		}
	}
}

func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

func TestConcurrencyCap(t *testing.T) {
	started := make(chan struct{}, 4)
	release := make(chan struct{})
	h := start(t, Config{MaxInFlight: 1, LookupTimeout: 300 * time.Millisecond, Lookup: func(context.Context, string) (Credentials, error) {
		started <- struct{}{}
		<-release // holds the only slot until the test lets go, whatever the bound
		return good, nil
	}})
	first := make(chan int, 1)
	go func() {
		resp, _ := h.get("/")
		first <- resp.StatusCode
	}()
	<-started
	// A request waiting for the slot longer than the lookup bound is refused as busy.
	resp, body := h.get("/")
	if resp.StatusCode != http.StatusServiceUnavailable || body["code"] != "Busy" {
		t.Fatalf("a request over the cap answered %d %v", resp.StatusCode, body)
	}
	close(release)
	if got := <-first; got != http.StatusOK {
		t.Fatalf("the request holding the slot answered %d", got)
	}
	if resp, _ := h.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the slot was freed: %d", resp.StatusCode)
	}
}

func TestLookupPastItsBoundIs504(t *testing.T) {
	h := start(t, Config{LookupTimeout: 50 * time.Millisecond, Lookup: func(ctx context.Context, _ string) (Credentials, error) {
		<-ctx.Done()
		return Credentials{}, ctx.Err()
	}})
	resp, body := h.get("/")
	if resp.StatusCode != http.StatusGatewayTimeout || body["code"] != "Timeout" {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
}

func TestCloseCancelsLookupsAndStops(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	h := start(t, Config{Lookup: func(ctx context.Context, _ string) (Credentials, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return Credentials{}, ctx.Err()
	}})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL(), nil)
		req.Header.Set("Authorization", h.srv.Token())
		resp, err := h.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				err = fmt.Errorf("a request cut by Close answered %d", resp.StatusCode)
			}
		}
		done <- err
	}()
	<-started
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cancelled:
	default:
		t.Fatal("Close returned before the lookup in flight was cancelled")
	}
	if err := <-done; err != nil && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(h.srv.URL(), "http://"), "/"), waitBound); err == nil {
		t.Fatal("the port still accepts connections after Close")
	}
	if err := h.srv.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
