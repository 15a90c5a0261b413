package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
)

// handler is the jsonrpc2.Handler of a Server; jsonrpc2 calls it on the read loop.
type handler struct{ s *Server }

func (h handler) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	h.s.handle(ctx, conn, req)
}

// outcome is the result of running a handler: a marshalled result or an error, plus the scrubbed
// cause of an internal error for the log.
type outcome struct {
	result json.RawMessage
	err    *Error
	detail string
}

// handle routes one message. It runs on the read loop, so it returns quickly unless the method is
// inline.
func (s *Server) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	// Handle can run before NewConn has returned to Serve.
	s.conn.CompareAndSwap(nil, conn)
	req.Params = s.params.take(req.Params)
	switch req.Method {
	case methodRejected:
		s.answerRejected(ctx, conn, req)
		return
	case methodCancel:
		s.cancelRequest(ctx, conn, req)
		return
	case s.opts.ExitMethod:
		s.exit(ctx, conn, req)
		return
	}
	start := time.Now()
	if e := s.admit(req.Method); e != nil {
		s.refuse(ctx, conn, req, start, e)
		return
	}
	m, ok := s.opts.Methods[req.Method]
	if !ok && req.Method == s.opts.ShutdownMethod {
		ok = true
	}
	switch {
	case !ok:
		s.unknown(ctx, conn, req, start)
	case m.Notification && !req.Notif:
		s.refuse(ctx, conn, req, start, notificationOnly(req.Method))
	case !m.Notification && req.Notif:
		s.log.Debug("ignored notification for a request method", zap.String("method", clip.Echo(req.Method)))
	case !req.Notif && s.inFlight(req.ID):
		s.refuse(ctx, conn, req, start, &Error{
			Code:    CodeInvalidRequest,
			Message: fmt.Sprintf("request id %s is already in flight", clip.Echo(req.ID.String())),
			Data:    protocolData,
		})
	case req.Method == s.opts.ShutdownMethod:
		s.shutdown(ctx, conn, req, m, start)
	case m.Inline:
		hctx, cancel := requestContext(ctx, req)
		defer cancel()
		s.respond(hctx, conn, req, start, s.perform(hctx, req, m.Handle))
	default:
		s.dispatch(ctx, conn, req, m, start)
	}
}

// admit applies the lifecycle gates.
func (s *Server) admit(method string) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.shuttingDown:
		return &Error{Code: CodeShuttingDown, Message: "the server is shutting down"}
	case s.opts.InitializeMethod != "" && !s.initialized && method != s.opts.InitializeMethod:
		return &Error{
			Code:    CodeServerNotInitialized,
			Message: fmt.Sprintf("the server is not initialized; call %s first", s.opts.InitializeMethod),
		}
	}
	return nil
}

func (s *Server) inFlight(id jsonrpc2.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id] != nil
}

// refuse answers a request with e without running anything; notifications are dropped.
func (s *Server) refuse(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, start time.Time, e *Error) {
	if req.Notif {
		s.log.Debug("dropped notification",
			zap.String("method", clip.Echo(req.Method)), zap.Int64("code", e.Code))
		return
	}
	s.respond(ctx, conn, req, start, outcome{err: e})
}

func (s *Server) unknown(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, start time.Time) {
	if req.Notif {
		s.log.Debug("ignored unknown notification", zap.String("method", clip.Echo(req.Method)))
		return
	}
	s.refuse(ctx, conn, req, start, &Error{
		Code:    CodeMethodNotFound,
		Message: fmt.Sprintf("method %q not found; known methods: %s", clip.Echo(req.Method), s.known),
	})
}

func notificationOnly(method string) *Error {
	return &Error{
		Code:    CodeInvalidRequest,
		Message: fmt.Sprintf("%q is a notification and must be sent without an id", clip.Echo(method)),
	}
}

// laneOf is the lane a call of m runs in.
func laneOf(req *jsonrpc2.Request, m Method) int {
	if m.Local {
		return laneLocal
	}
	if m.LocalCall != nil {
		var params json.RawMessage
		if req.Params != nil {
			params = *req.Params
		}
		if m.LocalCall(params) {
			return laneLocal
		}
	}
	return laneNetwork
}

