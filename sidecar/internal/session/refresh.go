package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
)

// DefaultWindow is when sessions refresh: as the SDK's CredentialsCache does with these options,
// a session is re-made once fewer than ExpiryWindow minus a random part of it (up to
// ExpiryWindowJitterFrac) are left, so that refreshes of many sessions do not bunch up.
var DefaultWindow = aws.CredentialsCacheOptions{ExpiryWindow: 5 * time.Minute, ExpiryWindowJitterFrac: 0.5}

// ExpiringNotice is how long before a session that cannot refresh itself expires that the
// Changed hook is told, once.
const ExpiringNotice = 10 * time.Minute

// retryAfterFailure spaces refresh attempts after one failed, until the session expires.
const retryAfterFailure = time.Minute

// Reasons a Changed hook is called with; they are protocol's sessions/changed reasons.
const (
	ReasonCreated       = "created"
	ReasonRefreshed     = "refreshed"
	ReasonRefreshFailed = "refreshFailed"
	ReasonExpiring      = "expiring"
	ReasonExpired       = "expired"
	ReasonForgotten     = "forgotten"
	ReasonImported      = "imported"
	ReasonUsed          = "used"
)

// Hooks connect the store to what it cannot do itself.
type Hooks struct {
	// Remake runs a session's recipe again and returns the new session (its Name is kept). It is
	// called for sessions with a Recipe only, and never asks a human.
	Remake func(ctx context.Context, s *Session) (*Session, error)
	// Changed is told of every change: the session as it is after it (none when forgotten) and
	// the default session's name.
	Changed func(protocol.SessionsChangedParams)
	// Maintain, when set, runs at the start of every maintenance pass, before sessions are
	// refreshed (it keeps the IAM Identity Center sign-ins that SSO sessions are re-made from
	// alive).
	Maintain func(ctx context.Context)
}

// SetHooks installs the hooks; call it before the store is shared.
func (st *Store) SetHooks(h Hooks) { st.hooks = h }

// SetWindow replaces the refresh window and the source of jitter (a value in [0, 1)); tests use
// it to make refresh times exact.
func (st *Store) SetWindow(w aws.CredentialsCacheOptions, jitter func() float64) {
	st.window, st.jitter = w, jitter
}

// refreshTime is when a session expiring at exp should be re-made, after CredentialsCache's rule:
// expiry minus (window − jitter), jitter being a random fraction of the window up to JitterFrac.
func (st *Store) refreshTime(exp time.Time) time.Time {
	if exp.IsZero() || st.window.ExpiryWindow <= 0 {
		return exp
	}
	frac := min(max(st.window.ExpiryWindowJitterFrac, 0), 1)
	jitter := time.Duration(float64(st.window.ExpiryWindow) * frac * st.jitter())
	return exp.Add(-(st.window.ExpiryWindow - jitter))
}

// RefreshAt is when the named session will be re-made (zero if it cannot be, or does not exist).
func (st *Store) RefreshAt(name string) time.Time {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if s, ok := st.sessions[name]; ok && s.Recipe != nil {
		return s.refreshAt
	}
	return time.Time{}
}

func (st *Store) changed(reason, name, message string) {
	if st.hooks.Changed == nil {
		return
	}
	// Only the change is sent, not the list: a client keeps its own copy, so N changes cost O(N).
	p := protocol.SessionsChangedParams{Reason: reason, Session: name, Message: message}
	p.Active = st.Active()
	st.mu.RLock()
	if s, ok := st.sessions[name]; ok {
		info := st.info(s, p.Active)
		p.Info = &info
	}
	st.mu.RUnlock()
	st.hooks.Changed(p)
}

// Fresh returns the named session for signing a call: one whose refresh window has opened is
// re-made first. If that fails while the old credentials still work, they are used; once they
// have expired, the error says why the refresh failed.
func (st *Store) Fresh(ctx context.Context, name string) (*Session, error) {
	st.mu.RLock()
	s, ok := st.sessions[name]
	due := ok && st.due(s)
	st.mu.RUnlock()
	if !due {
		return st.Get(name)
	}
	_, rerr := st.refresh(ctx, name)
	if rerr != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s, err := st.Get(name)
	if err != nil && rerr != nil && errors.Is(err, ErrExpired) {
		return nil, fmt.Errorf("%w; refreshing it failed: %s", err, st.secrets.Scrub(errors.Unwrap(rerr).Error()))
	}
	return s, err
}

// due reports whether s should be re-made now; st.mu must be held.
func (st *Store) due(s *Session) bool {
	now := st.now()
	return s.Recipe != nil && st.hooks.Remake != nil && !now.Before(s.refreshAt) && !now.Before(s.retryAt)
}

