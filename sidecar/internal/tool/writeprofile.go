package tool

import (
	"time"

	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/protocol"
)

// WriteProfile writes a stored session's credentials as a named profile of the shared
// credentials file (sessions/writeProfile). Nothing is written when any part of p is wrong.
func (r *Runner) WriteProfile(p protocol.WriteProfileParams) (*protocol.WriteProfileResult, error) {
	if err := RequireSessionName(p.Name, "the session to write"); err != nil {
		return nil, err
	}
	if err := credfile.ValidProfileName(p.Profile); err != nil {
		return nil, profileNameError(err)
	}
	exp, err := r.Store.Export(p.Name)
	if err != nil {
		return nil, SessionError(err)
	}
	if exp.Kind == string(protocol.MintsToken) {
		return nil, notCredentialsError(p.Name)
	}
	expires, _ := time.Parse(time.RFC3339, exp.Expiration)
	res, err := credfile.WriteProfile(credfile.Options{Path: p.Path, Profile: p.Profile, OverwriteLongTermKeys: p.OverwriteLongTermKeys},
		credfile.Credentials{AccessKeyID: exp.AccessKeyID, SecretAccessKey: exp.SecretAccessKey, SessionToken: exp.SessionToken, Expiration: expires})
	if err != nil {
		return nil, writeError(err, r.Secrets.Scrub)
	}
	return &protocol.WriteProfileResult{Path: res.Path, Profile: p.Profile, Created: res.Created, Backup: res.Backup, Expiration: exp.Expiration}, nil
}
