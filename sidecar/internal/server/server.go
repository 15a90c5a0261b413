// Package server implements the sidecar's JSON-RPC methods (protocol.Methods: initialize,
// settings, tool/invoke, sessions/* and profiles/list) on the tool runner and the session store,
// and serves them with package rpc through the generated method table (dispatch_gen.go).
package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/profiles"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/rpc"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/sso"
	"awsflow-sts/sidecar/internal/stsops"
	"awsflow-sts/sidecar/internal/tool"
	"awsflow-sts/sidecar/internal/writeback"
)

// Name is the server's name in initialize.
const Name = "awsflow-sts"

// Config is what a server needs.
type Config struct {
	// Version is reported by initialize.
	Version string
	// Logger receives one line per call; never bodies.
	Logger *logging.Logger
	// Now is the clock (time.Now when nil); tests inject a fixed one.
	Now func() time.Time
	// Settings are used until initialize replaces them (the call subcommand never sends initialize).
	Settings protocol.Settings
	// Prompt asks the user for an MFA code when no client is connected (the call subcommand's
	// terminal); nil means no one can be asked then.
	Prompt tool.Prompter
	// MaintainEvery is how often sessions are checked for refresh and expiry while serving
	// (DefaultMaintainEvery when 0; never when negative, for tests that drive Store().Maintain).
	MaintainEvery time.Duration
	// Frontend is who reads the tool's texts: the zero value for the extension, the call
	// subcommand's for a terminal (hints name its flags).
	Frontend tool.Frontend
	// OnDisconnect, when set, is called once when the client's connection ends, with whether
	// shutdown came first, before Serve waits for calls still running (see rpc.Options).
	OnDisconnect func(shutdownRequested bool)
}

// DefaultMaintainEvery is how often sessions are checked for refresh and expiry while serving.
const DefaultMaintainEvery = 15 * time.Second

// promptTimeout bounds how long a call waits for the user to enter an MFA code.
const promptTimeout = 5 * time.Minute

// Server holds the state of one sidecar: its sessions, clients and secrets.
type Server struct {
	cfg     Config
	log     *zap.Logger
	secrets *redact.Secrets
	store   *session.Store
	clients *stsops.Clients
	runner  *tool.Runner
	written *writeback.Profiles        // the credentials-file profiles sessions were written to
	peer    atomic.Pointer[rpc.Server] // the connection to the client while serving
	sso     *sso.Manager               // the IAM Identity Center sign-ins
	creds   credentialsEndpoint        // the loopback credentials endpoint, once asked for
}

// Server answers every method the protocol has the client send.
var _ protocol.Methods = (*Server)(nil)

// New returns a server with no sessions.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	core := tool.NewCore(cfg.Settings, cfg.Now)
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.Logger,
		secrets: core.Secrets,
		store:   core.Store,
		clients: core.Clients,
		runner:  core.Runner,
		written: writeback.New(core.Store, core.Secrets.Scrub, cfg.Logger.Logger),
	}
	s.runner.UsePrompt(s.askTokenCode)
	s.runner.Frontend = cfg.Frontend
	s.sso = s.newSSO()
	s.store.SetHooks(session.Hooks{Remake: s.runner.Remake, Changed: s.sessionsChanged, Maintain: s.sso.Maintain})
	return s
}

// Store is the server's session store (tests drive its clock and maintenance).
func (s *Server) Store() *session.Store { return s.store }

// Serve answers JSON-RPC on rwc until exit or end of input; it reports whether shutdown came first.
// While serving, sessions are refreshed and their expiry reported in the background.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) (bool, error) {
	srv := rpc.NewServer(rpc.Options{
		Methods:          s.Methods(),
		Logger:           s.log,
		InitializeMethod: protocol.MethodInitialize,
		ShutdownMethod:   protocol.MethodShutdown,
		ExitMethod:       protocol.MethodExit,
		Scrub:            s.secrets.Scrub,
		OnDisconnect:     s.cfg.OnDisconnect,
	})
	s.peer.Store(srv)
	defer s.peer.Store(nil)
	defer s.closeCredentialsEndpoint() // after the calls and the maintenance below have ended
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if every := cmp.Or(s.cfg.MaintainEvery, DefaultMaintainEvery); every > 0 {
		wg.Go(func() { s.store.Run(ctx, every) })
	}
	defer wg.Wait()
	defer cancel()
	return srv.Serve(ctx, rwc)
}

