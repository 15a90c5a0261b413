package rpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"awsflow-sts/sidecar/internal/testing/benchcpu"
)

// The hot path of every call: a tool/invoke request read and judged by the codec, the server's
// dispatch, and the reply written back, over real OS pipes as the sidecar's stdio are.

// benchInvoke is the body of a typical tool/invoke request from the extension.
const benchInvoke = `{"jsonrpc":"2.0","id":42,"method":"tool/invoke","params":{"command":"AssumeRole","params":{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"dev","DurationSeconds":3600}}}`

func BenchmarkCodecReadRequest(b *testing.B) {
	msg := []byte(frame(benchInvoke))
	c := NewCodec(0, nil)
	r := bufio.NewReader(nil)
	src := bytes.NewReader(msg)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	defer benchcpu.Report(b)()
	for b.Loop() {
		src.Reset(msg)
		r.Reset(src)
		var req jsonrpc2.Request
		if err := c.ReadObject(r, &req); err != nil {
			b.Fatal(err)
		}
		if req.Method != "tool/invoke" {
			b.Fatalf("method %q", req.Method)
		}
	}
}

func BenchmarkCodecWriteResponse(b *testing.B) {
	result := json.RawMessage(`{"text":"**Caller identity** of the base identity: IAM user.\n\n- Account: ` + "`123456789012`" + `","data":{"account":"123456789012","arn":"arn:aws:iam::123456789012:user/alice"}}`)
	resp := &jsonrpc2.Response{ID: jsonrpc2.ID{Num: 42}, Result: &result}
	c := NewCodec(0, nil)
	w := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	defer benchcpu.Report(b)()
	for b.Loop() {
		if err := c.WriteObject(w, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// pipeConn joins the read end of one OS pipe and the write end of another.
type pipeConn struct {
	r *os.File
	w *os.File
}

func (p pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipeConn) Close() error {
	err := p.r.Close()
	if werr := p.w.Close(); err == nil {
		err = werr
	}
	return err
}

// pipePeer is a Server on OS pipes, and the other ends for a benchmark to write and read frames.
type pipePeer struct {
	in   *os.File // the peer writes requests here
	out  *bufio.Reader
	outF *os.File
	done chan error
}

func newPipePeer(b *testing.B, opts Options) *pipePeer {
	b.Helper()
	reqR, reqW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	s := NewServer(opts)
	p := &pipePeer{in: reqW, out: bufio.NewReaderSize(respR, 64<<10), outF: respR, done: make(chan error, 1)}
	go func() {
		_, err := s.Serve(context.Background(), pipeConn{reqR, respW})
		p.done <- err
	}()
	return p
}

func (p *pipePeer) close(b *testing.B) {
	b.Helper()
	_ = p.in.Close() // EOF ends Serve
	if err := <-p.done; err != nil {
		b.Error(err)
	}
	_ = p.outF.Close()
}

func (p *pipePeer) readReply(b *testing.B) {
	if _, err := readFrame(p.out); err != nil {
		b.Fatal(err)
	}
}

var benchMethods = map[string]Method{
	"bench/dispatched": {Handle: func(context.Context, json.RawMessage) (any, error) {
		return map[string]string{"text": "Default identity: the base identity."}, nil
	}},
	"bench/inline": {Inline: true, Handle: func(context.Context, json.RawMessage) (any, error) {
		return map[string]string{"text": "Default identity: the base identity."}, nil
	}},
}

// benchFrames returns n framed requests of method with ids 0…n-1, with params of a ListSessions
// call, or of an AssumeRole call with a session policy of about 2 KiB when big.
func benchFrames(method string, n int, big bool) [][]byte {
	params := `{"command":"ListSessions"}`
	if big {
		params = `{"command":"AssumeRole","params":{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"dev","Policy":` +
			strconv.Quote(`{"Version":"2012-10-17","Statement":[`+strings.Repeat(`{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::example-bucket/*"},`, 20)+`{"Effect":"Deny","Action":"*","Resource":"*"}]}`) + `}}`
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(frame(`{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"method":"` + method + `","params":` + params + `}`))
	}
	return out
}

// BenchmarkServerRoundTrip is one request at a time: write it, wait for its reply. Dispatched
// methods run in a goroutine of their own; inline ones on the read loop.
func BenchmarkServerRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name, method string
		big          bool
	}{
		{"dispatched", "bench/dispatched", false},
		{"inline", "bench/inline", false},
		{"dispatched-2KiB-params", "bench/dispatched", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := newPipePeer(b, Options{Methods: benchMethods})
			defer p.close(b)
			frames := benchFrames(bc.method, 1024, bc.big)
			b.ReportAllocs()
			defer benchcpu.Report(b)()
			i := 0
			for b.Loop() {
				if _, err := p.in.Write(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
				p.readReply(b)
				i++
			}
		})
	}
}

// BenchmarkServerPipelined keeps `window` requests in flight, as the extension does under load.
func BenchmarkServerPipelined(b *testing.B) {
	for _, window := range []int{64, 512} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			p := newPipePeer(b, Options{Methods: benchMethods})
			defer p.close(b)
			frames := benchFrames("bench/dispatched", 4096, false)
			// Writes go through a goroutine so a full pipe never blocks the reader.
			sendq := make(chan []byte, window)
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				for f := range sendq {
					if _, err := p.in.Write(f); err != nil {
						return
					}
				}
			}()
			b.ReportAllocs()
			defer benchcpu.Report(b)()
			n := 0
			inFlight := 0
			for b.Loop() {
				for inFlight < window {
					sendq <- frames[n%len(frames)]
					n++
					inFlight++
				}
				p.readReply(b)
				inFlight--
			}
			for ; inFlight > 0; inFlight-- {
				p.readReply(b)
			}
			close(sendq)
			<-sent
		})
	}
}
