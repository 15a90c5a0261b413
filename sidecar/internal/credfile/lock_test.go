package credfile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// credsFor are distinct credentials for the i-th profile a test writes.
func credsFor(prefix string, i int) Credentials {
	return Credentials{
		AccessKeyID:     fmt.Sprintf("ASIA%s%04d", strings.ToUpper(prefix), i),
		SecretAccessKey: fmt.Sprintf("secret/%s/%d", prefix, i),
		SessionToken:    fmt.Sprintf("token//%s/%d=", prefix, i),
	}
}

// checkAllProfiles fails unless the file at path holds profile prefix-i with credsFor(prefix, i)
// for every prefix and every i below n, and no temporary file is left beside it.
func checkAllProfiles(t *testing.T, path string, prefixes []string, n int) {
	t.Helper()
	content := readFile(t, path)
	missing := 0
	for _, prefix := range prefixes {
		for i := range n {
			name := fmt.Sprintf("%s-%02d", prefix, i)
			got, want := credKeys(t, content, name), wantCreds(credsFor(prefix, i))
			if got["aws_access_key_id"] != want["aws_access_key_id"] || got["aws_secret_access_key"] != want["aws_secret_access_key"] ||
				got["aws_session_token"] != want["aws_session_token"] {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d profiles lost or wrong:\n%s", missing, len(prefixes)*n, content)
	}
	checkMode(t, path, 0o600)
	if left := leftovers(t, filepath.Dir(path)); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestConcurrentWritersInProcess has 20 goroutines write 20 profiles into one file at once; every
// write must land (without the lock, most were lost to a rename from an older read).
func TestConcurrentWritersInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, "# mine\n[default]\nregion = eu-west-1\n", 0o600)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = WriteProfile(Options{Path: path, Profile: fmt.Sprintf("g-%02d", i)}, credsFor("g", i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	checkAllProfiles(t, path, []string{"g"}, n)
	if got := readFile(t, path); !strings.HasPrefix(got, "# mine\n[default]\nregion = eu-west-1\n") {
		t.Errorf("the file's own content was not kept: %q", got)
	}
	pathLocks.Lock()
	defer pathLocks.Unlock()
	if len(pathLocks.m) != 0 {
		t.Errorf("per-file mutexes left behind: %v", pathLocks.m)
	}
}

// The cross-process test runs TestConcurrentWriterHelper in child processes.
const (
	writerEnv       = "CREDFILE_TEST_WRITER"
	writerPathEnv   = "CREDFILE_TEST_WRITER_PATH"
	writerPrefixEnv = "CREDFILE_TEST_WRITER_PREFIX"
	writerCountEnv  = "CREDFILE_TEST_WRITER_COUNT"
)

// TestConcurrentWriterHelper is a child of TestConcurrentWritersAcrossProcesses: it writes its
// profiles one after the other. Run on its own it skips.
func TestConcurrentWriterHelper(t *testing.T) {
	if os.Getenv(writerEnv) != "1" {
		t.Skip("runs only as a child of TestConcurrentWritersAcrossProcesses")
	}
	n, err := strconv.Atoi(os.Getenv(writerCountEnv))
	if err != nil {
		t.Fatal(err)
	}
	prefix := os.Getenv(writerPrefixEnv)
	for i := range n {
		if _, err := WriteProfile(Options{Path: os.Getenv(writerPathEnv), Profile: fmt.Sprintf("%s-%02d", prefix, i)}, credsFor(prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConcurrentWritersAcrossProcesses has two processes write 50 profiles each into one file at
// the same time; all 100 must land (without the lock, about 40 were lost).
func TestConcurrentWritersAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	const n = 50
	prefixes := []string{"a", "b"}
	cmds := make([]*exec.Cmd, len(prefixes))
	outs := make([]strings.Builder, len(prefixes))
	for i, prefix := range prefixes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentWriterHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerEnv+"=1", writerPathEnv+"="+path, writerPrefixEnv+"="+prefix, writerCountEnv+"="+strconv.Itoa(n))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %s: %v\n%s", prefixes[i], err, outs[i].String())
		}
	}
	checkAllProfiles(t, path, prefixes, n)
}

// TestLockFileBusy gives up on a lock another holder keeps, with ErrBusy, and waits on while the
// file keeps changing.
func TestLockFileBusy(t *testing.T) {
	name := filepath.Join(t.TempDir(), "credentials.lock")
	held, err := lockFile(name, 0, 0, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	t.Run("no progress", func(t *testing.T) {
		_, err := lockFile(name, 50*time.Millisecond, time.Minute, func() bool { return false })
		if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "locked by another process") {
			t.Fatalf("got %v, want ErrBusy saying the file is locked", err)
		}
	})
	t.Run("progress until the limit", func(t *testing.T) {
		calls := 0
		_, err := lockFile(name, 20*time.Millisecond, 300*time.Millisecond, func() bool { calls++; return true })
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("got %v, want ErrBusy once the limit passed", err)
		}
		// With progress the 20 ms wait alone would have ended it after a handful of polls.
		if calls < 10 {
			t.Errorf("gave up after %d polls despite progress", calls)
		}
	})
	t.Run("released", func(t *testing.T) {
		other, err := lockFile(name, 0, 0, func() bool { return false })
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("got %v before the release", err)
		}
		held.Close()
		if other, err = lockFile(name, time.Second, time.Second, func() bool { return false }); err != nil {
			t.Fatalf("after the release: %v", err)
		}
		other.Close()
	})
	checkMode(t, name, 0o600)
}

// TestWriteProfileWaitsForLock holds the file's lock as another process would, and checks that a
// write waits for it rather than writing alongside, then lands.
func TestWriteProfileWaitsForLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	held, err := lockFile(path+".lock", 0, 0, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := WriteProfile(Options{Path: path, Profile: "dev"}, tempCreds)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the write did not wait for the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file was written while locked: %v", err)
	}
	held.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the write did not finish after the lock was released")
	}
	if got := credKeys(t, readFile(t, path), "dev"); got["aws_access_key_id"] != tempCreds.AccessKeyID {
		t.Errorf("got %v", got)
	}
}

