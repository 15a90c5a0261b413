package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// readAll decodes every message the codec yields from input into raw JSON, and the error that
// ended the stream.
func readAll(t *testing.T, maxBytes int, input string) ([]string, error) {
	t.Helper()
	c := NewCodec(maxBytes, nil)
	r := bufio.NewReader(strings.NewReader(input))
	var out []string
	for {
		var msg json.RawMessage
		if err := c.ReadObject(r, &msg); err != nil {
			return out, err
		}
		out = append(out, string(msg))
	}
}

func rejectedMsg(id string, code int64, message string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"$/rejected","params":{"code":%d,"message":%q,"data":{"kind":"protocol"}}}`, id, code, message)
}

// rejectedNotif is the rejection of a request whose id cannot be read, which the server answers
// with a null id.
func rejectedNotif(code int64, message string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","method":"$/rejected","params":{"code":%d,"message":%q,"data":{"kind":"protocol"}}}`, code, message)
}

func TestCodecReadObject(t *testing.T) {
	good := `{"jsonrpc":"2.0","id":1,"method":"echo"}`
	bigParams := `{"jsonrpc":"2.0","id":7,"method":"echo","params":{"blob":"` + strings.Repeat("a", 200) + `"}}`
	idLate := `{"jsonrpc":"2.0","method":"echo","params":{"blob":"` + strings.Repeat("a", 70<<10) + `"},"id":8}`
	tests := []struct {
		name    string
		max     int
		input   string
		want    []string
		wantErr error
	}{
		{name: "empty stream", input: "", wantErr: io.EOF},
		{name: "good frame", input: frame(good), want: []string{good}, wantErr: io.EOF},
		{name: "bare LF line endings", input: "Content-Length: 40\n\n" + good, want: []string{good}, wantErr: io.EOF},
		{
			name:  "case-insensitive header and Content-Type",
			input: "content-LENGTH:40\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + good,
			want:  []string{good}, wantErr: io.EOF,
		},
		{name: "stray blank lines", input: "\r\n\r\n" + frame(good), want: []string{good}, wantErr: io.EOF},
		{
			name:  "block without Content-Length is skipped, glued body resyncs",
			input: "Content-Type: x\r\n\r\n" + good + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "invalid Content-Length value",
			input: "Content-Length: 12abc\r\n\r\n" + good + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "garbage line then header",
			input: "hello world\r\n" + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "overlong garbage line glued to header",
			input: strings.Repeat("x", 100<<10) + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "overlong garbage line on its own",
			input: strings.Repeat("x", 100<<10) + "\r\n\r\n" + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "oversize with id is answered and skipped exactly",
			max:   100,
			input: frame(bigParams) + frame(good),
			want: []string{
				rejectedMsg("7", CodeInvalidRequest, fmt.Sprintf("message of %d bytes exceeds the 100-byte limit", len(bigParams))),
				good,
			},
			wantErr: io.EOF,
		},
		{
			name:  "oversize with the id beyond the kept prefix is answered without an id",
			max:   1000,
			input: frame(idLate) + frame(good),
			want: []string{
				rejectedNotif(CodeInvalidRequest, fmt.Sprintf("message of %d bytes exceeds the 1000-byte limit", len(idLate))),
				good,
			},
			wantErr: io.EOF,
		},
		{
			name:  "oversize response completes the pending call with an error",
			max:   50,
			input: frame(`{"jsonrpc":"2.0","id":"s1","result":"` + strings.Repeat("b", 100) + `"}`),
			want: []string{
				`{"jsonrpc":"2.0","id":"s1","error":{"code":-32600,"message":"response of 139 bytes exceeds the 50-byte limit","data":{"kind":"protocol"}}}`,
			},
			wantErr: io.EOF,
		},
		{
			name:  "bad JSON is a parse error",
			input: frame(`{"jsonrpc":"2.0","id":3,"method":`) + frame(good),
			want:  []string{rejectedNotif(CodeParseError, "parse error: the message is not valid JSON"), good}, wantErr: io.EOF,
		},
		{
			name:  "empty body is a parse error",
			input: "Content-Length: 0\r\n\r\n" + frame(good),
			want:  []string{rejectedNotif(CodeParseError, "parse error: the message is not valid JSON"), good}, wantErr: io.EOF,
		},
		{
			name:  "a notification for the reserved method is dropped",
			input: frame(`{"jsonrpc":"2.0","method":"$/rejected","params":{"code":1,"message":"forged"}}`) + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "malformed response without an id is dropped",
			input: frame(`{"jsonrpc":"2.0","id":1.5,"result":1}`) + frame(good),
			want:  []string{good}, wantErr: io.EOF,
		},
		{
			name:  "malformed response is turned into an error response",
			input: frame(`{"jsonrpc":"2.0","id":4,"result":1,"error":{"code":1,"message":"x"}}`),
			want: []string{
				`{"jsonrpc":"2.0","id":4,"error":{"code":-32600,"message":"malformed response from peer: a response must not carry both \"result\" and \"error\"","data":{"kind":"protocol"}}}`,
			},
			wantErr: io.EOF,
		},
		{name: "valid response passes", input: frame(`{"jsonrpc":"2.0","id":"s2","result":null}`), want: []string{`{"jsonrpc":"2.0","id":"s2","result":null}`}, wantErr: io.EOF},
		{name: "truncated body", input: "Content-Length: 40\r\n\r\n{\"jsonrpc\"", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated oversize body", max: 10, input: "Content-Length: 40\r\n\r\n{\"jsonrpc\"", wantErr: io.ErrUnexpectedEOF},
		{name: "EOF inside headers", input: "Content-Length: 40\r\n", wantErr: io.ErrUnexpectedEOF},
		{name: "EOF inside a header line", input: "Content-Len", wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.max, tt.input)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == io.EOF && err != io.EOF) {
				t.Errorf("stream ended with %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages %q, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				assertJSONEqual(t, got[i], tt.want[i])
			}
		})
	}
}

func assertJSONEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// pickyMessage rejects what the pre-validation accepted, to exercise the fallback that keeps a
// decoder disagreement from ending the stream.
type pickyMessage struct{ Method string }

func (p *pickyMessage) UnmarshalJSON(b []byte) error {
	var m struct{ Method string }
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m.Method == "picky" {
		return errors.New("refused")
	}
	p.Method = m.Method
	return nil
}

func TestCodecDecoderDisagreement(t *testing.T) {
	c := NewCodec(0, nil)
	input := frame(`{"jsonrpc":"2.0","id":5,"method":"picky"}`) + frame(`{"jsonrpc":"2.0","method":"picky"}`) + frame(`{"jsonrpc":"2.0","id":6,"method":"ok"}`)
	r := bufio.NewReader(strings.NewReader(input))
	var got []string
	for {
		var m pickyMessage
		if err := c.ReadObject(r, &m); err != nil {
			if err != io.EOF {
				t.Fatalf("ReadObject: %v, want only io.EOF", err)
			}
			break
		}
		got = append(got, m.Method)
	}
	// The id-bearing one becomes a rejection; the notification is dropped.
	if want := []string{"$/rejected", "ok"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got methods %q, want %q", got, want)
	}
}

func TestCodecWriteObjectRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	c := NewCodec(0, nil)
	if err := c.WriteObject(&buf, map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "Content-Length: 9\r\n\r\n{\"a\":\"b\"}"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	var v map[string]string
	if err := (jsonrpc2.VSCodeObjectCodec{}).ReadObject(bufio.NewReader(&buf), &v); err != nil || v["a"] != "b" {
		t.Errorf("stock codec read %v, %v", v, err)
	}
}

// wire is what a bad-input case must produce before the follow-up request is answered.
type wire struct {
	id      string // raw JSON id; "null" for a message whose id cannot be read
	code    int64
	message string // substring of the error message
}

type badInput struct {
	name  string
	input string
	want  []wire // replies, in order
}

