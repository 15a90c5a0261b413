package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
)

// MaxMessageBytes is the default largest message body accepted (1 MiB).
const MaxMessageBytes = 1 << 20

const (
	// maxHeaderLine bounds how much of one header line is buffered.
	maxHeaderLine = 8 << 10
	// resyncTail is how much of an overlong line is kept: enough to find a
	// "Content-Length: <digits>" header glued to the end of a lost body.
	resyncTail = 64
	// oversizePrefix is how much of an oversize body is kept to look for its id.
	oversizePrefix = 64 << 10
)

const contentLengthColon = "content-length:"

// codec is a Content-Length codec that survives bad input: ReadObject skips or answers
// malformed frames and returns an error only when the stream itself fails.
type codec struct {
	max int
	log *zap.Logger
	// params, when set (a Server's codec), receives the params of each request read, which then
	// bypass jsonrpc2's decoder (see envelope).
	params *paramsSlot
}

// NewCodec returns the bounded, resilient Content-Length codec (exported so tests and clients can
// reuse it). Bodies over maxBytes (MaxMessageBytes if not positive) are discarded without being
// buffered. ReadObject returns an error only for stream errors (io.EOF, io.ErrUnexpectedEOF on a
// truncated body, read errors); a malformed message is replaced by a "$/rejected" request carrying
// the error that Server answers it with (a notification, answered with a null id, when the
// message's id cannot be found), and a malformed response without an id is dropped.
// The codec keeps no state between calls, so one value may serve many streams.
func NewCodec(maxBytes int, logger *zap.Logger) jsonrpc2.ObjectCodec {
	if maxBytes <= 0 {
		maxBytes = MaxMessageBytes
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return codec{max: maxBytes, log: logger}
}

// WriteObject writes obj with a Content-Length header, as jsonrpc2.VSCodeObjectCodec does. A
// response the server encoded itself (encodedResponse) is written as is.
func (codec) WriteObject(stream io.Writer, obj any) error {
	if r, ok := obj.(*encodedResponse); ok {
		return r.writeFrame(stream)
	}
	return jsonrpc2.VSCodeObjectCodec{}.WriteObject(stream, obj)
}

// encodedResponse is a successful response whose result is already JSON, as json.Marshal made it
// (compact and valid). jsonrpc2's Conn.Reply would marshal it three more times (the result, the
// Response, the envelope), compacting the result each time; this writes the bytes jsonrpc2 would
// write, once.
type encodedResponse struct {
	id     jsonrpc2.ID
	result json.RawMessage
}

func (r *encodedResponse) writeFrame(w io.Writer) error {
	id, err := r.id.MarshalJSON()
	if err != nil {
		return err
	}
	result := r.result
	if len(result) == 0 {
		result = json.RawMessage("null")
	}
	// jsonrpc2.Response.MarshalJSON's member order: id, result, then "jsonrpc".
	n := len(`{"id":,"result":,"jsonrpc":"2.0"}`) + len(id) + len(result)
	buf := make([]byte, 0, len("Content-Length: \r\n\r\n")+20+n)
	buf = append(buf, "Content-Length: "...)
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, "\r\n\r\n{\"id\":"...)
	buf = append(buf, id...)
	buf = append(buf, `,"result":`...)
	buf = append(buf, result...)
	buf = append(buf, `,"jsonrpc":"2.0"}`...)
	_, err = w.Write(buf)
	return err
}

// ReadObject reads frames until one yields a message for v.
func (c codec) ReadObject(stream *bufio.Reader, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("rpc: ReadObject needs a non-nil pointer")
	}
	for {
		n, err := c.readHeader(stream)
		if err != nil {
			return err
		}
		vd, err := c.readBody(stream, n)
		if err != nil {
			return err
		}
		if vd.msg != nil && c.decode(c.envelope(vd), rv) {
			return nil
		}
	}
}

// paramsSlot hands the params of the request the codec has just read to the Server's handler.
// jsonrpc2 decodes a request's params into interface values and marshals them again (for a 2 KiB
// session policy that was twice what the rest of the round trip cost; docs/BENCHMARKS.md), so a
// Server's codec gives it a short token instead and keeps the params here. jsonrpc2's read loop calls the handler for a request
// before it reads the next message, on the same goroutine, so one slot is enough; the token names
// the slot's sequence number, so a stale slot can never be taken for another request's.
type paramsSlot struct {
	seq   uint64
	token string          // the params jsonrpc2 will hand the handler, as JSON
	raw   json.RawMessage // the params as the peer sent them
}

