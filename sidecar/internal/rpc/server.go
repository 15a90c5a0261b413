package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
)

// HandlerFunc answers one request. params is the raw params member (may be nil). The returned
// value is marshalled as the result. A returned *Error or Coded error (also when wrapped) is sent
// as it is; any other error is sent as CodeInternalError with a generic message: the error text is not sent,
// only logged after Options.Scrub. Whatever a handler returns once its ctx is cancelled is sent as
// CodeRequestCancelled.
type HandlerFunc func(ctx context.Context, params json.RawMessage) (any, error)

// Method describes one method.
type Method struct {
	// Handle answers the method; methods without one are not served.
	Handle HandlerFunc
	// Inline methods run on the read loop, in order, before later messages are read (initialize,
	// shutdown). They must not wait for the peer (Server.Call), since its reply could not be read.
	Inline bool
	// Notification: when true the method is a notification handler (no reply); id-bearing calls
	// get CodeInvalidRequest. When false, notifications naming the method are ignored.
	Notification bool
	// Local methods answer from the process's own state, never over the network (listing or
	// switching sessions). They run in a lane of their own, with their own slots and queue, so
	// that any number of calls waiting on a slow endpoint cannot delay them.
	Local bool
	// LocalCall, when set, tells for one request of a method that is not Local whether it is
	// local after all (a tool command that only reads the session store). It runs on the read
	// loop with the request's raw params (nil if none), so it must be cheap.
	LocalCall func(params json.RawMessage) bool
}

// Options configure a Server. Zero values select the defaults.
type Options struct {
	// Methods maps method names to their handlers.
	Methods map[string]Method
	// MaxConcurrent bounds the handlers of methods that are not Local running at once (default
	// 2*GOMAXPROCS, min 4).
	MaxConcurrent int
	// MaxLocalConcurrent bounds the handlers of Local methods running at once, in their own lane
	// (default MaxConcurrent).
	MaxLocalConcurrent int
	// MaxQueued bounds the requests waiting for a slot in one lane before new ones get
	// CodeServerBusy (default 4096).
	MaxQueued int
	// MaxMessageBytes is the largest message body accepted (default MaxMessageBytes).
	MaxMessageBytes int
	// Logger receives the server's logs (default zap.NewNop()). Bodies and params are never logged.
	Logger *zap.Logger
	// InitializeMethod, when set, makes every other request fail with CodeServerNotInitialized
	// until it has succeeded once.
	InitializeMethod string
	// ShutdownMethod, when set, names the request after which new requests get CodeShuttingDown;
	// its handler runs only after all in-flight calls have finished (or DrainTimeout has passed,
	// after which they are cancelled and it runs at once). It needs no entry in Methods; without
	// one it answers null.
	ShutdownMethod string
	// DrainTimeout bounds how long ShutdownMethod waits for in-flight calls (default 1s); those
	// still running are then cancelled and given a moment to answer.
	DrainTimeout time.Duration
	// ExitMethod names the notification that closes the connection (default "exit").
	ExitMethod string
	// OnDisconnect, when set, is called once when the connection ends (exit, end of input, a
	// stream error or cancellation), before Serve waits for handlers still running, with whether
	// shutdown was requested. A process can use it to end even if a handler never returns.
	OnDisconnect func(shutdownRequested bool)
	// Scrub, when set, is applied to every error Message and to logged panic values and error
	// texts before they leave the process (secrets redaction).
	Scrub func(string) string
}

const (
	defaultMaxQueued    = 4096
	defaultDrainTimeout = 1 * time.Second
	defaultExitMethod   = "exit"
	methodCancel        = "$/cancelRequest"
)

// errNotServing is returned by Notify and Call before Serve has started.
var errNotServing = errors.New("rpc: server is not serving a connection")

// Server serves one connection. Create it with NewServer; its methods are safe for concurrent use.
type Server struct {
	opts  Options
	log   *zap.Logger
	known string // request methods, for CodeMethodNotFound messages
	// lanes hold the slots and queue counts: laneNetwork for most methods, laneLocal for Local ones.
	lanes [2]lane

	conn    atomic.Pointer[jsonrpc2.Conn]
	stream  atomic.Pointer[trackedStream] // the connection's stream, for replies written directly
	params  paramsSlot                    // read loop only: the params of the request just read
	started atomic.Bool
	callSeq atomic.Uint64

	// wg counts goroutines running handler code, so Serve can wait for them.
	wg sync.WaitGroup

	// Worker goroutines run dispatched calls and wait for the next one (see start).
	work        chan func()
	idle        atomic.Int32 // workers waiting in work
	workers     sync.WaitGroup
	stopWorkers chan struct{} // closed by Serve once no call can start

	mu                sync.Mutex
	closed            bool // the connection is gone: start nothing new
	initialized       bool
	shuttingDown      bool
	shutdownRequested bool
	exited            bool
	active            int                   // calls dispatched and not finished
	drained           chan struct{}         // closed when active reaches 0 during shutdown
	calls             map[*call]struct{}    // every dispatched call, to cancel on drain timeout
	byID              map[jsonrpc2.ID]*call // dispatched requests, for $/cancelRequest
}