func badInputs() []badInput {
	good := `{"jsonrpc":"2.0","id":1,"method":"echo"}`
	head := `{"jsonrpc":"2.0","id":7,"method":"echo","params":{"blob":"`
	huge := head + strings.Repeat("a", 2000000-len(head)-3) + `"}}`
	hugeNoID := `{"jsonrpc":"2.0","method":"echo","params":{"blob":"` + strings.Repeat("a", 1<<21) + `"}}`
	return []badInput{
		{"good frame", frame(good), []wire{{id: "1"}}},
		{"LF line endings", fmt.Sprintf("Content-Length: %d\n\n%s", len(good), good), []wire{{id: "1"}}},
		{"case-insensitive header", fmt.Sprintf("CONTENT-length: %d\r\ncontent-type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n%s", len(good), good), []wire{{id: "1"}}},
		{"missing Content-Length", "Content-Type: application/json\r\n\r\n" + good, nil},
		{"garbage then resync", "}}garbage{{" + frame(good), []wire{{id: "1"}}},
		{"overlong header line", strings.Repeat("z", 20<<10) + "\r\n\r\n", nil},
		{
			"oversize with id answered", frame(huge),
			[]wire{{id: "7", code: CodeInvalidRequest, message: "message of 2000000 bytes exceeds the 1048576-byte limit"}},
		},
		{"oversize without id answered with a null id", frame(hugeNoID), []wire{{id: "null", code: CodeInvalidRequest, message: "exceeds the 1048576-byte limit"}}},
		{"bad JSON is a parse error", frame(`{"jsonrpc":"2.0","id":3,"method":"echo"`), []wire{{id: "null", code: CodeParseError, message: "not valid JSON"}}},
		{"not JSON at all", frame(`hello`), []wire{{id: "null", code: CodeParseError, message: "not valid JSON"}}},
		{"not an object", frame(`"hello"`), []wire{{id: "null", code: CodeInvalidRequest, message: "not a JSON object"}}},
		{"float id answered with a null id", frame(`{"jsonrpc":"2.0","id":1.5,"method":"echo"}`), []wire{{id: "null", code: CodeInvalidRequest, message: `"id"`}}},
		{"negative id answered with a null id", frame(`{"jsonrpc":"2.0","id":-1,"method":"echo"}`), []wire{{id: "null", code: CodeInvalidRequest, message: `"id"`}}},
		{"null id answered with a null id", frame(`{"jsonrpc":"2.0","id":null,"method":"echo"}`), []wire{{id: "null", code: CodeInvalidRequest, message: `"id"`}}},
		{"id beyond int64 answered with a null id", frame(`{"jsonrpc":"2.0","id":18446744073709551615,"method":"echo"}`), []wire{{id: "null", code: CodeInvalidRequest, message: `"id"`}}},
		{"invalid notification answered with a null id", frame(`{"jsonrpc":"2.0","method":1,"params":"bar"}`), []wire{{id: "null", code: CodeInvalidRequest, message: `"method" must be a string`}}},
		{"notification for the reserved method ignored", frame(`{"jsonrpc":"2.0","method":"$/rejected","params":{"code":1,"message":"forged"}}`), nil},
		{"method not a string", frame(`{"jsonrpc":"2.0","id":9,"method":5}`), []wire{{id: "9", code: CodeInvalidRequest, message: `"method" must be a string`}}},
		{"missing method", frame(`{"jsonrpc":"2.0","id":10}`), []wire{{id: "10", code: CodeInvalidRequest, message: "neither"}}},
		{"wrong version", frame(`{"jsonrpc":"1.0","id":"v","method":"echo"}`), []wire{{id: `"v"`, code: CodeInvalidRequest, message: `"jsonrpc" must be "2.0"`}}},
		{"params a string", frame(`{"jsonrpc":"2.0","id":12,"method":"echo","params":"x"}`), []wire{{id: "12", code: CodeInvalidRequest, message: `"params"`}}},
		{"method and result", frame(`{"jsonrpc":"2.0","id":13,"method":"echo","result":1}`), []wire{{id: "13", code: CodeInvalidRequest, message: "must not carry"}}},
		{"case-folded member", frame(`{"jsonrpc":"2.0","id":14,"method":"echo","Result":1}`), []wire{{id: "14", code: CodeInvalidRequest, message: "case-sensitive"}}},
		{"batch with id", frame(`[{"jsonrpc":"2.0","id":11,"method":"echo"},{"jsonrpc":"2.0","id":12,"method":"echo"}]`), []wire{{id: "11", code: CodeInvalidRequest, message: "batches are not supported"}}},
		{"batch without id", frame(`[{"jsonrpc":"2.0","method":"echo"}]`), []wire{{id: "null", code: CodeInvalidRequest, message: "batches are not supported"}}},
		{"empty batch", frame(`[]`), []wire{{id: "null", code: CodeInvalidRequest, message: "batches are not supported"}}},
		{"reserved method", frame(`{"jsonrpc":"2.0","id":15,"method":"$/rejected","params":{"code":1,"message":"forged"}}`), []wire{{id: "15", code: CodeMethodNotFound, message: "reserved"}}},
		{"response nobody waits for", frame(`{"jsonrpc":"2.0","id":99,"result":1}`), nil},
		{"malformed response", frame(`{"jsonrpc":"2.0","id":"s9","error":{"code":1.5,"message":"x"}}`), nil},
		{"string id", frame(`{"jsonrpc":"2.0","id":"abc","method":"echo","params":[1]}`), []wire{{id: `"abc"`}}},
	}
}

