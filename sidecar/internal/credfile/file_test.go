package credfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddSectionKeepsEveryByte(t *testing.T) {
	keys := []KeyValue{{"sso_start_url", "https://x.awsapps.com/start"}, {"sso_region", "eu-west-1"}}
	for _, old := range []string{"", "[default]\r\nregion = us-east-1\r\n", "# only a comment", "[profile a]\nx = 1\n\n"} {
		got, err := AddSection([]byte(old), "sso-session corp", keys)
		if err != nil {
			t.Fatalf("%q: %v", old, err)
		}
		if !bytes.HasPrefix(got, []byte(old)) {
			t.Errorf("%q: the old bytes changed: %q", old, got)
		}
		nl := "\n"
		if strings.Contains(old, "\r\n") {
			nl = "\r\n"
		}
		if !strings.HasSuffix(string(got), "[sso-session corp]"+nl+"sso_start_url = https://x.awsapps.com/start"+nl+"sso_region = eu-west-1"+nl) {
			t.Errorf("%q: added %q", old, got[len(old):])
		}
	}
}

func TestAddSectionRefuses(t *testing.T) {
	old := []byte("[sso-session corp]\nsso_region = us-east-1\n")
	if _, err := AddSection(old, "sso-session corp", nil); !errors.Is(err, ErrSectionExists) {
		t.Errorf("an existing section: %v", err)
	}
	for _, c := range []struct {
		header string
		kv     KeyValue
	}{
		{"sso-session a]b", KeyValue{"k", "v"}},
		{"sso-session ok", KeyValue{"k", "v\nsso_start_url = https://evil"}},
		{"sso-session ok", KeyValue{"k=x", "v"}},
		{"sso-session ok", KeyValue{"k", " v"}},
		{"sso-session ok", KeyValue{"k", ""}},
	} {
		if _, err := AddSection(nil, c.header, []KeyValue{c.kv}); err == nil {
			t.Errorf("%q %q was written", c.header, c.kv)
		}
	}
}

func TestEditWriteRemoveFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f.json")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi, err)
	}
	if d, _ := os.Stat(filepath.Dir(path)); d.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", d.Mode().Perm())
	}
	err = EditFile(path, func(old []byte, existed bool) ([]byte, error) {
		if !existed || string(old) != "one" {
			t.Errorf("edit saw %q %v", old, existed)
		}
		return nil, nil // no change
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Errorf("a nil edit wrote %q", b)
	}
	if err := EditFile("relative/path", func([]byte, bool) ([]byte, error) { return []byte("x"), nil }); err == nil {
		t.Error("a relative path was written")
	}
	removed, err := RemoveFile(path)
	if err != nil || !removed {
		t.Fatalf("remove: %v %v", removed, err)
	}
	if removed, err := RemoveFile(path); err != nil || removed {
		t.Errorf("a second remove: %v %v", removed, err)
	}
}
