// Package sso signs the user in to IAM Identity Center and keeps the sign-in alive, with the
// SDK's own OIDC (service/ssooidc) and portal (service/sso) clients: the device authorization
// flow, the token cache the AWS CLI v2 and the SDKs share (~/.aws/sso/cache), refreshes with the
// refresh token before the access token expires, the accounts and roles of the portal, role
// credentials for sessions, and signing out. Tokens, refresh tokens, client secrets and device
// codes are registered with the scrubber as soon as they are seen and are never logged.
package sso

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/profiles"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
)

// Defaults of Config.
const (
	// DefaultWindow is how long before the access token expires that it is refreshed, as sessions
	// are (session.DefaultWindow).
	DefaultWindow = 5 * time.Minute
	// DefaultScopes are the registration scopes that get a refresh token.
	DefaultScopes = "sso:account:access"
	// ClientName is the name the client registers under.
	ClientName = "awsflow-sts"
)

// Bounds on what the services may ask of the sidecar.
const (
	// maxAuthorization bounds how long a device authorization is polled, whatever expiresIn says.
	maxAuthorization = 30 * time.Minute
	// minInterval and maxInterval bound the polling interval the service asks for.
	minInterval, maxInterval = time.Second, time.Minute
	// defaultInterval is the polling interval when the service names none (RFC 8628).
	defaultInterval = 5 * time.Second
	// slowDownStep is what slow_down adds to the interval (RFC 8628).
	slowDownStep = 5 * time.Second
	// registrationMargin is how long a cached client registration must still last to be reused.
	registrationMargin = time.Hour
	// authorizeTimeout bounds the client's answer to sso/authorize, which it gives at once.
	authorizeTimeout = time.Minute
)

// OIDC is the part of the OIDC service's client the sign-in uses (*ssooidc.Client).
type OIDC interface {
	RegisterClient(context.Context, *ssooidc.RegisterClientInput, ...func(*ssooidc.Options)) (*ssooidc.RegisterClientOutput, error)
	StartDeviceAuthorization(context.Context, *ssooidc.StartDeviceAuthorizationInput, ...func(*ssooidc.Options)) (*ssooidc.StartDeviceAuthorizationOutput, error)
	CreateToken(context.Context, *ssooidc.CreateTokenInput, ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error)
}

// Portal is the part of the portal's client the sign-in uses (*sso.Client).
type Portal interface {
	ListAccounts(context.Context, *sso.ListAccountsInput, ...func(*sso.Options)) (*sso.ListAccountsOutput, error)
	ListAccountRoles(context.Context, *sso.ListAccountRolesInput, ...func(*sso.Options)) (*sso.ListAccountRolesOutput, error)
	GetRoleCredentials(context.Context, *sso.GetRoleCredentialsInput, ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error)
	Logout(context.Context, *sso.LogoutInput, ...func(*sso.Options)) (*sso.LogoutOutput, error)
}

// Config is what a Manager needs.
type Config struct {
	// AWSConfig returns the SDK configuration for a Region (stsops.Clients.ServiceConfig): the
	// clients are built from it, so endpoint overrides and the request bounds apply.
	AWSConfig func(ctx context.Context, region string) (aws.Config, error)
	// Secrets receives every token, refresh token, client secret and device code seen.
	Secrets *redact.Secrets
	// Logger receives one line per sign-in event; never a secret.
	Logger *zap.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sleep waits d or until ctx ends (a timer when nil); tests inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// ConfigPath is the shared config file (profiles.ConfigPath when nil).
	ConfigPath func() string
	// Authorize asks the user, through the client, to approve the code; an error ends the sign-in.
	Authorize func(ctx context.Context, p protocol.SsoAuthorizeParams) error
	// Changed is told when a sign-in starts, is refreshed, expires or is signed out.
	Changed func(p protocol.SsoChangedParams)
	// Window is how long before expiry the access token is refreshed (DefaultWindow when 0).
	Window time.Duration
	// NewOIDC and NewPortal build the clients (the SDK's when nil); unit tests inject fakes.
	NewOIDC   func(aws.Config) OIDC
	NewPortal func(aws.Config) Portal
}

// Manager signs in to IAM Identity Center and keeps track of the sign-ins it has used. It is safe
// for concurrent use.
type Manager struct {
	cfg Config

	mu      sync.Mutex
	watched map[string]*watch // by sign-in name: the sign-ins this process uses
	locks   sync.Map          // sign-in name → *sync.Mutex, so one refresh or login writes at a time
}

