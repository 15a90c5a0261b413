package sso

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/profiles"
	"awsflow-sts/sidecar/internal/protocol"
)

// grantDeviceCode is the OAuth grant type of the device flow's CreateToken.
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// regionRE is what an Identity Center Region looks like.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+){1,3}-[0-9]{1,2}$`)

// maxURL bounds a start URL and a verification URL.
const maxURL = 1024

// checkURL refuses a URL that is not http(s), is too long or holds spaces or control characters.
func checkURL(what, s string) error {
	u, err := url.Parse(s)
	switch {
	case len(s) > maxURL:
		return fmt.Errorf("%s is over %d characters", what, maxURL)
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("%s must be an https URL", what)
	case strings.ContainsAny(s, " \t\r\n") || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("%s holds spaces or control characters", what)
	}
	return nil
}

// Login signs in with the device flow: it finds the sign-in (writing a new sso-session section
// first for a start URL), registers a client or reuses the cached registration, starts the
// device authorization, asks the user through Authorize to approve the code, and polls for the
// token until the user approves or denies it, the code expires, or ctx ends. The token is written
// to the cache where the AWS CLI and the SDKs read it.
func (m *Manager) Login(ctx context.Context, p protocol.SsoLoginParams) (*protocol.SsoLoginResult, error) {
	t, written, err := m.loginTarget(p)
	if err != nil {
		return nil, err
	}
	awsCfg, err := m.cfg.AWSConfig(ctx, t.region)
	if err != nil {
		return nil, &Error{Code: protocol.CodeCredentialsUnavailable, SSOSession: t.name, Message: "The AWS configuration could not be loaded: " + err.Error(),
			Hint: "Fix the awsflowSts.profile setting or the shared config file."}
	}
	client := m.cfg.NewOIDC(awsCfg)
	cached, _ := ReadToken(t.cachePath())
	if cached != nil {
		m.cfg.Secrets.Add(cached.Secrets()...)
	}
	reg, err := m.register(ctx, client, t, cached)
	if err != nil {
		return nil, err
	}
	tok, err := m.deviceFlow(ctx, client, t, reg)
	if err != nil {
		return nil, err
	}
	if cached != nil {
		tok.other = cached.other
	}
	// Only the write takes the sign-in's lock: a refresh or a sign-out waits for no user.
	l := m.lock(t.name)
	l.Lock()
	err = WriteToken(t.cachePath(), tok)
	l.Unlock()
	if err != nil {
		return nil, &Error{Code: protocol.CodeInternalError, SSOSession: t.name, Message: "Signed in, but the token could not be cached: " + err.Error(),
			Hint: "Check that ~/.aws/sso/cache can be written, then sign in again."}
	}
	m.mu.Lock()
	m.state(t.name).deadRefresh = ""
	m.mu.Unlock()
	m.cfg.Logger.Info("signed in", zap.String("sso_session", t.name), zap.Time("expires", tok.ExpiresAt), zap.Bool("refreshable", tok.RefreshToken != ""))
	m.signedIn(t.name, tok, "signedIn")
	return &protocol.SsoLoginResult{SsoSession: t.name, StartURL: t.startURL, Region: t.region, ExpiresAt: formatTime(tok.ExpiresAt), ConfigWritten: written}, nil
}

