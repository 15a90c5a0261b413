package tool

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
)

// Prompter asks the user for an MFA code (the extension shows a masked input box). An error
// means no code: the user cancelled, or the client cannot ask.
type Prompter func(ctx context.Context, p protocol.MfaTokenCodeParams) (string, error)

// ErrCannotPrompt is what a Prompter returns when no one can be asked (the call subcommand).
var ErrCannotPrompt = errors.New("no one can be asked for an MFA code here")

// UsePrompt makes p the way MFA codes are asked for: by the runner's own steps, and by the SDK
// when it assumes a role profile's role itself. Every code entered becomes a secret at once.
func (r *Runner) UsePrompt(p Prompter) {
	r.Prompt = p
	r.Clients.SetPrompt(func(ctx context.Context, serial, reason string) (string, error) {
		code, err := p(ctx, protocol.MfaTokenCodeParams{SerialNumber: serial, Reason: reason})
		// The SDK sends the code to STS, which may quote it back.
		r.Secrets.Add(strings.TrimSpace(code))
		return code, err
	})
}

var tokenCodePattern = regexp.MustCompile(`^\d{6}$`)

type unattendedKey struct{}

// unattended marks ctx as a refresh: no human may be asked for anything, and the sessions it signs
// with are used as they are, not refreshed in turn (a cycle of sessions made from each other would
// otherwise wait on itself).
func unattended(ctx context.Context) context.Context {
	return context.WithValue(ctx, unattendedKey{}, true)
}

func isUnattended(ctx context.Context) bool { return ctx.Value(unattendedKey{}) != nil }

// tokenCode asks for the current code of serial, for the reason given.
func (r *Runner) tokenCode(ctx context.Context, command, serial, reason string) (string, error) {
	cannot := &Error{Code: protocol.CodeRuleViolation, Command: command,
		Message: fmt.Sprintf("%s was not run: it needs a code from MFA device %s, and no one can be asked for it here.", command, serial),
		Hint:    noPromptHint(command)}
	if isUnattended(ctx) || r.Prompt == nil {
		return "", cannot
	}
	code, err := r.Prompt(ctx, protocol.MfaTokenCodeParams{SerialNumber: serial, Reason: reason, Command: command})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if errors.Is(err, ErrCannotPrompt) {
			return "", cannot
		}
		return "", &Error{Code: protocol.CodeRequestCancelled, Command: command,
			Message: fmt.Sprintf("%s was not run: no MFA code was entered for %s (%v).", command, serial, err),
			Hint:    "Run it again and enter the current 6-digit code from the MFA device when asked."}
	}
	code = strings.TrimSpace(code)
	r.Secrets.Add(code)
	if !tokenCodePattern.MatchString(code) {
		return "", &Error{Code: protocol.CodeInvalidParams, Command: command,
			Message: fmt.Sprintf("%s was not run: the MFA code entered is not 6 digits.", command),
			Hint:    "Run it again and enter the 6-digit code the MFA device shows now."}
	}
	return code, nil
}

// mfaName is the session name of the MFA session made for a device: mfa-<device name>.
func mfaName(serial string) string {
	device := serial[strings.LastIndex(serial, "/")+1:]
	return sessionName(protocol.CmdGetSessionToken, stsops.Args{"SessionName": "mfa-" + device}, nil)
}

// satisfyMFA makes sure an AssumeRole or GetSessionToken that names an MFA device without a code
// is authenticated: by a stored MFA session of that device (one code, many roles), by a new MFA
// session made with a code the user enters (for IAM users' long-term keys), or by the code itself.
// It returns the signing session to use instead of src (src when unchanged).
func (r *Runner) satisfyMFA(ctx context.Context, spec *protocol.CommandSpec, a stsops.Args, src *session.Session, base string, region string) (*session.Session, error) {
	serial := a.Str("SerialNumber")
	if serial == "" || a.Str("TokenCode") != "" {
		return src, nil
	}
	if spec.Name == protocol.CmdAssumeRole {
		// Credentials from an MFA-authenticated GetSessionToken already carry MFA: STS treats
		// AssumeRole signed with them as aws:MultiFactorAuthPresent.
		if src != nil && src.Class == session.ClassSessionToken && src.MFASerial == serial {
			delete(a, "SerialNumber")
			return src, nil
		}
		if src == nil {
			if mfa := r.Store.FindMFA(serial, base); mfa != nil {
				delete(a, "SerialNumber")
				return mfa, nil
			}
		}
	}
	reason := fmt.Sprintf("%s needs a code from MFA device %s", spec.Name, serial)
	if role := a.Str("RoleArn"); role != "" {
		reason = fmt.Sprintf("Assuming %s needs a code from MFA device %s", role, serial)
	}
	code, err := r.tokenCode(ctx, spec.Name, serial, reason)
	if err != nil {
		return nil, err
	}
	if spec.Name == protocol.CmdAssumeRole && src == nil && r.isUserKey(ctx, base) {
		mfa, err := r.mintMFASession(ctx, serial, code, base, region)
		if err != nil {
			return nil, err
		}
		delete(a, "SerialNumber")
		return mfa, nil
	}
	a["TokenCode"] = code
	return src, nil
}

// isUserKey reports whether the profile signs with an IAM user's long-term key, the only
// credentials GetSessionToken accepts.
func (r *Runner) isUserKey(ctx context.Context, profile string) bool {
	cr, err := r.Clients.BaseCredentials(ctx, profile)
	return err == nil && strings.HasPrefix(cr.AccessKeyID, "AKIA")
}

// mintMFASession runs GetSessionToken with the device and code, and stores the result as the MFA
// session later AssumeRole calls for that device reuse until it expires.
func (r *Runner) mintMFASession(ctx context.Context, serial, code, base, region string) (*session.Session, error) {
	spec, _ := protocol.Command(protocol.CmdGetSessionToken)
	a := stsops.Args{"SerialNumber": serial, "TokenCode": code, "SessionName": mfaName(serial)}
	var p protocol.GetSessionTokenParams
	p.Fill(a)
	out, err := stsops.GetSessionToken(ctx, stsops.Call[protocol.GetSessionTokenParams]{
		Params: p, Now: r.Store.Now(),
		Client: func(ctx context.Context) (*sts.Client, error) {
			return r.Clients.Client(ctx, stsops.Identity{Profile: base}, region)
		},
	})
	if err != nil {
		return nil, explain(callContext{command: spec.Name, identity: "the base identity" + profileSuffix(base), profile: base, region: region,
			endpoint: r.Clients.Settings().EndpointURL, front: r.Frontend}, err)
	}
	s := r.newSession(spec, a, nil, base, region, out)
	r.Store.Put(s)
	return s, nil
}

func noPromptHint(command string) string {
	hint := "Run it from VS Code (you will be asked for the code) or pass TokenCode on the command line"
	if command == protocol.CmdAssumeRole {
		return hint + ", or run GetSessionToken with SerialNumber first to make an MFA session that AssumeRole then reuses."
	}
	return hint + "."
}