// watch is what the manager remembers of a sign-in: only fingerprints, never a secret.
type watch struct {
	// lapsed is the state last reported as lost ("expired" or "signedOut"), "" while signed in.
	lapsed string
	// lapsedToken is the fingerprint of the access token that lapsed, so that a new sign-in made
	// elsewhere (the AWS CLI) is noticed.
	lapsedToken string
	// deadRefresh is the fingerprint of a refresh token the service refused: it is not tried again.
	deadRefresh string
}

// New returns a manager.
func New(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.ConfigPath == nil {
		cfg.ConfigPath = profiles.ConfigPath
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Secrets == nil {
		cfg.Secrets = &redact.Secrets{}
	}
	if cfg.NewOIDC == nil {
		cfg.NewOIDC = func(c aws.Config) OIDC { return ssooidc.NewFromConfig(c) }
	}
	if cfg.NewPortal == nil {
		cfg.NewPortal = func(c aws.Config) Portal { return sso.NewFromConfig(c) }
	}
	return &Manager{cfg: cfg, watched: map[string]*watch{}}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// target is one sign-in resolved from the shared config.
type target struct {
	name     string
	startURL string
	region   string
	scopes   []string
	legacy   bool
}

// cacheKey is what the token cache file is named after.
func (t target) cacheKey() string {
	if t.legacy {
		return t.startURL
	}
	return t.name
}

// cachePath is the sign-in's token cache file.
func (t target) cachePath() string { return CachePath(t.cacheKey()) }

// nameRE is what a sign-in name the methods take may look like before it is looked up.
var nameRE = regexp.MustCompile(`^[^\[\]#;\x00-\x1f\x7f]{1,128}$`)

// resolve finds the sign-in called name: an sso-session section, else a legacy SSO profile.
func (m *Manager) resolve(name string) (target, error) {
	if !nameRE.MatchString(name) || strings.TrimSpace(name) != name {
		return target{}, invalid("ssoSession must be the name of an sso-session section or legacy SSO profile (1 to 128 characters, no [ ] # ; or control characters)")
	}
	cfg, err := profiles.ReadSSO(m.cfg.ConfigPath())
	if err != nil {
		return target{}, &Error{Code: protocol.CodeInvalidParams, Message: err.Error(), Hint: "Fix the shared AWS config file (AWS_CONFIG_FILE or ~/.aws/config)."}
	}
	return resolveIn(cfg, name)
}

func resolveIn(cfg profiles.SSOConfig, name string) (target, error) {
	if s, ok := cfg.Session(name); ok {
		if s.StartURL == "" || s.Region == "" {
			return target{}, &Error{Code: protocol.CodeInvalidParams, SSOSession: name,
				Message: fmt.Sprintf("[sso-session %s] in %s lacks sso_start_url or sso_region.", name, cfg.Path),
				Hint:    "Add both to the section, or sign in with a start URL and Region."}
		}
		return target{name: name, startURL: s.StartURL, region: s.Region, scopes: scopesOf(s.Scopes)}, nil
	}
	if p, ok := cfg.Profile(name); ok && p.Session == "" {
		if p.Region == "" {
			return target{}, &Error{Code: protocol.CodeInvalidParams, SSOSession: name,
				Message: fmt.Sprintf("Profile %q in %s has sso_start_url but no sso_region.", name, cfg.Path),
				Hint:    "Add sso_region to the profile."}
		}
		return target{name: name, startURL: p.StartURL, region: p.Region, scopes: []string{DefaultScopes}, legacy: true}, nil
	}
	return target{}, &Error{Code: protocol.CodeInvalidParams, SSOSession: name,
		Message: fmt.Sprintf("There is no [sso-session %s] section or legacy SSO profile %q in %s.", name, name, cfg.Path),
		Hint:    "sso/list shows the sign-ins the config names; sign in with a start URL and Region to add one."}
}

// scopesOf reads sso_registration_scopes; none means DefaultScopes, so a refresh token is issued.
func scopesOf(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	if len(out) == 0 {
		return []string{DefaultScopes}
	}
	return out
}

// List describes the sign-ins the shared config names, from the config and the token cache only:
// no network, never a token.
func (m *Manager) List() (*protocol.SsoSessionList, error) {
	cfg, err := profiles.ReadSSO(m.cfg.ConfigPath())
	if err != nil {
		return nil, &Error{Code: protocol.CodeInvalidParams, Message: err.Error(), Hint: "Fix the shared AWS config file (AWS_CONFIG_FILE or ~/.aws/config)."}
	}
	now := m.cfg.Now()
	out := &protocol.SsoSessionList{Sessions: []protocol.SsoSessionInfo{}}
	users := map[string][]string{}
	for _, p := range cfg.Profiles {
		if p.Session != "" {
			users[p.Session] = append(users[p.Session], p.Name)
		}
	}
	add := func(t target, profiles []string) {
		info := protocol.SsoSessionInfo{Name: t.name, StartURL: t.startURL, Region: t.region, Legacy: t.legacy, Profiles: profiles}
		if tok, err := ReadToken(t.cachePath()); err == nil {
			m.cfg.Secrets.Add(tok.Secrets()...)
			info.Refreshable = tok.Refreshable(now) && !m.isDead(t.name, tok)
			info.SignedIn = tok.Valid(now) || info.Refreshable
			if !tok.ExpiresAt.IsZero() {
				info.ExpiresAt = formatTime(tok.ExpiresAt)
			}
		}
		out.Sessions = append(out.Sessions, info)
	}
	for _, s := range cfg.Sessions {
		add(target{name: s.Name, startURL: s.StartURL, region: s.Region}, users[s.Name])
	}
	for _, p := range cfg.Profiles {
		if p.Session == "" {
			add(target{name: p.Name, startURL: p.StartURL, region: p.Region, legacy: true}, []string{p.Name})
		}
	}
	sort.SliceStable(out.Sessions, func(i, j int) bool { return out.Sessions[i].Name < out.Sessions[j].Name })
	return out, nil
}

// lock is the named sign-in's write lock within the process.
func (m *Manager) lock(name string) *sync.Mutex {
	l, _ := m.locks.LoadOrStore(name, &sync.Mutex{})
	return l.(*sync.Mutex)
}

// state returns the watch of a sign-in, making it watched.
func (m *Manager) state(name string) *watch {
	w := m.watched[name]
	if w == nil {
		w = &watch{}
		m.watched[name] = w
	}
	return w
}

// isDead tells whether tok's refresh token was refused before.
func (m *Manager) isDead(name string, tok *Token) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.watched[name]
	return w != nil && w.deadRefresh != "" && w.deadRefresh == fingerprint(tok.RefreshToken)
}

// signedIn records a usable token and tells the client when the sign-in had been reported lost.
func (m *Manager) signedIn(name string, tok *Token, state string) {
	m.mu.Lock()
	w := m.state(name)
	wasLapsed := w.lapsed != "" && w.lapsedToken != fingerprint(tok.AccessToken)
	if wasLapsed || state != "" {
		w.lapsed, w.lapsedToken = "", ""
	}
	m.mu.Unlock()
	if state == "" && wasLapsed {
		state = "signedIn" // signed in elsewhere (the AWS CLI) since it was reported lost
	}
	if state == "" {
		return
	}
	msg := fmt.Sprintf("Signed in to IAM Identity Center (%s) until %s.", name, formatTime(tok.ExpiresAt))
	if state == "refreshed" {
		msg = fmt.Sprintf("The IAM Identity Center sign-in %s was refreshed; it now lasts until %s.", name, formatTime(tok.ExpiresAt))
	}
	m.changed(protocol.SsoChangedParams{SsoSession: name, State: state, ExpiresAt: formatTime(tok.ExpiresAt), Message: msg})
}

// lapse reports, once per lost token, that the sign-in can no longer be used; token is the
// fingerprint of the access token that was lost ("" for none).
func (m *Manager) lapse(name, state, token, message string) {
	m.mu.Lock()
	w := m.state(name)
	report := w.lapsed == ""
	if report {
		w.lapsed, w.lapsedToken = state, token
	}
	m.mu.Unlock()
	if report {
		m.changed(protocol.SsoChangedParams{SsoSession: name, State: state, Message: message})
	}
}

func (m *Manager) changed(p protocol.SsoChangedParams) {
	m.cfg.Logger.Info("sign-in changed", zap.String("sso_session", p.SsoSession), zap.String("state", p.State))
	if m.cfg.Changed != nil {
		m.cfg.Changed(p)
	}
}

// signedOut records a sign-out made here: the loss is not reported again, and a new sign-in made
// elsewhere is.
func (m *Manager) signedOut(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.state(name)
	w.lapsed, w.lapsedToken, w.deadRefresh = "signedOut", "", ""
}

// watchedNames lists the sign-ins this process uses.
func (m *Manager) watchedNames() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.watched))
	for n := range m.watched {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeSession adds [sso-session name] to the shared config, keeping every other byte.
func writeSession(path, name, startURL, region string) error {
	return credfile.EditFile(path, func(old []byte, _ bool) ([]byte, error) {
		return credfile.AddSection(old, "sso-session "+name, []credfile.KeyValue{
			{Key: "sso_start_url", Value: startURL},
			{Key: "sso_region", Value: region},
			{Key: "sso_registration_scopes", Value: DefaultScopes},
		})
	})
}
