// Package credfile writes a session's temporary credentials as a named profile into the AWS
// shared credentials file, the INI file the AWS CLI and SDKs read keys from.
//
// The file belongs to the user and often holds other profiles, comments and long-term keys, so
// an edit touches only the three credential keys of one profile: every other profile, comment,
// blank line, line ending and byte of the file is kept as it was. The new file is written to a
// temporary file in the same directory, synced and renamed over the old one, so a crash leaves
// either the old file or the new one, never half of either; the previous file is kept as
// <file>.bak. The file ends with mode 0600 (on Windows, an ACL for the current user alone)
// because it holds secrets.
//
// Writers take turns: each holds the advisory lock file <file>.lock, shared by every goroutine and
// process that writes through this package, while it reads the file, edits it and renames the new
// one into place, so concurrent writes of different profiles all land. A symbolic link is
// written through only when it is the file the user's environment names, and temporary files
// left by a crash are removed by the next write.
package credfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"awsflow-sts/sidecar/internal/awspath"
	"awsflow-sts/sidecar/internal/clip"
	"awsflow-sts/sidecar/internal/protocol"
)

// Credentials are what is written into the profile.
type Credentials struct {
	// AccessKeyID is written as aws_access_key_id.
	AccessKeyID string
	// SecretAccessKey is written as aws_secret_access_key.
	SecretAccessKey string
	// SessionToken is written as aws_session_token; "" removes any aws_session_token line from
	// the profile, since a stale token next to new keys would make every call fail.
	SessionToken string
	// Expiration is informational and not written as a key: the SDKs do not read one from the
	// credentials file, so it would only suggest a guarantee nothing enforces.
	Expiration time.Time
}

// Options say where and what to write.
type Options struct {
	// Path is the credentials file: an absolute path, or one starting with ~/ for the home
	// directory; "" means DefaultPath(), the file the SDKs read. A relative path is refused,
	// since it would depend on the working directory, and so is a symbolic link unless Path is
	// DefaultPath() itself: a link elsewhere could send the secrets to a file nobody chose.
	Path string
	// Profile is the section to write, the bare name the SDKs use in this file (no "profile "
	// prefix, unlike the config file); see ValidProfileName.
	Profile string
	// OverwriteLongTermKeys allows replacing a profile that holds long-term keys (an access key
	// id starting "AKIA" and no aws_session_token). Without it such a profile is refused, because
	// overwriting it would lose keys that cannot be fetched again.
	OverwriteLongTermKeys bool
}

// Result says what happened.
type Result struct {
	// Path is the file written; when Options.Path is a symlink (see Options.Path) this is the
	// real file it points to, which was replaced while the symlink was left in place.
	Path string
	// Created is true when the profile did not exist before and was added.
	Created bool
	// Backup is the path of the copy of the previous file, "" when there was no previous file.
	Backup string
}

// ErrLongTermKeys is wrapped by WriteProfile's error when the target profile holds long-term keys
// and Options.OverwriteLongTermKeys is false; the wrapping error names the profile and the file.
var ErrLongTermKeys = errors.New("the profile holds long-term keys (an AKIA access key id without a session token), " +
	"which cannot be fetched again once overwritten; set OverwriteLongTermKeys to replace them, or choose another profile name")

// maxPath bounds the length of a credentials file path, in bytes, as the common PATH_MAX does, so
// that an absurd path is refused with a short error instead of echoed whole.
const maxPath = 4096

// profileNamePattern is the profile-name rule as one expression, the one the extension checks
// names with before it sends them.
var profileNamePattern = regexp.MustCompile(protocol.ProfileNamePattern)

// beforeRename runs after the temporary credentials file is complete and synced and before it is
// renamed over the real one; an error aborts the write. It exists so tests can fail, or kill the
// process, at the one moment where a crash must leave the old file intact.
var beforeRename = func(tmp string) error { return nil }

// DefaultPath is the credentials file the AWS CLI and SDKs read: $AWS_SHARED_CREDENTIALS_FILE
// (with a leading ~/ expanded, as the SDKs do) when set, else ~/.aws/credentials (both named by
// the protocol package, which the extension reads them from too). It is "" when the variable is
// unset and the home directory is unknown.
func DefaultPath() string {
	if p := os.Getenv(protocol.CredentialsFileEnv); p != "" {
		return awspath.ExpandHome(p)
	}
	if _, err := os.UserHomeDir(); err != nil {
		return ""
	}
	return awspath.ExpandHome(protocol.CredentialsFileDefault)
}