// loginTarget resolves sso/login's params to one sign-in, writing a new sso-session section when
// they give a start URL; it reports whether it wrote one.
func (m *Manager) loginTarget(p protocol.SsoLoginParams) (target, bool, error) {
	given := 0
	for _, v := range []string{p.Profile, p.StartURL} {
		if v != "" {
			given++
		}
	}
	if p.StartURL == "" && p.SsoSession != "" {
		given++
	}
	if given != 1 {
		return target{}, false, invalid("sso/login takes one of: ssoSession; profile; or startUrl with region and ssoSession (the name of the sso-session section to add)")
	}
	switch {
	case p.Profile != "":
		if !nameRE.MatchString(p.Profile) {
			return target{}, false, invalid("profile is not a profile name")
		}
		cfg, err := profiles.ReadSSO(m.cfg.ConfigPath())
		if err != nil {
			return target{}, false, &Error{Code: protocol.CodeInvalidParams, Message: err.Error(), Hint: "Fix the shared AWS config file (AWS_CONFIG_FILE or ~/.aws/config)."}
		}
		prof, ok := cfg.Profile(p.Profile)
		if !ok {
			return target{}, false, &Error{Code: protocol.CodeInvalidParams,
				Message: fmt.Sprintf("Profile %q in %s has neither sso_session nor sso_start_url.", p.Profile, cfg.Path),
				Hint:    "Choose an SSO profile (sso/list shows them), or sign in with a start URL and Region."}
		}
		name := prof.Session
		if name == "" {
			name = prof.Name
		}
		t, err := resolveIn(cfg, name)
		return t, false, err
	case p.StartURL != "":
		return m.newSession(p)
	}
	t, err := m.resolve(p.SsoSession)
	return t, false, err
}

// newSession writes [sso-session NAME] for a start URL and Region, unless the config already has
// that section with the same URL and Region.
func (m *Manager) newSession(p protocol.SsoLoginParams) (target, bool, error) {
	if err := checkURL("startUrl", p.StartURL); err != nil {
		return target{}, false, invalid("%v", err)
	}
	if !regionRE.MatchString(p.Region) {
		return target{}, false, invalid("region must be an AWS Region such as us-east-1 (the Region of IAM Identity Center)")
	}
	if err := credfile.ValidProfileName(p.SsoSession); err != nil || p.SsoSession == "" {
		return target{}, false, invalid("ssoSession must name the new sso-session section: 1 to 128 characters, no [ ] # ; line breaks or surrounding spaces")
	}
	path := m.cfg.ConfigPath()
	if path == "" {
		return target{}, false, invalid("the shared config file is unknown: set AWS_CONFIG_FILE or HOME")
	}
	cfg, err := profiles.ReadSSO(path)
	if err != nil {
		return target{}, false, &Error{Code: protocol.CodeInvalidParams, Message: err.Error(), Hint: "Fix the shared AWS config file (AWS_CONFIG_FILE or ~/.aws/config)."}
	}
	if s, ok := cfg.Session(p.SsoSession); ok {
		if s.StartURL == p.StartURL && s.Region == p.Region {
			t, err := resolveIn(cfg, p.SsoSession)
			return t, false, err
		}
		return target{}, false, &Error{Code: protocol.CodeInvalidParams, SSOSession: p.SsoSession,
			Message: fmt.Sprintf("%s already has [sso-session %s] with another start URL or Region.", path, p.SsoSession),
			Hint:    "Choose another name, or sign in with the existing section (ssoSession alone)."}
	}
	if err := writeSession(path, p.SsoSession, p.StartURL, p.Region); err != nil {
		if errors.Is(err, credfile.ErrBusy) {
			return target{}, false, &Error{Code: protocol.CodeServerBusy, Message: "The shared config file is being written by another program; nothing was changed: " + err.Error(), Hint: "Try again in a moment."}
		}
		return target{}, false, &Error{Code: protocol.CodeInvalidParams, Message: "The sso-session section could not be added to the shared config: " + err.Error(),
			Hint: "Check the file's path and permissions; it was not changed."}
	}
	m.cfg.Logger.Info("sso-session added to the shared config", zap.String("sso_session", p.SsoSession), zap.String("path", path))
	return target{name: p.SsoSession, startURL: p.StartURL, region: p.Region, scopes: []string{DefaultScopes}}, true, nil
}

// registration is a client registration: its id, secret and expiry.
type registration struct {
	id, secret string
	expires    time.Time
}

