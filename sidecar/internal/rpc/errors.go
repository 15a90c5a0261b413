package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"awsflow-sts/sidecar/internal/clip"
)

// Error is a JSON-RPC error with a stable code; Data is marshalled as the error's data member.
// The codes this package raises are generated from protocol/model.json (errors_gen.go).
type Error struct {
	// Code is the JSON-RPC error code: one of the Code constants or an application code.
	Code int64
	// Message is a short description for the peer; it is scrubbed before it is sent.
	Message string
	// Data, when non-nil, is marshalled as the error's data member.
	Data any
}

// Error returns the code and message, so that an *Error reads well in logs and wraps.
func (e *Error) Error() string {
	return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message)
}

// Coded is an error that knows its own JSON-RPC form. A handler may return one (also wrapped)
// instead of an *Error, so that a package with errors of its own (the tool runner's) need not
// depend on this one.
type Coded interface {
	error
	// RPCError is the code, message and data member the peer receives.
	RPCError() (code int64, message string, data any)
}

// AsError is err as the peer receives it: an *Error (also wrapped) as it is, a Coded error in
// the form it gives, and nil for any other error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	var c Coded
	if errors.As(err, &c) {
		code, msg, data := c.RPCError()
		return &Error{Code: code, Message: msg, Data: data}
	}
	return nil
}

// DecodeParams reads a method's params into v: absent or null params leave v as it is (its zero
// value), and params that do not decode into it are CodeInvalidParams.
func DecodeParams(params json.RawMessage, v any) error {
	trimmed := bytes.TrimSpace(params)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		return &Error{Code: CodeInvalidParams, Message: "invalid params: " + err.Error()}
	}
	return nil
}

// protocolData marks errors raised by the transport itself rather than by a method.
var protocolData = map[string]string{"kind": kindProtocol}

func errCancelled() *Error {
	return &Error{Code: CodeRequestCancelled, Message: "request cancelled"}
}

// errInternal is what the peer sees for handler failures: the cause may hold secrets, so it
// stays in the (scrubbed) log.
func errInternal(method string) *Error {
	return &Error{
		Code:    CodeInternalError,
		Message: fmt.Sprintf("internal error while handling %s; see the sidecar log", clip.Echo(method)),
	}
}