// TestReplaceRetries retries a replace that fails because another program holds the file, as
// Windows does while the AWS CLI reads it, and reports ErrBusy when it never frees up.
func TestReplaceRetries(t *testing.T) {
	errHeld := errors.New("Access is denied.")
	busy := func(err error) bool { return errors.Is(err, errHeld) }
	tests := []struct {
		name     string
		failures int   // how many calls fail before one succeeds; -1 for all
		err      error // what a failing call returns
		wantBusy bool
		wantErr  bool
		maxCalls int // 0 for no bound
	}{
		{name: "free at once", failures: 0},
		{name: "free after three tries", failures: 3},
		{name: "never free", failures: -1, err: errHeld, wantErr: true, wantBusy: true},
		{name: "another error is not retried", failures: -1, err: errors.New("no space left on device"), wantErr: true, maxCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			rename := func(oldpath, newpath string) error {
				calls++
				if oldpath != "tmp" || newpath != "credentials" {
					t.Errorf("renamed %s to %s", oldpath, newpath)
				}
				if tt.failures < 0 || calls <= tt.failures {
					if tt.err != nil {
						return tt.err
					}
					return errHeld
				}
				return nil
			}
			err := replace(rename, busy, "tmp", "credentials", 300*time.Millisecond)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got %v", err)
			}
			if errors.Is(err, ErrBusy) != tt.wantBusy {
				t.Errorf("got %v, want ErrBusy %v", err, tt.wantBusy)
			}
			if tt.wantBusy && !strings.Contains(err.Error(), "in use by another program") {
				t.Errorf("error %q does not say the file is in use", err)
			}
			if !tt.wantErr && calls != tt.failures+1 {
				t.Errorf("%d calls, want %d", calls, tt.failures+1)
			}
			if tt.wantBusy && calls < 3 {
				t.Errorf("gave up after %d calls", calls)
			}
			if tt.maxCalls > 0 && calls > tt.maxCalls {
				t.Errorf("%d calls, want at most %d", calls, tt.maxCalls)
			}
		})
	}
}

// TestWriteProfilePaths expands ~ and refuses relative and absurd paths before touching anything.
func TestWriteProfilePaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "")
	work := t.TempDir()
	t.Chdir(work)
	tests := []struct {
		path     string
		want     string // the file written, or "" when refused
		errMatch string
	}{
		{path: "~/creds/credentials", want: filepath.Join(home, "creds", "credentials")},
		{path: "", want: filepath.Join(home, ".aws", "credentials")},
		{path: "~", errMatch: "is a directory"},
		{path: "credentials", errMatch: "is relative"},
		{path: "./x/credentials", errMatch: "is relative"},
		{path: "~bob/credentials", errMatch: "is relative"},
		{path: "/" + strings.Repeat("a", maxPath), errMatch: "bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.path[:min(len(tt.path), 30)], func(t *testing.T) {
			res, err := WriteProfile(Options{Path: tt.path, Profile: "dev"}, tempCreds)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("got %v, want an error saying %q", err, tt.errMatch)
				}
				if len(err.Error()) > 600 {
					t.Errorf("error is %d bytes long", len(err.Error()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Path != tt.want {
				t.Errorf("wrote %s, want %s", res.Path, tt.want)
			}
			if got := credKeys(t, readFile(t, tt.want), "dev"); got["aws_access_key_id"] != tempCreds.AccessKeyID {
				t.Errorf("got %v", got)
			}
		})
	}
	if names := dirNames(t, work); len(names) != 0 {
		t.Errorf("the working directory holds %v (a relative path was written)", names)
	}
	if names := dirNames(t, home); !slices.Equal(names, []string{".aws", "creds"}) {
		t.Errorf("home holds %v", names)
	}
}

// TestStaleTempsRemoved removes the temporary files a crashed write left, and only those: not a
// fresh one that a writer without the lock may still be writing, and not other files.
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	writeFile(t, path, "[default]\nregion = us-east-1\n", 0o600)
	old := time.Now().Add(-time.Hour)
	files := map[string]bool{ // name: whether it must be removed
		".credentials.tmp-123456":     true,
		".credentials.bak.tmp-987":    true,
		".credentials.tmp-42":         false, // fresh
		".credentials.tmp-notours":    false,
		".other.tmp-123":              false,
		"credentials.tmp-123":         false,
		".credentials.tmp-":           false,
		".credentials.tmp-12.keep-me": false,
	}
	for name := range files {
		writeFile(t, filepath.Join(dir, name), "aws_secret_access_key = leaked\n", 0o600)
		if name != ".credentials.tmp-42" {
			if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := WriteProfile(Options{Path: path, Profile: "dev"}, tempCreds); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := errors.Is(err, os.ErrNotExist); gone != removed {
			t.Errorf("%s removed: %v, want %v", name, gone, removed)
		}
	}
}
