package credfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The crash test runs TestCrashHelper in a child process, which dies at the rename.
const (
	crashEnv     = "CREDFILE_CRASH_AT_RENAME"
	crashPathEnv = "CREDFILE_CRASH_PATH"
	crashCode    = 3
)

// TestCrashHelper is the child of TestCrashBetweenWriteAndRename: it writes a profile and exits
// with crashCode once the temporary file is complete, before the rename. Run on its own it skips.
func TestCrashHelper(t *testing.T) {
	if os.Getenv(crashEnv) != "1" {
		t.Skip("runs only as the child of TestCrashBetweenWriteAndRename")
	}
	beforeRename = func(string) error {
		os.Exit(crashCode)
		return nil
	}
	_, err := WriteProfile(Options{Path: os.Getenv(crashPathEnv), Profile: "dev"}, tempCreds)
	t.Fatalf("WriteProfile returned (%v) instead of dying at the rename", err)
}

// TestCrashBetweenWriteAndRename kills a real process between the complete temporary file and the
// rename, and checks the old file survives intact and a later write still works.
func TestCrashBetweenWriteAndRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	const before = "# keep me\r\n[default]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\r\naws_secret_access_key = longterm\r\n\r\n[dev]\r\nregion = eu-west-1\r\n"
	writeFile(t, path, before, 0o640)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"=1", crashPathEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != crashCode {
		t.Fatalf("child: %v, want exit status %d\n%s", err, crashCode, out)
	}

	if got := readFile(t, path); got != before {
		t.Fatalf("the crash changed the file:\n%q", got)
	}
	checkMode(t, path, 0o640)
	left := leftovers(t, dir)
	if len(left) != 1 {
		t.Fatalf("want the dead process's one temporary file, got %v", left)
	}
	// The dying process left the new secrets on disk, but readable only by the user.
	checkMode(t, left[0], 0o600)
	if got := readFile(t, left[0]); !strings.Contains(got, tempCreds.SecretAccessKey) || !strings.Contains(got, "# keep me\r\n") {
		t.Errorf("temporary file was not complete when the process died: %q", got)
	}

	res, err := WriteProfile(Options{Path: path, Profile: "dev"}, noToken)
	if err != nil {
		t.Fatalf("write after the crash: %v", err)
	}
	after := readFile(t, path)
	if got, want := credKeys(t, after, "dev"), wantCreds(noToken); got["aws_access_key_id"] != want["aws_access_key_id"] || len(got) != 2 {
		t.Errorf("after the crash the profile holds %v", got)
	}
	if !strings.HasPrefix(after, "# keep me\r\n[default]\r\n") {
		t.Errorf("other profiles lost: %q", after)
	}
	if got := readFile(t, res.Backup); got != before {
		t.Errorf("backup %q, want the file from before the crash", got)
	}
	checkMode(t, path, 0o600)
}
