package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/testing/ststest"
)

// soakScale is how hard TestSoak pushes: AWSFLOW_SOAK=full (make soak) or the short default that
// make test runs.
type soakScale struct {
	name      string
	rounds    int // sidecar processes, one after another
	perRound  int // requests per round
	batch     int // requests in flight at once
	killEvery int // every killEvery-th round ends in kill -9 mid-traffic (0: never)
}

func soakConfig() soakScale {
	if os.Getenv("AWSFLOW_SOAK") == "full" {
		return soakScale{name: "full", rounds: 10, perRound: 10_000, batch: 1_000, killEvery: 2}
	}
	return soakScale{name: "short", rounds: 4, perRound: 150, batch: 50, killEvery: 2}
}

// Bounds the soak asserts; generous, as they only catch runaway growth.
const (
	soakMaxRSS     = 300 << 20 // peak resident memory of one sidecar
	soakMaxThreads = 200       // OS threads of one sidecar (blocked reads each hold one)
)

// soakFaults rotate over the rounds on the actions that carry secrets and files.
var soakFaults = []struct {
	name  string
	fault ststest.Fault
}{{"Hang", ststest.Hang}, {"Garbage", ststest.Garbage}, {"HTML500", ststest.HTML500}, {"Echo", ststest.Echo}}

var soakFaultedActions = []string{"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetDelegatedAccessToken", "GetSessionToken"}

// soakCanaries are secrets the soak hands the sidecar (in params, files and the credentials
// file); no 16-character run of one may appear in anything it writes.
type soakCanaries struct {
	jwt, tradeIn, saml, fileJWT string
	all                         []string
}

func newSoakCanaries() soakCanaries {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := seg(`{"alg":"RS256","kid":"k1","typ":"JWT"}`)
	claims := seg(`{"iss":"https://issuer.example","sub":"soak","aud":"sts.amazonaws.com","exp":4102444800}`)
	c := soakCanaries{
		jwt:     header + "." + claims + ".SoakJwtSignatureCanaryQx7Wm2Lp9Zr4",
		tradeIn: "SoakTradeInCanary-Vb3Nh8Kd1Tf6Yg0Rj5",
		saml:    base64.StdEncoding.EncodeToString([]byte("<samlp:Response>SoakSamlCanaryXe4Mu9Pq2</samlp:Response>")),
		fileJWT: header + "." + claims + ".SoakFileTokenCanaryHs5Dk8Wn3Lc1",
	}
	c.all = []string{"SoakJwtSignatureCanaryQx7Wm2Lp9Zr4", c.tradeIn, "SoakSamlCanaryXe4Mu9Pq2", "SoakFileTokenCanaryHs5Dk8Wn3Lc1", baseSecret}
	return c
}

// soakStats are the figures the soak reports.
type soakStats struct {
	requests, answered, raw, kills int
	lost                           int // in flight when the sidecar was killed
	kinds                          map[string]int
	latencies                      []time.Duration
	peakRSS, peakHWM               int64
	peakThreads                    int
}

// soakRequest is one request the soak sends, or raw bytes with no answer due.
type soakRequest struct {
	method string
	params any
	raw    []byte
}