// dispatch runs a non-inline method in its own goroutine, bounded by its lane's slots and queue.
func (s *Server) dispatch(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, m Method, start time.Time) {
	l := &s.lanes[laneOf(req, m)]
	// Taking a free slot here, on the read loop, keeps the queue count exact: a request that can
	// run at once is never counted as waiting.
	running := false
	select {
	case l.sem <- struct{}{}:
		running = true
	default:
	}
	hctx, cancel := requestContext(ctx, req)
	c := &call{id: req.ID, notif: req.Notif, cancel: cancel}

	s.mu.Lock()
	busy := !running && l.queued >= s.opts.MaxQueued
	if s.closed || busy {
		s.mu.Unlock()
		cancel()
		if running {
			<-l.sem
		}
		if busy {
			s.refuse(ctx, conn, req, start, &Error{Code: CodeServerBusy, Message: "the server is busy; too many requests are waiting"})
		}
		return
	}
	if !running {
		l.queued++
	}
	s.active++
	s.calls[c] = struct{}{}
	if !c.notif {
		s.byID[c.id] = c
	}
	s.wg.Add(1)
	s.mu.Unlock()

	s.start(func() { s.run(hctx, conn, req, m, c, l, running, start) })
	if running {
		// Let the call start on this thread while the read loop waits its turn: the read loop's
		// next read blocks the thread in a system call, and the call would otherwise wait for
		// another thread to be woken to run it (docs/BENCHMARKS.md).
		runtime.Gosched()
	}
}

// start runs f on a worker goroutine: an idle one if there is one, else a new one. A worker waits
// for the next call when it is done, while fewer than both lanes' slots wait, and so keeps the stack
// that calls into the AWS SDK grow to (a new goroutine copies its stack several times as it
// grows, on every call; docs/BENCHMARKS.md). Workers end when Serve does.
func (s *Server) start(f func()) {
	select {
	case s.work <- f:
	default:
		s.workers.Add(1)
		go s.worker(f)
	}
}

func (s *Server) worker(f func()) {
	defer s.workers.Done()
	for {
		f()
		if s.idle.Add(1) > int32(s.opts.MaxConcurrent+s.opts.MaxLocalConcurrent) {
			s.idle.Add(-1)
			return
		}
		select {
		case f = <-s.work:
			s.idle.Add(-1)
		case <-s.stopWorkers:
			s.idle.Add(-1)
			return
		}
	}
}

// run waits for a slot if needed, runs the handler unless the call was cancelled first, and
// answers.
func (s *Server) run(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, m Method, c *call, l *lane, running bool, start time.Time) {
	defer s.wg.Done()
	if !running {
		running = s.waitSlot(ctx, l)
	}
	var out outcome
	if ctx.Err() != nil {
		// Cancelled while queued: it must never run.
		out = outcome{err: errCancelled()}
	} else {
		out = s.perform(ctx, req, m.Handle)
	}
	// Forget the id before answering, so the peer may reuse it as soon as it has the answer.
	s.mu.Lock()
	if s.byID[c.id] == c {
		delete(s.byID, c.id)
	}
	s.mu.Unlock()
	s.respond(ctx, conn, req, start, out)
	if running {
		<-l.sem
	}
	c.cancel()
	// Count the call finished only once answered, so a shutdown reply follows its reply.
	s.mu.Lock()
	delete(s.calls, c)
	s.active--
	if s.active == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
	s.mu.Unlock()
}

// waitSlot waits for a slot in l, or for ctx to be cancelled while queued.
func (s *Server) waitSlot(ctx context.Context, l *lane) bool {
	defer func() {
		s.mu.Lock()
		l.queued--
		s.mu.Unlock()
	}()
	select {
	case l.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// perform runs h, recovering panics, and marks the server initialized when the initialize method
// succeeds (before the reply is sent, so the peer's next request is admitted).
func (s *Server) perform(ctx context.Context, req *jsonrpc2.Request, h HandlerFunc) outcome {
	out := s.invoke(ctx, req, h)
	if out.err == nil && req.Method == s.opts.InitializeMethod {
		s.mu.Lock()
		s.initialized = true
		s.mu.Unlock()
	}
	return out
}

func (s *Server) invoke(ctx context.Context, req *jsonrpc2.Request, h HandlerFunc) (out outcome) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panicked",
				zap.String("method", clip.Echo(req.Method)),
				zap.String("id", idOf(req)),
				zap.String("panic", s.opts.Scrub(fmt.Sprint(r))),
				zap.String("stack", s.opts.Scrub(string(debug.Stack()))))
			out = outcome{err: errInternal(req.Method)}
		}
	}()
	var params json.RawMessage
	if req.Params != nil {
		params = *req.Params
	}
	v, err := h(ctx, params)
	if err != nil {
		return s.failure(ctx, req.Method, err)
	}
	if req.Notif {
		return outcome{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return outcome{err: errInternal(req.Method), detail: s.opts.Scrub(fmt.Sprintf("marshal result: %v", err))}
	}
	return outcome{result: b}
}

