// Package mcpserver serves STSTool over the Model Context Protocol (`awsflow-sts mcp`), on the
// official Go SDK: a second front end on the same tool runner, session store and secrets rule as
// the extension's JSON-RPC sidecar. A command that mints credentials asks the user through MCP
// elicitation first, MFA codes are asked for the same way, and no secret reaches a message.
package mcpserver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
	"awsflow-sts/sidecar/internal/tool"
	"awsflow-sts/sidecar/internal/writeback"
)

// Name is the server's name in serverInfo.
const Name = "awsflow-sts"

// DefaultMaintainEvery is how often sessions are checked for refresh and expiry while serving.
const DefaultMaintainEvery = 15 * time.Second

// Config is what a server needs.
type Config struct {
	// Version is the binary's version, reported in serverInfo.
	Version string
	// Logger receives the server's log lines (never bodies); they also go to the client as log
	// notifications at or above the level it sets.
	Logger *logging.Logger
	// Settings are the user's: profile, Region, endpoint. The model cannot change them.
	Settings protocol.Settings
	// AllowCredentialCommands runs commands that mint credentials without asking the user, for
	// clients that cannot ask (no elicitation capability).
	AllowCredentialCommands bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaintainEvery is how often sessions are checked for refresh and expiry (DefaultMaintainEvery
	// when 0; never when negative).
	MaintainEvery time.Duration
}

// Server holds one MCP server's state: its sessions, clients and secrets, for as long as the
// process lives.
type Server struct {
	cfg     Config
	log     *zap.Logger
	secrets *redact.Secrets
	store   *session.Store
	clients *stsops.Clients
	runner  *tool.Runner
	written *writeback.Profiles
	mcp     *mcp.Server
	notes   *notifier
	pending *pendingInputs
}

// New returns a server with no sessions, or the error of settings that break their rules.
func New(cfg Config) (*Server, error) {
	if err := tool.CheckSettings(cfg.Settings); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	core := tool.NewCore(cfg.Settings, cfg.Now)
	s := &Server{
		cfg:     cfg,
		secrets: core.Secrets,
		store:   core.Store,
		clients: core.Clients,
		runner:  core.Runner,
		notes:   newNotifier(core.Secrets.Scrub),
		pending: newPendingInputs(cfg.Now),
	}
	s.log = zap.New(teeCore(cfg.Logger.Logger.Core(), s.notes))
	s.written = writeback.New(s.store, s.secrets.Scrub, s.log)
	s.runner.UsePrompt(s.askTokenCode)
	s.runner.OfferMCPOnly()
	s.runner.ProfileWritten = s.written.Remember
	s.store.SetHooks(session.Hooks{Remake: s.runner.Remake, Changed: s.sessionsChanged})
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: Name, Title: "AWS STS", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: protocol.ModelDescription,
		Logger:       sdkLogger(s.log),
		Capabilities: &mcp.ServerCapabilities{Logging: &mcp.LoggingCapabilities{}, Tools: &mcp.ToolCapabilities{}},
	})
	s.mcp.AddTool(toolDef(), s.callTool)
	return s, nil
}

// Store is the server's session store (tests drive its clock and maintenance).
func (s *Server) Store() *session.Store { return s.store }

// Serve answers MCP on t until the client disconnects or ctx ends. While serving, sessions are
// refreshed in the background and log lines reach the client as notifications.
func (s *Server) Serve(ctx context.Context, t mcp.Transport) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if every := cmp.Or(s.cfg.MaintainEvery, DefaultMaintainEvery); every > 0 {
		wg.Go(func() { s.store.Run(ctx, every) })
	}
	ss, err := s.mcp.Connect(ctx, t, nil)
	if err != nil {
		return err
	}
	wg.Go(func() { s.notes.run(ctx, ss) })
	s.log.Info("serving MCP", zap.String("version", s.cfg.Version))
	werr := make(chan error, 1)
	wg.Go(func() { werr <- ss.Wait() })
	select {
	case err = <-werr:
	case <-ctx.Done():
		_ = ss.Close() // ends Wait; its error says only that the connection closed
		err = <-werr
	}
	s.log.Info("MCP connection ended")
	return err
}

// sessionsChanged keeps the credentials-file profiles written from a session in step with it.
func (s *Server) sessionsChanged(p protocol.SessionsChangedParams) {
	s.log.Info("sessions changed", zap.String("reason", p.Reason), zap.String("session", p.Session))
	s.written.Changed(p.Reason, p.Session)
}

// toolInput is what the model sends.
type toolInput struct {
	Command string          `json:"command"`
	Params  json.RawMessage `json:"params"`
}

// callTool runs one STSTool call: the consent and MFA prompts it needs, then the runner.
func (s *Server) callTool(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in toolInput
	if len(req.Params.Arguments) > 0 {
		if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
			return textError(`STSTool needs {"command": <command>, "params": {...}}: its arguments are not that JSON object.`), nil
		}
	}
	if in.Command == "" {
		return textError(fmt.Sprintf(`STSTool needs {"command": <command>, "params": {...}}; command is one of %s.`, commandList())), nil
	}
	start := time.Now()
	c := &call{srv: s, req: req, ss: req.Session, in: in}
	res, err := c.run(ctx)
	fields := []zap.Field{
		zap.String("command", clip.Echo(in.Command)),
		zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	var need *needInput
	switch {
	case errors.As(err, &need):
		s.log.Info("command needs input", fields...)
		return c.inputRequired(need), nil
	case err != nil:
		te := s.runner.Failure(in.Command, err)
		var orig *tool.Error
		if errors.As(err, &orig) {
			fields = append(fields, zap.String("kind", te.Kind()), zap.String("aws_code", te.AWSCode), zap.String("request_id", te.RequestID))
			s.log.Info("command failed", fields...)
		} else {
			s.log.Error("command failed", append(fields, zap.String("error", s.secrets.Scrub(err.Error())))...)
		}
		return textError(ErrorText(te)), nil
	}
	var data struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(res.Data, &data) // best effort: the request id is only for the log line
	s.log.Info("command done", append(fields, zap.String("request_id", data.RequestID))...)
	out := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.Text}}}
	if len(res.Data) > 0 && string(res.Data) != "null" {
		out.StructuredContent = res.Data
	}
	return out, nil
}

// textError is an isError result the model reads.
func textError(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// ErrorText is what the model reads of a failed command, as the extension's tool words it: the
// error's kind and AWS code, its message, and what to do when the message does not say it yet.
func ErrorText(te *tool.Error) string {
	_, message, _ := te.RPCError()
	head := "STSTool error (" + te.Kind()
	if te.AWSCode != "" {
		head += ", " + te.AWSCode
	}
	head += "): " + message
	text := head
	if te.Hint != "" && !strings.Contains(message, te.Hint) {
		text += "\n\nWhat to do: " + te.Hint
	}
	if te.Kind() == protocol.KindSignin {
		which := "`aws sso login`"
		if te.SSOSession != "" {
			which = fmt.Sprintf("`aws sso login --sso-session %s`", te.SSOSession)
		}
		text += "\n\nOnly the user can sign in (STSTool cannot start a sign-in): ask them to run " + which +
			" in a terminal, and retry the same call once they say they have signed in."
	}
	return text
}

// commandList names the commands the MCP tool offers.
func commandList() string {
	out := ""
	for i, c := range protocol.Commands {
		if i > 0 {
			out += ", "
		}
		out += c.Name
	}
	return out
}
