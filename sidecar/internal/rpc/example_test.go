package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	"awsflow-sts/sidecar/internal/rpc"

	"github.com/sourcegraph/jsonrpc2"
)

func ExampleServer() {
	serverEnd, clientEnd := net.Pipe()
	srv := rpc.NewServer(rpc.Options{Methods: map[string]rpc.Method{
		"greet": {Handle: func(_ context.Context, params json.RawMessage) (any, error) {
			var p struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(params, &p); err != nil || p.Name == "" {
				return nil, &rpc.Error{Code: rpc.CodeInvalidParams, Message: `params must be {"name": string}`}
			}
			return "Hello, " + p.Name, nil
		}},
	}})
	done := make(chan error, 1)
	go func() {
		_, err := srv.Serve(context.Background(), serverEnd)
		done <- err
	}()

	// The extension's side, reduced to a jsonrpc2 client.
	noRequests := jsonrpc2.HandlerWithError(func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) (any, error) {
		return nil, nil
	})
	client := jsonrpc2.NewConn(context.Background(),
		jsonrpc2.NewBufferedStream(clientEnd, jsonrpc2.VSCodeObjectCodec{}), noRequests)

	var greeting string
	if err := client.Call(context.Background(), "greet", map[string]string{"name": "Ada"}, &greeting); err != nil {
		fmt.Println("call:", err)
	}
	fmt.Println(greeting)
	err := client.Call(context.Background(), "greet", nil, &greeting)
	fmt.Println(err)

	_ = client.Close() // the server sees EOF
	fmt.Println("Serve returned:", <-done)
	// Output:
	// Hello, Ada
	// jsonrpc2: code -32602 message: params must be {"name": string}
	// Serve returned: <nil>
}