// failure maps a handler error to what the peer sees.
func (s *Server) failure(ctx context.Context, method string, err error) outcome {
	if ctx.Err() != nil {
		return outcome{err: errCancelled()}
	}
	if e := AsError(err); e != nil {
		return outcome{err: e}
	}
	return outcome{err: errInternal(method), detail: s.opts.Scrub(err.Error())}
}

// respond logs one line for a request and answers it (notifications get no answer). The line is
// written first, so it is in the log by the time the peer has the answer.
func (s *Server) respond(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, start time.Time, out outcome) {
	fields := []zap.Field{
		zap.String("method", clip.Echo(req.Method)),
		zap.String("id", idOf(req)),
		zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if out.err == nil {
		s.log.Debug("request completed", fields...)
		if !req.Notif {
			s.sent(s.reply(ctx, conn, req.ID, out.result), req)
		}
		return
	}
	fields = append(fields, zap.Int64("code", out.err.Code))
	if out.detail != "" {
		fields = append(fields, zap.String("error", out.detail))
	}
	s.log.Info("request failed", fields...)
	if !req.Notif {
		s.sent(conn.ReplyWithError(ctx, req.ID, s.wireError(out.err)), req)
	}
}

// reply sends a successful response through the connection's stream, encoded once (see
// encodedResponse). Like Conn.Reply it sends nothing once the connection is closed.
func (s *Server) reply(ctx context.Context, conn *jsonrpc2.Conn, id jsonrpc2.ID, result json.RawMessage) error {
	select {
	case <-conn.DisconnectNotify():
		return jsonrpc2.ErrClosed
	default:
	}
	stream := s.stream.Load()
	if stream == nil {
		return conn.Reply(ctx, id, result)
	}
	if err := stream.WriteObject(&encodedResponse{id: id, result: result}); err != nil {
		select {
		case <-conn.DisconnectNotify():
			return jsonrpc2.ErrClosed
		default:
			return err
		}
	}
	return nil
}

// wireError converts e for jsonrpc2, scrubbing the message and the data. Every error carries data
// with at least a kind, so a client can branch on it without knowing every code.
func (s *Server) wireError(e *Error) *jsonrpc2.Error {
	we := &jsonrpc2.Error{Code: e.Code, Message: s.opts.Scrub(e.Message)}
	data := e.Data
	if data == nil {
		data = map[string]string{"kind": kindOf(e.Code)}
	}
	b, err := json.Marshal(data)
	if err != nil {
		s.log.Warn("dropped error data that does not marshal", zap.Int64("code", e.Code), zap.Error(err))
		return we
	}
	raw := json.RawMessage(s.opts.Scrub(string(b)))
	if !json.Valid(raw) {
		// Scrubbing keeps JSON valid; should it ever not, the reply must still go out.
		s.log.Warn("dropped error data that scrubbing made invalid", zap.Int64("code", e.Code))
		raw = json.RawMessage(`{"kind":"` + kindOf(e.Code) + `"}`)
	}
	we.Data = &raw
	return we
}

// sent logs a failed reply; a closed connection is expected when the peer goes away.
func (s *Server) sent(err error, req *jsonrpc2.Request) {
	if err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Warn("could not send reply",
			zap.String("method", clip.Echo(req.Method)),
			zap.String("id", idOf(req)),
			zap.Error(err))
	}
}

// idOf is req's id for logs: "" for notifications, quoted for string ids.
func idOf(req *jsonrpc2.Request) string {
	if req.Notif {
		return ""
	}
	return clip.Echo(req.ID.String())
}
