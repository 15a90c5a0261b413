package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// iniSections reads a credentials file into section name -> key -> value, written apart from the
// credfile package so that the two check each other.
func iniSections(content string) map[string]map[string]string {
	out := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			name, _, _ := strings.Cut(line[1:], "]")
			cur = map[string]string{}
			out[strings.TrimSpace(name)] = cur
		case cur != nil:
			k, v, _ := strings.Cut(line, "=")
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// mintForProfile mints a GetSessionToken session in p and returns its name and credentials.
func mintForProfile(t *testing.T, p *proc) (string, exported) {
	t.Helper()
	name := storedAs(t, "GetSessionToken", p.invoke("GetSessionToken", nil), "")
	var exp exported
	mustResult(t, p.call("sessions/export", map[string]any{"name": name}), &exp)
	if exp.AccessKeyID == "" || exp.SecretAccessKey == "" {
		t.Fatalf("session %s exported without credentials", name)
	}
	return name, exp
}

// TestWriteProfileConcurrentSidecars has two sidecars write 50 profiles each into one credentials
// file at the same time, every request sent before any answer is read: all 100 must land, the
// file must stay private, and no temporary file may be left (before the lock, 58 of 100 landed).
func TestWriteProfileConcurrentSidecars(t *testing.T) {
	fake := startFake(t)
	file := filepath.Join(t.TempDir(), "shared", "credentials")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("# kept\n[default]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const perSidecar = 50
	type sidecar struct {
		p       *proc
		session string
		creds   exported
		ids     []int64
		chans   []<-chan *message
	}
	sidecars := make([]*sidecar, 2)
	for i := range sidecars {
		p := startServe(t, scratchEnv(t))
		p.initialize(fakeSettings(fake))
		name, creds := mintForProfile(t, p)
		sidecars[i] = &sidecar{p: p, session: name, creds: creds}
	}
	if sidecars[0].creds.AccessKeyID == sidecars[1].creds.AccessKeyID {
		t.Fatal("the two sessions share an access key id, so the file could not show whose write landed")
	}
	for j := range perSidecar {
		for i, s := range sidecars {
			id, ch := s.p.request("sessions/writeProfile", map[string]any{
				"name": s.session, "profile": fmt.Sprintf("s%d-%02d", i, j), "path": file,
			})
			s.ids, s.chans = append(s.ids, id), append(s.chans, ch)
		}
	}
	for i, s := range sidecars {
		for j, id := range s.ids {
			m := s.p.await(id, s.chans[j])
			if m.Error != nil {
				t.Errorf("sidecar %d, write %d: %s", i, j, m.Raw)
			}
		}
	}

	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sections := iniSections(string(b))
	lost := 0
	for i, s := range sidecars {
		for j := range perSidecar {
			got := sections[fmt.Sprintf("s%d-%02d", i, j)]
			if got["aws_access_key_id"] != s.creds.AccessKeyID || got["aws_secret_access_key"] != s.creds.SecretAccessKey ||
				got["aws_session_token"] != s.creds.SessionToken {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d profiles lost or wrong", lost, 2*perSidecar)
	}
	if !strings.HasPrefix(string(b), "# kept\n[default]\nregion = eu-west-1\n") {
		t.Errorf("the file's own content was not kept: %q", tail(string(b), 200))
	}
	if runtime.GOOS != "windows" {
		for _, f := range []string{file, file + ".bak", file + ".lock"} {
			if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, want mode 0600", f, err)
			}
		}
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(file), ".*.tmp-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("temporary files left: %v %v", left, err)
	}
}

// TestWriteProfilePathRules sends sessions/writeProfile paths the sidecar must expand or refuse:
// ~/ is the home directory, a relative path and a symbolic link the environment does not name are
// refused as invalid params, and a refusal changes nothing (before, a relative path was written
// against the working directory and a link's target was replaced and re-moded).
func TestWriteProfilePathRules(t *testing.T) {
	fake := startFake(t)
	env := scratchEnv(t)
	var home, envFile string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
		if v, ok := strings.CutPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE="); ok {
			envFile = v
		}
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "credentials")
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		t.Fatal(err)
	}
	const targetContent = "[default]\nregion = us-east-1\n"
	if err := os.WriteFile(target, []byte(targetContent), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	canLink := os.Symlink(target, link) == nil

	p := startServe(t, env)
	p.initialize(fakeSettings(fake))
	name, creds := mintForProfile(t, p)
	write := func(path string) *message {
		return p.call("sessions/writeProfile", map[string]any{"name": name, "profile": "written", "path": path})
	}

	t.Run("home expanded", func(t *testing.T) {
		var res struct {
			Path string `json:"path"`
		}
		mustResult(t, write("~/sub/credentials"), &res)
		want := filepath.Join(home, "sub", "credentials")
		if res.Path != want {
			t.Errorf("wrote %s, want %s", res.Path, want)
		}
		b, err := os.ReadFile(want)
		if err != nil || iniSections(string(b))["written"]["aws_access_key_id"] != creds.AccessKeyID {
			t.Errorf("%s does not hold the profile: %v", want, err)
		}
	})
	t.Run("relative refused", func(t *testing.T) {
		m := write("creds/credentials")
		_, d := mustError(t, m, -32602)
		if d.Kind != "validation" || !strings.Contains(m.Error.Message, "relative") {
			t.Errorf("the error does not say the path is relative: %s", m.Raw)
		}
		if _, err := os.Stat(filepath.Join(p.cmd.Dir, "creds")); !os.IsNotExist(err) {
			t.Errorf("a relative path was written in the working directory: %v", err)
		}
	})
	t.Run("symlink refused", func(t *testing.T) {
		if !canLink {
			t.Skip("cannot create symlinks here")
		}
		m := write(link)
		_, d := mustError(t, m, -32602)
		if d.Kind != "validation" || !strings.Contains(m.Error.Message, "symbolic link") || !strings.Contains(m.Error.Message, "AWS_SHARED_CREDENTIALS_FILE") {
			t.Errorf("refusal does not explain itself: %s", m.Raw)
		}
		b, err := os.ReadFile(target)
		if err != nil || string(b) != targetContent {
			t.Errorf("the link's target changed: %q %v", b, err)
		}
		if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("the link's target was re-moded: %v %v", fi, err)
		}
	})
	t.Run("symlink named by the environment", func(t *testing.T) {
		if !canLink {
			t.Skip("cannot create symlinks here")
		}
		// The environment's file becomes a link: that one was chosen by the user.
		real := envFile + ".real"
		if err := os.Rename(envFile, real); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, envFile); err != nil {
			t.Fatal(err)
		}
		var res struct {
			Path string `json:"path"`
		}
		mustResult(t, write(envFile), &res)
		if want, _ := filepath.EvalSymlinks(real); res.Path != want {
			t.Errorf("wrote %s, want the link's target %s", res.Path, want)
		}
		if fi, err := os.Lstat(envFile); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", envFile, err)
		}
		b, err := os.ReadFile(real)
		if err != nil || iniSections(string(b))["written"]["aws_access_key_id"] != creds.AccessKeyID {
			t.Errorf("the target does not hold the profile: %v", err)
		}
	})
}
