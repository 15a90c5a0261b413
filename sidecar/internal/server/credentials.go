package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"unicode/utf8"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/credserver"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/rpc"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
)

// credentialsEndpoint is the loopback container-credentials endpoint, started on first use and
// closed when Serve ends.
type credentialsEndpoint struct {
	mu  sync.Mutex
	srv *credserver.Server
}

// CredentialsEndpoint answers credentials/endpoint: the endpoint's URL and bearer token, starting
// it on the first call.
func (s *Server) CredentialsEndpoint(ctx context.Context) (*protocol.CredentialsEndpoint, error) {
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	if s.creds.srv == nil {
		srv, err := credserver.Start(credserver.Config{Lookup: s.endpointCredentials, Logger: s.log, Secrets: s.secrets, Now: s.cfg.Now})
		if err != nil {
			s.log.Error("credentials endpoint not started", zap.String("id", rpc.RequestID(ctx)), zap.String("error", s.secrets.Scrub(err.Error())))
			return nil, &rpc.Error{Code: protocol.CodeInternalError, Message: "the credentials endpoint could not be started: " + err.Error()}
		}
		s.creds.srv = srv
	}
	return &protocol.CredentialsEndpoint{URL: s.creds.srv.URL(), AuthorizationToken: s.creds.srv.Token()}, nil
}

// closeCredentialsEndpoint stops the endpoint, if it was started, and waits for its requests.
func (s *Server) closeCredentialsEndpoint() {
	s.creds.mu.Lock()
	srv := s.creds.srv
	s.creds.srv = nil
	s.creds.mu.Unlock()
	if srv == nil {
		return
	}
	if err := srv.Close(); err != nil {
		s.log.Debug("credentials endpoint closed with an error", zap.String("error", s.secrets.Scrub(err.Error())))
	}
}

// endpointCredentials is what the endpoint serves for a session name ("" for the active one): the
// session's credentials, refreshed first when due, or the base identity's.
func (s *Server) endpointCredentials(ctx context.Context, name string) (credserver.Credentials, error) {
	if name == "" {
		name = s.store.Active()
	}
	if name == protocol.ReservedSessionName {
		return s.baseEndpointCredentials(ctx)
	}
	if limit := protocol.ParamSessionName.MaxLength; utf8.RuneCountInString(name) > limit {
		return credserver.Credentials{}, &credserver.Error{Status: http.StatusNotFound, Code: "SessionNotFound",
			Message: fmt.Sprintf("there is no session %q; session names are at most %d characters", clip.Echo(name), limit)}
	}
	sess, err := s.store.Fresh(ctx, name)
	switch {
	case err != nil && ctx.Err() != nil:
		return credserver.Credentials{}, ctx.Err()
	case errors.Is(err, session.ErrNotFound):
		return credserver.Credentials{}, &credserver.Error{Status: http.StatusNotFound, Code: "SessionNotFound", Message: err.Error()}
	case errors.Is(err, session.ErrExpired):
		return credserver.Credentials{}, &credserver.Error{Status: http.StatusGone, Code: "SessionExpired", Message: err.Error()}
	case err != nil:
		return credserver.Credentials{}, err
	}
	if sess.Class == session.ClassToken || sess.Credentials.AccessKeyID == "" {
		return credserver.Credentials{}, &credserver.Error{Status: http.StatusConflict, Code: "NotCredentials",
			Message: protocol.TokenNotCredentials(name, "be served as credentials") + "; use a session made by AssumeRole, GetSessionToken or the like"}
	}
	return credserver.Credentials{
		AccessKeyID:     sess.Credentials.AccessKeyID,
		SecretAccessKey: sess.Credentials.SecretAccessKey,
		SessionToken:    sess.Credentials.SessionToken,
		Expiration:      sess.Expiration,
		AccountID:       sess.Account,
	}, nil
}

// baseEndpointCredentials is the base identity's credentials (the settings' profile, else the
// SDK's default chain), with their expiry when they have one.
func (s *Server) baseEndpointCredentials(ctx context.Context) (credserver.Credentials, error) {
	cr, err := s.clients.BaseCredentials(ctx, "")
	if err != nil {
		if ctx.Err() != nil {
			return credserver.Credentials{}, ctx.Err()
		}
		var te *stsops.TimeoutError
		if errors.As(err, &te) {
			return credserver.Credentials{}, &credserver.Error{Status: http.StatusGatewayTimeout, Code: "Timeout",
				Message: "the base identity's credentials were not ready in time: " + stsops.Brief(err)}
		}
		return credserver.Credentials{}, &credserver.Error{Status: http.StatusServiceUnavailable, Code: "CredentialsUnavailable",
			Message: fmt.Sprintf("no AWS credentials could be found for the base identity%s (%s); set awsflowSts.profile to a profile with credentials, or make a session the active one",
				profileNote(s.clients.Settings().Profile), stsops.Brief(err))}
	}
	s.secrets.Add(cr.SecretAccessKey, cr.SessionToken)
	out := credserver.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken, AccountID: cr.AccountID}
	if cr.CanExpire {
		out.Expiration = cr.Expires
	}
	return out, nil
}

// profileNote names the profile the base identity comes from, if the settings name one.
func profileNote(profile string) string {
	if profile == "" {
		return ""
	}
	return fmt.Sprintf(" (profile %q)", profile)
}
