package rpctest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Handler answers one request of the server's own (mfa/tokenCode): the result to send, or the
// error to refuse it with. It runs on a goroutine of its own, so the Conn goes on reading while
// it decides.
type Handler func(ctx context.Context, req *Message) (result any, err *Error)

// Options configure a Conn. The zero value is usable.
type Options struct {
	// Handler answers the server's requests. When nil they are recorded and left unanswered, for
	// a test that answers them itself with Reply.
	Handler Handler
	// IDBase is where request ids start: the first Request gets IDBase+1.
	IDBase int64
	// WriteTimeout bounds each write when the stream has write deadlines (pipes and net.Conn),
	// so that a server that stopped reading fails a write instead of hanging it. Zero: no bound.
	WriteTimeout time.Duration
	// Tee, when set, receives a copy of every byte read, framed or not.
	Tee io.Writer
}

// ErrClosed is returned by Await and Next once the server's output has ended with no message
// left for them.
var ErrClosed = errors.New("rpctest: the connection's input has ended")

// Conn is the client's end of one JSON-RPC connection. A goroutine reads every frame the server
// writes, records it, routes responses to the request waiting for their id, and hands the
// server's requests to the Handler. Its methods are safe for concurrent use.
type Conn struct {
	rwc  io.ReadWriteCloser
	opts Options

	wmu         sync.Mutex // one frame at a time
	writeClosed bool

	mu       sync.Mutex
	pending  map[string]chan *Message // by the id's JSON text
	log      []*Message               // every message, in arrival order
	events   []*Message               // the server's requests and notifications, in order
	unrouted []*Message               // responses nobody waited for (or a second one for an id)
	next     int                      // Next's position in log
	changed  chan struct{}            // closed and replaced whenever a message is recorded
	readErr  error                    // the first framing or JSON error in the server's output

	nextID     atomic.Int64
	answering  sync.WaitGroup
	readerDone chan struct{}
	closeOnce  sync.Once
	ctx        context.Context // handlers' context, cancelled by Close
	cancel     context.CancelFunc
}

// New starts a Conn over rwc. Close it to stop its reader; it closes rwc.
func New(rwc io.ReadWriteCloser, opts Options) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		rwc:        rwc,
		opts:       opts,
		pending:    map[string]chan *Message{},
		changed:    make(chan struct{}),
		readerDone: make(chan struct{}),
		ctx:        ctx,
		cancel:     cancel,
	}
	c.nextID.Store(opts.IDBase)
	go c.readLoop()
	return c
}

// readLoop reads frames until the server's output ends.
func (c *Conn) readLoop() {
	defer close(c.readerDone)
	var src io.Reader = c.rwc
	if c.opts.Tee != nil {
		src = io.TeeReader(c.rwc, c.opts.Tee)
	}
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		body, err := ReadFrame(r)
		if err != nil {
			if !closedErr(err) {
				c.fail(fmt.Errorf("reading the server's output: %w", err))
			}
			_, _ = io.Copy(io.Discard, r) // never leave a child process blocked on a full pipe
			return
		}
		m := &Message{}
		if err := json.Unmarshal(body, m); err != nil {
			c.fail(fmt.Errorf("the server wrote a frame that is not JSON: %v: %q", err, body))
			continue
		}
		m.Raw = body
		c.route(m)
	}
}

// closedErr is true for the ways a stream ends that are no fault: end of input, or our own Close.
func closedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed)
}

func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readErr == nil {
		c.readErr = err
	}
}

func (c *Conn) route(m *Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, m)
	close(c.changed)
	c.changed = make(chan struct{})
	if m.Method != "" {
		c.events = append(c.events, m)
		if m.IsRequest() && c.opts.Handler != nil {
			// Answered off the reader, which must go on reading while the reply is written.
			c.answering.Go(func() { c.answer(m) })
		}
		return
	}
	key := IDKey(m.ID)
	if ch, ok := c.pending[key]; ok && key != "" {
		delete(c.pending, key)
		ch <- m // buffered
		return
	}
	c.unrouted = append(c.unrouted, m)
}

// answer replies to one request of the server through the Handler.
func (c *Conn) answer(m *Message) {
	result, rerr := c.opts.Handler(c.ctx, m)
	if err := c.Reply(m.ID, result, rerr); err != nil {
		c.fail(fmt.Errorf("answering %s: %w", m.Method, err))
	}
}

// Reply answers the server's request with id: with rerr when it is not nil, else with result.
func (c *Conn) Reply(id json.RawMessage, result any, rerr *Error) error {
	msg := map[string]any{"jsonrpc": "2.0", "id": id}
	if rerr != nil {
		msg["error"] = rerr
	} else {
		msg["result"] = result
	}
	return c.Send(msg)
}

// Send writes msg, marshalled to JSON, as one frame.
func (c *Conn) Send(msg any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("marshal: %w", err)
	}
	return c.WriteRaw(Frame(body))
}

