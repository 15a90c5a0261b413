package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/localsts"
)

// localSTS serves the embedded STS until a signal arrives. Its first stdout line is one JSON object
// with the endpoint and the demo identity, so scripts and tests can start it and read where it is.
func localSTS(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localsts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback by default)")
	configFile := fs.String("config", "", "JSON config of accounts, users, roles and providers (default: the built-in demo config)")
	region := fs.String("region", "us-east-1", "the Region the local STS answers as")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, ctx, stop, err := setup(stderr, "", *logLevel)
	if err != nil {
		return 2
	}
	defer stop()
	cfg := localsts.DefaultConfig()
	if *configFile != "" {
		if cfg, err = localsts.LoadConfig(*configFile); err != nil {
			fmt.Fprintln(stderr, "awsflow-sts localsts:", err)
			return 2
		}
	}
	srv, err := localsts.New(cfg, localsts.Options{Region: *region, Logger: log.Logger})
	if err != nil {
		fmt.Fprintln(stderr, "awsflow-sts localsts:", err)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "awsflow-sts localsts:", err)
		return 1
	}
	endpoint := "http://" + ln.Addr().String()
	srv.SetBaseURL(endpoint)
	demo := srv.Demo()
	if err := json.NewEncoder(stdout).Encode(map[string]string{
		"endpoint":        endpoint,
		"region":          demo.Region,
		"accessKeyId":     demo.AccessKeyID,
		"secretAccessKey": demo.SecretAccessKey,
		"roleArn":         demo.RoleArn,
		"account":         demo.Account,
	}); err != nil {
		return 1
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	log.Info("local STS serving", zap.String("endpoint", endpoint))
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("local STS stopped", zap.Error(err))
			return 1
		}
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdownCtx) // best effort: the process exits next
		<-served
	}
	return 0
}