// register reuses the cached client registration while it lasts, else registers a public client.
func (m *Manager) register(ctx context.Context, client OIDC, t target, cached *Token) (registration, error) {
	now := m.cfg.Now()
	if cached != nil && cached.HasRegistration(now, registrationMargin) {
		return registration{id: cached.ClientID, secret: cached.ClientSecret, expires: cached.RegistrationExpiresAt}, nil
	}
	out, err := client.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String(ClientName),
		ClientType: aws.String("public"),
		Scopes:     t.scopes,
	})
	if err != nil {
		return registration{}, serviceError(t.name, "Registering the sign-in client (RegisterClient)", err)
	}
	reg := registration{id: aws.ToString(out.ClientId), secret: aws.ToString(out.ClientSecret), expires: time.Unix(out.ClientSecretExpiresAt, 0).UTC()}
	m.cfg.Secrets.Add(reg.secret)
	if reg.id == "" || reg.secret == "" || len(reg.id) > 4096 || len(reg.secret) > 8192 {
		return registration{}, &Error{Code: protocol.CodeEndpointUnsupported, SSOSession: t.name, Message: "RegisterClient answered without a usable client id and secret.",
			Hint: "Check AWS_ENDPOINT_URL_SSO_OIDC and the sso_region: the endpoint does not answer as IAM Identity Center's OIDC service."}
	}
	return reg, nil
}

// deviceFlow starts the device authorization, asks the user to approve it, and polls for the token.
func (m *Manager) deviceFlow(ctx context.Context, client OIDC, t target, reg registration) (*Token, error) {
	start, err := client.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(reg.id), ClientSecret: aws.String(reg.secret), StartUrl: aws.String(t.startURL),
	})
	if err != nil {
		return nil, serviceError(t.name, "Starting the sign-in (StartDeviceAuthorization)", err)
	}
	device := aws.ToString(start.DeviceCode)
	m.cfg.Secrets.Add(device)
	auth, err := authorizeParams(t, start, m.cfg.Now())
	if err != nil {
		return nil, &Error{Code: protocol.CodeEndpointUnsupported, SSOSession: t.name, Message: "StartDeviceAuthorization answered with " + err.Error() + ".",
			Hint: "Check AWS_ENDPOINT_URL_SSO_OIDC and the sso_region: the endpoint does not answer as IAM Identity Center does."}
	}
	expiresAt, _ := time.Parse(time.RFC3339, auth.ExpiresAt)
	if m.cfg.Authorize == nil {
		return nil, &Error{Code: protocol.CodeInvalidParams, SSOSession: t.name, Message: "No client is connected to show the sign-in code.",
			Hint: "Sign in from VS Code (Sign In to IAM Identity Center…)."}
	}
	actx, cancel := context.WithTimeout(ctx, authorizeTimeout)
	err = m.cfg.Authorize(actx, auth)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, cancelled(t.name)
		}
		return nil, &Error{Code: protocol.CodeRequestCancelled, SSOSession: t.name,
			Message: "The sign-in was not started: the client did not show the code (" + err.Error() + ").",
			Hint:    "Sign in from VS Code (Sign In to IAM Identity Center…)."}
	}
	m.cfg.Logger.Info("waiting for the sign-in to be approved", zap.String("sso_session", t.name), zap.String("user_code", auth.UserCode))
	return m.poll(ctx, client, t, reg, device, expiresAt, interval(start.Interval))
}

// authorizeParams is what the client shows, checked: the URLs must be http(s) (the client opens
// them) and the code short and printable.
func authorizeParams(t target, out *ssooidc.StartDeviceAuthorizationOutput, now time.Time) (protocol.SsoAuthorizeParams, error) {
	p := protocol.SsoAuthorizeParams{
		SsoSession: t.name, StartURL: t.startURL,
		VerificationUri: aws.ToString(out.VerificationUri), VerificationUriComplete: aws.ToString(out.VerificationUriComplete),
		UserCode: aws.ToString(out.UserCode),
	}
	if p.VerificationUriComplete == "" {
		p.VerificationUriComplete = p.VerificationUri
	}
	switch {
	case aws.ToString(out.DeviceCode) == "":
		return p, errors.New("no device code")
	case checkURL("verificationUri", p.VerificationUri) != nil:
		return p, errors.New("a verification URI that is not an http(s) URL")
	case checkURL("verificationUriComplete", p.VerificationUriComplete) != nil:
		return p, errors.New("a complete verification URI that is not an http(s) URL")
	case !userCodeRE.MatchString(p.UserCode):
		return p, errors.New("a user code that is not 1 to 64 letters, digits and dashes")
	}
	life := time.Duration(out.ExpiresIn) * time.Second
	if life <= 0 || life > maxAuthorization {
		life = maxAuthorization
	}
	p.ExpiresAt = formatTime(now.Add(life))
	return p, nil
}