// askTokenCode asks the client for an MFA code with mfa/tokenCode.
func (s *Server) askTokenCode(ctx context.Context, p protocol.MfaTokenCodeParams) (string, error) {
	peer := s.peer.Load()
	if peer == nil {
		if s.cfg.Prompt != nil {
			return s.cfg.Prompt(ctx, p)
		}
		return "", tool.ErrCannotPrompt
	}
	ctx, cancel := context.WithTimeout(ctx, promptTimeout)
	defer cancel()
	var res protocol.MfaTokenCodeResult
	if err := peer.Call(ctx, protocol.MethodMfaTokenCode, p, &res); err != nil {
		var re *rpc.Error
		if errors.As(err, &re) && re.Code == protocol.CodeMethodNotFound {
			return "", tool.ErrCannotPrompt
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("no code was entered within %s", promptTimeout)
		}
		return "", err
	}
	return res.TokenCode, nil
}

// sessionsChanged tells the client, when there is one, that the sessions changed, after the
// credentials-file profiles written from the session have followed the change.
func (s *Server) sessionsChanged(p protocol.SessionsChangedParams) {
	s.log.Info("sessions changed", zap.String("reason", p.Reason), zap.String("session", p.Session))
	s.written.Changed(p.Reason, p.Session)
	peer := s.peer.Load()
	if peer == nil {
		return
	}
	if err := peer.Notify(context.Background(), protocol.MethodSessionsChanged, p); err != nil {
		s.log.Debug("could not send sessions/changed", zap.Error(err))
	}
}

// Methods is the method table: the generated dispatch of the server's protocol.Methods, each in
// the lane protocol/model.json gives it.
func (s *Server) Methods() map[string]rpc.Method { return dispatch(s) }

// Invoke runs one tool command outside JSON-RPC (the call subcommand), through the same code path
// and the same scrubbing of secrets from errors, which are *rpc.Error values.
func (s *Server) Invoke(ctx context.Context, p protocol.InvokeParams) (*protocol.InvokeResult, error) {
	res, err := s.ToolInvoke(ctx, &p)
	if err != nil {
		var te *tool.Error
		if !errors.As(err, &te) {
			s.log.Error("command failed", zap.String("error", s.secrets.Scrub(err.Error())))
		}
		return nil, rpc.AsError(s.runner.Failure(p.Command, err))
	}
	return res, nil
}

// Initialize takes the client's settings and says who the server is.
func (s *Server) Initialize(_ context.Context, p *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	if err := s.applySettings(p.Settings); err != nil {
		return nil, err
	}
	s.log.Info("initialized", zap.String("client", p.ClientInfo.Name), zap.String("client_version", p.ClientInfo.Version))
	return &protocol.InitializeResult{
		ServerInfo:      protocol.ServerInfo{Name: Name, Version: s.cfg.Version},
		ProtocolVersion: protocol.ProtocolVersion,
		Commands:        protocol.CommandNames(),
	}, nil
}

// Shutdown has nothing to do: package rpc lets the calls in flight finish before it answers.
func (s *Server) Shutdown(context.Context) error { return nil }

// SettingsUpdate takes the client's new settings.
func (s *Server) SettingsUpdate(_ context.Context, p *protocol.SettingsUpdateParams) error {
	return s.applySettings(p.Settings)
}

// applySettings takes the user's settings, or none of them if any is invalid. An empty logLevel
// keeps the level the sidecar was started with (--log-level).
func (s *Server) applySettings(st protocol.Settings) error {
	if err := tool.CheckSettings(st); err != nil {
		return err
	}
	if st.LogLevel != "" {
		if err := logging.SetLevel(s.cfg.Logger.Level, st.LogLevel); err != nil {
			return tool.InvalidSetting("logLevel", err.Error())
		}
	}
	s.clients.Update(st)
	return nil
}

