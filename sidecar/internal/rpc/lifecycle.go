package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
)

// shutdown stops admitting requests at once (on the read loop, so ordering is exact), then drains
// in a goroutine: waiting there keeps the read loop free for $/cancelRequest and for the peer's
// answers to server-to-client calls that in-flight handlers may be waiting on.
func (s *Server) shutdown(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request, m Method, start time.Time) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.shuttingDown = true
	s.shutdownRequested = true
	var drained <-chan struct{}
	if s.active > 0 {
		ch := make(chan struct{})
		s.drained = ch
		drained = ch
	}
	s.wg.Add(1)
	s.mu.Unlock()

	hctx, cancel := requestContext(ctx, req)
	go func() {
		defer s.wg.Done()
		defer cancel()
		if drained != nil {
			s.drain(hctx, drained)
		}
		out := outcome{result: json.RawMessage("null")}
		switch {
		case hctx.Err() != nil:
			out = outcome{err: errCancelled()}
		case m.Handle != nil:
			out = s.perform(hctx, req, m.Handle)
		}
		s.respond(hctx, conn, req, start, out)
	}()
}

// cancelGrace is how long shutdown waits, after cancelling the calls still in flight, for them to
// answer (cancelled), so their answers come before shutdown's; a call that ignores cancellation
// does not hold shutdown longer.
const cancelGrace = 250 * time.Millisecond

// drain waits for in-flight calls, cancelling them after DrainTimeout.
func (s *Server) drain(ctx context.Context, drained <-chan struct{}) {
	timer := time.NewTimer(s.opts.DrainTimeout)
	defer timer.Stop()
	select {
	case <-drained:
		return
	case <-ctx.Done():
		return
	case <-timer.C:
	}
	s.mu.Lock()
	n := len(s.calls)
	for c := range s.calls {
		c.cancel()
	}
	s.mu.Unlock()
	s.log.Warn("shutdown drain timed out; cancelled in-flight calls",
		zap.Int("calls", n), zap.Duration("timeout", s.opts.DrainTimeout))
	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	select {
	case <-drained:
	case <-ctx.Done():
	case <-grace.C:
	}
}

// exit closes the connection, which makes Serve return.
func (s *Server) exit(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	start := time.Now()
	if !req.Notif {
		s.refuse(ctx, conn, req, start, notificationOnly(req.Method))
		return
	}
	if m, ok := s.opts.Methods[req.Method]; ok {
		hctx, cancel := requestContext(ctx, req)
		s.respond(hctx, conn, req, start, s.perform(hctx, req, m.Handle))
		cancel()
	}
	s.mu.Lock()
	s.exited = true
	s.mu.Unlock()
	s.log.Debug("exit received; closing the connection")
	if err := conn.Close(); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Debug("close connection", zap.Error(err))
	}
}

// answerRejected answers a "$/rejected" request the codec substituted for a malformed message.
func (s *Server) answerRejected(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	start := time.Now()
	var p rejection
	if req.Params == nil || json.Unmarshal(*req.Params, &p) != nil || p.Code == 0 {
		p = rejection{Code: CodeInvalidRequest, Message: "invalid request"}
	}
	e := &Error{Code: p.Code, Message: p.Message}
	if len(p.Data) > 0 {
		e.Data = p.Data
	}
	if req.Notif {
		s.answerNullID(conn, e)
		return
	}
	hctx, cancel := requestContext(ctx, req)
	defer cancel()
	s.refuse(hctx, conn, req, start, e)
}

// nullIDError is an error response to a message whose id could not be read. jsonrpc2.ID has no
// null, so it is written to the stream directly.
type nullIDError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   *jsonrpc2.Error `json:"error"`
}

// answerNullID sends e with a null id, as JSON-RPC asks for a message whose id cannot be read.
func (s *Server) answerNullID(conn *jsonrpc2.Conn, e *Error) {
	s.log.Info("request failed", zap.String("id", "null"), zap.Int64("code", e.Code))
	stream := s.stream.Load()
	if stream == nil {
		return
	}
	select {
	case <-conn.DisconnectNotify():
		return
	default:
	}
	frame := nullIDError{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: s.wireError(e)}
	if err := stream.WriteObject(&frame); err != nil {
		s.log.Warn("could not send reply", zap.String("id", "null"), zap.Error(err))
	}
}
