package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
)

// cancelParams is the params of $/cancelRequest.
type cancelParams struct {
	ID jsonrpc2.ID `json:"id"`
}

// cancelRequest cancels the context of a dispatched request, queued or running. Its handler (if
// it runs at all) then answers CodeRequestCancelled. Unknown ids are ignored: the request may
// have finished already.
func (s *Server) cancelRequest(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if !req.Notif {
		s.refuse(ctx, conn, req, time.Now(), notificationOnly(req.Method))
		return
	}
	id, ok := parseCancelID(req.Params)
	if !ok {
		s.log.Debug("ignored malformed $/cancelRequest")
		return
	}
	s.mu.Lock()
	c := s.byID[id]
	s.mu.Unlock()
	if c == nil {
		s.log.Debug("ignored $/cancelRequest for an id not in flight", zap.String("id", clip.Echo(id.String())))
		return
	}
	c.cancel()
	s.log.Debug("cancel requested", zap.String("id", clip.Echo(id.String())))
}

// parseCancelID reads {"id": <string or non-negative integer>}.
func parseCancelID(params *json.RawMessage) (jsonrpc2.ID, bool) {
	if params == nil {
		return jsonrpc2.ID{}, false
	}
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(*params, &p) != nil {
		return jsonrpc2.ID{}, false
	}
	raw := bytes.TrimSpace(p.ID)
	if len(raw) > 0 && raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return jsonrpc2.ID{}, false
		}
		return jsonrpc2.ID{Str: str, IsString: true}, true
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return jsonrpc2.ID{}, false
	}
	return jsonrpc2.ID{Num: n}, true
}

// Notify sends a notification to the peer. It returns an error if Serve has not started or the
// connection is closed.
func (s *Server) Notify(ctx context.Context, method string, params any) error {
	conn := s.conn.Load()
	if conn == nil {
		return errNotServing
	}
	if err := conn.Notify(ctx, method, params); err != nil {
		return fmt.Errorf("rpc: notify %s: %w", method, err)
	}
	return nil
}

// Call sends a server-to-client request and waits for the response (used for prompts such as an
// MFA code), storing its result in result (a pointer, or nil to discard it). An error response is
// returned as *Error. ctx cancellation sends $/cancelRequest to the peer and returns ctx.Err().
// Call must not be used from an inline handler: the read loop could not read the response.
func (s *Server) Call(ctx context.Context, method string, params, result any) error {
	conn := s.conn.Load()
	if conn == nil {
		return errNotServing
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Waiter does not expose the id jsonrpc2 assigns, and $/cancelRequest needs it, so pick one.
	// String ids cannot collide with jsonrpc2's numeric sequence used by Conn().Call.
	id := jsonrpc2.ID{Str: "s" + strconv.FormatUint(s.callSeq.Add(1), 10), IsString: true}
	w, err := conn.DispatchCall(ctx, method, params, jsonrpc2.PickID(id))
	if err != nil {
		return fmt.Errorf("rpc: call %s: %w", method, err)
	}
	err = w.Wait(ctx, result)
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		// jsonrpc2 keeps the pending entry until the peer answers; the cancel asks it to do so now.
		if nerr := conn.Notify(context.WithoutCancel(ctx), methodCancel, cancelParams{ID: id}); nerr != nil && !errors.Is(nerr, jsonrpc2.ErrClosed) {
			s.log.Debug("could not send $/cancelRequest", zap.String("method", method), zap.Error(nerr))
		}
		return ctxErr
	}
	var je *jsonrpc2.Error
	if errors.As(err, &je) {
		e := &Error{Code: je.Code, Message: je.Message}
		if je.Data != nil {
			e.Data = *je.Data
		}
		return e
	}
	return fmt.Errorf("rpc: call %s: %w", method, err)
}