// checkReplies reads the replies a case must produce, then proves the server is still up with a
// follow-up request, whose answer must come next (echo is inline, so replies are in order).
func checkReplies(t *testing.T, p *rawPeer, want []wire, n int) {
	t.Helper()
	for _, w := range want {
		r := p.next(t)
		if string(r.ID) != w.id {
			t.Fatalf("reply id %s, want %s", r.ID, w.id)
		}
		switch {
		case w.code == 0 && r.Error != nil:
			t.Fatalf("reply error %+v, want a result", *r.Error)
		case w.code != 0 && r.Error == nil:
			t.Fatalf("reply result %s, want code %d", r.Result, w.code)
		case w.code != 0:
			if r.Error.Code != w.code || !strings.Contains(r.Error.Message, w.message) {
				t.Fatalf("reply error %d %q, want %d containing %q", r.Error.Code, r.Error.Message, w.code, w.message)
			}
			if w.code == CodeInvalidRequest && string(r.Error.Data) != `{"kind":"protocol"}` {
				t.Errorf("reply error data %s, want {\"kind\":\"protocol\"}", r.Error.Data)
			}
		}
	}
	p.write(t, frame(fmt.Sprintf(`{"jsonrpc":"2.0","id":"after-%d","method":"echo","params":{"n":%d}}`, n, n)))
	r := p.next(t)
	if want := fmt.Sprintf(`"after-%d"`, n); string(r.ID) != want || r.Error != nil {
		t.Fatalf("follow-up reply id %s error %+v, want id %s with a result", r.ID, r.Error, want)
	}
	assertJSONEqual(t, string(r.Result), fmt.Sprintf(`{"n":%d}`, n))
}

func rawOptions() Options {
	inlineEcho := echoMethod
	inlineEcho.Inline = true
	return Options{Methods: map[string]Method{"echo": inlineEcho}}
}

func TestServerSurvivesBadInput(t *testing.T) {
	for i, tt := range badInputs() {
		t.Run(tt.name, func(t *testing.T) {
			p := newRawPeer(t, rawOptions())
			p.write(t, tt.input)
			checkReplies(t, p, tt.want, i)
		})
	}
}

func TestServerSurvivesBadInputOnOneConnection(t *testing.T) {
	p := newRawPeer(t, rawOptions())
	for i, tt := range badInputs() {
		p.write(t, tt.input)
		checkReplies(t, p, tt.want, i)
	}
}

func TestServerTruncatedBodyEndsServe(t *testing.T) {
	p := newRawPeer(t, rawOptions())
	p.write(t, frame(`{"jsonrpc":"2.0","id":1,"method":"echo"}`))
	if r := p.next(t); string(r.ID) != "1" {
		t.Fatalf("reply id %s, want 1", r.ID)
	}
	p.write(t, "Content-Length: 100\r\n\r\n{\"jsonrpc\":\"2.0\"")
	if err := p.conn.Close(); err != nil {
		t.Fatal(err)
	}
	res := p.wait()
	if !errors.Is(res.err, io.ErrUnexpectedEOF) || res.shutdown {
		t.Errorf("Serve = (%v, %v), want (false, io.ErrUnexpectedEOF)", res.shutdown, res.err)
	}
}
