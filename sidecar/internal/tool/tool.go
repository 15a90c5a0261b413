// Package tool runs STSTool commands: it validates the model's params against the protocol, picks
// the identity that signs (the base profile, a named session, or none), enforces STS's rules before
// calling, runs the operation, stores minted credentials as sessions, and writes the Markdown the
// model sees. `serve` and `call` both go through Runner.Invoke.
package tool

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
)

// maxSecretFile bounds what WebIdentityTokenFile and SAMLAssertionFile may hold (STS's own limits
// are 20,000 and 100,000 characters).
const maxSecretFile = 256 << 10

// ops maps each STS command to its operation.
var ops = map[string]func(context.Context, stsops.Call) (*stsops.Result, error){
	protocol.CmdAssumeRole:                 stsops.AssumeRole,
	protocol.CmdAssumeRoleWithSAML:         stsops.AssumeRoleWithSAML,
	protocol.CmdAssumeRoleWithWebIdentity:  stsops.AssumeRoleWithWebIdentity,
	protocol.CmdAssumeRoot:                 stsops.AssumeRoot,
	protocol.CmdDecodeAuthorizationMessage: stsops.DecodeAuthorizationMessage,
	protocol.CmdGetAccessKeyInfo:           stsops.GetAccessKeyInfo,
	protocol.CmdGetCallerIdentity:          stsops.GetCallerIdentity,
	protocol.CmdGetDelegatedAccessToken:    stsops.GetDelegatedAccessToken,
	protocol.CmdGetFederationToken:         stsops.GetFederationToken,
	protocol.CmdGetSessionToken:            stsops.GetSessionToken,
	protocol.CmdGetWebIdentityToken:        stsops.GetWebIdentityToken,
}

// fileParams maps a file parameter to the secret parameter its content stands for.
var fileParams = map[string]string{
	"WebIdentityTokenFile": "WebIdentityToken",
	"SAMLAssertionFile":    "SAMLAssertion",
}

// Runner runs STSTool commands against one session store.
type Runner struct {
	// Store holds the sessions.
	Store *session.Store
	// Clients makes STS clients for the current settings.
	Clients *stsops.Clients
	// Secrets collects every secret seen, so that nothing the sidecar says can carry one.
	Secrets *redact.Secrets
}

// NewRunner wires a runner; secrets is shared with the store and the server's scrubbing.
func NewRunner(store *session.Store, clients *stsops.Clients, secrets *redact.Secrets) *Runner {
	return &Runner{Store: store, Clients: clients, Secrets: secrets}
}

// Invoke runs one command. Its errors are *Error values.
func (r *Runner) Invoke(ctx context.Context, p protocol.InvokeParams) (*protocol.InvokeResult, error) {
	spec, ok := protocol.Command(p.Command)
	if !ok {
		return nil, unknownCommand(p.Command)
	}
	args, err := Validate(spec, p.Params)
	if err != nil {
		return nil, err
	}
	r.registerSecrets(spec, args)
	var res result
	if spec.Local {
		res, err = r.local(spec, args)
	} else {
		res, err = r.remote(ctx, spec, args)
	}
	if err != nil {
		return nil, err
	}
	return res.encode()
}

func unknownCommand(name string) *Error {
	msg := fmt.Sprintf("There is no STSTool command %q.", name)
	if best := closest(name, protocol.CommandNames()); best != "" {
		msg += fmt.Sprintf(" Did you mean %q?", best)
	}
	return &Error{
		Code:    protocol.CodeInvalidParams,
		Message: msg,
		Hint:    "Use one of: " + strings.Join(protocol.CommandNames(), ", ") + ".",
	}
}

func (r *Runner) registerSecrets(spec *protocol.CommandSpec, a stsops.Args) {
	for name, v := range a {
		if p, ok := spec.Param(name); ok && p.Spec.Secret {
			if s, ok := v.(string); ok {
				r.Secrets.Add(s)
			}
		}
	}
}

func (r *Runner) local(spec *protocol.CommandSpec, a stsops.Args) (result, error) {
	name := a.Str("SessionName")
	switch spec.Name {
	case protocol.CmdUseSession:
		if err := r.Store.Use(name); err != nil {
			return result{}, sessionError(spec.Name, err)
		}
		return formatSessions(r.Store.List(), fmt.Sprintf("Later commands now run as %s.", identityName(name))), nil
	case protocol.CmdForgetSession:
		if err := r.Store.Forget(name); err != nil {
			return result{}, sessionError(spec.Name, err)
		}
		return formatSessions(r.Store.List(), fmt.Sprintf("Session `%s` and its credentials were deleted from the sidecar.", name)), nil
	default:
		return formatSessions(r.Store.List(), ""), nil
	}
}

func identityName(session string) string {
	if session == "" || session == protocol.ReservedSessionName {
		return "the base identity"
	}
	return fmt.Sprintf("session `%s`", session)
}

func sessionError(command string, err error) *Error {
	return &Error{
		Code:    protocol.CodeSessionError,
		Command: command,
		Message: err.Error(),
		Hint:    "ListSessions shows the stored sessions; commands that mint credentials (AssumeRole, GetSessionToken, …) store new ones.",
	}
}

