package localsts

import (
	"strings"
	"time"
)

// principalKind is what kind of identity a credential stands for.
type principalKind int

const (
	kindUser principalKind = iota
	kindRoot
	kindAssumedRole
	kindFederatedUser
)

// principal is the identity behind a credential, with what GetCallerIdentity and trust policies
// need to know about it.
type principal struct {
	kind    principalKind
	account string
	arn     string // the ARN GetCallerIdentity answers
	userID  string // the UserId GetCallerIdentity answers
	name    string // user name, session name or federated user name
	user    *userEntry
	role    *roleEntry
	// tags are the principal's tags (aws:PrincipalTag/KEY), keyed by lower-case key since tag
	// keys are case-insensitive; each value keeps the key as written.
	tags map[string]tag
	// transitive are the lower-case keys of tags that follow a chained AssumeRole.
	transitive map[string]bool
	// sourceIdentity, once set on a session, follows every chained session.
	sourceIdentity string
}

// tag is a session or principal tag.
type tag struct{ Key, Value string }

// credClass is the kind of credential, which decides what it may call.
type credClass int

const (
	classLongTerm     credClass = iota // an IAM user's or root's access key
	classSessionToken                  // GetSessionToken
	classRole                          // AssumeRole*, GetDelegatedAccessToken
	classFederated                     // GetFederationToken
	classRootTask                      // AssumeRoot
)

// credential is an access key the server knows, long-term or issued.
type credential struct {
	keyID   string
	secret  string
	token   string // "" for long-term keys
	class   credClass
	expires time.Time // zero for long-term keys
	p       principal
	// mfa is set for sessions whose caller authenticated with MFA, at mfaAt.
	mfa   bool
	mfaAt time.Time
}

func (c *credential) temporary() bool { return c.class != classLongTerm }

func userPrincipal(u *userEntry) principal {
	return principal{kind: kindUser, account: u.cfg.Account, arn: u.arn, userID: u.id, name: u.cfg.Name, user: u,
		tags: tagMap(u.cfg.Tags)}
}

func tagMap(m map[string]string) map[string]tag {
	out := map[string]tag{}
	for k, v := range m {
		out[strings.ToLower(k)] = tag{k, v}
	}
	return out
}

// lookupKey returns the credential for an access key id, or nil.
func (s *Server) lookupKey(id string) *credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[id]
}

// issuedKeyGrace is how long an expired issued key is still recognised (and answered with
// ExpiredToken rather than InvalidClientTokenId) before it is forgotten.
const issuedKeyGrace = 24 * time.Hour

// issue completes c (class, principal and MFA state set by the caller) with a new key, secret,
// token and expiry d from now, and remembers it. c must not be changed afterwards: other
// requests may read it as soon as it is stored.
func (s *Server) issue(c *credential, now time.Time, d time.Duration, minTokenSize int) *credential {
	c.keyID, c.secret, c.token = newTempKeyID(c.p.account), newSecret(), newSessionToken(minTokenSize)
	c.expires = now.Add(d).Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[c.keyID] = c
	// Forget long-expired keys now and then so a long-running server does not grow forever.
	if now.Sub(s.pruned) > time.Hour {
		s.pruned = now
		for id, k := range s.keys {
			if k.temporary() && now.Sub(k.expires) > issuedKeyGrace {
				delete(s.keys, id)
			}
		}
	}
	return c
}

// sessionARNs are the ARNs a trust policy may name to trust the caller: its own ARN, and for a
// role session also the role's ARN.
func (p *principal) sessionARNs() []string {
	out := []string{p.arn}
	if p.role != nil {
		out = append(out, p.role.arn)
	}
	return out
}

// principalArnKey is aws:PrincipalArn: the role ARN for a role session, otherwise the ARN.
func (p *principal) principalArnKey() string {
	if p.role != nil {
		return p.role.arn
	}
	return p.arn
}

func (p *principal) principalType() string {
	switch p.kind {
	case kindRoot:
		return "Account"
	case kindAssumedRole:
		return "AssumedRole"
	case kindFederatedUser:
		return "FederatedUser"
	}
	return "User"
}

// callerContext is the global condition context of a signed call, keyed by lower-case key.
func (c *call) callerContext() map[string][]string {
	p := &c.cred.p
	ctx := map[string][]string{
		"aws:principalarn":     {p.principalArnKey()},
		"aws:principalaccount": {p.account},
		"aws:principaltype":    {p.principalType()},
		"aws:userid":           {p.userID},
		"aws:currenttime":      {c.now.UTC().Format(time.RFC3339)},
		"aws:epochtime":        {itoa(int(c.now.Unix()))},
		"aws:securetransport":  {boolString(c.r.TLS != nil)},
		"aws:requestedregion":  {c.region},
	}
	if p.kind == kindUser {
		ctx["aws:username"] = []string{p.name}
	}
	for k, t := range p.tags {
		ctx["aws:principaltag/"+k] = []string{t.Value}
	}
	if p.sourceIdentity != "" {
		ctx["aws:sourceidentity"] = []string{p.sourceIdentity}
	}
	if org := c.s.org; org != nil && (org.ManagementAccount == p.account || contains(org.Members, p.account)) {
		ctx["aws:principalorgid"] = []string{orgID(org)}
	}
	// Long-term credentials have no MFA key at all (why BoolIfExists exists); sessions say
	// whether their caller used MFA.
	if c.cred.temporary() {
		ctx["aws:multifactorauthpresent"] = []string{boolString(c.cred.mfa)}
		if c.cred.mfa {
			ctx["aws:multifactorauthage"] = []string{itoa(int(c.now.Sub(c.cred.mfaAt).Seconds()))}
		}
	}
	return ctx
}

// orgID is a stable, valid-looking organization id for the config's organization.
func orgID(org *Organization) string {
	return "o-" + strings.ToLower(stableID("", org.ManagementAccount, "org")[1:11])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
