// Package server is the sidecar's JSON-RPC method table: initialize, settings, tool/invoke and the
// sessions/* methods, wired to the tool runner and the session store, served by package rpc.
package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/logging"
	"awsflow-sts/sidecar/internal/profiles"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/rpc"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
	"awsflow-sts/sidecar/internal/tool"
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
	peer    atomic.Pointer[rpc.Server] // the connection to the client while serving

	written  sync.Mutex
	profiles map[string][]writtenProfile // session name → credentials-file profiles it was written to
}

// writtenProfile is a credentials-file profile a session was written to; it is rewritten when the
// session is refreshed, so tools reading the profile keep working.
type writtenProfile struct {
	path, profile string
}

// New returns a server with no sessions.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	secrets := &redact.Secrets{}
	store := session.NewStore(cfg.Now, secrets)
	clients := stsops.NewClients(cfg.Settings)
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.Logger,
		secrets: secrets,
		store:   store,
		clients: clients,
		runner:  tool.NewRunner(store, clients, secrets),
	}
	s.runner.Prompt = s.askTokenCode
	clients.SetPrompt(func(ctx context.Context, serial, reason string) (string, error) {
		code, err := s.askTokenCode(ctx, protocol.MfaTokenCodeParams{SerialNumber: serial, Reason: reason})
		// The SDK sends the code to STS, which may quote it back.
		s.secrets.Add(strings.TrimSpace(code))
		return code, err
	})
	store.SetHooks(session.Hooks{Remake: s.runner.Remake, Changed: s.sessionsChanged})
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

// sessionsChanged tells the client, when there is one, that the sessions changed.
func (s *Server) sessionsChanged(p protocol.SessionsChangedParams) {
	s.log.Info("sessions changed", zap.String("reason", p.Reason), zap.String("session", p.Session))
	switch p.Reason {
	case session.ReasonRefreshed:
		s.rewriteProfiles(p.Session)
	case session.ReasonForgotten, session.ReasonCreated:
		// A forgotten session, or a new one under that name, no longer feeds the profiles.
		s.written.Lock()
		delete(s.profiles, p.Session)
		s.written.Unlock()
	}
	peer := s.peer.Load()
	if peer == nil {
		return
	}
	if err := peer.Notify(context.Background(), protocol.MethodSessionsChanged, p); err != nil {
		s.log.Debug("could not send sessions/changed", zap.Error(err))
	}
}

// Methods is the method table. Everything but tool/invoke of a command that calls STS is local:
// it runs in the lane that calls waiting on an endpoint cannot fill.
func (s *Server) Methods() map[string]rpc.Method {
	return map[string]rpc.Method{
		protocol.MethodInitialize:           {Handle: s.initialize, Inline: true},
		protocol.MethodShutdown:             {Handle: func(context.Context, json.RawMessage) (any, error) { return nil, nil }, Inline: true},
		protocol.MethodSettingsUpdate:       {Handle: s.settingsUpdate, Inline: true},
		protocol.MethodToolInvoke:           {Handle: s.invoke, LocalCall: localCommand},
		protocol.MethodSessionsList:         {Handle: s.sessionsList, Local: true},
		protocol.MethodSessionsUse:          {Handle: s.sessionsUse, Local: true},
		protocol.MethodSessionsForget:       {Handle: s.sessionsForget, Local: true},
		protocol.MethodSessionsExport:       {Handle: s.sessionsExport, Local: true},
		protocol.MethodSessionsImport:       {Handle: s.sessionsImport, Local: true},
		protocol.MethodSessionsWriteProfile: {Handle: s.sessionsWriteProfile, Local: true},
		protocol.MethodProfilesList:         {Handle: s.profilesList, Local: true},
	}
}

