// Package tool runs STSTool commands: it validates the model's params against the protocol, picks
// the identity that signs (the base profile, a named session, or none), enforces STS's rules before
// calling, runs the operation, stores minted credentials as sessions, and writes the Markdown the
// model sees. `serve` and `call` both go through Runner.Invoke.
package tool

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/redact"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
)

// ops maps each STS command to its operation.
var ops = map[string]operation{
	protocol.CmdAssumeRole:                 typed(stsops.AssumeRole),
	protocol.CmdAssumeRoleWithSAML:         typed(stsops.AssumeRoleWithSAML),
	protocol.CmdAssumeRoleWithWebIdentity:  typed(stsops.AssumeRoleWithWebIdentity),
	protocol.CmdAssumeRoot:                 typed(stsops.AssumeRoot),
	protocol.CmdDecodeAuthorizationMessage: typed(stsops.DecodeAuthorizationMessage),
	protocol.CmdGetAccessKeyInfo:           typed(stsops.GetAccessKeyInfo),
	protocol.CmdGetCallerIdentity:          typed(stsops.GetCallerIdentity),
	protocol.CmdGetDelegatedAccessToken:    typed(stsops.GetDelegatedAccessToken),
	protocol.CmdGetFederationToken:         typed(stsops.GetFederationToken),
	protocol.CmdGetSessionToken:            typed(stsops.GetSessionToken),
	protocol.CmdGetWebIdentityToken:        typed(stsops.GetWebIdentityToken),
}

// operation runs one STS command with its validated args.
type operation func(context.Context, stsops.Call[stsops.Args]) (*stsops.Result, error)

// typed makes an operation of one that takes its command's generated params struct, filled from
// the validated args just before the call (after the profile, files and MFA have settled them).
func typed[P any, PP interface {
	*P
	Fill(map[string]any)
}](op func(context.Context, stsops.Call[P]) (*stsops.Result, error)) operation {
	return func(ctx context.Context, c stsops.Call[stsops.Args]) (*stsops.Result, error) {
		var p P
		PP(&p).Fill(c.Params)
		return op(ctx, stsops.Call[P]{Params: p, Client: c.Client, Now: c.Now})
	}
}

// fileParams maps a file parameter to the secret parameter its content stands for.
var fileParams = map[string]*protocol.ParamSpec{
	"WebIdentityTokenFile": protocol.ParamWebIdentityToken,
	"SAMLAssertionFile":    protocol.ParamSAMLAssertion,
}

// Runner runs STSTool commands against one session store.
type Runner struct {
	// Store holds the sessions.
	Store *session.Store
	// Clients makes STS clients for the current settings.
	Clients *stsops.Clients
	// Secrets collects every secret seen, so that nothing the sidecar says can carry one.
	Secrets *redact.Secrets
	// Prompt asks the user for MFA codes; nil where no one can be asked.
	Prompt Prompter
	// RemakeSSO re-makes IAM Identity Center role sessions (session.ClassSSO) from their sign-in;
	// nil where there is none.
	RemakeSSO func(ctx context.Context, s *session.Session) (*session.Session, error)
	// ProfileWritten, when set, is told of every profile WriteProfile wrote (the session, the
	// file and the profile), so that the session's refreshes rewrite it.
	ProfileWritten func(session, path, profile string)
	// Frontend is who reads the texts: VS Code (the zero value, also the MCP server) or the call
	// subcommand, whose hints name its flags.
	Frontend Frontend
	// mcp makes the MCP-only commands (WriteProfile) available.
	mcp bool
}

// Core is what a front end serves from: the secrets everything it says is scrubbed of, the
// session store, the STS clients for the current settings and the runner over them. The JSON-RPC
// sidecar and the MCP server each make one.
type Core struct {
	// Secrets collects every secret seen.
	Secrets *redact.Secrets
	// Store holds the sessions.
	Store *session.Store
	// Clients makes STS clients for the current settings.
	Clients *stsops.Clients
	// Runner runs STSTool commands against Store.
	Runner *Runner
}