// TestSoak drives the real sidecar with hostile requests mixed with valid ones, in batches of
// concurrent calls, while the fake STS hangs, answers garbage, HTML or echoes the request, and
// kills the sidecar with SIGKILL mid-traffic every other round. The sidecar never dies on its
// own, answers every request, stays within bounded memory and threads, and writes none of the
// canaries it was handed.
func TestSoak(t *testing.T) {
	scale := soakConfig()
	dir := t.TempDir()
	canaries := newSoakCanaries()
	tokenFile := filepath.Join(dir, "token.jwt")
	if err := os.WriteFile(tokenFile, []byte(canaries.fileJWT), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	env := scratchEnv(t)
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	paths := []string{"/proc/self/fd/0", "/dev/zero", fifo, filepath.Join(home, "credentials"), "~/credentials",
		"/proc/self/environ", dir, tokenFile, "../../../../etc/passwd", strings.Repeat("/x", 3000)}

	stats := &soakStats{kinds: map[string]int{}}
	r := rand.New(rand.NewSource(1))
	start := time.Now()
	for round := range scale.rounds {
		fault := soakFaults[round%len(soakFaults)]
		kill := scale.killEvery > 0 && round%scale.killEvery == scale.killEvery-1
		t.Logf("round %d: %d requests, STS fault %s, kill -9: %v", round+1, scale.perRound, fault.name, kill)
		fake := startFake(t)
		for _, a := range soakFaultedActions {
			fake.Inject(a, fault.fault)
		}
		p := startServe(t, env)
		settings := fakeSettings(fake)
		settings["requestTimeoutSeconds"] = 1
		p.initialize(settings)
		soakRound(t, p, scale, kill, stats, r, canaries, paths)
		soakCheckOutput(t, p, append(slices.Clone(canaries.all), fake.Secrets()...), canaries.all)
		p.forgetHistory()
	}
	soakReport(t, scale, stats, time.Since(start))
}

// soakRound sends one round's requests in concurrent batches and checks the process after each.
func soakRound(t *testing.T, p *proc, scale soakScale, kill bool, stats *soakStats, r *rand.Rand, c soakCanaries, paths []string) {
	type pending struct {
		id   int64
		ch   <-chan *message
		sent time.Time
	}
	for sent := 0; sent < scale.perRound; {
		n := min(scale.batch, scale.perRound-sent)
		lastBatch := sent+n >= scale.perRound
		var inflight []pending
		for range n {
			req := soakPick(r, c, paths)
			stats.requests++
			if req.raw != nil {
				stats.raw++
				p.mustWrite(req.raw)
				continue
			}
			id, ch := p.request(req.method, req.params)
			inflight = append(inflight, pending{id, ch, time.Now()})
		}
		if kill && lastBatch {
			// Mid-traffic: the whole batch is in flight, unanswered.
			soakKill(t, p, stats)
			stats.lost += len(inflight)
			return
		}
		for _, f := range inflight {
			m := p.await(f.id, f.ch)
			stats.latencies = append(stats.latencies, time.Since(f.sent))
			stats.answered++
			stats.kinds[soakKind(m)]++
		}
		sent += n
		soakSample(t, p, stats)
		if !p.alive() {
			t.Fatalf("the sidecar died without being killed%s", p.diag())
		}
	}
	if code := p.shutdownAndExit(); code != 0 {
		t.Errorf("exit code %d after shutdown and exit, want 0", code)
	}
}

// soakKill sends SIGKILL and checks that our signal, not a crash, ended the process.
func soakKill(t *testing.T, p *proc, stats *soakStats) {
	t.Helper()
	soakSample(t, p, stats)
	if !p.alive() {
		t.Fatalf("the sidecar died before it was killed%s", p.diag())
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(exitTimeout):
		t.Fatalf("the sidecar outlived SIGKILL by %v", exitTimeout)
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the sidecar ended with %v, not by our SIGKILL%s", p.cmd.ProcessState, p.diag())
	}
	stats.kills++
}

// soakPick chooses the next request: about half valid, half hostile.
func soakPick(r *rand.Rand, c soakCanaries, paths []string) soakRequest {
	role := "arn:aws:iam::123456789012:role/Dev"
	invoke := func(cmd string, params any) soakRequest {
		return soakRequest{method: "tool/invoke", params: invokeParams(cmd, params)}
	}
	switch k := r.Intn(100); {
	case k < 20:
		return invoke("GetCallerIdentity", nil)
	case k < 35:
		return soakRequest{method: "sessions/list"}
	case k < 42:
		return invoke("ListSessions", nil)
	case k < 50:
		return invoke("GetAccessKeyInfo", map[string]any{"AccessKeyId": "ASIAY34FZKBOKMUTVV7A"})
	case k < 55:
		return soakRequest{method: strings.Repeat("m", 1+r.Intn(200_000))}
	case k < 60:
		return invoke(strings.Repeat("C", 1+r.Intn(200_000)), map[string]any{"x": 1})
	case k < 70:
		// A model-chosen file: a pipe, a device, stdin, a secret file, a directory, a long path.
		param := "WebIdentityTokenFile"
		cmd := "AssumeRoleWithWebIdentity"
		if r.Intn(3) == 0 {
			param, cmd = "SAMLAssertionFile", "AssumeRoleWithSAML"
		}
		return invoke(cmd, map[string]any{"RoleArn": role, "RoleSessionName": "soak", param: paths[r.Intn(len(paths))]})
	case k < 76:
		// Bad types and values.
		return invoke("AssumeRole", map[string]any{"RoleArn": 5, "DurationSeconds": "forever", "Tags": []any{1, nil},
			"Policy": map[string]any{"x": strings.Repeat("p", r.Intn(5000))}, strings.Repeat("K", 1+r.Intn(5000)): true})
	case k < 80:
		// Secrets in params, through an STS endpoint that misbehaves this round (every 4th pick).
		switch r.Intn(4) {
		case 0:
			return invoke("AssumeRoleWithWebIdentity", map[string]any{"RoleArn": role, "RoleSessionName": "soak", "WebIdentityToken": c.jwt})
		case 1:
			return invoke("GetDelegatedAccessToken", map[string]any{"TradeInToken": c.tradeIn})
		case 2:
			return invoke("AssumeRoleWithSAML", map[string]any{"RoleArn": role, "PrincipalArn": "arn:aws:iam::123456789012:saml-provider/Okta", "SAMLAssertion": c.saml})
		default:
			return invoke("GetSessionToken", map[string]any{"DurationSeconds": 900})
		}
	case k < 84:
		return soakRequest{method: "settings/update", params: map[string]any{"settings": map[string]any{
			"region": []string{"us east 1", "", strings.Repeat("r", 5000)}[r.Intn(3)], "endpointUrl": "file:///etc/passwd"}}}
	case k < 88:
		return soakRequest{method: []string{"sessions/use", "sessions/forget"}[r.Intn(2)], params: map[string]any{"name": strings.Repeat("s", 1+r.Intn(50_000))}}
	case k < 92:
		return soakRequest{method: "tool/invoke", params: []any{1, "two", nil}}
	case k < 96:
		// Frames with no id to answer: garbage, invalid JSON, a bad Content-Length.
		junk := make([]byte, 1+r.Intn(2000))
		r.Read(junk)
		return soakRequest{raw: [][]byte{append(junk, "\r\n\r\n"...), frame([]byte(`{"jsonrpc":"2.0", nope`)),
			[]byte("Content-Length: -5\r\n\r\n"), frame(junk)}[r.Intn(4)]}
	case k < 99:
		// Invalid JSON whose id cannot be read: answered with id null (−32700), which no request waits for.
		return soakRequest{raw: frame([]byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(r.Intn(1000)) + `,"method":`))}
	default:
		return soakRequest{method: "tool/invoke", params: invokeParams("ListSessions", map[string]any{"pad": strings.Repeat("A", 1<<20)})}
	}
}

