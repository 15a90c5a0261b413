package rpc

import (
	"fmt"

	"awsflow-sts/sidecar/internal/clip"
)

// Error is a JSON-RPC error with a stable code; Data is marshalled as the error's data member.
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

// Standard and server codes used by this package.
const (
	// CodeParseError means the message was not valid JSON. It is answered with a null id, since
	// no id can be read from such a message; the server writes that frame itself (see nullIDError).
	CodeParseError int64 = -32700
	// CodeInvalidRequest means the message was not a valid JSON-RPC 2.0 request or response.
	CodeInvalidRequest int64 = -32600
	// CodeMethodNotFound means no method of that name is served.
	CodeMethodNotFound int64 = -32601
	// CodeInvalidParams means the params did not fit the method; handlers return it.
	CodeInvalidParams int64 = -32602
	// CodeInternalError means the handler failed or panicked; details are only in the log.
	CodeInternalError int64 = -32603
	// CodeServerNotInitialized means a request came before the initialize method succeeded.
	CodeServerNotInitialized int64 = -32002
	// CodeRequestCancelled means the request was cancelled, by $/cancelRequest or on shutdown.
	CodeRequestCancelled int64 = -32800
	// CodeServerBusy means too many requests were already waiting for a handler slot.
	CodeServerBusy int64 = -32001
	// CodeShuttingDown means the request came after the shutdown method.
	CodeShuttingDown int64 = -32003
)

// kindOf is data.kind for the codes this package raises itself; application codes that come
// without data are "internal".
func kindOf(code int64) string {
	switch code {
	case CodeRequestCancelled:
		return "cancelled"
	case CodeServerBusy:
		return "busy"
	case CodeInvalidParams:
		return "validation"
	case CodeParseError, CodeInvalidRequest, CodeMethodNotFound, CodeServerNotInitialized, CodeShuttingDown:
		return "protocol"
	}
	return "internal"
}

// protocolData marks errors raised by the transport itself rather than by a method.
var protocolData = map[string]string{"kind": "protocol"}

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
