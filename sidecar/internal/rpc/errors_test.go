package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// TestDecodeParams: absent and null params leave the value zero; params that do not fit are
// invalid params, whose data the server fills with kind validation.
func TestDecodeParams(t *testing.T) {
	type params struct {
		Name string `json:"name"`
	}
	for _, raw := range []string{"", "  ", "null", " null "} {
		var p params
		if err := DecodeParams(json.RawMessage(raw), &p); err != nil || p != (params{}) {
			t.Errorf("DecodeParams(%q) = %v, %+v; want nil and zero", raw, err, p)
		}
	}
	var p params
	if err := DecodeParams(json.RawMessage(`{"name":"dev"}`), &p); err != nil || p.Name != "dev" {
		t.Errorf("DecodeParams of an object = %v, %+v", err, p)
	}
	err := DecodeParams(json.RawMessage(`{"name":1}`), &p)
	e := AsError(err)
	if e == nil || e.Code != CodeInvalidParams || e.Data != nil || kindOf(e.Code) != kindValidation {
		t.Fatalf("DecodeParams of a bad value = %#v, want invalid params without data", err)
	}
}

type coded struct{}

func (coded) Error() string { return "coded" }

func (coded) RPCError() (int64, string, any) {
	return 1002, "no such session", map[string]string{"kind": "session"}
}

// TestAsError: an *Error and a Coded error, also wrapped, reach the peer in their own form;
// anything else is not for the peer.
func TestAsError(t *testing.T) {
	own := &Error{Code: CodeServerBusy, Message: "busy"}
	if got := AsError(fmt.Errorf("wrapped: %w", own)); got != own {
		t.Errorf("AsError(wrapped *Error) = %v", got)
	}
	got := AsError(fmt.Errorf("wrapped: %w", coded{}))
	if got == nil || got.Code != 1002 || got.Message != "no such session" {
		t.Errorf("AsError(wrapped Coded) = %#v", got)
	}
	if got := AsError(errors.New("plain")); got != nil {
		t.Errorf("AsError(plain) = %#v, want nil", got)
	}
}
