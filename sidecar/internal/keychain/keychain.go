// Package keychain keeps the call subcommand's sessions in the OS keychain between processes, as
// aws-vault does: the macOS Keychain, the Windows Credential Manager, or the Secret Service
// (GNOME Keyring, KWallet) on the D-Bus session bus elsewhere. Each session is one item holding
// exactly what sessions/export gives, which the store's Import takes back (expiry, class and
// recipe included); one more item indexes them and names the active session. All items are under
// the service "awsflow-sts".
package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/zalando/go-keyring"

	"awsflow-sts/sidecar/internal/protocol"
)

// Service is the keychain service every item is stored under.
const Service = "awsflow-sts"

// indexUser is the account name of the index item; sessions are sessionPrefix + their name.
const (
	indexUser     = "sessions-index"
	sessionPrefix = "session:"
)

// opTimeout bounds each question to the keychain: a Secret Service that wants to show an unlock
// prompt no one will see, or that has stopped answering, would otherwise hang the command.
const opTimeout = 10 * time.Second

// errNoAnswer is a keychain operation that did not answer within opTimeout.
var errNoAnswer = fmt.Errorf("the keychain did not answer within %s (is it locked?)", opTimeout)

// ErrUnavailable is wrapped by Open's error when there is no keychain to use.
var ErrUnavailable = errors.New("no OS keychain is available")

// Backend is the keychain's three operations; go-keyring's package functions are the real one.
type Backend interface {
	// Get returns the secret of service's item user, or keyring.ErrNotFound.
	Get(service, user string) (string, error)
	// Set stores the secret of service's item user.
	Set(service, user, secret string) error
	// Delete removes service's item user.
	Delete(service, user string) error
}

// osKeyring is the OS keychain through go-keyring, each operation bounded by opTimeout.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) {
	var secret string
	err := bounded(opTimeout, func() (err error) { secret, err = keyring.Get(service, user); return err })
	return secret, err
}

func (osKeyring) Set(service, user, secret string) error {
	return bounded(opTimeout, func() error { return keyring.Set(service, user, secret) })
}

func (osKeyring) Delete(service, user string) error {
	return bounded(opTimeout, func() error { return keyring.Delete(service, user) })
}

// bounded runs op, giving up after timeout. go-keyring's calls cannot be cancelled, so one that
// does not answer is left to end with the process: the call subcommand ends right after its one
// command.
func bounded(timeout time.Duration, op func() error) error {
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return errNoAnswer
	}
}

// Keychain stores sessions in one keychain.
type Keychain struct {
	backend Backend
	stored  []string // the session names the index listed when loaded
}

// index is the index item's content.
type index struct {
	Version  int      `json:"version"`
	Active   string   `json:"active"`
	Sessions []string `json:"sessions"`
}

// Open returns the OS keychain once it has answered a first read, or an error wrapping
// ErrUnavailable that says why there is none (no D-Bus session bus, no Secret Service on it, a
// locked keychain, no answer in time).
func Open() (*Keychain, error) {
	if err := sessionBus(); err != nil {
		return nil, err
	}
	if _, err := (osKeyring{}).Get(Service, indexUser); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return New(osKeyring{}), nil
}

// sessionBus checks, where the keychain is the Secret Service, that a D-Bus session bus is there
// to reach it through, so that nothing tries to start one.
func sessionBus() error {
	switch runtime.GOOS {
	case "darwin", "windows":
		return nil
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		return nil
	}
	return fmt.Errorf("%w: there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service", ErrUnavailable)
}

// New returns a keychain over backend (tests pass an in-memory one).
func New(backend Backend) *Keychain { return &Keychain{backend: backend} }

// Load returns the stored sessions and the active session's name. Items that are missing or
// unreadable are left out; the rest still load.
func (k *Keychain) Load() ([]protocol.ExportedSession, string, error) {
	raw, err := k.backend.Get(Service, indexUser)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the keychain's session index: %w", err)
	}
	var idx index
	if err := json.Unmarshal([]byte(raw), &idx); err != nil {
		return nil, "", fmt.Errorf("the keychain's session index is not valid JSON: %w", err)
	}
	k.stored = idx.Sessions
	out := make([]protocol.ExportedSession, 0, len(idx.Sessions))
	for _, name := range idx.Sessions {
		item, err := k.backend.Get(Service, sessionPrefix+name)
		if err != nil {
			continue
		}
		var e protocol.ExportedSession
		if json.Unmarshal([]byte(item), &e) != nil || e.Name != name {
			continue
		}
		out = append(out, e)
	}
	return out, idx.Active, nil
}

// Save stores sessions as the keychain's whole content: one item each, the index naming them and
// active, and deletes the items of sessions stored before that are no longer among them.
func (k *Keychain) Save(sessions []protocol.ExportedSession, active string) error {
	names := make([]string, 0, len(sessions))
	var errs []error
	for _, e := range sessions {
		item, err := json.Marshal(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("session %q: %w", e.Name, err))
			continue
		}
		if err := k.backend.Set(Service, sessionPrefix+e.Name, string(item)); err != nil {
			errs = append(errs, fmt.Errorf("store session %q: %w", e.Name, err))
			continue
		}
		names = append(names, e.Name)
	}
	for _, old := range k.stored {
		if !slices.Contains(names, old) {
			if err := k.backend.Delete(Service, sessionPrefix+old); err != nil && !errors.Is(err, keyring.ErrNotFound) {
				errs = append(errs, fmt.Errorf("delete session %q: %w", old, err))
			}
		}
	}
	raw, _ := json.Marshal(index{Version: 1, Active: active, Sessions: names}) // strings always marshal
	if err := k.backend.Set(Service, indexUser, string(raw)); err != nil {
		errs = append(errs, fmt.Errorf("store the session index: %w", err))
	} else {
		k.stored = names
	}
	return errors.Join(errs...)
}
