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
	readTimeout := fs.Duration("read-timeout", localsts.DefaultReadTimeout, "how long a request, headers and body, may take to arrive")
	allowRemoteDemo := fs.Bool(localsts.AllowRemoteDemoFlag, false,
		"serve the published demo keys and SSO token to other hosts too (when --addr is not loopback)")
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
	if *readTimeout <= 0 {
		fmt.Fprintln(stderr, "awsflow-sts localsts: --read-timeout must be positive")
		return 2
	}
	srv, err := localsts.New(cfg, localsts.Options{Region: *region, Logger: log.Logger,
		ReadTimeout: *readTimeout, AllowRemoteDemo: *allowRemoteDemo})
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
	warnExposure(stderr, ln.Addr(), *allowRemoteDemo)
	srv.SetBaseURL(endpoint)
	if err := json.NewEncoder(stdout).Encode(announcement(endpoint, srv.Demo())); err != nil {
		return 1
	}
	httpSrv := srv.HTTPServer()
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

// announcement is the first stdout line: the endpoint and the demo identity, and when the config
// has Identity Center users what a client needs to sign in by the device flow: the start URL and
// region of an sso-session, the OIDC and portal endpoint (the same server: set
// AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO, or a [services] section, to it), the user
// to approve as at the approve URL, and that user's first account and permission set.
func announcement(endpoint string, demo localsts.DemoIdentity) map[string]string {
	a := map[string]string{
		"endpoint":        endpoint,
		"region":          demo.Region,
		"accessKeyId":     demo.AccessKeyID,
		"secretAccessKey": demo.SecretAccessKey,
		"roleArn":         demo.RoleArn,
		"account":         demo.Account,
	}
	if demo.SSOStartURL != "" {
		a["ssoStartUrl"] = demo.SSOStartURL
		a["ssoRegion"] = demo.Region
		a["ssoOidcEndpoint"] = endpoint
		a["ssoPortalEndpoint"] = endpoint
		a["ssoApproveUrl"] = endpoint + localsts.SSOApprovePath
		a["ssoUser"] = demo.SSOUser
		a["ssoAccountId"] = demo.SSOAccount
		a["ssoRoleName"] = demo.SSOPermissionSet
	}
	return a
}

// warnExposure tells the user, on stderr, when the local STS listens where other hosts can reach
// it, and what it then does with the published demo identity.
func warnExposure(stderr io.Writer, addr net.Addr, allowRemoteDemo bool) {
	if tcp, ok := addr.(*net.TCPAddr); !ok || tcp.IP.IsLoopback() {
		return
	}
	if allowRemoteDemo {
		fmt.Fprintf(stderr, "awsflow-sts localsts: warning: listening on %s, which other hosts can reach, with --%s: "+
			"anyone who reaches it gets credentials with the published demo keys and SSO token.\n", addr, localsts.AllowRemoteDemoFlag)
		return
	}
	fmt.Fprintf(stderr, "awsflow-sts localsts: warning: listening on %s, which other hosts can reach. "+
		"The demo keys and SSO token are published, so requests from other hosts that use them are refused "+
		"(--%s serves them to anyone who reaches the port).\n", addr, localsts.AllowRemoteDemoFlag)
}
