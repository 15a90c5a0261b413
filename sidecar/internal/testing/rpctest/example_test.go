package rpctest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/server"
	"awsflow-sts/sidecar/internal/testing/rpctest"
)

// Example drives an in-process sidecar over net.Pipe as the extension does: initialize, a call
// answered with an error, shutdown and exit.
func Example() {
	log, err := logging.New(io.Discard, "", "error")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := server.New(server.Config{Version: "example", Logger: log, MaintainEvery: -1})
	serverEnd, clientEnd := net.Pipe()
	served := make(chan error, 1)
	go func() {
		_, err := srv.Serve(context.Background(), serverEnd)
		served <- err
	}()

	// The extension's side: MFA prompts are answered here; none comes in this example.
	c := rpctest.New(clientEnd, rpctest.Options{Handler: func(context.Context, *rpctest.Message) (any, *rpctest.Error) {
		return protocol.MfaTokenCodeResult{TokenCode: "123456"}, nil
	}})
	defer c.Close()

	ctx := context.Background()
	var init protocol.InitializeResult
	if err := c.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{
		ClientInfo: protocol.ClientInfo{Name: "example", Version: "1"},
		Settings:   protocol.Settings{Region: "us-east-1"},
	}, &init); err != nil {
		fmt.Println("initialize:", err)
		return
	}
	fmt.Println(init.ServerInfo.Name, init.ServerInfo.Version)

	err = c.Call(ctx, protocol.MethodSessionsUse, protocol.SessionNameParams{Name: "nobody"}, nil)
	var rpcErr *rpctest.Error
	if errors.As(err, &rpcErr) {
		fmt.Println("error code", rpcErr.Code, "is", protocol.ErrorKind(int64(rpcErr.Code)))
	}

	if err := c.Call(ctx, protocol.MethodShutdown, nil, nil); err != nil {
		fmt.Println("shutdown:", err)
	}
	if err := c.Notify(protocol.MethodExit, nil); err != nil {
		fmt.Println("exit:", err)
	}
	fmt.Println("Serve returned:", <-served)
	// Output:
	// awsflow-sts example
	// error code 1002 is session
	// Serve returned: <nil>
}
