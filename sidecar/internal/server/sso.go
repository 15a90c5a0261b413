package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/rpc"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/sso"
	"awsflow-sts/sidecar/internal/stsops"
	"awsflow-sts/sidecar/internal/tool"
)

// newSSO is the server's IAM Identity Center sign-in manager: its clients are built from the
// settings' bounded configuration, it asks the connected client to show the code, and it tells
// the client of sign-in changes.
func (s *Server) newSSO() *sso.Manager {
	m := sso.New(sso.Config{
		AWSConfig: s.clients.ServiceConfig,
		Secrets:   s.secrets,
		Logger:    s.log,
		Now:       s.cfg.Now,
		Authorize: s.askAuthorize,
		Changed:   s.ssoChanged,
	})
	s.runner.RemakeSSO = s.remakeSSO
	return m
}

// errNoClient is sso/authorize's failure when no client is connected to show the code.
var errNoClient = errors.New("no client is connected to show the sign-in code")

// askAuthorize sends sso/authorize to the connected client, which shows the code and answers.
func (s *Server) askAuthorize(ctx context.Context, p protocol.SsoAuthorizeParams) error {
	peer := s.peer.Load()
	if peer == nil {
		return errNoClient
	}
	if err := peer.Call(ctx, protocol.MethodSsoAuthorize, p, nil); err != nil {
		var re *rpc.Error
		if errors.As(err, &re) && re.Code == protocol.CodeMethodNotFound {
			return errors.New("the client cannot show a sign-in code (it does not know sso/authorize)")
		}
		if errors.As(err, &re) {
			return fmt.Errorf("the client answered: %s", re.Message)
		}
		return err
	}
	return nil
}

// ssoChanged tells the client, when there is one, that a sign-in changed.
func (s *Server) ssoChanged(p protocol.SsoChangedParams) {
	peer := s.peer.Load()
	if peer == nil {
		return
	}
	if err := peer.Notify(context.Background(), protocol.MethodSsoChanged, p); err != nil {
		s.log.Debug("could not send sso/changed", zap.Error(err))
	}
}

// SsoList answers sso/list from the shared config and the token cache, without the network.
func (s *Server) SsoList(context.Context) (*protocol.SsoSessionList, error) {
	return s.sso.List()
}

// SsoLogin answers sso/login: the device flow, until the user approves, denies, lets the code
// expire, or the client cancels the call.
func (s *Server) SsoLogin(ctx context.Context, p *protocol.SsoLoginParams) (*protocol.SsoLoginResult, error) {
	if s.peer.Load() == nil {
		return nil, &sso.Error{Code: protocol.CodeInvalidParams, SSOSession: p.SsoSession,
			Message: "Cannot sign in here: " + errNoClient.Error() + ".", Hint: "Sign in from VS Code (Sign In to IAM Identity Center…)."}
	}
	res, err := s.sso.Login(ctx, *p)
	if err != nil {
		s.log.Info("sign-in failed", zap.String("id", rpc.RequestID(ctx)), zap.String("error", s.secrets.Scrub(err.Error())))
		return nil, err
	}
	return res, nil
}

// SsoAccounts answers sso/accounts.
func (s *Server) SsoAccounts(ctx context.Context, p *protocol.SsoSessionParams) (*protocol.SsoAccountList, error) {
	list, truncated, err := s.sso.Accounts(ctx, p.SsoSession)
	if err != nil {
		return nil, err
	}
	list.Truncated = truncated
	if truncated {
		s.log.Warn("the portal's account list was cut", zap.String("sso_session", p.SsoSession), zap.Int("accounts", len(list.Accounts)),
			zap.Int("max_accounts", sso.MaxAccounts), zap.Int("max_roles", sso.MaxRoles))
	}
	return list, nil
}

// ssoSessionName is the default name of a role's session: the role and the account.
func ssoSessionName(role, account string) string {
	name := unsafeSessionName.ReplaceAllString(role, "-") + "-" + account
	if len(name) > int(protocol.ParamSessionName.MaxLength) {
		name = name[len(name)-int(protocol.ParamSessionName.MaxLength):]
	}
	return name
}

var unsafeSessionName = regexp.MustCompile(`[^\w+=,.@-]+`)