// NewCore returns a core with no sessions, reading time from now.
func NewCore(settings protocol.Settings, now func() time.Time) Core {
	secrets := &redact.Secrets{}
	store := session.NewStore(now, secrets)
	clients := stsops.NewClients(settings)
	return Core{Secrets: secrets, Store: store, Clients: clients, Runner: NewRunner(store, clients, secrets)}
}

// NewRunner wires a runner; secrets is shared with the store and the server's scrubbing.
func NewRunner(store *session.Store, clients *stsops.Clients, secrets *redact.Secrets) *Runner {
	return &Runner{Store: store, Clients: clients, Secrets: secrets}
}

// Invoke runs one command. Its errors are *Error values. Every secret the sidecar has seen, and
// every fragment of one, is scrubbed from its result and its error: an endpoint may quote its
// input back, in a failure or in a success.
func (r *Runner) Invoke(ctx context.Context, p protocol.InvokeParams) (*protocol.InvokeResult, error) {
	in := &inputs{secrets: r.Secrets}
	defer in.release()
	res, err := r.invoke(ctx, p, in)
	if err != nil {
		return nil, r.scrubError(err)
	}
	return r.scrubResult(res)
}

func (r *Runner) invoke(ctx context.Context, p protocol.InvokeParams, in *inputs) (*protocol.InvokeResult, error) {
	spec, ok := protocol.Command(p.Command)
	if !ok || (spec.MCPOnly && !r.mcp) {
		return nil, unknownCommand(p.Command, r.commandNames())
	}
	args, err := Validate(spec, p.Params)
	if err != nil {
		return nil, err
	}
	registerSecrets(spec, args, in)
	var res result
	if spec.Local {
		res, err = r.local(spec, args)
	} else {
		res, err = r.remote(ctx, spec, args, p.Params, in)
	}
	if err != nil {
		return nil, err
	}
	return res.encode()
}

func unknownCommand(name string, names []string) *Error {
	msg := fmt.Sprintf("There is no STSTool command %q.", clip.Echo(name))
	if best := closest(name, names); best != "" {
		msg += fmt.Sprintf(" Did you mean %q?", best)
	}
	return &Error{
		Code:    protocol.CodeInvalidParams,
		Message: msg,
		Hint:    "Use one of: " + strings.Join(names, ", ") + ".",
	}
}

func registerSecrets(spec *protocol.CommandSpec, a stsops.Args, in *inputs) {
	for name, v := range a {
		if p, ok := spec.Param(name); ok && p.Spec.Secret {
			if s, ok := v.(string); ok {
				in.add(s)
			}
		}
	}
}

// inputs are the secrets one call brought (params, file contents): the scrubber keeps them at
// least until the call is done and its answer scrubbed.
type inputs struct {
	secrets  *redact.Secrets
	releases []func()
}

func (in *inputs) add(values ...string) {
	in.releases = append(in.releases, in.secrets.AddInput(values...))
}

func (in *inputs) release() {
	for _, f := range in.releases {
		f()
	}
	in.releases = nil
}

func (r *Runner) local(spec *protocol.CommandSpec, a stsops.Args) (result, error) {
	switch spec.Name {
	case protocol.CmdWriteProfile:
		return r.writeProfileCommand(spec, a)
	case protocol.CmdUseSession:
		var p protocol.UseSessionParams
		p.Fill(a)
		name := aws.ToString(p.SessionName)
		if err := r.Store.Use(name); err != nil {
			return result{}, sessionError(spec.Name, err)
		}
		return formatSessions(r.Store.List(), "", fmt.Sprintf("Later commands now run as %s.", identityName(name))), nil
	case protocol.CmdForgetSession:
		var p protocol.ForgetSessionParams
		p.Fill(a)
		name := aws.ToString(p.SessionName)
		if err := r.Store.Forget(name); err != nil {
			return result{}, sessionError(spec.Name, err)
		}
		return formatSessions(r.Store.List(), "", fmt.Sprintf("Session `%s` and its credentials were deleted from the sidecar.", name)), nil
	default:
		var p protocol.ListSessionsParams
		p.Fill(a)
		return formatSessions(r.Store.List(), aws.ToString(p.Filter), ""), nil
	}
}