// ValidProfileName says whether name can be written as a section header that the SDKs read back
// as the same name: protocol.ProfileNamePattern, which the extension checks too, decides (1 to
// 128 characters, no [ ] # ; line breaks or other control characters, and no leading or trailing
// spaces, which the SDKs trim so the name would not round-trip); the error says which part a
// refused name breaks.
func ValidProfileName(name string) error {
	if utf8.ValidString(name) && profileNamePattern.MatchString(name) {
		return nil
	}
	if err := profileNameProblem(name); err != nil {
		return err
	}
	// Unreachable while profileNameProblem spells the pattern out (TestProfileNamePatternAgrees).
	return fmt.Errorf("invalid profile name %q; %s", clip.Echo(name), protocol.ProfileNameRule)
}

// profileNameProblem says which part of the rule name breaks, or nil.
func profileNameProblem(name string) error {
	const allowed = protocol.ProfileNameRule
	bad := func(what string) error {
		return fmt.Errorf("invalid profile name %q: %s; %s", clip.Echo(name), what, allowed)
	}
	switch {
	case name == "":
		return fmt.Errorf("invalid profile name: it is empty; %s", allowed)
	case !utf8.ValidString(name):
		return bad("it is not valid UTF-8")
	case utf8.RuneCountInString(name) > protocol.ProfileNameMaxLength:
		return bad(fmt.Sprintf("it is %d characters long", utf8.RuneCountInString(name)))
	case strings.TrimSpace(name) != name:
		return bad("it has leading or trailing spaces")
	}
	for _, r := range name {
		switch {
		case r == '\r' || r == '\n':
			return bad("it contains a line break")
		case strings.ContainsRune(protocol.ProfileNameForbidden, r):
			return bad(fmt.Sprintf("it contains %q", r))
		case unicode.IsControl(r):
			return bad(fmt.Sprintf("it contains the control character %U", r))
		}
	}
	return nil
}

// checkCredentials refuses values that would not read back as written: an empty key, a line break
// that would end the line (and could inject other keys), or surrounding spaces the SDKs would
// trim. The error names the field, never its value, because the values are secrets.
func checkCredentials(c Credentials) error {
	fields := []struct{ name, value string }{
		{"access key id", c.AccessKeyID},
		{"secret access key", c.SecretAccessKey},
		{"session token", c.SessionToken},
	}
	for i, f := range fields {
		switch {
		case f.value == "" && i < 2:
			return fmt.Errorf("the %s is empty", f.name)
		case strings.ContainsAny(f.value, "\r\n"):
			return fmt.Errorf("the %s contains a line break", f.name)
		case strings.TrimSpace(f.value) != f.value:
			return fmt.Errorf("the %s has leading or trailing spaces", f.name)
		}
	}
	return nil
}

// WriteProfile writes creds as the profile opts.Profile of the credentials file at opts.Path.
//
// An existing profile is updated in place: the values of aws_access_key_id,
// aws_secret_access_key and aws_session_token are replaced on their own lines (keeping the
// key's spelling and indentation), missing keys are added after the section's last key line,
// aws_session_token is removed when creds has none, and a legacy aws_security_token line is
// removed so it cannot shadow the new token. Every other line of the section and of the file is
// kept byte for byte. When the file holds the profile more than once, only the first section is
// updated and later ones are left alone; SDKs that merge duplicate sections would still let a
// later section's keys win, so such a file is best tidied by hand. A missing profile is appended
// as a new section, and a missing file (and its directory, mode 0700) is created.
//
// The write is atomic: the new content goes to a temporary file in the same directory, which is
// synced and renamed over the file, and the directory is synced. The previous file is first
// copied to <file>.bak the same way. The file ends with mode 0600. A profile holding long-term
// keys is refused with ErrLongTermKeys unless opts.OverwriteLongTermKeys. Invalid input (a bad
// profile name or credentials, a relative path, a path that is a directory, a symbolic link
// other than DefaultPath()) is refused before anything is written. Errors never contain the
// secret values.
//
// Concurrent calls, in this process or others, are serialised by the lock file <file>.lock and
// each edits the file as the previous one left it. A call that waits 10 seconds for the lock
// without another write landing (30 in all), or (on Windows) cannot replace the file for 2
// seconds because another program holds it open, fails with an error wrapping ErrBusy and
// changes nothing.
func WriteProfile(opts Options, creds Credentials) (Result, error) {
	res, err := writeProfile(opts, creds)
	if err != nil {
		return Result{}, fmt.Errorf("write credentials profile: %w", err)
	}
	return res, nil
}

