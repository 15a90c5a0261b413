package rpctest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message is one JSON-RPC message the server sent, decoded, with its body exactly as it arrived.
type Message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`

	// Raw is the frame's body as it arrived, for tests that compare or search the bytes.
	Raw []byte `json:"-"`
}

// IsRequest reports whether m is a request of the server's own (it carries a method and an id).
func (m *Message) IsRequest() bool { return m.Method != "" && len(m.ID) != 0 }

// IsNotification reports whether m is a notification (a method and no id).
func (m *Message) IsNotification() bool { return m.Method != "" && len(m.ID) == 0 }

// Error is a JSON-RPC error object: what an error answer carries, and what a Handler returns to
// refuse one of the server's requests.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error returns the code and message; Data stays in the value for tests to decode.
func (e *Error) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// CodeMethodNotFound is JSON-RPC's code for a method the receiver does not serve: what a client
// that cannot prompt answers to mfa/tokenCode.
const CodeMethodNotFound = -32601

// IDKey is an id's compact JSON text, the key responses are routed by: "" for none or null.
func IDKey(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil || buf.String() == "null" {
		return ""
	}
	return buf.String()
}