func identityName(session string) string {
	if session == "" || session == protocol.ReservedSessionName {
		return "the base identity"
	}
	return fmt.Sprintf("session `%s`", session)
}

// plan is one remote command resolved: who signs it, where, and with what.
type plan struct {
	spec *protocol.CommandSpec
	args stsops.Args
	// src is the stored session that signs; nil when a profile's identity does.
	src *session.Session
	// base is the profile whose identity signs when src is nil (the settings' profile, or a role
	// profile's source_profile).
	base string
	// role is set when AssumeRole's Profile named a role profile.
	role   *roleProfile
	region string
}

func (r *Runner) remote(ctx context.Context, spec *protocol.CommandSpec, a stsops.Args, raw json.RawMessage, in *inputs) (result, error) {
	pl, err := r.prepare(ctx, spec, a, in)
	if err != nil {
		return result{}, err
	}
	out, err := r.execute(ctx, pl)
	if err != nil {
		return result{}, err
	}
	if spec.Mints == protocol.MintsNothing {
		return formatRead(spec.Name, r.identity(pl), out), nil
	}
	s := r.newSession(spec, a, pl.src, pl.sessionProfile(), pl.region, out)
	if pl.src == nil || pl.src.Name != s.Name {
		// A session that replaced the one that signed for it has nothing left to re-make it with.
		s.Recipe = recipeFor(spec, raw, a, pl.src)
	}
	replaced := r.Store.Put(s)
	return formatMinted(r.Frontend, spec.Name, r.Store.Info(s), out, replaced), nil
}

// prepare reads secret files, applies a role profile, picks the signing identity, checks STS's
// rules, and gets an MFA code or session where one is needed, all before anything is sent to STS.
func (r *Runner) prepare(ctx context.Context, spec *protocol.CommandSpec, a stsops.Args, in *inputs) (*plan, error) {
	if err := readFiles(spec, a, in); err != nil {
		return nil, err
	}
	role, err := applyProfile(ctx, spec.Name, a)
	if err != nil {
		return nil, err
	}
	pl := &plan{spec: spec, args: a, role: role, base: r.Clients.Settings().Profile}
	if role != nil {
		pl.base = role.source
	}
	// A role profile names its own signer; only an explicit Session overrides it.
	if role == nil || a.Str("Session") != "" {
		if pl.src, err = r.source(ctx, spec, a); err != nil {
			return nil, err
		}
	}
	if err := checkRules(spec, pl.src, a); err != nil {
		return nil, err
	}
	region := a.Str("Region")
	if region == "" && pl.src != nil {
		region = pl.src.Region
	}
	pl.region = r.Clients.Region(ctx, region)
	if pl.src, err = r.satisfyMFA(ctx, spec, a, pl.src, pl.base, pl.region); err != nil {
		return nil, err
	}
	return pl, nil
}

// signer is the identity the SDK client signs with.
func (pl *plan) signer(settingsProfile string) stsops.Identity {
	id := stsops.Identity{Anonymous: pl.spec.Auth == protocol.AuthAnonymous}
	switch {
	case pl.src != nil:
		id.Credentials = &pl.src.Credentials
	case pl.base != settingsProfile:
		id.Profile = pl.base
	}
	return id
}

// sessionProfile is the profile a minted session records: the role profile, else the profile of
// the identity that signed.
func (pl *plan) sessionProfile() string {
	switch {
	case pl.role != nil:
		return pl.role.name
	case pl.src != nil:
		return pl.src.Profile
	}
	return pl.base
}

// identity names who signs, for messages.
func (r *Runner) identity(pl *plan) string {
	switch {
	case pl.spec.Auth == protocol.AuthAnonymous:
		return "no AWS credentials (the call is unsigned)"
	case pl.src != nil:
		return identityName(pl.src.Name)
	case pl.role != nil:
		return fmt.Sprintf("profile `%s` (the source_profile of `%s`)", pl.base, pl.role.name)
	}
	return "the base identity" + profileSuffix(pl.base)
}

