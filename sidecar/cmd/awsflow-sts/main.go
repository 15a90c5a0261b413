// Command awsflow-sts is the sidecar of the awsflow-sts VS Code extension. `serve` speaks JSON-RPC
// on stdio to the extension; `mcp` serves the same tool to MCP clients on stdio; `call` runs one
// STSTool command from a terminal through the same code; `localsts` serves the embedded STS for
// offline use; `version` prints the version.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/keychain"
	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/mcpserver"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/rpc"
	"awsflow-sts/sidecar/internal/server"
	"awsflow-sts/sidecar/internal/tool"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

const usage = `awsflow-sts: the AWS STS sidecar of the awsflow-sts extension

Usage:
  awsflow-sts serve [--log-file FILE] [--log-level LEVEL]
      JSON-RPC 2.0 over stdin/stdout (Content-Length framing), as the extension runs it.
  awsflow-sts mcp [--profile P] [--region R] [--endpoint-url URL] [--log-file FILE] [--log-level LEVEL] [--allow-credential-commands]
      A Model Context Protocol server on stdin/stdout offering STSTool to MCP clients. Commands
      that mint credentials are confirmed by the user through the client (MCP elicitation);
      --allow-credential-commands runs them without asking, for clients that cannot ask.
      Without --profile and --region, the AWS SDK's environment applies (AWS_PROFILE, AWS_REGION, …).
  awsflow-sts call COMMAND [--params JSON] [--profile P] [--region R] [--endpoint-url URL] [--json] [--no-keychain]
      Run one STSTool command and print what the model would see (or the JSON result). An MFA
      code it needs is asked for on stderr and read from stdin. The sessions it makes are kept in
      the OS keychain for later calls ('{"Session":"me"}'), where there is one.
  awsflow-sts localsts [--addr 127.0.0.1:18900] [--env] [--describe] [--config FILE] [--region R] [--read-timeout 10s] [--allow-remote-demo]
      Serve the embedded local STS; the first stdout line is JSON with its endpoint and demo identity.
      Beyond loopback it warns, and refuses the published demo keys and SSO token to other hosts
      unless --allow-remote-demo is given.
  awsflow-sts version

Commands: %s
`

func main() {
	stdin, stdout, stderr := os.Stdin, os.Stdout, os.Stderr
	// Processes the SDK starts for a profile (credential_process) inherit os.Stdin and os.Stderr:
	// they must neither read the protocol's input nor write around the JSON log, where what they
	// print (possibly a secret) would go unscrubbed.
	if devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		os.Stdin, os.Stderr = devNull, devNull
	}
	os.Exit(run(os.Args[1:], stdin, stdout, stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, commandList())
		return 2
	}
	if sub := subcommandNamed(args[0]); sub != nil && wantsHelp(args[1:]) {
		return subcommandHelp(*sub, stdout)
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdin, stdout, stderr)
	case "call":
		return call(args[1:], stdin, stdout, stderr)
	case "mcp":
		return serveMCP(args[1:], stdin, stdout, stderr)
	case "localsts":
		return localSTS(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "awsflow-sts %s (protocol %d)\n", version, protocol.ProtocolVersion)
		return 0
	case "help", "--help", "-h":
		if len(args) > 1 && args[0] == "help" {
			if sub := subcommandNamed(args[1]); sub != nil {
				return subcommandHelp(*sub, stdout)
			}
			fmt.Fprintf(stderr, "awsflow-sts help: unknown subcommand %q\n\n", args[1])
			printSubcommands(stderr)
			return 2
		}
		printSubcommands(stdout)
		fmt.Fprintf(stdout, "\nRun awsflow-sts SUBCOMMAND --help for its flags.\n\n"+usage, commandList())
		return 0
	}
	fmt.Fprintf(stderr, "awsflow-sts: unknown subcommand %q\n\n"+usage, args[0], commandList())
	return 2
}

