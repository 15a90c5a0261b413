package credfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The test's own reading of a credentials file, written apart from the package's parser so that
// the two check each other.

// rawLines splits s into lines that keep their endings; joined, they give s back.
func rawLines(s string) []string {
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// textOf is a raw line without its ending.
func textOf(raw string) string {
	return strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
}

// headerOf returns the section name of a header line.
func headerOf(raw string) (string, bool) {
	t := strings.TrimSpace(strings.TrimPrefix(textOf(raw), "\ufeff"))
	if !strings.HasPrefix(t, "[") {
		return "", false
	}
	name, _, ok := strings.Cut(t[1:], "]")
	return strings.TrimSpace(name), ok
}

// keyOf returns the lower-cased key and trimmed value of a key line.
func keyOf(raw string) (key, value string, ok bool) {
	t := strings.TrimSpace(textOf(raw))
	if t == "" || strings.ContainsRune("#;[", rune(t[0])) {
		return "", "", false
	}
	k, v, ok := strings.Cut(t, "=")
	return strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v), ok
}

// isCredKey is true for the keys WriteProfile owns within its section.
func isCredKey(key string) bool {
	switch key {
	case "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token":
		return true
	}
	return false
}

// section returns the line range [start, end) of the first section called name, or -1, -1.
func section(lines []string, name string) (start, end int) {
	start = -1
	for i, l := range lines {
		h, ok := headerOf(l)
		if !ok {
			continue
		}
		if start >= 0 {
			return start, i
		}
		if h == name {
			start = i
		}
	}
	if start < 0 {
		return -1, -1
	}
	return start, len(lines)
}

// profileKeys returns every key = value of the first section called name, in order.
func profileKeys(content, name string) [][2]string {
	lines := rawLines(content)
	start, end := section(lines, name)
	if start < 0 {
		return nil
	}
	var out [][2]string
	for _, l := range lines[start+1 : end] {
		if k, v, ok := keyOf(l); ok {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// credKeys returns the credential keys of the first section called name, failing on a repeat.
func credKeys(t *testing.T, content, name string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, kv := range profileKeys(content, name) {
		if !isCredKey(kv[0]) {
			continue
		}
		if _, dup := got[kv[0]]; dup {
			t.Errorf("profile %q has %s twice:\n%s", name, kv[0], content)
		}
		got[kv[0]] = kv[1]
	}
	return got
}

// wantCreds is what credKeys returns after c was written.
func wantCreds(c Credentials) map[string]string {
	m := map[string]string{"aws_access_key_id": c.AccessKeyID, "aws_secret_access_key": c.SecretAccessKey}
	if c.SessionToken != "" {
		m["aws_session_token"] = c.SessionToken
	}
	return m
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	// WriteFile only sets the mode of a new file, and the umask may have narrowed it.
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// checkMode fails unless path has permission bits perm; Windows has no such bits.
func checkMode(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != perm {
		t.Errorf("%s has mode %v, want %v", path, got, perm)
	}
}

// leftovers lists the temporary files WriteProfile left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// dirNames lists dir, to show that a refused write changed nothing.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// setHook replaces beforeRename for the rest of the test.
func setHook(t *testing.T, hook func(tmp string) error) {
	t.Helper()
	old := beforeRename
	beforeRename = hook
	t.Cleanup(func() { beforeRename = old })
}

// wantOutside is what outside(after, profile) must be once profile was written into before: the
// same lines, and when the section was added, the old last line ended (in the file's line ending)
// and followed by a blank line.
func wantOutside(before, profile string, added bool) []string {
	want := outside(before, profile)
	if !added || len(want) == 0 {
		return want
	}
	nl := "\n"
	if strings.Contains(before, "\r\n") {
		nl = "\r\n"
	}
	last := &want[len(want)-1]
	if !strings.HasSuffix(*last, "\n") {
		*last += nl
	}
	if strings.TrimSpace(*last) != "" {
		want = append(want, nl)
	}
	return want
}
