package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// MaxLine is the longest message line the server reads; a longer one is answered with an error
// and skipped, and the server goes on reading.
const MaxLine = 1 << 20

// LineTransport is MCP's stdio transport (newline-delimited JSON-RPC) made to survive hostile
// input: a line over MaxLine, a line that is not JSON and a message that is not JSON-RPC are each
// answered with a JSON-RPC error (id null when it cannot be read) and skipped, where the SDK's own
// stdio transport would end the connection.
type LineTransport struct {
	// Reader is the client's input (stdin).
	Reader io.Reader
	// Writer is where messages go (stdout).
	Writer io.Writer
}

// Connect implements mcp.Transport. The connection reads Reader from one goroutine, which ends at
// end of input or a read error; a read blocked on a terminal or pipe ends when the process does.
func (t *LineTransport) Connect(context.Context) (mcp.Connection, error) {
	c := &lineConn{w: t.Writer, lines: make(chan lineOrErr), closed: make(chan struct{})}
	go c.readLines(t.Reader)
	return c, nil
}

type lineOrErr struct {
	line []byte
	err  error
}

// lineConn is one connection of a LineTransport.
type lineConn struct {
	w       io.Writer
	writeMu sync.Mutex
	lines   chan lineOrErr
	closed  chan struct{}
	once    sync.Once
}

// errLineTooLong marks a line that was skipped for its length.
var errLineTooLong = errors.New("line too long")

// readLines reads lines into c.lines until end of input, a read error or Close.
func (c *lineConn) readLines(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		var item lineOrErr
		switch {
		case errors.Is(err, errLineTooLong):
			item = lineOrErr{err: errLineTooLong}
		case err != nil && len(line) == 0:
			item = lineOrErr{err: err}
		default:
			item = lineOrErr{line: line}
		}
		select {
		case c.lines <- item:
		case <-c.closed:
			return
		}
		if item.err != nil && !errors.Is(item.err, errLineTooLong) {
			return
		}
	}
}

// readLine reads one line without its end, at most MaxLine bytes; a longer one is read to its
// end and dropped (errLineTooLong).
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLine+2 { // the line end may be \r\n
			line = nil
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		if err != nil {
			return line, err
		}
		return line, nil
	}
}

// Read returns the next message, answering and skipping lines that are not one.
func (c *lineConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	for {
		var item lineOrErr
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, io.EOF
		case item = <-c.lines:
		}
		switch {
		case errors.Is(item.err, errLineTooLong):
			c.reject(nil, jsonrpc.CodeInvalidRequest, "message too large: a message line may be at most 1 MiB")
			continue
		case item.err != nil:
			return nil, item.err
		}
		if len(bytes.TrimSpace(item.line)) == 0 {
			continue
		}
		msg, err := jsonrpc.DecodeMessage(item.line)
		if err == nil {
			return msg, nil
		}
		if !json.Valid(item.line) {
			c.reject(nil, jsonrpc.CodeParseError, "parse error: a message line must be one JSON-RPC 2.0 object")
			continue
		}
		c.reject(idOf(item.line), jsonrpc.CodeInvalidRequest, "invalid request: not a JSON-RPC 2.0 request, notification or response")
	}
}

// idOf is the id of a JSON object that is not a valid message, when it has a usable one.
func idOf(line []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &m) != nil || len(m.ID) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(m.ID, &v) != nil {
		return nil
	}
	if _, err := jsonrpc.MakeID(v); err != nil {
		return nil
	}
	return m.ID
}

// reject answers a line that is not a message with a JSON-RPC error.
func (c *lineConn) reject(id json.RawMessage, code int64, message string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	out, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *jsonrpc.Error  `json:"error"`
	}{"2.0", id, &jsonrpc.Error{Code: code, Message: message}})
	if err != nil {
		return
	}
	_ = c.writeLine(out) // a client that cannot be written to ends the connection on its next read
}

// Write sends one message as one line.
func (c *lineConn) Write(_ context.Context, msg jsonrpc.Message) error {
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return err
	}
	return c.writeLine(data)
}

func (c *lineConn) writeLine(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	select {
	case <-c.closed:
		return io.ErrClosedPipe
	default:
	}
	_, err := c.w.Write(append(data, '\n'))
	return err
}

// Close ends the connection; a Read waiting for input returns.
func (c *lineConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// SessionID implements mcp.Connection: stdio has no session id.
func (c *lineConn) SessionID() string { return "" }