// soakKind names an answer for the figures: "ok", the error's data.kind, or its JSON-RPC code.
func soakKind(m *message) string {
	if m.Error == nil {
		return "ok"
	}
	var d errorData
	if json.Unmarshal(m.Error.Data, &d) == nil && d.Kind != "" {
		return d.Kind
	}
	return "rpc " + strconv.Itoa(m.Error.Code)
}

// soakSample records the sidecar's memory and threads from /proc and checks them.
func soakSample(t *testing.T, p *proc, stats *soakStats) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return // exited; the caller says whether that was expected
	}
	for _, ln := range strings.Split(string(b), "\n") {
		name, value, _ := strings.Cut(ln, ":")
		n, _ := strconv.ParseInt(strings.Fields(value + " 0")[0], 10, 64)
		switch name {
		case "VmRSS":
			stats.peakRSS = max(stats.peakRSS, n<<10)
		case "VmHWM":
			stats.peakHWM = max(stats.peakHWM, n<<10)
		case "Threads":
			stats.peakThreads = max(stats.peakThreads, int(n))
		}
	}
	if stats.peakHWM > soakMaxRSS {
		t.Fatalf("the sidecar's peak RSS is %d MB, over %d MB%s", stats.peakHWM>>20, soakMaxRSS>>20, p.diag())
	}
	if stats.peakThreads > soakMaxThreads {
		t.Fatalf("the sidecar runs %d threads, over %d%s", stats.peakThreads, soakMaxThreads, p.diag())
	}
}

// soakCheckOutput fails if anything the sidecar wrote holds a secret: exact values, or any
// 16-character run of a canary in any case.
func soakCheckOutput(t *testing.T, p *proc, exact, fragments []string) {
	t.Helper()
	for _, out := range []struct {
		name string
		data []byte
	}{{"stdout", p.stdout.Bytes()}, {"stderr", p.stderr.Bytes()}} {
		for _, s := range exact {
			if s != "" && bytes.Contains(out.data, []byte(s)) {
				t.Errorf("the sidecar's %s holds a secret (%d bytes)", out.name, len(s))
			}
		}
		for _, s := range fragments {
			if f, ok := ststest.Fragment(string(out.data), s); ok {
				t.Errorf("the sidecar's %s holds a fragment of a canary: %q", out.name, f)
			}
		}
	}
}

// forgetHistory drops what the client kept of a finished round, so a long soak's memory stays
// flat: the messages read and the bytes written.
func (p *proc) forgetHistory() {
	p.Forget()
	p.stdout.Reset()
	p.stderr.Reset()
}

// soakReport prints the figures, in the test log and, for make soak, on stdout.
func soakReport(t *testing.T, scale soakScale, s *soakStats, took time.Duration) {
	slices.Sort(s.latencies)
	pct := func(q float64) time.Duration {
		if len(s.latencies) == 0 {
			return 0
		}
		return s.latencies[min(len(s.latencies)-1, int(q*float64(len(s.latencies))))]
	}
	kinds := make([]string, 0, len(s.kinds))
	for k, n := range s.kinds {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(kinds)
	report := fmt.Sprintf("soak (%s): %d requests (%d raw frames without an id, %d in flight at a kill -9), %d answered, answers by kind: %s; "+
		"latency p50 %v, p99 %v; peak RSS %d MB (VmHWM %d MB), peak threads %d; kill -9: %d; %v",
		scale.name, s.requests, s.raw, s.lost, s.answered, strings.Join(kinds, " "), pct(0.50).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), s.peakRSS>>20, s.peakHWM>>20, s.peakThreads, s.kills, took.Round(time.Millisecond))
	t.Log(report)
	if scale.name == "full" {
		fmt.Println(report)
	}
}