// userCodeRE is what a user code may look like.
var userCodeRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// interval is the polling interval the service asked for, within bounds.
func interval(seconds int32) time.Duration {
	if seconds <= 0 {
		return defaultInterval
	}
	return min(max(time.Duration(seconds)*time.Second, minInterval), maxInterval)
}

func cancelled(name string) *Error {
	return &Error{Code: protocol.CodeRequestCancelled, SSOSession: name, Message: "The sign-in was cancelled; nothing was cached."}
}

// poll asks for the token every interval until the user approves or denies the code, the code
// expires, or ctx ends (at once, even mid-wait).
func (m *Manager) poll(ctx context.Context, client OIDC, t target, reg registration, device string, expiresAt time.Time, every time.Duration) (*Token, error) {
	for {
		if err := m.cfg.Sleep(ctx, every); err != nil {
			return nil, cancelled(t.name)
		}
		if !m.cfg.Now().Before(expiresAt) {
			return nil, expiredCode(t.name)
		}
		out, err := client.CreateToken(ctx, &ssooidc.CreateTokenInput{
			ClientId: aws.String(reg.id), ClientSecret: aws.String(reg.secret),
			GrantType: aws.String(grantDeviceCode), DeviceCode: aws.String(device),
		})
		if err == nil {
			return m.tokenFrom(t, reg, out, nil)
		}
		var pending *types.AuthorizationPendingException
		var slow *types.SlowDownException
		var expired *types.ExpiredTokenException
		var denied *types.AccessDeniedException
		switch {
		case ctx.Err() != nil:
			return nil, cancelled(t.name)
		case errors.As(err, &pending):
		case errors.As(err, &slow):
			every = min(every+slowDownStep, maxInterval)
		case errors.As(err, &expired):
			return nil, expiredCode(t.name)
		case errors.As(err, &denied):
			return nil, &Error{Code: protocol.CodeAWSError, SSOSession: t.name, AWSCode: denied.ErrorCode(),
				Message: "The sign-in was denied in the browser; nothing was cached.",
				Hint:    "Sign in again and approve the request if it was yours."}
		default:
			return nil, serviceError(t.name, "Waiting for the sign-in (CreateToken)", err)
		}
	}
}

func expiredCode(name string) *Error {
	return &Error{Code: protocol.CodeAWSError, SSOSession: name, AWSCode: "ExpiredTokenException",
		Message: "The sign-in code expired before it was approved; nothing was cached.",
		Hint:    "Sign in again and approve the code in the browser before it expires."}
}

// tokenFrom is the cache entry of a CreateToken answer; old, on a refresh, is what it replaces.
func (m *Manager) tokenFrom(t target, reg registration, out *ssooidc.CreateTokenOutput, old *Token) (*Token, error) {
	access, refresh := aws.ToString(out.AccessToken), aws.ToString(out.RefreshToken)
	m.cfg.Secrets.Add(access, refresh, aws.ToString(out.IdToken))
	if access == "" || out.ExpiresIn <= 0 || len(access) > 16384 || len(refresh) > 16384 {
		return nil, &Error{Code: protocol.CodeEndpointUnsupported, SSOSession: t.name, Message: "CreateToken answered without a usable access token.",
			Hint: "Check AWS_ENDPOINT_URL_SSO_OIDC and the sso_region: the endpoint does not answer as IAM Identity Center does."}
	}
	tok := &Token{
		StartURL: t.startURL, Region: t.region, AccessToken: access,
		ExpiresAt: m.cfg.Now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC().Truncate(time.Second),
		ClientID:  reg.id, ClientSecret: reg.secret, RegistrationExpiresAt: reg.expires, RefreshToken: refresh,
	}
	if old != nil {
		tok.other = old.other
		if tok.RefreshToken == "" {
			tok.RefreshToken = old.RefreshToken // a service may keep the refresh token it issued
		}
	}
	return tok, nil
}
