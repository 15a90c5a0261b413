package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
)

// RefreshableCommands are the commands whose sessions can carry a Recipe: they can be re-made
// with nothing but stored, non-secret parameters and a signing identity.
var RefreshableCommands = []string{
	protocol.CmdAssumeRole, protocol.CmdAssumeRoleWithWebIdentity,
	protocol.CmdGetSessionToken, protocol.CmdGetFederationToken,
}

// Export returns the named session with its secrets and its recipe: exactly what Import takes
// back. Only the user's explicit export commands, and the extension's keychain copy, call it.
func (st *Store) Export(name string) (protocol.ExportedSession, error) {
	s, err := st.Get(name)
	if err != nil {
		return protocol.ExportedSession{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := protocol.ExportedSession{
		Name:             s.Name,
		Kind:             s.Kind(),
		Command:          s.Command,
		Class:            string(s.Class),
		ARN:              s.ARN,
		Account:          s.Account,
		SourceIdentity:   s.SourceIdentity,
		Region:           s.Region,
		Source:           s.Source,
		Chained:          s.Chained,
		AccessKeyID:      s.Credentials.AccessKeyID,
		SecretAccessKey:  s.Credentials.SecretAccessKey,
		SessionToken:     s.Credentials.SessionToken,
		WebIdentityToken: s.Token,
		Expiration:       s.Expiration.UTC().Format(time.RFC3339),
		CreatedAt:        s.CreatedAt.UTC().Format(time.RFC3339),
		MfaSerial:        s.MFASerial,
		Profile:          s.Profile,
	}
	if s.Recipe != nil {
		r := *s.Recipe
		out.Recipe = &r
	}
	return out, nil
}

var classes = []Class{ClassRole, ClassRoot, ClassSessionToken, ClassFederated, ClassToken, ClassSSO}

// SSOCommand is the Command of an IAM Identity Center role session: the portal operation that
// makes it, and the command of its recipe.
const SSOCommand = "GetRoleCredentials"

// SSORecipe is the params of an SSO session's recipe: the sign-in and the role to ask for again.
type SSORecipe struct {
	SSOSession string `json:"ssoSession"`
	AccountID  string `json:"accountId"`
	RoleName   string `json:"roleName"`
}

// NewSSORecipe is the recipe that re-makes an SSO session from the sign-in's current token.
func NewSSORecipe(r SSORecipe) *protocol.Recipe {
	params, _ := json.Marshal(r) // three strings always marshal
	return &protocol.Recipe{Command: SSOCommand, Params: params}
}

// ParseSSORecipe reads an SSO session's recipe; its fields must all be there.
func ParseSSORecipe(r *protocol.Recipe) (SSORecipe, error) {
	var out SSORecipe
	if r == nil || r.Command != SSOCommand {
		return out, fmt.Errorf("the recipe is not a %s recipe", SSOCommand)
	}
	if err := json.Unmarshal(r.Params, &out); err != nil {
		return out, errors.New("recipe params must be a JSON object of ssoSession, accountId and roleName")
	}
	if out.SSOSession == "" || len(out.SSOSession) > 128 || out.AccountID == "" || len(out.AccountID) > 12 || out.RoleName == "" || len(out.RoleName) > 64 {
		return out, errors.New("recipe params need ssoSession (at most 128 characters), accountId (12 digits) and roleName (at most 64 characters)")
	}
	return out, nil
}

// fits reports whether v is a valid value of the protocol parameter name (length and pattern).
func fits(name, v string) bool {
	p := protocol.Params[name]
	n := utf8.RuneCountInString(v)
	return n >= p.MinLength && n <= p.MaxLength && (p.Pattern == nil || p.Pattern.MatchString(v))
}

// ImportResult says what Import did.
type ImportResult struct {
	// Imported names the sessions stored.
	Imported []string
	// Skipped says which were not, and why (expired, or a newer one of that name is stored).
	Skipped []protocol.ImportSkip
}

// Import stores sessions as Export returned them, and makes active the default if it is among
// them (or already stored). Every entry is checked first: if any is malformed, the error lists
// every problem and nothing changes. Expired entries without a recipe are skipped, as are entries
// older than a stored session of the same name.
func (st *Store) Import(in []protocol.ExportedSession, active string) (ImportResult, error) {
	now := st.now()
	var problems []string
	parsed := make([]*Session, len(in))
	seen := map[string]bool{}
	for i, e := range in {
		s, err := fromExported(e)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("sessions[%d] (%q): %v", i, e.Name, err))
		case seen[s.Name]:
			problems = append(problems, fmt.Sprintf("sessions[%d]: %q appears more than once", i, e.Name))
		}
		if s != nil {
			seen[s.Name] = true
		}
		parsed[i] = s
	}
	if active != "" && active != protocol.ReservedSessionName && !fits("SessionName", active) {
		problems = append(problems, fmt.Sprintf("active %q is not a session name", active))
	}
	if len(problems) > 0 {
		return ImportResult{}, fmt.Errorf("nothing was imported: %s", strings.Join(problems, "; "))
	}
	res := ImportResult{Imported: []string{}, Skipped: []protocol.ImportSkip{}}
	for _, s := range parsed {
		if !now.Before(s.Expiration) && s.Recipe == nil {
			res.Skipped = append(res.Skipped, protocol.ImportSkip{Name: s.Name, Reason: "expired at " + s.Expiration.UTC().Format(time.RFC3339)})
			continue
		}
		st.mu.RLock()
		cur, exists := st.sessions[s.Name]
		newer := exists && !cur.Expiration.Before(s.Expiration)
		st.mu.RUnlock()
		if newer {
			res.Skipped = append(res.Skipped, protocol.ImportSkip{Name: s.Name, Reason: "the sidecar already holds a session of that name that lasts as long or longer"})
			continue
		}
		st.put(s)
		res.Imported = append(res.Imported, s.Name)
	}
	for _, name := range res.Imported {
		st.changed(ReasonImported, name, "")
	}
	if active != "" {
		if err := st.Use(active); err != nil {
			res.Skipped = append(res.Skipped, protocol.ImportSkip{Name: active, Reason: "not made the default: " + err.Error()})
		}
	}
	return res, nil
}