func writeProfile(opts Options, creds Credentials) (Result, error) {
	if err := ValidProfileName(opts.Profile); err != nil {
		return Result{}, err
	}
	if err := checkCredentials(creds); err != nil {
		return Result{}, err
	}
	path, err := target(opts.Path)
	if err != nil {
		return Result{}, err
	}
	// A refusal the file already calls for is found before the lock file is made, so that it
	// leaves nothing behind; the edit is made again under the lock.
	if _, _, _, _, err := planEdit(path, opts, creds); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Result{}, err
	}
	unlock, err := lockPath(path)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	removeStaleTemps(path)

	// Read under the lock, so the edit starts from what the previous writer left.
	old, existed, data, created, err := planEdit(path, opts, creds)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: path, Created: created}
	if existed {
		res.Backup = path + ".bak"
		if err := writeAtomic(res.Backup, old, nil); err != nil {
			return Result{}, fmt.Errorf("back up the previous file: %w", err)
		}
	}
	if err := writeAtomic(path, data, beforeRename); err != nil {
		return Result{}, err
	}
	return res, nil
}

// target returns the absolute, resolved path of the file to write for Options.Path p, or says
// why p is refused: it is relative or too long, it is a directory or not a regular file, or it
// is a symbolic link the user's environment does not name.
func target(p string) (string, error) {
	def := DefaultPath()
	if p == "" {
		if p = def; p == "" {
			return "", errors.New("no credentials file: the home directory is unknown; set Options.Path or " + protocol.CredentialsFileEnv)
		}
	}
	if len(p) > maxPath {
		return "", fmt.Errorf("the credentials file path is %d bytes long, over the limit of %d", len(p), maxPath)
	}
	p = awspath.ExpandHome(p)
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("the credentials file path %q is relative; give an absolute path, or one starting with ~/ for the home directory", clip.Echo(p))
	}
	p = filepath.Clean(p)
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", err
	case fi.Mode()&fs.ModeSymlink != 0:
		if def == "" || p != filepath.Clean(def) {
			return "", fmt.Errorf("%s is a symbolic link, which is written through only when it is the credentials file "+
				"the AWS tools read (%s, else %s); give the path of the file it points to, or set %[2]s to this path",
				p, protocol.CredentialsFileEnv, protocol.CredentialsFileDefault)
		}
	case fi.IsDir():
		return "", fmt.Errorf("%s is a directory, not a credentials file", p)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("%s is not a regular file", p)
	}
	return resolve(p)
}

// planEdit reads path and returns its content, whether it exists, and the new content with creds
// written as opts.Profile, and whether that profile is new.
func planEdit(path string, opts Options, creds Credentials) (old []byte, existed bool, data []byte, created bool, err error) {
	if old, existed, err = readCurrent(path); err != nil {
		return nil, false, nil, false, err
	}
	if data, created, err = edit(old, opts.Profile, creds, opts.OverwriteLongTermKeys); err != nil {
		return nil, false, nil, false, fmt.Errorf("profile %q in %s: %w", opts.Profile, path, err)
	}
	return old, existed, data, created, nil
}

// readCurrent returns the content of path, a resolved path, and whether it exists. The link
// check is repeated here, under the lock, because the path could have been swapped since target
// looked at it.
func readCurrent(path string) ([]byte, bool, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case fi.IsDir():
		return nil, false, fmt.Errorf("%s is a directory, not a credentials file", path)
	case !fi.Mode().IsRegular():
		return nil, false, fmt.Errorf("%s is not a regular file", path)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	return old, true, nil
}

// resolve returns the absolute path of the file to write: the real file behind any symlinks, so
// that the rename replaces the file and not the link. A dangling link is followed to the file it
// names, which will be created, and a file that does not exist yet is named through the real
// directory when that exists.
func resolve(path string) (string, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for range 64 {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
				return filepath.Join(dir, filepath.Base(path)), nil
			}
			return path, nil
		}
		if err != nil {
			return "", err
		}
		resolved, err := filepath.EvalSymlinks(path)
		if err == nil || fi.Mode()&fs.ModeSymlink == 0 || !errors.Is(err, fs.ErrNotExist) {
			return resolved, err
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}