func (r *Runner) execute(ctx context.Context, pl *plan) (*stsops.Result, error) {
	id := pl.signer(r.Clients.Settings().Profile)
	id.Unattended = isUnattended(ctx)
	call := stsops.Call[stsops.Args]{
		Params: pl.args,
		Now:    r.Store.Now(),
		Client: func(ctx context.Context) (*sts.Client, error) {
			return r.Clients.Client(ctx, id, pl.region)
		},
	}
	out, err := ops[pl.spec.Name](ctx, call)
	if err != nil {
		return nil, explain(callContext{
			command: pl.spec.Name, identity: r.identity(pl), profile: pl.base, roleArn: pl.args.Str("RoleArn"),
			region: pl.region, endpoint: r.Clients.Settings().EndpointURL, front: r.Frontend,
		}, err)
	}
	r.scrubAnswer(out)
	return out, nil
}

func profileSuffix(profile string) string {
	if profile == "" {
		return ""
	}
	return fmt.Sprintf(" (profile `%s`)", profile)
}

// source is the stored session that signs the call: the Session param, else the default session.
// A session whose refresh window has opened is refreshed first.
func (r *Runner) source(ctx context.Context, spec *protocol.CommandSpec, a stsops.Args) (*session.Session, error) {
	name := a.Str("Session")
	if name == "" {
		name = r.Store.Active()
	}
	if name == protocol.ReservedSessionName || spec.Auth == protocol.AuthAnonymous && a.Str("Session") == "" {
		return nil, nil
	}
	get := r.Store.Fresh
	if isUnattended(ctx) {
		get = func(_ context.Context, name string) (*session.Session, error) { return r.Store.Get(name) }
	}
	s, err := get(ctx, name)
	if err != nil {
		return nil, sessionError(spec.Name, err)
	}
	if s.Class == session.ClassToken {
		return nil, &Error{
			Code:    protocol.CodeRuleViolation,
			Command: spec.Name,
			Message: protocol.TokenNotCredentials(name, "sign "+spec.Name+"."),
			Hint:    "Pass a session made by AssumeRole, GetSessionToken or the like, or omit Session to use the base identity.",
		}
	}
	return s, nil
}

// readFiles replaces WebIdentityTokenFile and SAMLAssertionFile with the secrets they hold, so the
// secret itself never passes through chat. A file is read only if it is a regular file outside
// the system's pseudo-file trees, and used only if it holds what its parameter stands for; its
// content is a secret from the moment it is read, whatever it turns out to be.
func readFiles(spec *protocol.CommandSpec, a stsops.Args, in *inputs) error {
	for fileParam, secret := range fileParams {
		path := a.Str(fileParam)
		if path == "" {
			continue
		}
		content, err := readSecretFile(spec.Name, fileParam, path, secret.MaxLength)
		if err != nil {
			return err
		}
		in.add(content)
		if err := checkSecretShape(spec.Name, fileParam, content, a); err != nil {
			return err
		}
		a[secret.Name] = content
		delete(a, fileParam)
	}
	return nil
}

// newSession is the session a minting command's answer is stored as; profile is the profile it
// was made from.
func (r *Runner) newSession(spec *protocol.CommandSpec, a stsops.Args, src *session.Session, profile, region string, out *stsops.Result) *session.Session {
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
		Profile:        profile,
	}
	if out.Credentials != nil {
		s.Credentials = *out.Credentials
	}
	if src != nil && spec.Auth == protocol.AuthSigned {
		s.Source = src.Name
		s.Chained = src.Class.Role() && s.Class == session.ClassRole
	}
	switch {
	case spec.Name != protocol.CmdAssumeRole && spec.Name != protocol.CmdGetSessionToken:
	case a.Str("SerialNumber") != "":
		s.MFASerial = a.Str("SerialNumber")
	case src != nil && src.Class == session.ClassSessionToken && spec.Name == protocol.CmdAssumeRole:
		s.MFASerial = src.MFASerial // authenticated through an MFA session
	}
	return s
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
