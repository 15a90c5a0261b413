package tool

import (
	"fmt"

	"awsflow-sts/sidecar/internal/protocol"
)

// Error is a failure the model can act on: Message says what happened, Hint what to try next.
type Error struct {
	// Code is the protocol error code.
	Code int64
	// Message is the full explanation.
	Message string
	// Hint is the next step to try.
	Hint string
	// AWSCode is STS's error code, when STS answered.
	AWSCode string
	// RequestID is STS's request id, when STS answered.
	RequestID string
	// Command is the STSTool command that failed.
	Command string
}

// Error is the message and, when there is one, the next step.
func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + "\n\nWhat to do: " + e.Hint
}

// Kind is data.kind for the error's code.
func (e *Error) Kind() string { return protocol.ErrorKind(e.Code) }

// Data is the JSON-RPC error's data member.
func (e *Error) Data() protocol.ErrorData {
	return protocol.ErrorData{Kind: e.Kind(), AWSCode: e.AWSCode, RequestID: e.RequestID, Hint: e.Hint, Command: e.Command}
}

func invalidParams(command, format string, args ...any) *Error {
	return &Error{Code: protocol.CodeInvalidParams, Command: command, Message: fmt.Sprintf(format, args...)}
}
