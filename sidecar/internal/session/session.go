// Package session holds the credential sessions the sidecar has minted, by name: their secrets,
// what made them, and which one is the default identity. Only Export hands secrets out.
package session

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/keyid"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
)

// Class says what STS will let a session's credentials do next.
type Class string

// Session classes, after the credentials STS issued.
const (
	// ClassRole is role credentials (AssumeRole*, GetDelegatedAccessToken): chaining caps at 3600 s and
	// GetSessionToken and GetFederationToken are refused.
	ClassRole Class = "role"
	// ClassRoot is task-scoped root credentials from AssumeRoot: they cannot assume roles or mint sessions.
	ClassRoot Class = "root"
	// ClassSessionToken is GetSessionToken credentials: STS takes only AssumeRole and GetCallerIdentity.
	ClassSessionToken Class = "session-token"
	// ClassFederated is GetFederationToken credentials: STS takes only GetCallerIdentity.
	ClassFederated Class = "federated"
	// ClassToken is an issued web identity token, not credentials.
	ClassToken Class = "token"
	// ClassSSO is role credentials from IAM Identity Center's portal (GetRoleCredentials): STS
	// treats them as role credentials (ClassRole); they are re-made from the sign-in's token.
	ClassSSO Class = "sso"
)

// Role tells whether credentials of the class are role credentials to STS: AssumeRole* or an IAM
// Identity Center role.
func (c Class) Role() bool { return c == ClassRole || c == ClassSSO }

// Session is one stored session. Its secrets are Credentials.SecretAccessKey,
// Credentials.SessionToken and Token.
type Session struct {
	// Name is the key the model and the user refer to it by.
	Name string
	// Command is the STSTool command that made it.
	Command string
	// Class says what the credentials may do next.
	Class Class
	// Credentials are the temporary credentials (empty for ClassToken).
	Credentials aws.Credentials
	// Token is the issued JWT (ClassToken only).
	Token string
	// Expiration is when the credentials or the token stop working.
	Expiration time.Time
	// ARN is the assumed-role, federated-user or root ARN.
	ARN string
	// Account is the account the credentials act in.
	Account string
	// SourceIdentity is the source identity STS recorded, if any.
	SourceIdentity string
	// Region is the Region the session was made in.
	Region string
	// Source is the identity it was made from: protocol.ReservedSessionName or a session name.
	Source string
	// Chained tells whether it was made from role credentials.
	Chained bool
	// CreatedAt is when the sidecar stored it.
	CreatedAt time.Time
	// MFASerial is the MFA device the session was authenticated with, if any. A GetSessionToken
	// session with one is reused for later AssumeRole calls that need that device.
	MFASerial string
	// Profile is the shared-config profile it was made from: the role profile of AssumeRole's
	// Profile, or the base profile for sessions made from the base identity.
	Profile string
	// Recipe re-makes the session without a human; nil when that needs one (an MFA code, a SAML
	// assertion, a token pasted in chat).
	Recipe *protocol.Recipe
	// RefreshedAt is when the recipe last re-made it.
	RefreshedAt time.Time

	// refresh state, owned by the Store.
	refreshAt     time.Time // when the cache window opens
	refreshErr    string    // why the last refresh failed
	retryAt       time.Time // no new attempt before this after a failure
	warnedExpiry  bool      // "expiring" was sent
	reportedEnded bool      // "expired" was sent
}

// Kind is "token" for an issued token and "credentials" otherwise.
func (s *Session) Kind() string {
	if s.Class == ClassToken {
		return string(protocol.MintsToken)
	}
	return string(protocol.MintsCredentials)
}

// ErrNotFound and ErrExpired classify the errors Store returns.
var (
	ErrNotFound = errors.New("no such session")
	ErrExpired  = errors.New("session expired")
)

// Store is the set of sessions. It is safe for concurrent use.
type Store struct {
	mu       sync.RWMutex
	sessions map[string]*Session
	active   string
	now      func() time.Time
	secrets  *redact.Secrets
	hooks    Hooks
	window   aws.CredentialsCacheOptions
	jitter   func() float64
	locks    sync.Map // session name → *sync.Mutex, so one refresh runs per session
}

// NewStore returns an empty store that reads time from now and registers every secret it stores
// with secrets, so they are scrubbed from anything else the sidecar says.
func NewStore(now func() time.Time, secrets *redact.Secrets) *Store {
	return &Store{
		sessions: map[string]*Session{}, now: now, secrets: secrets,
		window: DefaultWindow, jitter: rand.Float64,
	}
}

// Now is the store's clock.
func (st *Store) Now() time.Time { return st.now() }

// Put stores s under s.Name, replacing any session of that name; it reports whether one was
// replaced, and tells the Changed hook.
func (st *Store) Put(s *Session) (replaced bool) {
	replaced = st.put(s)
	st.changed(ReasonCreated, s.Name, "")
	return replaced
}

func (st *Store) put(s *Session) (replaced bool) {
	st.secrets.Add(s.Credentials.SecretAccessKey, s.Credentials.SessionToken, s.Token)
	if s.CreatedAt.IsZero() {
		s.CreatedAt = st.now()
	}
	s.refreshAt = st.refreshTime(s.Expiration)
	st.mu.Lock()
	defer st.mu.Unlock()
	_, replaced = st.sessions[s.Name]
	st.sessions[s.Name] = s
	return replaced
}

