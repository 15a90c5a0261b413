// Package writeback keeps the credentials-file profiles that sessions were written to
// (sessions/writeProfile) in step with the sessions: when a session is refreshed, its new
// credentials are written to those profiles again, so tools reading them keep working; a session
// that is forgotten, or replaced by a new one of the same name, stops feeding them. It is a hook
// of the session store, told of each change by the session's name and the reason only.
package writeback

import (
	"errors"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"awsflow-sts/sidecar/internal/credfile"
	"awsflow-sts/sidecar/internal/session"
)

// Profiles remembers, per session, the credentials-file profiles it was written to.
type Profiles struct {
	store *session.Store
	scrub func(string) string
	log   *zap.Logger

	mu      sync.Mutex
	targets map[string][]target // session name → profiles it was written to
}

// target is one credentials-file profile a session was written to.
type target struct {
	path, profile string
}

// New returns an empty set for the sessions of store; scrub removes secrets from the errors it
// logs.
func New(store *session.Store, scrub func(string) string, log *zap.Logger) *Profiles {
	return &Profiles{store: store, scrub: scrub, log: log, targets: map[string][]target{}}
}

// Remember records that the session was written to profile of the credentials file at path, so
// its refreshes are written there too.
func (w *Profiles) Remember(name, path, profile string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := target{path: path, profile: profile}
	if !slices.Contains(w.targets[name], t) {
		w.targets[name] = append(w.targets[name], t)
	}
}

// Changed is told of a change to a session by its reason (session.Reason*) and the session's
// name: a refresh rewrites the session's profiles; a forgotten session, or a new one under its
// name, no longer feeds them.
func (w *Profiles) Changed(reason, name string) {
	switch reason {
	case session.ReasonRefreshed:
		w.rewrite(name)
	case session.ReasonForgotten, session.ReasonCreated:
		w.mu.Lock()
		delete(w.targets, name)
		w.mu.Unlock()
	}
}

// rewrite writes a refreshed session's new credentials into the profiles it was written to. A
// failure is logged and ends that profile's updates (the user may have given the profile to
// something else), except a busy file, which the next refresh tries again.
func (w *Profiles) rewrite(name string) {
	w.mu.Lock()
	targets := w.targets[name]
	w.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	exp, err := w.store.Export(name)
	if err != nil {
		return
	}
	expires, _ := time.Parse(time.RFC3339, exp.Expiration)
	creds := credfile.Credentials{AccessKeyID: exp.AccessKeyID, SecretAccessKey: exp.SecretAccessKey, SessionToken: exp.SessionToken, Expiration: expires}
	var kept []target
	for _, t := range targets {
		if _, err := credfile.WriteProfile(credfile.Options{Path: t.path, Profile: t.profile}, creds); err != nil {
			w.log.Warn("refreshed session not written to its credentials-file profile", zap.String("session", name),
				zap.String("profile", t.profile), zap.String("path", t.path), zap.String("error", w.scrub(err.Error())))
			if errors.Is(err, credfile.ErrBusy) {
				// Busy for now, not given away: the next refresh tries again.
				kept = append(kept, t)
			}
			continue
		}
		w.log.Info("refreshed session rewritten to its credentials-file profile", zap.String("session", name), zap.String("profile", t.profile))
		kept = append(kept, t)
	}
	w.mu.Lock()
	w.targets[name] = kept
	w.mu.Unlock()
}
