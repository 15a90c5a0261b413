package sso

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/protocol"
)

// AccessToken returns a usable access token of the sign-in called name, refreshing it first when
// its refresh window has opened. The cache file is read on every call, so a sign-in made by the
// AWS CLI meanwhile is used at once. When there is no usable token the error is SignInRequired,
// and the client is told once (sso/changed) that the sign-in was lost.
func (m *Manager) AccessToken(ctx context.Context, name string) (string, error) {
	t, err := m.resolve(name)
	if err != nil {
		return "", err
	}
	tok, err := m.fresh(ctx, t)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// fresh returns the sign-in's usable token, refreshed when due.
func (m *Manager) fresh(ctx context.Context, t target) (*Token, error) {
	tok, err := m.read(t)
	if err != nil {
		return nil, err
	}
	if m.cfg.Now().Add(m.cfg.Window).Before(tok.ExpiresAt) {
		m.signedIn(t.name, tok, "")
		return tok, nil
	}
	return m.refresh(ctx, t)
}

// read reads the sign-in's cache file, telling the client once when there is none.
func (m *Manager) read(t target) (*Token, error) {
	tok, err := ReadToken(t.cachePath())
	if errors.Is(err, errNoCache) {
		m.lapse(t.name, "signedOut", "", fmt.Sprintf("You are not signed in to IAM Identity Center (%s): there is no cached sign-in. Sign in to use it.", t.name))
		return nil, signInRequired(t.name, "there is no cached sign-in (never signed in, or signed out)")
	}
	if err != nil {
		return nil, &Error{Code: protocol.CodeInvalidParams, SSOSession: t.name, Message: err.Error(), Hint: "Sign in again to replace the file."}
	}
	m.cfg.Secrets.Add(tok.Secrets()...)
	return tok, nil
}

// refresh renews the sign-in's access token with its refresh token, if it is still due once the
// lock is held (another call, or another program, may have refreshed it meanwhile). A token that
// still works is returned when the refresh fails; a refusal of the refresh token is final.
func (m *Manager) refresh(ctx context.Context, t target) (*Token, error) {
	l := m.lock(t.name)
	l.Lock()
	defer l.Unlock()
	tok, err := m.read(t)
	if err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	if now.Add(m.cfg.Window).Before(tok.ExpiresAt) {
		m.signedIn(t.name, tok, "")
		return tok, nil
	}
	valid := tok.Valid(now)
	if !tok.Refreshable(now) || m.isDead(t.name, tok) {
		return m.unrefreshable(t, tok, valid)
	}
	out, rerr := m.createRefresh(ctx, t, tok)
	if rerr == nil {
		fresh, err := m.tokenFrom(t, registration{id: tok.ClientID, secret: tok.ClientSecret, expires: tok.RegistrationExpiresAt}, out, tok)
		if err == nil {
			if err := WriteToken(t.cachePath(), fresh); err != nil {
				m.cfg.Logger.Warn("the refreshed token could not be cached", zap.String("sso_session", t.name), zap.String("error", m.cfg.Secrets.Scrub(err.Error())))
			}
			m.cfg.Logger.Info("sign-in refreshed", zap.String("sso_session", t.name), zap.Time("expires", fresh.ExpiresAt))
			m.signedIn(t.name, fresh, "refreshed")
			return fresh, nil
		}
		rerr = err
	}
	if ctx.Err() != nil {
		return nil, cancelled(t.name)
	}
	if rejected(rerr) {
		m.mu.Lock()
		m.state(t.name).deadRefresh = fingerprint(tok.RefreshToken)
		m.mu.Unlock()
		m.cfg.Logger.Info("the refresh token was refused", zap.String("sso_session", t.name), zap.String("aws_code", apiCode(rerr)))
		m.lapse(t.name, "signedOut", fingerprint(tok.AccessToken), fmt.Sprintf(
			"Your IAM Identity Center sign-in (%s) has ended: it could not be renewed (%s)%s. Sign in again.", t.name, apiCode(rerr), untilText(tok, valid)))
		if valid {
			return tok, nil
		}
		return nil, signInRequired(t.name, "it expired and IAM Identity Center refused to renew it ("+apiCode(rerr)+")")
	}
	m.cfg.Logger.Warn("the sign-in could not be refreshed", zap.String("sso_session", t.name), zap.String("error", m.cfg.Secrets.Scrub(rerr.Error())))
	if valid {
		return tok, nil // retried on the next use or maintenance pass
	}
	return nil, serviceError(t.name, "Renewing the expired IAM Identity Center sign-in (CreateToken)", rerr)
}

// unrefreshable handles a token due for refresh that cannot be: it is used while it works, and
// its loss is reported once when it has expired.
func (m *Manager) unrefreshable(t target, tok *Token, valid bool) (*Token, error) {
	if valid {
		m.signedIn(t.name, tok, "")
		return tok, nil
	}
	m.lapse(t.name, "expired", fingerprint(tok.AccessToken), fmt.Sprintf(
		"Your IAM Identity Center sign-in (%s) expired at %s and cannot be renewed. Sign in again.", t.name, formatTime(tok.ExpiresAt)))
	return nil, signInRequired(t.name, "it expired at "+formatTime(tok.ExpiresAt)+" and cannot be renewed")
}

func untilText(tok *Token, valid bool) string {
	if !valid {
		return ""
	}
	return "; the current token works until " + formatTime(tok.ExpiresAt)
}

// createRefresh asks the OIDC service for a new access token with the refresh token.
func (m *Manager) createRefresh(ctx context.Context, t target, tok *Token) (*ssooidc.CreateTokenOutput, error) {
	region := tok.Region
	if region == "" {
		region = t.region
	}
	awsCfg, err := m.cfg.AWSConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	return m.cfg.NewOIDC(awsCfg).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(tok.ClientID), ClientSecret: aws.String(tok.ClientSecret),
		GrantType: aws.String("refresh_token"), RefreshToken: aws.String(tok.RefreshToken),
	})
}

// Maintain makes one pass over the sign-ins this process uses: it refreshes those whose window
// has opened, and tells the client once of each one that was lost (expired, refused, or signed
// out elsewhere) and of one signed in again elsewhere. The session store's maintenance runs it
// before refreshing sessions, so that role sessions are renewed with a fresh token.
func (m *Manager) Maintain(ctx context.Context) {
	for _, name := range m.watchedNames() {
		if ctx.Err() != nil {
			return
		}
		t, err := m.resolve(name)
		if err != nil {
			continue // removed from the config: nothing to keep alive
		}
		if _, err := m.fresh(ctx, t); err != nil {
			m.cfg.Logger.Debug("sign-in not usable", zap.String("sso_session", name), zap.String("error", m.cfg.Secrets.Scrub(err.Error())))
		}
	}
}