// take returns the params for a request whose params jsonrpc2 decoded as p: the peer's own when
// p is this slot's token, else p unchanged. The slot is emptied either way.
func (ps *paramsSlot) take(p *json.RawMessage) *json.RawMessage {
	if ps.token == "" {
		return p
	}
	token, raw := ps.token, ps.raw
	ps.token, ps.raw = "", nil
	if p == nil || string(*p) != token {
		return p
	}
	return &raw
}

// envelope rewrites a valid request for jsonrpc2 when the codec has a params slot: the same
// jsonrpc, id, method and meta members, with params (an object or an array, the only kinds that
// pass validation) replaced by a string token that the handler trades back through the slot.
// Messages without params, or with null params, are passed as they are.
func (c codec) envelope(vd verdict) verdict {
	if c.params == nil || vd.members == nil {
		return vd
	}
	params, ok := vd.members["params"]
	if !ok || !isStructured(params) || string(bytes.TrimSpace(params)) == "null" {
		return vd
	}
	c.params.seq++
	token, err := json.Marshal("\x00params#" + strconv.FormatUint(c.params.seq, 10))
	if err != nil {
		return vd
	}
	msg := make([]byte, 0, 64+len(vd.members["id"])+len(vd.members["method"])+len(vd.members["meta"]))
	msg = append(msg, `{"jsonrpc":"2.0","method":`...)
	msg = append(msg, vd.members["method"]...)
	if id, ok := vd.members["id"]; ok {
		msg = append(msg, `,"id":`...)
		msg = append(msg, id...)
	}
	if meta, ok := vd.members["meta"]; ok {
		msg = append(msg, `,"meta":`...)
		msg = append(msg, meta...)
	}
	msg = append(msg, `,"params":`...)
	msg = append(msg, token...)
	msg = append(msg, '}')
	c.params.token, c.params.raw = string(token), params
	vd.msg = msg
	return vd
}

// decode unmarshals the message into a fresh value and stores it in rv only on success, so that a
// failed attempt cannot leave a half-filled message behind for jsonrpc2 to act on.
func (c codec) decode(vd verdict, rv reflect.Value) bool {
	fresh := reflect.New(rv.Type().Elem())
	err := json.Unmarshal(vd.msg, fresh.Interface())
	if err != nil {
		// Pre-validation mirrors what jsonrpc2 rejects, so this means the two disagree; answer the
		// id if there is one rather than let the error close the connection.
		c.log.Warn("message rejected by the JSON-RPC decoder",
			zap.Int("bytes", len(vd.msg)), zap.ByteString("id", clipID(vd.id)))
		if vd.id == nil {
			// Pre-validation passed, so this is a notification: it gets no answer.
			return false
		}
		msg, serr := synthesize(vd.id, vd.response, CodeInvalidRequest, "invalid message: rejected by the JSON-RPC decoder")
		if serr != nil {
			c.log.Warn("dropped message", zap.Error(serr))
			return false
		}
		fresh = reflect.New(rv.Type().Elem())
		if err := json.Unmarshal(msg, fresh.Interface()); err != nil {
			c.log.Warn("dropped message: synthetic rejection did not decode", zap.Error(err))
			return false
		}
	}
	rv.Elem().Set(fresh.Elem())
	return true
}

// readBody reads a body of n bytes and judges it. Oversize bodies are discarded, keeping only a
// prefix in which to look for the id.
func (c codec) readBody(r *bufio.Reader, n int64) (verdict, error) {
	if n > int64(c.max) {
		prefix := make([]byte, min(n, oversizePrefix))
		if _, err := io.ReadFull(r, prefix); err != nil {
			return verdict{}, truncated(err)
		}
		if _, err := io.CopyN(io.Discard, r, n-int64(len(prefix))); err != nil {
			return verdict{}, truncated(err)
		}
		return c.oversize(prefix, n), nil
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return verdict{}, truncated(err)
	}
	return c.inspect(body), nil
}

