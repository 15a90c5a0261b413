package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/localsts"
	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/testing/benchcpu"
	"awsflow-sts/sidecar/internal/testing/rpctest"
)

// The whole sidecar in-process, as `awsflow-sts serve` runs it: JSON-RPC on OS pipes, the info log
// level of the extension's default (written to io.Discard), and the embedded local STS on loopback.
// BenchmarkInvokeGetCallerIdentity beside BenchmarkSDKGetCallerIdentity is what the sidecar adds to
// the SDK call it makes; `make bench` measures the same across processes.

// benchSidecar is a serving Server with the other ends of its pipes.
type benchSidecar struct {
	in   *os.File
	out  *bufio.Reader
	outF *os.File
	done chan error
	seq  int
}

type benchPipes struct{ r, w *os.File }

func (p benchPipes) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p benchPipes) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p benchPipes) Close() error {
	err := p.r.Close()
	if werr := p.w.Close(); err == nil {
		err = werr
	}
	return err
}

// benchEnv starts the local STS and points the SDK's default chain at its demo user only.
func benchEnv(b *testing.B) string {
	b.Helper()
	srv, err := localsts.New(localsts.DefaultConfig(), localsts.Options{})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	srv.SetBaseURL(hs.URL)
	dir := b.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_PROFILE", "")
	b.Setenv("AWS_ACCESS_KEY_ID", localsts.DemoAccessKeyID)
	b.Setenv("AWS_SECRET_ACCESS_KEY", localsts.DemoSecretAccessKey)
	b.Setenv("AWS_SESSION_TOKEN", "")
	return hs.URL
}

func startBenchSidecar(b *testing.B, endpoint string) *benchSidecar {
	b.Helper()
	reqR, reqW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	log, err := logging.New(io.Discard, "", "info")
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Config{Version: "bench", Logger: log, MaintainEvery: -1})
	sc := &benchSidecar{in: reqW, out: bufio.NewReaderSize(respR, 64<<10), outF: respR, done: make(chan error, 1)}
	go func() {
		_, err := srv.Serve(context.Background(), benchPipes{reqR, respW})
		sc.done <- err
	}()
	sc.call(b, "initialize", `{"clientInfo":{"name":"bench","version":"1"},"settings":{"region":"us-east-1","endpointUrl":"`+endpoint+`","maxAttempts":3,"logLevel":"info"}}`)
	b.Cleanup(func() {
		_ = sc.in.Close()
		if err := <-sc.done; err != nil {
			b.Error(err)
		}
		_ = sc.outF.Close()
	})
	return sc
}

func (sc *benchSidecar) send(b *testing.B, method, params string) {
	sc.seq++
	body := `{"jsonrpc":"2.0","id":` + strconv.Itoa(sc.seq) + `,"method":"` + method + `","params":` + params + `}`
	if _, err := fmt.Fprintf(sc.in, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		b.Fatal(err)
	}
}

// recv reads one reply frame and fails on an error reply.
func (sc *benchSidecar) recv(b *testing.B) {
	body, err := rpctest.ReadFrame(sc.out)
	if err != nil {
		b.Fatal(err)
	}
	if strings.Contains(string(body), `"error":`) {
		b.Fatalf("error reply: %s", body)
	}
}

func (sc *benchSidecar) call(b *testing.B, method, params string) {
	sc.send(b, method, params)
	sc.recv(b)
}

// BenchmarkInvokeListSessions is the overhead figure: a tool/invoke that needs no network.
func BenchmarkInvokeListSessions(b *testing.B) {
	sc := startBenchSidecar(b, benchEnv(b))
	b.ReportAllocs()
	defer benchcpu.Report(b)()
	for b.Loop() {
		sc.call(b, "tool/invoke", `{"command":"ListSessions"}`)
	}
}

// BenchmarkInvokeListSessionsPipelined keeps 64 calls in flight (the throughput figure).
func BenchmarkInvokeListSessionsPipelined(b *testing.B) {
	sc := startBenchSidecar(b, benchEnv(b))
	const window = 64
	reqs := make(chan struct{}, window)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for range reqs {
			sc.send(b, "tool/invoke", `{"command":"ListSessions"}`)
		}
	}()
	b.ReportAllocs()
	defer benchcpu.Report(b)()
	inFlight := 0
	for b.Loop() {
		for ; inFlight < window; inFlight++ {
			reqs <- struct{}{}
		}
		sc.recv(b)
		inFlight--
	}
	close(reqs)
	<-sent
	for ; inFlight > 0; inFlight-- {
		sc.recv(b)
	}
}

// BenchmarkInvokeGetCallerIdentity is the e2e figure without the process boundary.
func BenchmarkInvokeGetCallerIdentity(b *testing.B) {
	sc := startBenchSidecar(b, benchEnv(b))
	b.ReportAllocs()
	defer benchcpu.Report(b)()
	for b.Loop() {
		sc.call(b, "tool/invoke", `{"command":"GetCallerIdentity"}`)
	}
}

// BenchmarkSDKGetCallerIdentity is the same STS call straight from aws-sdk-go-v2.
func BenchmarkSDKGetCallerIdentity(b *testing.B) {
	endpoint := benchEnv(b)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		b.Fatal(err)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
	b.ReportAllocs()
	defer benchcpu.Report(b)()
	for b.Loop() {
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			b.Fatal(err)
		}
	}
}