func (st *Store) lock(name string) *sync.Mutex {
	m, _ := st.locks.LoadOrStore(name, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// refresh re-makes the named session if it is still due; it reports whether it did.
func (st *Store) refresh(ctx context.Context, name string) (bool, error) {
	l := st.lock(name)
	l.Lock()
	defer l.Unlock()
	st.mu.RLock()
	old, ok := st.sessions[name]
	due := ok && st.due(old)
	st.mu.RUnlock()
	if !due {
		return false, nil // another caller refreshed it, or it was forgotten meanwhile
	}
	fresh, err := st.hooks.Remake(ctx, old)
	if err != nil && ctx.Err() != nil {
		return false, fmt.Errorf("refresh session %q: %w", name, ctx.Err()) // the caller gave up: not the session's fault
	}
	if err != nil {
		msg := st.secrets.Scrub(err.Error())
		st.mu.Lock()
		cur, still := st.sessions[name]
		report := still && cur == old && cur.refreshErr != msg
		if still && cur == old {
			cur.refreshErr = msg
			cur.retryAt = st.now().Add(retryAfterFailure)
		}
		st.mu.Unlock()
		if report {
			until := "It keeps working until " + old.Expiration.UTC().Format(time.RFC3339)
			if !st.now().Before(old.Expiration) {
				until = "It expired at " + old.Expiration.UTC().Format(time.RFC3339)
			}
			st.changed(ReasonRefreshFailed, name, fmt.Sprintf("Session %q could not be refreshed: %s. %s; the refresh is retried every minute.",
				name, strings.TrimSuffix(strings.TrimSpace(msg), "."), until))
		}
		return false, fmt.Errorf("refresh session %q: %w", name, err)
	}
	fresh.Name = name
	fresh.CreatedAt = old.CreatedAt
	fresh.RefreshedAt = st.now()
	if !st.replace(old, fresh) {
		return false, nil // forgotten or replaced while STS was answering: keep what is there
	}
	st.changed(ReasonRefreshed, name, fmt.Sprintf("Session %q was refreshed; it now expires at %s.", name, fresh.Expiration.UTC().Format(time.RFC3339)))
	return true, nil
}

// replace stores fresh in place of old, unless old was forgotten or replaced meanwhile; the check
// and the write are one step, so a Forget cannot be undone.
func (st *Store) replace(old, fresh *Session) bool {
	st.secrets.Add(fresh.Credentials.SecretAccessKey, fresh.Credentials.SessionToken, fresh.Token)
	fresh.refreshAt = st.refreshTime(fresh.Expiration)
	st.mu.Lock()
	defer st.mu.Unlock()
	if cur, ok := st.sessions[old.Name]; !ok || cur != old {
		return false
	}
	st.sessions[old.Name] = fresh
	return true
}

// Maintain makes one pass over the sessions (after the Maintain hook): it refreshes those whose
// window has opened, then tells the Changed hook, once each, of sessions about to expire that will
// not be refreshed (no recipe, or their refresh failed) and of sessions that have expired.
func (st *Store) Maintain(ctx context.Context) {
	if st.hooks.Maintain != nil {
		st.hooks.Maintain(ctx)
	}
	var refresh []string
	st.mu.RLock()
	for name, s := range st.sessions {
		// Even an expired session is re-made when its recipe allows (the sidecar may have been
		// suspended past its expiry).
		if st.due(s) {
			refresh = append(refresh, name)
		}
	}
	st.mu.RUnlock()
	for _, name := range refresh {
		if ctx.Err() != nil {
			return
		}
		_, _ = st.refresh(ctx, name) // a failure is reported through the hook and retried later
	}
	now := st.now()
	var expiring, expired []string
	st.mu.Lock()
	for name, s := range st.sessions {
		left := s.Expiration.Sub(now)
		switch {
		case st.due(s):
		case left <= 0:
			if !s.reportedEnded {
				s.reportedEnded = true
				expired = append(expired, name)
			}
		case (s.Recipe == nil || s.refreshErr != "") && left <= ExpiringNotice && !s.warnedExpiry:
			s.warnedExpiry = true
			expiring = append(expiring, name)
		}
	}
	st.mu.Unlock()
	for _, name := range expiring {
		st.changed(ReasonExpiring, name, st.expiringMessage(name))
	}
	for _, name := range expired {
		st.changed(ReasonExpired, name, fmt.Sprintf("Session %q has expired; commands that use it are refused until it is made again.", name))
	}
}

func (st *Store) expiringMessage(name string) string {
	st.mu.RLock()
	s, ok := st.sessions[name]
	st.mu.RUnlock()
	if !ok {
		return ""
	}
	left := s.Expiration.Sub(st.now()).Round(time.Minute)
	return fmt.Sprintf("Session %q expires in %d min and cannot refresh itself (%s); run %s again to renew it.",
		name, int(left.Minutes()), whyManual(s), s.Command)
}

// whyManual says what a human must supply to re-make s.
func whyManual(s *Session) string {
	switch {
	case s.refreshErr != "":
		return "its refresh failed: " + s.refreshErr
	case s.MFASerial != "":
		return "it needs an MFA code"
	case s.Command == protocol.CmdAssumeRoleWithSAML:
		return "it needs a new SAML assertion"
	case s.Command == protocol.CmdAssumeRoleWithWebIdentity:
		return "its web identity token was not read from a file"
	case s.Class == ClassSSO:
		return "its IAM Identity Center sign-in must be renewed"
	default:
		return "it was made from inputs that are not kept"
	}
}

// Run calls Maintain every interval until ctx ends. It returns when ctx ends, so its caller can
// wait for it.
func (st *Store) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st.Maintain(ctx)
		}
	}
}