// fromExported checks one exported session and turns it back into a Session.
func fromExported(e protocol.ExportedSession) (*Session, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !fits("SessionName", e.Name) || e.Name == protocol.ReservedSessionName {
		bad("name must be 1 to 64 of [A-Za-z0-9_+=,.@-] and not %q", protocol.ReservedSessionName)
	}
	class := Class(e.Class)
	spec, ok := protocol.Command(e.Command)
	switch {
	case class == ClassSSO || e.Command == SSOCommand:
		ok = false // no STSTool command: checked below
		if class != ClassSSO || e.Command != SSOCommand {
			bad("class %q goes with command %s and no other", ClassSSO, SSOCommand)
		}
	case !ok || spec.Mints == protocol.MintsNothing:
		bad("command %q is not an STSTool command that makes sessions", e.Command)
	}
	if !slices.Contains(classes, class) {
		bad("class %q is not one of role, root, session-token, federated, token, sso", e.Class)
	} else if ok && (class == ClassToken) != (spec.Mints == protocol.MintsToken) {
		bad("class %q does not fit command %s", e.Class, e.Command)
	}
	exp, err := time.Parse(time.RFC3339, e.Expiration)
	if err != nil {
		bad("expiration %q is not an RFC 3339 time", e.Expiration)
	}
	var created time.Time
	if e.CreatedAt != "" {
		if created, err = time.Parse(time.RFC3339, e.CreatedAt); err != nil {
			bad("createdAt %q is not an RFC 3339 time", e.CreatedAt)
		}
	}
	if class == ClassToken {
		if e.Kind != string(protocol.MintsToken) || e.WebIdentityToken == "" || e.AccessKeyID != "" {
			bad("a token session has kind %q, a webIdentityToken and no keys", protocol.MintsToken)
		}
	} else {
		if e.Kind != string(protocol.MintsCredentials) {
			bad("kind must be %q for class %q", protocol.MintsCredentials, e.Class)
		}
		if !fits("AccessKeyId", e.AccessKeyID) || e.SecretAccessKey == "" || e.SessionToken == "" {
			bad("credentials need an accessKeyId, a secretAccessKey and a sessionToken")
		}
	}
	if e.Source != "" && e.Source != protocol.ReservedSessionName && !fits("SessionName", e.Source) {
		bad("source %q is not a session name", e.Source)
	}
	if r := e.Recipe; r != nil && class == ClassSSO {
		if _, err := ParseSSORecipe(r); err != nil {
			bad("%v", err)
		}
	} else if r != nil {
		if !slices.Contains(RefreshableCommands, r.Command) || r.Command != e.Command {
			bad("recipe command %q cannot re-make a %s session", r.Command, e.Command)
		}
		if p := bytes.TrimSpace(r.Params); len(p) == 0 || p[0] != '{' || !json.Valid(p) {
			bad("recipe params must be a JSON object")
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, ", "))
	}
	s := &Session{
		Name: e.Name, Command: e.Command, Class: class, Token: e.WebIdentityToken, Expiration: exp,
		ARN: e.ARN, Account: e.Account, SourceIdentity: e.SourceIdentity, Region: e.Region,
		Source: e.Source, Chained: e.Chained, CreatedAt: created, MFASerial: e.MfaSerial, Profile: e.Profile,
		Credentials: aws.Credentials{
			AccessKeyID: e.AccessKeyID, SecretAccessKey: e.SecretAccessKey, SessionToken: e.SessionToken,
			CanExpire: true, Expires: exp, Source: "awsflow-sts import",
		},
	}
	if s.Source == "" {
		s.Source = protocol.ReservedSessionName
	}
	if e.Recipe != nil {
		r := *e.Recipe
		s.Recipe = &r
	}
	return s, nil
}