// ToolInvoke runs one STSTool command, with one log line for it.
func (s *Server) ToolInvoke(ctx context.Context, p *protocol.InvokeParams) (*protocol.InvokeResult, error) {
	start := time.Now()
	res, err := s.runner.Invoke(ctx, *p)
	fields := []zap.Field{
		zap.String("method", protocol.MethodToolInvoke),
		zap.String("id", rpc.RequestID(ctx)),
		zap.String("command", clip.Echo(p.Command)),
		zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if err != nil {
		var te *tool.Error
		if errors.As(err, &te) {
			fields = append(fields, zap.String("kind", te.Kind()), zap.String("aws_code", te.AWSCode), zap.String("request_id", te.RequestID))
			s.log.Info("command failed", fields...)
			return nil, err
		}
		s.log.Error("command failed", fields...)
		return nil, err
	}
	var data struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(res.Data, &data) // best effort: the request id is only for the log line
	s.log.Info("command done", append(fields, zap.String("request_id", data.RequestID))...)
	return res, nil
}

// SessionsList lists the stored sessions.
func (s *Server) SessionsList(context.Context) (*protocol.SessionList, error) {
	list := s.store.List()
	return &list, nil
}

// SessionsUse makes a session the default.
func (s *Server) SessionsUse(_ context.Context, p *protocol.SessionNameParams) (*protocol.SessionList, error) {
	if err := tool.RequireSessionName(p.Name, "the session's name"); err != nil {
		return nil, err
	}
	if err := s.store.Use(p.Name); err != nil {
		return nil, tool.SessionError(err)
	}
	return s.SessionsList(context.Background())
}

// SessionsForget deletes a stored session.
func (s *Server) SessionsForget(_ context.Context, p *protocol.SessionNameParams) (*protocol.SessionList, error) {
	if err := tool.RequireSessionName(p.Name, "the session's name"); err != nil {
		return nil, err
	}
	if err := s.store.Forget(p.Name); err != nil {
		return nil, tool.SessionError(err)
	}
	return s.SessionsList(context.Background())
}

// SessionsExport returns a session with its secrets, for the user's explicit export.
func (s *Server) SessionsExport(ctx context.Context, p *protocol.SessionNameParams) (*protocol.ExportedSession, error) {
	if err := tool.RequireSessionName(p.Name, "the session's name"); err != nil {
		return nil, err
	}
	out, err := s.store.Export(p.Name)
	if err != nil {
		return nil, tool.SessionError(err)
	}
	s.log.Info("session exported", zap.String("id", rpc.RequestID(ctx)), zap.String("session", p.Name))
	return &out, nil
}

// SessionsImport stores sessions as sessions/export returned them.
func (s *Server) SessionsImport(ctx context.Context, p *protocol.SessionsImportParams) (*protocol.SessionsImportResult, error) {
	for _, e := range p.Sessions {
		s.secrets.Add(e.SecretAccessKey, e.SessionToken, e.WebIdentityToken)
	}
	res, err := s.store.Import(p.Sessions, p.Active)
	if err != nil {
		return nil, tool.ImportError(err)
	}
	s.log.Info("sessions imported", zap.String("id", rpc.RequestID(ctx)), zap.Strings("sessions", res.Imported), zap.Int("skipped", len(res.Skipped)))
	return &protocol.SessionsImportResult{Imported: res.Imported, Skipped: res.Skipped, List: s.store.List()}, nil
}

// SessionsWriteProfile writes a session's credentials as a credentials-file profile, which its
// refreshes then rewrite.
func (s *Server) SessionsWriteProfile(ctx context.Context, p *protocol.WriteProfileParams) (*protocol.WriteProfileResult, error) {
	res, err := s.runner.WriteProfile(*p)
	if err != nil {
		return nil, err
	}
	s.log.Info("session written to credentials file", zap.String("id", rpc.RequestID(ctx)), zap.String("session", p.Name),
		zap.String("profile", p.Profile), zap.String("path", res.Path))
	s.written.Remember(p.Name, res.Path, p.Profile)
	return res, nil
}

// ProfilesList lists the shared config file's profiles and the roles they assume.
func (s *Server) ProfilesList(context.Context) (*protocol.ProfileList, error) {
	list, err := profiles.List(profiles.ConfigPath())
	if err != nil {
		return nil, tool.ProfilesError(err)
	}
	return &list, nil
}
