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
	"syscall"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/localsts"
)

// localSTS serves the embedded STS until a signal arrives, on localsts.DefaultAddr unless --addr
// says otherwise. Its first stdout line is one JSON object with the endpoint and the demo identity,
// so scripts and tests can start it and read where it is. With --env it instead prints the shell
// lines for a local STS already serving at --addr; with --describe, the demo world.
func localSTS(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localsts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", localsts.DefaultAddr, "address to listen on (loopback by default; 127.0.0.1:0 for any free port)")
	configFile := fs.String("config", "", "JSON config of accounts, users, roles and providers (default: the built-in demo config)")
	region := fs.String("region", "us-east-1", "the Region the local STS answers as")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	readTimeout := fs.Duration("read-timeout", localsts.DefaultReadTimeout, "how long a request, headers and body, may take to arrive")
	allowRemoteDemo := fs.Bool(localsts.AllowRemoteDemoFlag, false,
		"serve the published demo keys and SSO token to other hosts too (when --addr is not loopback)")
	env := fs.Bool("env", false, "print the export lines for the local STS at --addr and its demo identity, once it answers, and exit")
	describe := fs.Bool("describe", false, "print the demo world (users, keys' ids, roles and trust, MFA codes, providers, tokens) and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "awsflow-sts localsts: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *env || *describe {
		return localSTSInfo(*addr, *configFile, *region, *env, stdout, stderr)
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
		fmt.Fprintln(stderr, "awsflow-sts localsts:", listenError(*addr, err))
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

// listenError explains the usual failure, the fixed default port taken (most likely by a local
// STS already running), and how to get a free one.
func listenError(addr string, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	return fmt.Errorf("port %s is in use: another localsts? pass --addr 127.0.0.1:0 for any free port", port)
}

// localSTSInfo serves --env and --describe: the demo world of the config (the built-in one
// unless configFile names one) as the local STS at addr would serve it. For --env it first
// waits, up to ten seconds, for a local STS to answer at addr, so that a script may start one in
// the background and eval the lines right after.
func localSTSInfo(addr, configFile, region string, env bool, stdout, stderr io.Writer) int {
	cfg := localsts.DefaultConfig()
	if configFile != "" {
		var err error
		if cfg, err = localsts.LoadConfig(configFile); err != nil {
			fmt.Fprintln(stderr, "awsflow-sts localsts:", err)
			return 2
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" {
		fmt.Fprintf(stderr, "awsflow-sts localsts: --addr %q: --env and --describe need the host:port the local STS listens on\n", addr)
		return 2
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	endpoint := "http://" + net.JoinHostPort(host, port)
	if !env {
		if err := cfg.Describe(stdout, endpoint); err != nil {
			return 1
		}
		return 0
	}
	srv, err := localsts.New(cfg, localsts.Options{Region: region})
	if err != nil {
		fmt.Fprintln(stderr, "awsflow-sts localsts:", err)
		return 2
	}
	if err := waitHealthy(endpoint, 10*time.Second); err != nil {
		fmt.Fprintf(stderr, "awsflow-sts localsts: no local STS answers at %s (%v): start one with `awsflow-sts localsts &`, or pass the --addr it listens on\n", endpoint, err)
		return 1
	}
	if _, err := io.WriteString(stdout, localsts.Env(endpoint, srv.Demo())); err != nil {
		return 1
	}
	return 0
}

// waitHealthy polls the local STS's health route until it answers 200 or within has passed.
func waitHealthy(endpoint string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(endpoint + "/_localsts/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /_localsts/health: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
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
