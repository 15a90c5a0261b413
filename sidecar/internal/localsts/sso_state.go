package localsts

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// The bounds of what the Identity Center side remembers, so that a flood of RegisterClient or
// StartDeviceAuthorization calls cannot grow memory without limit: expired entries are pruned,
// and once a table is full of live ones the next request that would add one is throttled.
const (
	maxSSOClients = 4096
	maxSSODevices = 4096
	maxSSOGrants  = 4096
	// maxGrantAccessTokens bounds the live access tokens of one sign-in; a refresh beyond it
	// retires the oldest.
	maxGrantAccessTokens = 8
	// ssoPruneEvery is how often the tables are swept when nothing forces it.
	ssoPruneEvery = time.Minute
	// deviceGrace keeps an expired device code known for a while, so a late poll hears
	// expired_token instead of invalid_grant.
	deviceGrace = 10 * time.Minute
)

// tokenHash is the SHA-256 of a secret (client secret, device code, access or refresh token).
// Secrets are held only this way: tables are keyed by the hash, so a lookup's timing depends on
// the hash of a guess and tells nothing about the secret, and a memory dump holds none of them.
type tokenHash [sha256.Size]byte

func hashToken(s string) tokenHash { return sha256.Sum256([]byte(s)) }

// equal compares two hashes in constant time.
func (h tokenHash) equal(o tokenHash) bool { return subtle.ConstantTimeCompare(h[:], o[:]) == 1 }

// newOpaque mints an unguessable token of 48 random bytes, URL-safe, behind prefix.
func newOpaque(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(48))
}

// ssoClient is one RegisterClient registration.
type ssoClient struct {
	id         string
	secret     tokenHash
	scopes     []string
	grantTypes []string // empty: any grant the service supports
	issued     time.Time
	expires    time.Time
}

// deviceStatus is where a device authorization stands.
type deviceStatus int

const (
	devicePending deviceStatus = iota
	deviceApproved
	deviceDenied
	deviceRedeemed
)

// deviceAuth is one StartDeviceAuthorization.
type deviceAuth struct {
	code     tokenHash
	userCode string
	clientID string
	expires  time.Time
	interval time.Duration
	lastPoll time.Time
	status   deviceStatus
	user     *SSOUser // who approved it
}

// ssoGrant is one sign-in: the user, its refresh token and its live access tokens.
type ssoGrant struct {
	user     *SSOUser
	clientID string
	// key is the grant's key in ssoState.grants: its refresh token, or its first access token.
	key     tokenHash
	refresh tokenHash
	// hasRefresh is false when the client did not register the sso:account:access scope.
	hasRefresh bool
	expires    time.Time   // the end of the sign-in: no token outlives it
	access     []tokenHash // live access tokens, oldest first
}

// ssoAccess is an issued access token.
type ssoAccess struct {
	grant   *ssoGrant
	expires time.Time
}

// ssoState is what the OIDC service and the portal remember. It is safe for concurrent use.
type ssoState struct {
	mu        sync.Mutex
	clients   map[string]*ssoClient
	devices   map[tokenHash]*deviceAuth
	userCodes map[string]*deviceAuth
	grants    map[tokenHash]*ssoGrant // by refresh token; a grant without one by its first access token
	access    map[tokenHash]*ssoAccess
	pruned    time.Time
}

func newSSOState() *ssoState {
	return &ssoState{
		clients: map[string]*ssoClient{}, devices: map[tokenHash]*deviceAuth{}, userCodes: map[string]*deviceAuth{},
		grants: map[tokenHash]*ssoGrant{}, access: map[tokenHash]*ssoAccess{},
	}
}

// pruneLocked forgets expired clients, device codes past their grace, ended or revoked
// sign-ins and expired access tokens. It runs at most once a minute unless force is set (a table
// is full), and then also drops expired device codes still in their grace and redeemed ones.
// st.mu must be held.
func (st *ssoState) pruneLocked(now time.Time, force bool) {
	if !force && now.Sub(st.pruned) < ssoPruneEvery {
		return
	}
	st.pruned = now
	for id, c := range st.clients {
		if !now.Before(c.expires) {
			delete(st.clients, id)
		}
	}
	for h, d := range st.devices {
		gone := now.Sub(d.expires) > deviceGrace
		if force {
			gone = !now.Before(d.expires) || d.status == deviceRedeemed
		}
		if gone {
			delete(st.devices, h)
			delete(st.userCodes, d.userCode)
		}
	}
	for h, g := range st.grants {
		if !now.Before(g.expires) {
			st.revokeLocked(g)
			delete(st.grants, h) // already gone unless the grant was filed under another key
		}
	}
	for h, a := range st.access {
		if !now.Before(a.expires) {
			delete(st.access, h)
		}
	}
}

// revokeLocked forgets a sign-in's access tokens and refresh token. st.mu must be held.
func (st *ssoState) revokeLocked(g *ssoGrant) {
	for _, h := range g.access {
		delete(st.access, h)
	}
	g.access = nil
	if st.grants[g.key] == g {
		delete(st.grants, g.key)
	}
	g.expires = time.Time{} // a holder of the pointer sees it ended
}

// roomLocked prunes when a table holding n entries is full, and reports whether there is room now.
// st.mu must be held.
func (st *ssoState) roomLocked(now time.Time, n func() int, max int) bool {
	st.pruneLocked(now, false)
	if n() < max {
		return true
	}
	st.pruneLocked(now, true)
	return n() < max
}

// issueAccessLocked mints an access token for g that lasts d (never past the sign-in's end),
// retiring the oldest when g already has maxGrantAccessTokens. st.mu must be held.
func (st *ssoState) issueAccessLocked(g *ssoGrant, now time.Time, d time.Duration) (string, time.Time) {
	tok := newOpaque("aoa")
	h := hashToken(tok)
	exp := now.Add(d)
	if exp.After(g.expires) {
		exp = g.expires
	}
	var live []tokenHash
	for _, old := range g.access {
		if a := st.access[old]; a != nil && now.Before(a.expires) {
			live = append(live, old)
		} else {
			delete(st.access, old)
		}
	}
	for len(live) >= maxGrantAccessTokens {
		delete(st.access, live[0])
		live = live[1:]
	}
	g.access = append(live, h)
	st.access[h] = &ssoAccess{grant: g, expires: exp}
	return tok, exp
}

// accessToken returns the live issued access token's sign-in, or nil.
func (st *ssoState) accessToken(token string, now time.Time) *ssoGrant {
	h := hashToken(token)
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.access[h]
	if a == nil || !now.Before(a.expires) || !now.Before(a.grant.expires) {
		return nil
	}
	return a.grant
}

// logout ends the sign-in of an issued access token; it reports whether the token was a live
// one.
func (st *ssoState) logout(token string, now time.Time) bool {
	h := hashToken(token)
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.access[h]
	if a == nil || !now.Before(a.expires) || !now.Before(a.grant.expires) {
		return false
	}
	st.revokeLocked(a.grant)
	return true
}
