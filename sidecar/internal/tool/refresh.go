package tool

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/session"
	"awsflow-sts/sidecar/internal/stsops"
)

// refreshTimeout bounds one unattended refresh, retries included.
const refreshTimeout = 30 * time.Second

// recipeFor is how the session a command just minted can be re-made with no one asked, or nil:
// parameters typed in chat that are secret (a token, an MFA code) are never kept, so sessions
// made from them cannot be re-made; a token read from a file is read again.
func recipeFor(spec *protocol.CommandSpec, raw json.RawMessage, a stsops.Args, src *session.Session) *protocol.Recipe {
	if !slices.Contains(session.RefreshableCommands, spec.Name) {
		return nil
	}
	if _, code := a["TokenCode"]; code {
		return nil // the MFA code was used directly: the next one needs the user
	}
	fields, err := decodeObject(raw)
	if err != nil {
		return nil
	}
	for name, v := range fields {
		if p, ok := spec.Param(name); ok && p.Spec.Secret && !isNull(v) {
			return nil
		}
	}
	if spec.Name == protocol.CmdGetSessionToken && a.Str("SerialNumber") != "" {
		return nil
	}
	delete(fields, "Session")
	delete(fields, "SessionName")
	if src != nil && src.Class == session.ClassSessionToken && src.MFASerial != "" {
		delete(fields, "SerialNumber") // the MFA session signs instead
	}
	params, err := json.Marshal(fields)
	if err != nil {
		return nil
	}
	source := protocol.ReservedSessionName
	if src != nil {
		source = src.Name
	}
	return &protocol.Recipe{Command: spec.Name, Params: params, Source: source}
}

// Remake runs a session's recipe again, signed by the same identity, without asking anyone for
// anything. It is the session store's refresh hook.
func (r *Runner) Remake(ctx context.Context, old *session.Session) (*session.Session, error) {
	rec := old.Recipe
	if rec == nil {
		return nil, fmt.Errorf("session %q has no recipe", old.Name)
	}
	if old.Class == session.ClassSSO {
		if r.RemakeSSO == nil {
			return nil, fmt.Errorf("session %q comes from an IAM Identity Center sign-in, which this sidecar cannot use", old.Name)
		}
		ctx, cancel := context.WithTimeout(unattended(ctx), refreshTimeout)
		defer cancel()
		return r.RemakeSSO(ctx, old)
	}
	spec, ok := protocol.Command(rec.Command)
	if !ok {
		return nil, fmt.Errorf("recipe command %q is unknown", rec.Command)
	}
	fields, err := decodeObject(rec.Params)
	if err != nil {
		return nil, fmt.Errorf("recipe params: %w", err)
	}
	source := rec.Source
	if source == "" {
		source = protocol.ReservedSessionName
	}
	fields["Session"], _ = json.Marshal(source)
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("recipe params: %w", err)
	}
	a, err := Validate(spec, raw)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(unattended(ctx), refreshTimeout)
	defer cancel()
	in := &inputs{secrets: r.Secrets}
	defer in.release()
	pl, err := r.prepare(ctx, spec, a, in)
	if err != nil {
		return nil, err
	}
	out, err := r.execute(ctx, pl)
	if err != nil {
		return nil, err
	}
	s := r.newSession(spec, a, pl.src, pl.sessionProfile(), pl.region, out)
	s.Recipe = rec
	return s, nil
}