// Get returns the named session if it exists and has not expired.
func (st *Store) Get(name string) (*Session, error) {
	st.mu.RLock()
	s, ok := st.sessions[name]
	st.mu.RUnlock()
	if !ok {
		return nil, st.notFound(name)
	}
	if !s.Expiration.IsZero() && !st.now().Before(s.Expiration) {
		again := "run " + s.Command + " again to make a new one"
		if s.Class == ClassSSO {
			again = "sign in to IAM Identity Center again and use the role again to make a new one"
		}
		return nil, fmt.Errorf("%w: session %q expired at %s; %s, or ForgetSession it",
			ErrExpired, name, s.Expiration.UTC().Format(time.RFC3339), again)
	}
	return s, nil
}

func (st *Store) notFound(name string) error {
	names := st.Names()
	if len(names) == 0 {
		return fmt.Errorf("%w: there is no session %q; no sessions are stored yet (commands such as AssumeRole store one)", ErrNotFound, name)
	}
	return fmt.Errorf("%w: there is no session %q; stored sessions: %s", ErrNotFound, name, strings.Join(names, ", "))
}

// FindMFA returns the unexpired MFA session of the device serial made from the profile's identity
// (the longest-lasting if there are several), or nil.
func (st *Store) FindMFA(serial, profile string) *Session {
	now := st.now()
	st.mu.RLock()
	defer st.mu.RUnlock()
	var best *Session
	for _, s := range st.sessions {
		if s.Class == ClassSessionToken && s.MFASerial == serial && s.Profile == profile && now.Before(s.Expiration) &&
			(best == nil || s.Expiration.After(best.Expiration)) {
			best = s
		}
	}
	return best
}

// Names lists the stored session names in order.
func (st *Store) Names() []string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	names := make([]string, 0, len(st.sessions))
	for n := range st.sessions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Active is the default session's name, or protocol.ReservedSessionName for the base identity.
func (st *Store) Active() string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.active == "" {
		return protocol.ReservedSessionName
	}
	return st.active
}

// Use makes the named session the default; protocol.ReservedSessionName returns to the base identity.
func (st *Store) Use(name string) error {
	if name == protocol.ReservedSessionName {
		st.mu.Lock()
		st.active = ""
		st.mu.Unlock()
		st.changed(ReasonUsed, name, "")
		return nil
	}
	s, err := st.Get(name)
	if err != nil {
		return err
	}
	if s.Class == ClassToken {
		return errors.New(protocol.TokenNotCredentials(name, "be the default identity"))
	}
	st.mu.Lock()
	st.active = name
	st.mu.Unlock()
	st.changed(ReasonUsed, name, "")
	return nil
}

// Forget deletes the named session; if it was the default, the base identity becomes the default.
func (st *Store) Forget(name string) error {
	st.mu.Lock()
	_, ok := st.sessions[name]
	if ok {
		delete(st.sessions, name)
		if st.active == name {
			st.active = ""
		}
	}
	st.mu.Unlock()
	if !ok {
		return st.notFound(name)
	}
	st.changed(ReasonForgotten, name, "")
	return nil
}

// ForgetMatching deletes every session for which match is true, as Forget does, and returns
// their names in order.
func (st *Store) ForgetMatching(match func(*Session) bool) []string {
	var names []string
	st.mu.RLock()
	for name, s := range st.sessions {
		if match(s) {
			names = append(names, name)
		}
	}
	st.mu.RUnlock()
	sort.Strings(names)
	out := []string{}
	for _, name := range names {
		if st.Forget(name) == nil {
			out = append(out, name)
		}
	}
	return out
}

// List describes every session without its secrets, in name order.
func (st *Store) List() protocol.SessionList {
	names := st.Names()
	active := st.Active()
	out := protocol.SessionList{Sessions: make([]protocol.SessionInfo, 0, len(names)), Active: active}
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, n := range names {
		if s, ok := st.sessions[n]; ok {
			out.Sessions = append(out.Sessions, st.info(s, active))
		}
	}
	return out
}

// Info describes one session without its secrets.
func (st *Store) Info(s *Session) protocol.SessionInfo {
	active := st.Active()
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.info(s, active)
}

func (st *Store) info(s *Session, active string) protocol.SessionInfo {
	left := s.Expiration.Sub(st.now())
	info := protocol.SessionInfo{
		Name:           s.Name,
		Kind:           s.Kind(),
		Command:        s.Command,
		AccessKeyID:    keyid.Mask(s.Credentials.AccessKeyID),
		ARN:            s.ARN,
		Account:        s.Account,
		SourceIdentity: s.SourceIdentity,
		Region:         s.Region,
		Source:         s.Source,
		Chained:        s.Chained,
		CreatedAt:      s.CreatedAt.UTC().Format(time.RFC3339),
		Expiration:     s.Expiration.UTC().Format(time.RFC3339),
		SecondsLeft:    max(0, int64(left/time.Second)),
		Expired:        left <= 0,
		Active:         s.Name == active,
		Refreshable:    s.Recipe != nil,
		RefreshError:   s.refreshErr,
		MfaSerial:      s.MFASerial,
		Profile:        s.Profile,
	}
	if !s.RefreshedAt.IsZero() {
		info.RefreshedAt = s.RefreshedAt.UTC().Format(time.RFC3339)
	}
	return info
}