func commandList() string {
	names := protocol.CommandNames()
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func serve(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	logFile := fs.String("log-file", "", "also write logs to this file")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "awsflow-sts serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log, ctx, stop, err := setup(stderr, *logFile, *logLevel)
	if err != nil {
		return 2
	}
	defer stop()
	disconnected := make(chan bool, 1)
	srv := server.New(server.Config{Version: version, Logger: log, OnDisconnect: func(shutdown bool) { disconnected <- shutdown }})
	log.Info("serving", zap.String("version", version), zap.Int("pid", os.Getpid()))
	type served struct {
		shutdown bool
		err      error
	}
	done := make(chan served, 1)
	go func() {
		sd, err := srv.Serve(ctx, stdio{stdin, stdout})
		done <- served{sd, err}
	}()
	var res served
	select {
	case res = <-done:
	case shutdown := <-disconnected:
		// exit or end of input: calls still running were cancelled, but one stuck where
		// cancellation cannot reach (a blocking read) must not keep the process alive.
		select {
		case res = <-done:
		case <-time.After(exitGrace):
			log.Warn("exiting while calls are still running")
			if !shutdown {
				return 1
			}
			return 0
		}
	case <-ctx.Done():
		// A read blocked on stdin does not wake when stdin is closed, so give in-flight calls a
		// moment to finish and then exit regardless.
		select {
		case res = <-done:
		case <-time.After(2 * time.Second):
			log.Warn("stopped by signal while waiting for input")
			return 1
		}
	}
	if res.err != nil && !errors.Is(res.err, io.EOF) && !errors.Is(res.err, context.Canceled) {
		log.Error("serve ended", zap.Error(res.err))
		return 1
	}
	if !res.shutdown {
		return 1
	}
	return 0
}

// exitGrace is how long the process waits, once the connection has ended, for calls still running
// to return before it exits anyway; with shutdown's own bound it keeps exit within 2 s.
const exitGrace = time.Second

// setup opens the logger and a context cancelled by SIGINT or SIGTERM; stop releases both.
func setup(stderr io.Writer, logFile, logLevel string) (*logging.Logger, context.Context, func(), error) {
	log, err := logging.New(stderr, logFile, logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "awsflow-sts:", err)
		return nil, nil, nil, err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return log, ctx, func() {
		cancel()
		_ = log.Close() // nothing left to report a failed flush to
	}, nil
}

// stdio joins the process's stdin and stdout into the connection rpc serves.
type stdio struct {
	io.Reader
	io.Writer
}

func (s stdio) Close() error {
	if c, ok := s.Reader.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// callFlags is the call subcommand's flag set.
func callFlags(output io.Writer) (*flag.FlagSet, *callOptions) {
	fs := newFlagSet("call", output)
	o := &callOptions{
		params:    fs.String("params", "{}", "the command's params as a JSON object, e.g. '{\"Session\":\"me\"}' to act as a session an earlier call made"),
		profile:   fs.String("profile", "", "AWS profile for the base identity"),
		region:    fs.String("region", "", "AWS Region"),
		endpoint:  fs.String("endpoint-url", "", "STS endpoint URL: a VPC endpoint, or the URL awsflow-sts localsts prints"),
		asJSON:    fs.Bool("json", false, "print the JSON result {text, data} instead of the text"),
		logLevel:  fs.String("log-level", "warn", "debug, info, warn or error"),
		noKeychan: fs.Bool("no-keychain", false, "neither read nor keep sessions in the OS keychain: sessions end with the command"),
	}
	return fs, o
}

// callOptions are the call subcommand's flags.
type callOptions struct {
	params, profile, region, endpoint, logLevel *string
	asJSON, noKeychan                           *bool
}

func call(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := callFlags(stderr)
	if len(args) > 0 && isHelpFlag(args[0]) {
		_ = fs.Parse(args[:1]) // prints the usage
		return 0
	}
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintf(stderr, "awsflow-sts call: name a command first, one of: %s\n", commandList())
		return 2
	}
	command := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	params, asJSON := o.params, o.asJSON
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "awsflow-sts call: unexpected argument %q (flags come after the command)\n", fs.Arg(0))
		return 2
	}
	if !json.Valid([]byte(*params)) {
		fmt.Fprintln(stderr, `awsflow-sts call: --params must be a JSON object, for example --params '{"RoleArn":"arn:aws:iam::123456789012:role/Dev","RoleSessionName":"me"}'`)
		return 2
	}
	log, ctx, stop, err := setup(stderr, "", *o.logLevel)
	if err != nil {
		return 2
	}
	defer stop()
	var kc *keychain.Keychain
	if !*o.noKeychan {
		if kc, err = keychain.Open(); err != nil {
			log.Debug("sessions are not kept", zap.Error(err))
		}
	}
	srv := server.New(server.Config{Version: version, Logger: log, Settings: protocol.Settings{
		Profile: *o.profile, Region: *o.region, EndpointURL: *o.endpoint,
	}, Prompt: linePrompt(stdin, stderr), Frontend: tool.Frontend{CLI: true, Keychain: kc != nil}})
	if kc != nil {
		restoreSessions(ctx, srv, kc, stderr)
		defer keepSessions(ctx, srv, kc, stderr)
	}
	res, err := srv.Invoke(ctx, protocol.InvokeParams{Command: command, Params: json.RawMessage(*params)})
	if err != nil {
		return printError(err, *asJSON, stdout, stderr)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "awsflow-sts:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(stdout, res.Text)
	return 0
}