// SsoUseRole answers sso/useRole: a session of the role from the sign-in, stored like every
// other and re-made from the sign-in before it expires.
func (s *Server) SsoUseRole(ctx context.Context, p *protocol.SsoUseRoleParams) (*protocol.SessionInfo, error) {
	if err := sso.CheckRole(p.AccountID, p.RoleName); err != nil {
		return nil, err
	}
	name := p.SessionName
	if name == "" {
		name = ssoSessionName(p.RoleName, p.AccountID)
	}
	if err := tool.RequireSessionName(name, "the session's name"); err != nil {
		return nil, err
	}
	if name == protocol.ReservedSessionName || !protocol.ParamSessionName.Pattern.MatchString(name) {
		return nil, &sso.Error{Code: protocol.CodeInvalidParams, Message: fmt.Sprintf("sessionName must be 1 to 64 of [A-Za-z0-9_+=,.@-] and not %q", protocol.ReservedSessionName)}
	}
	recipe := session.SSORecipe{SSOSession: p.SsoSession, AccountID: p.AccountID, RoleName: p.RoleName}
	sess, err := s.ssoSession(ctx, recipe, "")
	if err != nil {
		return nil, err
	}
	sess.Name = name
	s.store.Put(sess)
	if p.Use {
		if err := s.store.Use(name); err != nil {
			return nil, tool.SessionError(err)
		}
	}
	s.log.Info("session from IAM Identity Center stored", zap.String("id", rpc.RequestID(ctx)), zap.String("session", name),
		zap.String("sso_session", p.SsoSession), zap.String("account", p.AccountID), zap.String("role", p.RoleName))
	info := s.store.Info(sess)
	return &info, nil
}

// ssoSession gets role credentials from the sign-in and makes them a session (without a name);
// arn, when known, is the role session's ARN, else STS is asked for it.
func (s *Server) ssoSession(ctx context.Context, r session.SSORecipe, arn string) (*session.Session, error) {
	rc, err := s.sso.RoleCredentials(ctx, r.SSOSession, r.AccountID, r.RoleName)
	if err != nil {
		return nil, err
	}
	if arn == "" {
		arn = s.callerARN(ctx, rc.Credentials)
	}
	return &session.Session{
		Command:     session.SSOCommand,
		Class:       session.ClassSSO,
		Credentials: rc.Credentials,
		Expiration:  rc.Credentials.Expires,
		ARN:         arn,
		Account:     r.AccountID,
		Region:      rc.Region,
		Source:      protocol.ReservedSessionName,
		Recipe:      session.NewSSORecipe(r),
	}, nil
}

// callerARN is the ARN STS gives the credentials (GetCallerIdentity, best effort: "" when STS
// cannot be asked; the portal's answer names no ARN).
func (s *Server) callerARN(ctx context.Context, cr aws.Credentials) string {
	cl, err := s.clients.Client(ctx, stsops.Identity{Credentials: &cr}, "")
	if err != nil {
		return ""
	}
	out, err := cl.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		s.log.Info("the ARN of an IAM Identity Center session is unknown", zap.String("error", s.secrets.Scrub(stsops.Brief(err))))
		return ""
	}
	return aws.ToString(out.Arn)
}

// remakeSSO re-makes an IAM Identity Center role session from its sign-in's current token: the
// session store's refresh of session.ClassSSO sessions.
func (s *Server) remakeSSO(ctx context.Context, old *session.Session) (*session.Session, error) {
	r, err := session.ParseSSORecipe(old.Recipe)
	if err != nil {
		return nil, err
	}
	return s.ssoSession(ctx, r, old.ARN)
}

// SsoLogout answers sso/logout: the portal's Logout (best effort), the token cache removed, and
// the sessions made from the sign-in forgotten.
func (s *Server) SsoLogout(ctx context.Context, p *protocol.SsoSessionParams) (*protocol.SsoLogoutResult, error) {
	res, err := s.sso.Logout(ctx, p.SsoSession)
	if err != nil {
		return nil, err
	}
	forgotten := s.store.ForgetMatching(func(sess *session.Session) bool {
		if sess.Class != session.ClassSSO {
			return false
		}
		r, err := session.ParseSSORecipe(sess.Recipe)
		return err == nil && r.SSOSession == p.SsoSession
	})
	out := &protocol.SsoLogoutResult{SsoSession: p.SsoSession, Forgotten: forgotten, CacheRemoved: res.CacheRemoved}
	if res.PortalError != "" {
		out.Message = "Signed out here, but the portal's Logout failed: " + res.PortalError
	}
	return out, nil
}