func (r *Runner) remote(ctx context.Context, spec *protocol.CommandSpec, a stsops.Args) (result, error) {
	if err := r.readFiles(spec, a); err != nil {
		return result{}, err
	}
	src, err := r.source(spec, a)
	if err != nil {
		return result{}, err
	}
	if err := checkRules(spec, src, a); err != nil {
		return result{}, err
	}
	region := a.Str("Region")
	if region == "" && src != nil {
		region = src.Region
	}
	region = r.Clients.Region(ctx, region)
	id := stsops.Identity{Anonymous: spec.Auth == protocol.AuthAnonymous}
	identity := "the base identity" + profileSuffix(r.Clients.Settings().Profile)
	if src != nil {
		id.Credentials = &src.Credentials
		identity = identityName(src.Name)
	}
	if id.Anonymous {
		identity = "no AWS credentials (the call is unsigned)"
	}
	call := stsops.Call{
		Args: a,
		Now:  r.Store.Now(),
		Client: func(ctx context.Context) (*sts.Client, error) {
			return r.Clients.Client(ctx, id, region)
		},
	}
	out, err := ops[spec.Name](ctx, call)
	if err != nil {
		return result{}, explain(callContext{
			command: spec.Name, identity: identity, roleArn: a.Str("RoleArn"),
			region: region, endpoint: r.Clients.Settings().EndpointURL,
		}, err)
	}
	if spec.Mints == protocol.MintsNothing {
		return formatRead(spec.Name, identity, out), nil
	}
	return r.store(spec, a, src, region, out), nil
}

func profileSuffix(profile string) string {
	if profile == "" {
		return ""
	}
	return fmt.Sprintf(" (profile `%s`)", profile)
}

// source is the stored session that signs the call: the Session param, else the default session.
func (r *Runner) source(spec *protocol.CommandSpec, a stsops.Args) (*session.Session, error) {
	name := a.Str("Session")
	if name == "" {
		name = r.Store.Active()
	}
	if name == protocol.ReservedSessionName || spec.Auth == protocol.AuthAnonymous && a.Str("Session") == "" {
		return nil, nil
	}
	s, err := r.Store.Get(name)
	if err != nil {
		return nil, sessionError(spec.Name, err)
	}
	if s.Class == session.ClassToken {
		return nil, &Error{
			Code:    protocol.CodeRuleViolation,
			Command: spec.Name,
			Message: fmt.Sprintf("session %q holds a web identity token, not credentials, so it cannot sign %s.", name, spec.Name),
			Hint:    "Pass a session made by AssumeRole, GetSessionToken or the like, or omit Session to use the base identity.",
		}
	}
	return s, nil
}

// readFiles replaces WebIdentityTokenFile and SAMLAssertionFile with the secrets they hold, so the
// secret itself never passes through chat.
func (r *Runner) readFiles(spec *protocol.CommandSpec, a stsops.Args) error {
	for fileParam, secretParam := range fileParams {
		path := a.Str(fileParam)
		if path == "" {
			continue
		}
		content, err := readSecretFile(path)
		if err != nil {
			return invalidParams(spec.Name, "%s was not run: cannot read %s: %v", spec.Name, fileParam, err)
		}
		r.Secrets.Add(content)
		p, _ := spec.Param(secretParam)
		if _, err := checkString(p.Spec, content); err != nil {
			return invalidParams(spec.Name, "%s was not run: the content of %s %v", spec.Name, fileParam, err)
		}
		a[secretParam] = content
		delete(a, fileParam)
	}
	return nil
}

func readSecretFile(path string) (string, error) {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		path = filepath.Join(home, rest)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s is over %d KiB, too large for a token or assertion", path, maxSecretFile>>10)
	}
	return strings.TrimSpace(string(data)), nil
}

func (r *Runner) store(spec *protocol.CommandSpec, a stsops.Args, src *session.Session, region string, out *stsops.Result) result {
	s := &session.Session{
		Name:           sessionName(spec.Name, a, out),
		Command:        spec.Name,
		Class:          classOf(spec.Name),
		Token:          out.Token,
		Expiration:     out.Expiration,
		ARN:            out.ARN,
		Account:        out.Account,
		SourceIdentity: out.SourceIdentity,
		Region:         region,
		Source:         protocol.ReservedSessionName,
	}
	if out.Credentials != nil {
		s.Credentials = *out.Credentials
	}
	if src != nil && spec.Auth == protocol.AuthSigned {
		s.Source = src.Name
		s.Chained = src.Class == session.ClassRole && s.Class == session.ClassRole
	}
	replaced := r.Store.Put(s)
	return formatMinted(spec.Name, r.Store.Info(s), out, replaced)
}

var unsafeName = regexp.MustCompile(`[^\w+=,.@-]+`)

// sessionName is the name a minted session is stored under: SessionName, else the name the
// command's own parameters or answer suggest.
func sessionName(command string, a stsops.Args, out *stsops.Result) string {
	name := a.Str("SessionName")
	if name == "" {
		name = a.Str("RoleSessionName")
	}
	if name == "" {
		name = a.Str("Name")
	}
	if name == "" {
		switch command {
		case protocol.CmdAssumeRoot:
			name = "root-" + out.Account
		case protocol.CmdGetSessionToken:
			name = "session-token"
			if a.Str("SerialNumber") != "" {
				name = "mfa-session"
			}
		case protocol.CmdGetWebIdentityToken:
			name = "web-identity-token"
		default:
			// SAML and delegated sessions: the last part of the ARN names the session.
			name = out.ARN[strings.LastIndex(out.ARN, "/")+1:]
		}
	}
	name = unsafeName.ReplaceAllString(name, "-")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" || name == protocol.ReservedSessionName {
		name = strings.ToLower(command)
	}
	return name
}
