// Package rpctest is the tests' JSON-RPC client of the sidecar: Content-Length framing over any
// io.ReadWriteCloser (a started process's pipes, or a net.Pipe to an in-process server), calls
// with typed errors, notifications, raw bytes for hostile input, and a record of every message the
// server sent, so that a test can check what the extension would have heard.
//
// A Conn reads on a goroutine of its own, so the server never waits for the test to read; Next
// walks the same messages in arrival order for tests that read in lockstep. Start runs the real
// awsflow-sts binary with a Conn on its stdin and stdout. Nothing in this package prints.
package rpctest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Frame wraps body in a Content-Length header, ready to be written as one message.
func Frame(body []byte) []byte {
	out := make([]byte, 0, len(body)+32)
	out = append(out, "Content-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	return append(out, body...)
}

// ReadFrame reads one Content-Length frame strictly, as the extension does: every header line
// ends in CRLF, and a frame without a valid Content-Length is an error. It returns io.EOF when the
// stream ends between frames and io.ErrUnexpectedEOF when it ends inside one.
func ReadFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	for n := 0; ; n++ {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && (n > 0 || len(line) > 0) {
				return nil, io.ErrUnexpectedEOF
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, fmt.Errorf("header line longer than %d bytes", r.Size())
			}
			return nil, err
		}
		text, ok := strings.CutSuffix(string(line), "\r\n")
		if !ok {
			return nil, fmt.Errorf("header line %q does not end in CRLF", line)
		}
		if text == "" {
			break
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header line %q", text)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			if length, err = strconv.Atoi(strings.TrimSpace(value)); err != nil || length < 0 {
				return nil, fmt.Errorf("bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return nil, errors.New("frame without Content-Length")
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("frame body: %w", err)
	}
	return body, nil
}