// restoreSessions puts the sessions earlier calls kept in the keychain back into the store.
func restoreSessions(ctx context.Context, srv *server.Server, kc *keychain.Keychain, stderr io.Writer) {
	sessions, active, err := kc.Load()
	if err != nil {
		fmt.Fprintln(stderr, "awsflow-sts call: the sessions kept in the OS keychain could not be read:", err)
		return
	}
	if len(sessions) == 0 {
		return
	}
	if _, err := srv.SessionsImport(ctx, &protocol.SessionsImportParams{Sessions: sessions, Active: active}); err != nil {
		fmt.Fprintln(stderr, "awsflow-sts call: the sessions kept in the OS keychain could not be restored:", err)
	}
}

// keepSessions stores the store's sessions, exactly as sessions/export gives them, in the
// keychain for the next call; sessions that expired or were forgotten leave it.
func keepSessions(ctx context.Context, srv *server.Server, kc *keychain.Keychain, stderr io.Writer) {
	list, _ := srv.SessionsList(ctx) // never fails
	out := make([]protocol.ExportedSession, 0, len(list.Sessions))
	for _, info := range list.Sessions {
		e, err := srv.Store().Export(info.Name)
		if err != nil {
			continue // gone since it was listed
		}
		out = append(out, e)
	}
	if err := kc.Save(out, list.Active); err != nil {
		fmt.Fprintln(stderr, "awsflow-sts call: the sessions could not all be kept in the OS keychain:", err)
	}
}

// linePrompt asks for an MFA code on stderr and reads it as one line of stdin (a terminal, or
// `echo 123456 |`). End of input means no one can answer.
func linePrompt(stdin io.Reader, stderr io.Writer) func(context.Context, protocol.MfaTokenCodeParams) (string, error) {
	lines := bufio.NewReader(stdin)
	return func(ctx context.Context, p protocol.MfaTokenCodeParams) (string, error) {
		fmt.Fprintf(stderr, "%s.\nMFA code for %s: ", p.Reason, p.SerialNumber)
		line, err := lines.ReadString('\n')
		fmt.Fprintln(stderr)
		if err != nil && line == "" {
			return "", tool.ErrCannotPrompt
		}
		return strings.TrimSpace(line), nil
	}
}

func printError(err error, asJSON bool, stdout, stderr io.Writer) int {
	var re *rpc.Error
	if !errors.As(err, &re) {
		re = &rpc.Error{Code: protocol.CodeInternalError, Message: err.Error()}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"error": map[string]any{"code": re.Code, "message": re.Message, "data": re.Data}})
	} else {
		fmt.Fprintln(stderr, re.Message)
	}
	return 1
}

func serveMCP(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("mcp", stderr)
	profile := fs.String("profile", "", "AWS profile for the base identity")
	region := fs.String("region", "", "AWS Region")
	endpoint := fs.String("endpoint-url", "", "STS endpoint URL: a VPC endpoint, or the URL awsflow-sts localsts prints")
	logFile := fs.String("log-file", "", "also write logs to this file")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	allow := fs.Bool("allow-credential-commands", false, "run commands that mint credentials without asking the user (for clients without elicitation)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "awsflow-sts mcp: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log, ctx, stop, err := setup(stderr, *logFile, *logLevel)
	if err != nil {
		return 2
	}
	defer stop()
	srv, err := mcpserver.New(mcpserver.Config{
		Version: version, Logger: log, AllowCredentialCommands: *allow,
		Settings: protocol.Settings{Profile: *profile, Region: *region, EndpointURL: *endpoint, LogLevel: *logLevel},
	})
	if err != nil {
		fmt.Fprintln(stderr, "awsflow-sts mcp:", err)
		return 2
	}
	log.Info("serving MCP on stdio", zap.String("version", version), zap.Int("pid", os.Getpid()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, &mcpserver.LineTransport{Reader: stdin, Writer: stdout}) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// A read blocked on stdin does not wake when stdin is closed: give the calls in flight a
		// moment to end, then exit regardless.
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			log.Warn("stopped by signal while waiting for input")
			return 1
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
		log.Error("MCP server ended", zap.Error(err))
		return 1
	}
	return 0
}
