package credfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyValue is one "key = value" line of a section.
type KeyValue struct {
	// Key is written as it is.
	Key string
	// Value is written as it is, after " = ".
	Value string
}

// ErrSectionExists is wrapped by AddSection's error when the file already has a section of that
// name.
var ErrSectionExists = errors.New("the section already exists")

// AddSection returns old, an INI file the AWS tools read (the shared config file), with the
// section [header] and its keys added at the end, the way WriteProfile adds a profile: every byte
// of old is kept, and the new lines take old's line endings. It refuses a header whose name part
// (after a "profile " or "sso-session " prefix) breaks ValidProfileName, a key or value that would
// not read back as written (empty, line breaks, surrounding spaces, a key with "=" or "["), and a
// header old already has (ErrSectionExists).
func AddSection(old []byte, header string, keys []KeyValue) ([]byte, error) {
	name := header
	for _, prefix := range []string{"profile ", "sso-session ", "services "} {
		if rest, ok := strings.CutPrefix(header, prefix); ok {
			name = rest
			break
		}
	}
	if err := ValidProfileName(name); err != nil {
		return nil, err
	}
	for _, kv := range keys {
		switch {
		case kv.Key == "" || strings.ContainsAny(kv.Key, "=[]#;\r\n \t"):
			return nil, fmt.Errorf("the key %q cannot be written", kv.Key)
		case kv.Value == "" || strings.ContainsAny(kv.Value, "\r\n") || strings.TrimSpace(kv.Value) != kv.Value:
			return nil, fmt.Errorf("the value of %s is empty, has a line break or surrounding spaces", kv.Key)
		}
	}
	lines := splitLines(old)
	if start, _ := findSection(lines, header); start >= 0 {
		return nil, fmt.Errorf("[%s]: %w", header, ErrSectionExists)
	}
	nl := newline(old)
	want := make([]line, 0, len(keys))
	for _, kv := range keys {
		want = append(want, line{text: kv.Key + " = " + kv.Value, eol: nl})
	}
	return appendSection(old, lines, header, want, nl), nil
}

// EditFile changes the file at path, an absolute path, as WriteProfile changes the credentials
// file: under the lock file path+".lock" (shared by every writer in this process and others), it
// reads the file (nil and false when it does not exist), passes its content to edit, and replaces
// the file atomically with what edit returns, mode 0600 (its directory is made, mode 0700, if
// missing). A symbolic link is written through to the file it names. When edit returns nil data
// and no error, nothing is written. No backup is kept.
func EditFile(path string, edit func(old []byte, existed bool) ([]byte, error)) error {
	path, err := absolute(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	unlock, err := lockPath(path)
	if err != nil {
		return err
	}
	defer unlock()
	removeStaleTemps(path)
	old, existed, err := readCurrent(path)
	if err != nil {
		return err
	}
	data, err := edit(old, existed)
	if err != nil || data == nil {
		return err
	}
	return writeAtomic(path, data, nil)
}

// WriteFile replaces the file at path, an absolute path, with data: atomically, mode 0600, under
// its lock, as EditFile does.
func WriteFile(path string, data []byte) error {
	return EditFile(path, func([]byte, bool) ([]byte, error) { return data, nil })
}

// RemoveFile removes the file at path, an absolute path, under its lock, and reports whether it
// existed. The lock file stays beside it, as it always does.
func RemoveFile(path string) (bool, error) {
	path, err := absolute(path)
	if err != nil {
		return false, err
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	unlock, err := lockPath(path)
	if err != nil {
		return false, err
	}
	defer unlock()
	removeStaleTemps(path)
	err = os.Remove(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, syncDir(filepath.Dir(path))
}

// absolute checks that path is absolute and not absurdly long, and resolves its symbolic links.
func absolute(path string) (string, error) {
	if len(path) > maxPath {
		return "", fmt.Errorf("the path is %d bytes long, over the limit of %d", len(path), maxPath)
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("the path %q is relative", path)
	}
	path, err := resolve(filepath.Clean(path))
	if err != nil {
		return "", err
	}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	return path, nil
}
