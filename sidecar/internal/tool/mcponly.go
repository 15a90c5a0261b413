package tool

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"awsflow-sts/sidecar/internal/protocol"
	"awsflow-sts/sidecar/internal/stsops"
)

// OfferMCPOnly makes the commands only the MCP server's tool offers (WriteProfile) available
// to this runner; the extension's runner refuses them as unknown.
func (r *Runner) OfferMCPOnly() { r.mcp = true }

// commandNames lists the commands this runner offers.
func (r *Runner) commandNames() []string {
	if r.mcp {
		return protocol.MCPCommandNames()
	}
	return protocol.CommandNames()
}

// writeProfileCommand is the WriteProfile command: sessions/writeProfile's write, with a result
// that names the profile and the file, never the secret.
func (r *Runner) writeProfileCommand(spec *protocol.CommandSpec, a stsops.Args) (result, error) {
	var p protocol.WriteProfileCommandParams
	p.Fill(a)
	in := protocol.WriteProfileParams{Name: aws.ToString(p.SessionName), Profile: aws.ToString(p.Profile), Path: aws.ToString(p.Path)}
	res, err := r.WriteProfile(in)
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			out := *te
			out.Command, out.hintApart = spec.Name, false
			return result{}, &out
		}
		return result{}, err
	}
	if r.ProfileWritten != nil {
		r.ProfileWritten(in.Name, res.Path, in.Profile)
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	text := fmt.Sprintf("**WriteProfile** succeeded: session `%s` was written as profile `%s` of `%s` (%s). Other tools use it with `--profile %s` (or AWS_PROFILE=%s)",
		in.Name, in.Profile, res.Path, verb, in.Profile, in.Profile)
	if res.Expiration != "" {
		text += "; the credentials expire at " + res.Expiration
	}
	text += ". The secret key is in the file only; when the session refreshes, the profile is rewritten."
	if res.Backup != "" {
		text += fmt.Sprintf(" The previous file was kept as `%s`.", res.Backup)
	}
	data := map[string]any{"session": in.Name, "profile": in.Profile, "path": res.Path, "created": res.Created}
	if res.Expiration != "" {
		data["expiration"] = res.Expiration
	}
	if res.Backup != "" {
		data["backup"] = res.Backup
	}
	return result{text: text, data: data}, nil
}
