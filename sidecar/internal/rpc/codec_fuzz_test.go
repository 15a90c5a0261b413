package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strconv"
	"testing"
)

// fuzzMaxBody is the fuzz codec's body limit, small so that the oversize path is reachable.
const fuzzMaxBody = 4096

// sentinel is a valid request written after the fuzzed frame: the codec must always reach it.
var sentinel = []byte(`{"jsonrpc":"2.0","id":"sentinel","method":"sessions/list"}`)

// FuzzReadObject reads arbitrary bytes through the codec. On any stream it never panics, ends, and
// allocates in proportion to its limit and the input, never to a Content-Length it was told. A
// well-framed body of any content gets a verdict without losing the stream: the sentinel request
// after it is always read, a body whose id can be answered is answered with an id (itself or a
// rejection), and a body without one yields at most one message.
func FuzzReadObject(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream, body []byte) {
		c := NewCodec(fuzzMaxBody, nil)

		// Any stream: bounded work and memory.
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := bufio.NewReader(bytes.NewReader(stream))
		for calls := 0; ; calls++ {
			if calls > len(stream)+1 {
				t.Fatalf("ReadObject returned %d messages from %d bytes", calls, len(stream))
			}
			var m json.RawMessage
			if err := c.ReadObject(r, &m); err != nil {
				break
			}
			checkMessage(t, m)
		}
		runtime.ReadMemStats(&after)
		if grew, limit := after.TotalAlloc-before.TotalAlloc, uint64(1<<20+64*len(stream)); grew > limit {
			t.Fatalf("reading %d bytes allocated %d bytes (limit %d)", len(stream), grew, limit)
		}

		// One well-framed body, then the sentinel.
		var in bytes.Buffer
		in.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
		in.Write(body)
		in.WriteString("Content-Length: " + strconv.Itoa(len(sentinel)) + "\r\n\r\n")
		in.Write(sentinel)
		r = bufio.NewReader(&in)
		var got []json.RawMessage
		for {
			var m json.RawMessage
			err := c.ReadObject(r, &m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("stream error after a well-framed body: %v", err)
			}
			checkMessage(t, m)
			got = append(got, m)
		}
		if len(got) == 0 || !bytes.Equal(got[len(got)-1], sentinel) {
			t.Fatalf("the request after a well-framed body was lost; read %q", got)
		}
		verdicts := got[:len(got)-1]
		if len(verdicts) > 1 {
			t.Fatalf("one body gave %d messages: %q", len(verdicts), verdicts)
		}
		if answerableID(body) && (len(verdicts) == 0 || !hasUsableID(verdicts[0])) {
			t.Fatalf("a body with an answerable id got no message carrying an id: %q", verdicts)
		}
	})
}

// checkMessage checks a message the codec hands on: a JSON object that says "jsonrpc": "2.0".
func checkMessage(t *testing.T, m json.RawMessage) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(m, &obj); err != nil {
		t.Fatalf("the codec handed on a message that is not a JSON object (%v): %.300q", err, m)
	}
	if v := string(obj["jsonrpc"]); v != `"2.0"` {
		t.Fatalf(`the codec handed on a message with "jsonrpc" %s: %.300q`, v, m)
	}
}

// answerableID says whether body is a JSON object with an id a reply can carry: a string or a
// non-negative integer that fits int64.
func answerableID(body []byte) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return false
	}
	raw, ok := obj["id"]
	if !ok {
		return false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		return json.Valid(raw)
	}
	if len(raw) == 0 || len(bytes.Trim(raw, "0123456789")) > 0 {
		return false
	}
	_, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil
}

// hasUsableID says whether a message the codec handed on carries a non-null id.
func hasUsableID(m json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(m, &obj) != nil {
		return false
	}
	id := bytes.TrimSpace(obj["id"])
	return len(id) > 0 && string(id) != "null"
}
