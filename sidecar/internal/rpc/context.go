package rpc

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"
)

type requestKey struct{}

type requestInfo struct {
	id     string
	method string
}

// RequestID returns the JSON-RPC id string of the request being handled (from ctx), for logs.
// Numeric ids are returned as digits and string ids quoted, so that 5 and "5" stay distinct;
// it returns "" for notifications and outside a handler.
func RequestID(ctx context.Context) string {
	info, _ := ctx.Value(requestKey{}).(requestInfo)
	return info.id
}

// MethodName returns the method name of the request being handled (from ctx), or "" outside a
// handler.
func MethodName(ctx context.Context) string {
	info, _ := ctx.Value(requestKey{}).(requestInfo)
	return info.method
}

// requestContext derives a handler context from the connection context, so that closing the
// connection cancels every handler.
func requestContext(ctx context.Context, req *jsonrpc2.Request) (context.Context, context.CancelFunc) {
	info := requestInfo{method: req.Method}
	if !req.Notif {
		info.id = req.ID.String()
	}
	return context.WithCancel(context.WithValue(ctx, requestKey{}, info))
}