// localCommand tells whether tool/invoke params name a command that only acts on the session
// store (ListSessions, UseSession, ForgetSession). Params that do not decode are not local: the
// handler reports them.
func localCommand(raw json.RawMessage) bool {
	var p struct {
		Command string `json:"command"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return false
	}
	spec, ok := protocol.Command(p.Command)
	return ok && spec.Local
}

// Invoke runs one tool command outside JSON-RPC (the call subcommand), through the same code path
// and the same scrubbing of secrets from errors.
func (s *Server) Invoke(ctx context.Context, p protocol.InvokeParams) (*protocol.InvokeResult, error) {
	res, err := s.invoke(ctx, mustJSON(p))
	if err != nil {
		var re *rpc.Error
		if !errors.As(err, &re) {
			re = &rpc.Error{Code: protocol.CodeInternalError, Message: p.Command + " failed; see the log", Data: protocol.ErrorData{Kind: "internal"}}
			s.log.Error("command failed", zap.String("error", s.secrets.Scrub(err.Error())))
		}
		scrubbed := *re
		scrubbed.Message = s.secrets.Scrub(re.Message)
		if d, ok := re.Data.(protocol.ErrorData); ok {
			d.Hint = s.secrets.Scrub(d.Hint)
			scrubbed.Data = d
		}
		return nil, &scrubbed
	}
	return res.(*protocol.InvokeResult), nil
}

func (s *Server) initialize(_ context.Context, raw json.RawMessage) (any, error) {
	var p protocol.InitializeParams
	if err := decode(raw, &p); err != nil {
		return nil, err
	}
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

func (s *Server) settingsUpdate(_ context.Context, raw json.RawMessage) (any, error) {
	var p protocol.SettingsUpdateParams
	if err := decode(raw, &p); err != nil {
		return nil, err
	}
	return nil, s.applySettings(p.Settings)
}

// applySettings takes the user's settings, or none of them if any is invalid. An empty logLevel
// keeps the level the sidecar was started with (--log-level).
func (s *Server) applySettings(st protocol.Settings) error {
	if err := checkSettings(st); err != nil {
		return err
	}
	if st.LogLevel != "" {
		if err := logging.SetLevel(s.cfg.Logger.Level, st.LogLevel); err != nil {
			return invalidSetting("logLevel", err.Error())
		}
	}
	s.clients.Update(st)
	return nil
}

// checkSettings checks st against the protocol's rules for each setting (protocol.SettingRules,
// which package.json's settings carry too) and the endpoint URL's parts. Values are not quoted
// back: an endpoint URL may hold a password, and the user knows what they typed.
func checkSettings(st protocol.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("marshal settings: %w", err)
	}
	// Zero values are omitted, so only values that are set (not the default) are checked.
	var values map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		return fmt.Errorf("decode settings: %w", err)
	}
	for _, r := range protocol.SettingRules {
		switch v := values[r.Name].(type) {
		case string:
			if r.Pattern != nil && !r.Pattern.MatchString(v) {
				return invalidSetting(r.Name, "must match "+r.Pattern.String())
			}
			if len(r.Enum) > 0 && !slices.ContainsFunc(r.Enum, func(e string) bool { return strings.EqualFold(e, v) }) {
				return invalidSetting(r.Name, "must be one of "+strings.Join(r.Enum, ", "))
			}
		case json.Number:
			n, err := v.Int64()
			if r.HasRange && (err != nil || n < r.Minimum || n > r.Maximum) {
				return invalidSetting(r.Name, fmt.Sprintf("is %s; use %d to %d (0 for the default)", clip.Echo(v.String()), r.Minimum, r.Maximum))
			}
		}
	}
	if st.EndpointURL != "" {
		if problem := endpointProblem(st.EndpointURL); problem != "" {
			return invalidSetting("endpointUrl", problem)
		}
	}
	return nil
}

// endpointProblem says what is wrong with an endpoint URL, or "": calls are signed and sent to
// it, so it must be a plain http or https URL of a host.
func endpointProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must start with http:// or https://"
	case u.Opaque != "" || u.Hostname() == "":
		return "must name a host, as in https://sts.example.com"
	case u.User != nil:
		return "must not carry a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
		return "must not carry a query or a fragment"
	}
	return ""
}

// invalidSetting is the error for a setting that breaks its rule; the field is named as the
// protocol names it, and the hint as the user finds it in VS Code.
func invalidSetting(name, problem string) error {
	return &rpc.Error{
		Code:    protocol.CodeInvalidParams,
		Message: fmt.Sprintf("settings.%s %s; no setting was changed", name, problem),
		Data:    protocol.ErrorData{Kind: "validation", Hint: "Fix the awsflowSts." + name + " setting."},
	}
}

func (s *Server) invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.InvokeParams
	if err := decode(raw, &p); err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := s.runner.Invoke(ctx, p)
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
			return nil, &rpc.Error{Code: te.Code, Message: te.Error(), Data: te.Data()}
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

func (s *Server) sessionsList(context.Context, json.RawMessage) (any, error) {
	return s.store.List(), nil
}

func (s *Server) sessionsUse(_ context.Context, raw json.RawMessage) (any, error) {
	name, err := sessionName(raw)
	if err != nil {
		return nil, err
	}
	if err := s.store.Use(name); err != nil {
		return nil, sessionErr(err)
	}
	return s.store.List(), nil
}

func (s *Server) sessionsForget(_ context.Context, raw json.RawMessage) (any, error) {
	name, err := sessionName(raw)
	if err != nil {
		return nil, err
	}
	if err := s.store.Forget(name); err != nil {
		return nil, sessionErr(err)
	}
	return s.store.List(), nil
}

func (s *Server) sessionsExport(ctx context.Context, raw json.RawMessage) (any, error) {
	name, err := sessionName(raw)
	if err != nil {
		return nil, err
	}
	out, err := s.store.Export(name)
	if err != nil {
		return nil, sessionErr(err)
	}
	s.log.Info("session exported", zap.String("id", rpc.RequestID(ctx)), zap.String("session", name))
	return out, nil
}

func (s *Server) sessionsImport(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.SessionsImportParams
	if err := decode(raw, &p); err != nil {
		return nil, err
	}
	for _, e := range p.Sessions {
		s.secrets.Add(e.SecretAccessKey, e.SessionToken, e.WebIdentityToken)
	}
	res, err := s.store.Import(p.Sessions, p.Active)
	if err != nil {
		return nil, &rpc.Error{Code: protocol.CodeInvalidParams, Message: err.Error(), Data: protocol.ErrorData{
			Kind: "validation", Hint: "Pass sessions exactly as sessions/export returned them.",
		}}
	}
	s.log.Info("sessions imported", zap.String("id", rpc.RequestID(ctx)), zap.Strings("sessions", res.Imported), zap.Int("skipped", len(res.Skipped)))
	return &protocol.SessionsImportResult{Imported: res.Imported, Skipped: res.Skipped, List: s.store.List()}, nil
}

func (s *Server) sessionsWriteProfile(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.WriteProfileParams
	if err := decode(raw, &p); err != nil {
		return nil, err
	}
	invalid := func(msg, hint string) error {
		return &rpc.Error{Code: protocol.CodeInvalidParams, Message: msg, Data: protocol.ErrorData{Kind: "validation", Hint: hint}}
	}
	if p.Name == "" {
		return nil, invalid(`params need "name": the session to write`, "")
	}
	if err := storableName(p.Name); err != nil {
		return nil, err
	}
	if err := credfile.ValidProfileName(p.Profile); err != nil {
		return nil, invalid("profile: "+err.Error(), "Choose a profile name such as the session's name.")
	}
	exp, err := s.store.Export(p.Name)
	if err != nil {
		return nil, sessionErr(err)
	}
	if exp.Kind == string(protocol.MintsToken) {
		return nil, invalid(fmt.Sprintf("session %q holds a web identity token, not credentials, so it cannot be written as a profile", p.Name), "Choose a session made by AssumeRole, GetSessionToken or the like.")
	}
	expires, _ := time.Parse(time.RFC3339, exp.Expiration)
	res, err := credfile.WriteProfile(credfile.Options{Path: p.Path, Profile: p.Profile, OverwriteLongTermKeys: p.OverwriteLongTermKeys},
		credfile.Credentials{AccessKeyID: exp.AccessKeyID, SecretAccessKey: exp.SecretAccessKey, SessionToken: exp.SessionToken, Expiration: expires})
	switch {
	case errors.Is(err, credfile.ErrLongTermKeys):
		return nil, &rpc.Error{Code: protocol.CodeRuleViolation, Message: s.secrets.Scrub(err.Error()), Data: protocol.ErrorData{
			Kind: protocol.ErrorKind(protocol.CodeRuleViolation), Hint: "Choose another profile name, or confirm replacing the long-term keys (overwriteLongTermKeys).",
		}}
	case errors.Is(err, credfile.ErrBusy):
		// Another program holds the file: nothing is wrong with the request, and it may be retried.
		return nil, &rpc.Error{Code: protocol.CodeServerBusy, Message: s.secrets.Scrub(err.Error()), Data: protocol.ErrorData{
			Kind: protocol.ErrorKind(protocol.CodeServerBusy), Hint: "Close the program using the credentials file (the AWS CLI, an SDK or another awsflow-sts) and try again; the file was not changed.",
		}}
	case err != nil:
		return nil, invalid(s.secrets.Scrub(err.Error()), "Check the path and its permissions; the file was not changed.")
	}
	s.log.Info("session written to credentials file", zap.String("id", rpc.RequestID(ctx)), zap.String("session", p.Name),
		zap.String("profile", p.Profile), zap.String("path", res.Path))
	s.written.Lock()
	if s.profiles == nil {
		s.profiles = map[string][]writtenProfile{}
	}
	target := writtenProfile{path: res.Path, profile: p.Profile}
	if !slices.Contains(s.profiles[p.Name], target) {
		s.profiles[p.Name] = append(s.profiles[p.Name], target)
	}
	s.written.Unlock()
	return &protocol.WriteProfileResult{Path: res.Path, Profile: p.Profile, Created: res.Created, Backup: res.Backup, Expiration: exp.Expiration}, nil
}

// rewriteProfiles writes a refreshed session's new credentials into the credentials-file profiles
// it was written to. A failure is logged and ends that profile's updates (the user may have
// given the profile to something else), except a busy file, which the next refresh tries again.
func (s *Server) rewriteProfiles(name string) {
	s.written.Lock()
	targets := s.profiles[name]
	s.written.Unlock()
	if len(targets) == 0 {
		return
	}
	exp, err := s.store.Export(name)
	if err != nil {
		return
	}
	expires, _ := time.Parse(time.RFC3339, exp.Expiration)
	creds := credfile.Credentials{AccessKeyID: exp.AccessKeyID, SecretAccessKey: exp.SecretAccessKey, SessionToken: exp.SessionToken, Expiration: expires}
	var kept []writtenProfile
	for _, t := range targets {
		if _, err := credfile.WriteProfile(credfile.Options{Path: t.path, Profile: t.profile}, creds); err != nil {
			s.log.Warn("refreshed session not written to its credentials-file profile", zap.String("session", name),
				zap.String("profile", t.profile), zap.String("path", t.path), zap.String("error", s.secrets.Scrub(err.Error())))
			if errors.Is(err, credfile.ErrBusy) {
				// Busy for now, not given away: the next refresh tries again.
				kept = append(kept, t)
			}
			continue
		}
		s.log.Info("refreshed session rewritten to its credentials-file profile", zap.String("session", name), zap.String("profile", t.profile))
		kept = append(kept, t)
	}
	s.written.Lock()
	s.profiles[name] = kept
	s.written.Unlock()
}

func (s *Server) profilesList(context.Context, json.RawMessage) (any, error) {
	list, err := profiles.List(profiles.ConfigPath())
	if err != nil {
		return nil, &rpc.Error{Code: protocol.CodeInvalidParams, Message: err.Error(), Data: protocol.ErrorData{
			Kind: "validation", Hint: "Fix the shared AWS config file (AWS_CONFIG_FILE or ~/.aws/config).",
		}}
	}
	return list, nil
}

func sessionName(raw json.RawMessage) (string, error) {
	var p protocol.SessionNameParams
	if err := decode(raw, &p); err != nil {
		return "", err
	}
	if p.Name == "" {
		return "", &rpc.Error{Code: protocol.CodeInvalidParams, Message: `params need "name": the session's name`, Data: protocol.ErrorData{Kind: "validation"}}
	}
	if err := storableName(p.Name); err != nil {
		return "", err
	}
	return p.Name, nil
}

// storableName refuses a name no stored session can have (longer than SessionName allows), so
// that errors, which quote the name, never quote a long one.
func storableName(name string) error {
	if limit := protocol.Params["SessionName"].MaxLength; utf8.RuneCountInString(name) > limit {
		return sessionErr(fmt.Errorf("%w: there is no session %q; session names are at most %d characters", session.ErrNotFound, clip.Echo(name), limit))
	}
	return nil
}

func sessionErr(err error) error {
	return &rpc.Error{Code: protocol.CodeSessionError, Message: err.Error(), Data: protocol.ErrorData{
		Kind: protocol.ErrorKind(protocol.CodeSessionError),
		Hint: "sessions/list shows the stored sessions.",
	}}
}

// decode reads params into v; absent params leave v zero.
func decode(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &rpc.Error{Code: protocol.CodeInvalidParams, Message: "invalid params: " + err.Error(), Data: protocol.ErrorData{Kind: "validation"}}
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only our own protocol types reach here
	}
	return b
}