// lane is a set of handler slots with its own queue.
type lane struct {
	sem    chan struct{}
	queued int // calls waiting for a slot; guarded by Server.mu
}

const (
	laneNetwork = iota
	laneLocal
)

// call is one dispatched (non-inline) request or notification.
type call struct {
	id     jsonrpc2.ID
	notif  bool
	cancel context.CancelFunc
}

// NewServer returns a Server with opts, defaults filled in.
func NewServer(opts Options) *Server {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = max(2*runtime.GOMAXPROCS(0), 4)
	}
	if opts.MaxLocalConcurrent <= 0 {
		opts.MaxLocalConcurrent = opts.MaxConcurrent
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = defaultMaxQueued
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = MaxMessageBytes
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = defaultDrainTimeout
	}
	if opts.ExitMethod == "" {
		opts.ExitMethod = defaultExitMethod
	}
	if opts.Scrub == nil {
		opts.Scrub = func(s string) string { return s }
	}
	// Copy the map so later changes by the caller cannot race with the read loop.
	methods := make(map[string]Method, len(opts.Methods))
	var names []string
	for name, m := range opts.Methods {
		if m.Handle == nil {
			continue
		}
		methods[name] = m
		if !m.Notification {
			names = append(names, name)
		}
	}
	opts.Methods = methods
	if opts.ShutdownMethod != "" && !slices.Contains(names, opts.ShutdownMethod) {
		names = append(names, opts.ShutdownMethod)
	}
	slices.Sort(names)
	return &Server{
		opts:  opts,
		log:   opts.Logger,
		known: strings.Join(names, ", "),
		lanes: [2]lane{
			laneNetwork: {sem: make(chan struct{}, opts.MaxConcurrent)},
			laneLocal:   {sem: make(chan struct{}, opts.MaxLocalConcurrent)},
		},
		calls: make(map[*call]struct{}),
		byID:  make(map[jsonrpc2.ID]*call),

		work:        make(chan func()),
		stopWorkers: make(chan struct{}),
	}
}

// Serve runs the connection over rwc until the peer closes it, exit arrives, or ctx is cancelled.
// It returns after every handler goroutine has returned (no leaks). Its result tells whether a
// shutdown request preceded exit (LSP: exit code 0 if so, 1 otherwise). The error is nil after
// exit or a clean EOF, ctx.Err() after cancellation, and the stream error otherwise (such as
// io.ErrUnexpectedEOF for a truncated body). rwc.Close must unblock a pending Read, as it does for
// net.Conn and pollable pipes, or Serve cannot return on cancellation. A Server serves once.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) (shutdownRequested bool, err error) {
	if !s.started.CompareAndSwap(false, true) {
		return false, errors.New("rpc: Serve called more than once")
	}
	stream := &trackedStream{
		ObjectStream: jsonrpc2.NewBufferedStream(rwc, codec{max: s.opts.MaxMessageBytes, log: s.log, params: &s.params}),
		done:         make(chan struct{}),
	}
	s.stream.Store(stream)
	conn := jsonrpc2.NewConn(ctx, stream, handler{s}, jsonrpc2.SetLogger(printfLogger{s.log}))
	s.conn.CompareAndSwap(nil, conn)

	<-conn.DisconnectNotify()
	s.mu.Lock()
	s.closed = true
	requested := s.shutdownRequested
	s.mu.Unlock()
	if s.opts.OnDisconnect != nil {
		s.opts.OnDisconnect(requested)
	}
	// The connection context is cancelled by now, so handlers are returning.
	s.wg.Wait()
	close(s.stopWorkers)
	s.workers.Wait()
	// The read loop may still be inside an inline handler; wait until it has stopped reading.
	<-stream.done

	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	switch {
	case exited, errors.Is(stream.err, io.EOF):
		return requested, nil
	case ctx.Err() != nil:
		return requested, ctx.Err()
	default:
		return requested, fmt.Errorf("rpc: read: %w", stream.err)
	}
}

// Conn returns the live connection once Serve has started (nil before), so handlers can send
// server-to-client requests and notifications later. After Serve returns it is closed.
func (s *Server) Conn() *jsonrpc2.Conn {
	return s.conn.Load()
}

// trackedStream records the error that ends jsonrpc2's read loop: after it, the loop never reads
// again.
type trackedStream struct {
	jsonrpc2.ObjectStream
	once sync.Once
	done chan struct{}
	err  error // set before done is closed
}

func (t *trackedStream) ReadObject(v any) error {
	err := t.ObjectStream.ReadObject(v)
	if err != nil {
		t.once.Do(func() {
			t.err = err
			close(t.done)
		})
	}
	return err
}