// WriteRaw writes b as it is: a frame from Frame, or broken bytes for a robustness test.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writeClosed {
		return errors.New("rpctest: the connection's output is closed")
	}
	if d, ok := c.rwc.(interface{ SetWriteDeadline(time.Time) error }); ok && c.opts.WriteTimeout > 0 {
		if err := d.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout)); err != nil {
			return err
		}
	}
	_, err := c.rwc.Write(b)
	return err
}

// Expect registers interest in the response with this id and returns where it will arrive. Call
// it before writing a request whose id the test chose.
func (c *Conn) Expect(id int64) <-chan *Message {
	ch := make(chan *Message, 1)
	c.mu.Lock()
	c.pending[strconv.FormatInt(id, 10)] = ch
	c.mu.Unlock()
	return ch
}

// Request sends a request with a fresh id and returns the id and where its response will arrive
// (see Await). params nil sends no params member.
func (c *Conn) Request(method string, params any) (int64, <-chan *Message, error) {
	id := c.nextID.Add(1)
	ch := c.Expect(id)
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := c.Send(msg); err != nil {
		c.mu.Lock()
		delete(c.pending, strconv.FormatInt(id, 10))
		c.mu.Unlock()
		return id, nil, err
	}
	return id, ch, nil
}

// Await waits for the response on ch (from Request or Expect). It returns ErrClosed when the
// server's output ends first, and ctx's error when ctx ends first.
func (c *Conn) Await(ctx context.Context, ch <-chan *Message) (*Message, error) {
	select {
	case m := <-ch:
		return m, nil
	case <-c.readerDone:
		select {
		case m := <-ch:
			return m, nil
		default:
			return nil, ErrClosed
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Call sends a request and waits for its response. An error answer is returned as *Error; a
// result is decoded into result unless result is nil.
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	_, ch, err := c.Request(method, params)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	m, err := c.Await(ctx, ch)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if m.Error != nil {
		return m.Error
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(m.Result, result); err != nil {
		return fmt.Errorf("%s result: %w", method, err)
	}
	return nil
}

// Notify sends a notification. params nil sends no params member.
func (c *Conn) Notify(method string, params any) error {
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	return c.Send(msg)
}

// Next returns the next message in arrival order that Next has not returned yet, whatever its
// kind, waiting for one if need be: a test that reads in lockstep uses it instead of Call. It
// returns ErrClosed once the server's output has ended and every message was returned.
func (c *Conn) Next(ctx context.Context) (*Message, error) {
	for {
		c.mu.Lock()
		if c.next < len(c.log) {
			m := c.log[c.next]
			c.next++
			c.mu.Unlock()
			return m, nil
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.readerDone:
			c.mu.Lock()
			more := c.next < len(c.log)
			c.mu.Unlock()
			if !more {
				return nil, ErrClosed
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WaitEvent waits for a request or notification of the server's for which match is true,
// among those recorded so far and those to come, and returns the first.
func (c *Conn) WaitEvent(ctx context.Context, match func(*Message) bool) (*Message, error) {
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.events); seen++ {
			if m := c.events[seen]; match(m) {
				c.mu.Unlock()
				return m, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.readerDone:
			c.mu.Lock()
			more := seen < len(c.events)
			c.mu.Unlock()
			if !more {
				return nil, ErrClosed
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Messages returns every message read so far, in arrival order.
func (c *Conn) Messages() []*Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Message(nil), c.log...)
}

// Events returns the server's requests and notifications so far, in arrival order.
func (c *Conn) Events() []*Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Message(nil), c.events...)
}

// Unrouted returns the responses no request waited for, in arrival order.
func (c *Conn) Unrouted() []*Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Message(nil), c.unrouted...)
}

// Forget drops every message recorded so far (Next resumes with the next one to arrive), so that
// a long run's memory stays flat. Responses still awaited are routed as before.
func (c *Conn) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log, c.events, c.unrouted, c.next = nil, nil, nil, 0
}

// Err returns the first framing or JSON error seen in the server's output, or in answering its
// requests; nil if there was none.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Done is closed once the reader has stopped: the server's output ended or the Conn was closed.
func (c *Conn) Done() <-chan struct{} { return c.readerDone }

// WaitAnswers waits until the Handler's answers in progress have been written (or failed).
func (c *Conn) WaitAnswers() { c.answering.Wait() }

// CloseWrite ends the client's output (a process's stdin reaches end of input) when the stream
// can close its writing half alone; later writes fail. It is a no-op the second time.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writeClosed {
		return nil
	}
	cw, ok := c.rwc.(interface{ CloseWrite() error })
	if !ok {
		return errors.New("rpctest: the stream cannot close its output alone")
	}
	c.writeClosed = true
	return cw.CloseWrite()
}

// Close closes the stream, waits for the reader and the Handler's answers, and returns nil: the
// end of the connection is expected and reported nowhere. Framing errors stay in Err.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		// Closed before taking the write lock: that unblocks a write the server is not reading.
		_ = c.rwc.Close() // the only error would be a second close of a half already shut
		c.wmu.Lock()
		c.writeClosed = true
		c.wmu.Unlock()
		<-c.readerDone
		c.answering.Wait()
	})
	return nil
}
