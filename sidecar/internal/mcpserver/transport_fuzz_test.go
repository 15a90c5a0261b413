package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
)

// lockedWriter collects what the connection writes.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// FuzzLineTransport reads arbitrary input as the client's stdin. Nothing panics, reading ends at
// end of input, and every line the transport writes back (its answers to what is not a message) is
// one JSON-RPC error object.
func FuzzLineTransport(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n"))
	f.Add([]byte("not json\n{\"id\":[1]}\n\r\n[1,2]\n"))
	f.Add([]byte(`{"jsonrpc":"1.0","id":"x","method":"ping"}`))
	f.Fuzz(func(t *testing.T, input []byte) {
		out := &lockedWriter{}
		conn, err := (&LineTransport{Reader: bytes.NewReader(input), Writer: out}).Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for range len(input) + 2 { // at most one message per byte, then end of input
			if _, err := conn.Read(context.Background()); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("read ended with %v, want end of input", err)
				}
				break
			}
		}
		out.mu.Lock()
		defer out.mu.Unlock()
		sc := bufio.NewScanner(&out.buf)
		for sc.Scan() {
			var answer struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   *struct {
					Code    int64  `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(sc.Bytes(), &answer); err != nil || answer.JSONRPC != "2.0" || answer.Error == nil || len(answer.ID) == 0 {
				t.Fatalf("wrote %q, want a JSON-RPC error", sc.Bytes())
			}
		}
	})
}
