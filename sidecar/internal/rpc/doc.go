// Package rpc is the JSON-RPC 2.0 server transport of the sidecar: the VS Code extension talks to
// the sidecar over the child's stdio with LSP-style "Content-Length: N\r\n\r\n<json>" framing.
//
// It is built on github.com/sourcegraph/jsonrpc2 but replaces its codec and handler, because the
// stock ones close the whole connection on any malformed message, accept unbounded bodies, run
// handlers without a bound and know nothing of $/cancelRequest. Here a malformed message is
// answered (with a null id when its id cannot be found: -32700 for a body that is not JSON,
// -32600 for one that is not a valid request) and the connection stays up; only stream errors
// end it.
//
// Message bodies and params may carry credentials, so nothing in this package logs them: logs
// hold only methods, ids, sizes, durations, error codes and reasons.
package rpc