// truncated reports an EOF inside a frame as io.ErrUnexpectedEOF.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readHeader reads header blocks until one ends with a valid Content-Length, and returns it.
// Blocks without one are skipped; garbage before a Content-Length header on the same line (a lost
// body glued to the next frame) is discarded and reading resumes at the header.
func (c codec) readHeader(r *bufio.Reader) (int64, error) {
	length := int64(-1)
	lines, junk := 0, 0
	for {
		ln, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) && lines > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		line, overlong := ln.text, ln.overlong
		if len(line) == 0 && !overlong {
			if length >= 0 {
				if junk > 0 {
					c.log.Warn("discarded garbage before a Content-Length header", zap.Int("bytes", junk))
				}
				return length, nil
			}
			if lines > 0 {
				c.log.Warn("skipped header block without a valid Content-Length",
					zap.Int("lines", lines), zap.Int("bytes", junk))
			}
			lines, junk = 0, 0
			continue
		}
		lines++
		if name, value, ok := cutHeader(line); ok && !overlong && asciiEqualFold(name, "content-length") {
			length = c.parseLength(value)
			continue
		}
		if i := lastIndexFold(line, contentLengthColon); i > 0 || (i == 0 && overlong) {
			// Everything before the header is the tail of something lost; restart the block here.
			junk += ln.dropped + i
			length = c.parseLength(line[i+len(contentLengthColon):])
			continue
		}
		if overlong {
			c.log.Warn("discarded overlong header line", zap.Int("bytes", ln.size))
		}
		// Other headers (Content-Type) are ignored; so is anything else, which counts as garbage
		// if the block turns out to have no Content-Length.
		junk += ln.size
	}
}

func (c codec) parseLength(value []byte) int64 {
	n, err := strconv.ParseUint(string(bytes.TrimSpace(value)), 10, 63)
	if err != nil {
		// The value is not logged: it may be the start of a lost body.
		c.log.Warn("ignored invalid Content-Length value", zap.Int("value_bytes", len(value)))
		return -1
	}
	return int64(n)
}

// headerLine is one line read by readLine.
type headerLine struct {
	text     []byte // without the "\n" or "\r\n" terminator; only the tail if overlong
	overlong bool   // longer than maxHeaderLine
	dropped  int    // bytes dropped from the front of an overlong line
	size     int    // bytes consumed, terminator included
}

// readLine reads one line. A line longer than maxHeaderLine is not buffered whole: only a bounded
// tail is kept. io.EOF is returned only at a line boundary.
func readLine(r *bufio.Reader) (headerLine, error) {
	var ln headerLine
	for {
		frag, err := r.ReadSlice('\n')
		ln.size += len(frag)
		ln.text = append(ln.text, frag...)
		if len(ln.text) > maxHeaderLine {
			ln.overlong = true
			ln.dropped += len(ln.text) - resyncTail
			ln.text = append(ln.text[:0], ln.text[len(ln.text)-resyncTail:]...)
		}
		switch {
		case err == nil:
			ln.text = bytes.TrimSuffix(ln.text, []byte("\n"))
			ln.text = bytes.TrimSuffix(ln.text, []byte("\r"))
			return ln, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && ln.size > 0:
			return headerLine{}, io.ErrUnexpectedEOF
		default:
			return headerLine{}, err
		}
	}
}

// cutHeader splits "Name: value".
func cutHeader(line []byte) (name, value []byte, ok bool) {
	name, value, ok = bytes.Cut(line, []byte(":"))
	if !ok {
		return nil, nil, false
	}
	return bytes.TrimSpace(name), value, true
}

// lastIndexFold returns the last index of the lower-case ASCII pattern pat in s, ignoring ASCII
// case, or -1. It does not lower-case s, so indices stay valid for any bytes.
func lastIndexFold(s []byte, pat string) int {
	for i := len(s) - len(pat); i >= 0; i-- {
		if asciiEqualFold(s[i:i+len(pat)], pat) {
			return i
		}
	}
	return -1
}

// asciiEqualFold compares b with the lower-case ASCII string pat, ignoring ASCII case.
func asciiEqualFold(b []byte, pat string) bool {
	if len(b) != len(pat) {
		return false
	}
	for i := range len(b) {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != pat[i] {
			return false
		}
	}
	return true
}
