package credfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var (
	tempCreds = Credentials{AccessKeyID: "ASIANEWKEY0000000001", SecretAccessKey: "newSecret/abc+123", SessionToken: "newToken//xyz="}
	noToken   = Credentials{AccessKeyID: "ASIANEWKEY0000000002", SecretAccessKey: "otherSecret/def+456"}
)

// TestWriteProfileEdits checks the exact bytes written for the shapes of file the package must
// handle.
func TestWriteProfileEdits(t *testing.T) {
	tests := []struct {
		name, before string
		creds        Credentials
		want         string
		created      bool
	}{{
		name:    "empty file",
		before:  "",
		creds:   tempCreds,
		want:    "[dev]\naws_access_key_id = ASIANEWKEY0000000001\naws_secret_access_key = newSecret/abc+123\naws_session_token = newToken//xyz=\n",
		created: true,
	}, {
		name:    "append after a file without a final newline",
		before:  "[default]\nregion = us-east-1",
		creds:   noToken,
		want:    "[default]\nregion = us-east-1\n\n[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n",
		created: true,
	}, {
		name:    "append after a file ending in a blank line",
		before:  "# mine\n\n",
		creds:   noToken,
		want:    "# mine\n\n[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n",
		created: true,
	}, {
		name:   "CRLF file gets CRLF lines",
		before: "[default]\r\nregion = us-east-1\r\n",
		creds:  tempCreds,
		want: "[default]\r\nregion = us-east-1\r\n\r\n[dev]\r\naws_access_key_id = ASIANEWKEY0000000001\r\n" +
			"aws_secret_access_key = newSecret/abc+123\r\naws_session_token = newToken//xyz=\r\n",
		created: true,
	}, {
		name:   "replace in place keeping spelling, indentation and other lines",
		before: "[dev] # work\r\n  AWS_Access_Key_ID=ASIAOLD\r\nregion = eu-west-1 ; ünï\r\naws_secret_access_key   =   old\r\n\r\n[prod]\r\naws_access_key_id = AKIAPROD\r\n",
		creds:  tempCreds,
		want: "[dev] # work\r\n  AWS_Access_Key_ID = ASIANEWKEY0000000001\r\nregion = eu-west-1 ; ünï\r\naws_secret_access_key = newSecret/abc+123\r\n" +
			"aws_session_token = newToken//xyz=\r\n\r\n[prod]\r\naws_access_key_id = AKIAPROD\r\n",
	}, {
		name:   "missing keys go after the last key line, before trailing blanks and comments",
		before: "[dev]\nregion = x\n\n# about prod\n[prod]\noutput = json\n",
		creds:  tempCreds,
		want: "[dev]\nregion = x\naws_access_key_id = ASIANEWKEY0000000001\naws_secret_access_key = newSecret/abc+123\n" +
			"aws_session_token = newToken//xyz=\n\n# about prod\n[prod]\noutput = json\n",
	}, {
		name:   "empty section gets the keys after its header",
		before: "[ dev ]\n; nothing yet\n[prod]\n",
		creds:  noToken,
		want:   "[ dev ]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n; nothing yet\n[prod]\n",
	}, {
		name:   "no token removes the token and the legacy security token",
		before: "[dev]\naws_access_key_id = ASIAOLD\naws_session_token = old\naws_secret_access_key = old\naws_security_token = old\n",
		creds:  noToken,
		want:   "[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n",
	}, {
		name:   "a repeated key inside the section is dropped",
		before: "[dev]\naws_access_key_id = ASIAOLD\naws_access_key_id = ASIAOLDER\naws_secret_access_key = old\n",
		creds:  noToken,
		want:   "[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n",
	}, {
		name:   "only the first of duplicate sections is updated",
		before: "[dev]\naws_access_key_id = ASIAONE\n[dev]\naws_access_key_id = ASIATWO\n",
		creds:  noToken,
		want:   "[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n[dev]\naws_access_key_id = ASIATWO\n",
	}, {
		name:   "last section without a final newline",
		before: "[dev]\naws_access_key_id = ASIAOLD",
		creds:  tempCreds,
		want:   "[dev]\naws_access_key_id = ASIANEWKEY0000000001\naws_secret_access_key = newSecret/abc+123\naws_session_token = newToken//xyz=\n",
	}, {
		name:   "replaced last line keeps its missing newline",
		before: "[dev]\naws_session_token = old\naws_secret_access_key = old\naws_access_key_id = ASIAOLD",
		creds:  tempCreds,
		want:   "[dev]\naws_session_token = newToken//xyz=\naws_secret_access_key = newSecret/abc+123\naws_access_key_id = ASIANEWKEY0000000001",
	}, {
		name:   "similar names are other profiles",
		before: "[dev2]\naws_access_key_id = A\n[profile dev]\naws_access_key_id = B\n[Dev]\naws_access_key_id = C\n",
		creds:  noToken,
		want: "[dev2]\naws_access_key_id = A\n[profile dev]\naws_access_key_id = B\n[Dev]\naws_access_key_id = C\n\n" +
			"[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n",
		created: true,
	}, {
		name:   "byte-order mark before the first header",
		before: "\ufeff[dev]\naws_access_key_id = ASIAOLD\n",
		creds:  noToken,
		want:   "\ufeff[dev]\naws_access_key_id = ASIANEWKEY0000000002\naws_secret_access_key = otherSecret/def+456\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credentials")
			writeFile(t, path, tt.before, 0o600)
			res, err := WriteProfile(Options{Path: path, Profile: "dev"}, tt.creds)
			if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
			if res.Created != tt.created || res.Path != path || res.Backup != path+".bak" {
				t.Errorf("result %+v", res)
			}
			if got := readFile(t, res.Backup); got != tt.before {
				t.Errorf("backup %q, want %q", got, tt.before)
			}
		})
	}
}

// TestWriteProfileNewFile creates the file and its directory, both private.
func TestWriteProfileNewFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home", ".aws")
	path := filepath.Join(dir, "credentials")
	res, err := WriteProfile(Options{Path: path, Profile: "dev"}, tempCreds)
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Path: path, Created: true}) {
		t.Errorf("result %+v", res)
	}
	want := "[dev]\naws_access_key_id = ASIANEWKEY0000000001\naws_secret_access_key = newSecret/abc+123\naws_session_token = newToken//xyz=\n"
	if got := readFile(t, path); got != want {
		t.Errorf("got %q", got)
	}
	checkMode(t, path, 0o600)
	checkMode(t, dir, 0o700)
	if names := dirNames(t, dir); !slices.Equal(names, []string{"credentials", "credentials.lock"}) {
		t.Errorf("directory holds %v, want only the credentials file and its lock file", names)
	}
	checkMode(t, path+".lock", 0o600)
}

// TestWriteProfileMakesFilePrivate narrows a 0644 file to 0600.
func TestWriteProfileMakesFilePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	writeFile(t, path, "[default]\nregion = us-east-1\n", 0o644)
	if _, err := WriteProfile(Options{Path: path, Profile: "dev"}, tempCreds); err != nil {
		t.Fatal(err)
	}
	checkMode(t, path, 0o600)
	checkMode(t, path+".bak", 0o600)
}

// TestWriteProfileSymlink writes through a symlink to the real file, leaving the link a link, only
// when the link is the file the user's environment names; any other link is refused and its target
// left exactly as it was, mode included.
func TestWriteProfileSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("creating symlinks needs a privilege on Windows")
	}
	const before = "[default]\nregion = us-east-1\n"
	tests := []struct {
		name     string
		dangling bool
		// env is AWS_SHARED_CREDENTIALS_FILE, with LINK standing for the link's path.
		env     string
		refused bool
	}{
		{name: "named by AWS_SHARED_CREDENTIALS_FILE", env: "LINK"},
		{name: "dangling, named by AWS_SHARED_CREDENTIALS_FILE", dangling: true, env: "LINK"},
		{name: "not named", env: "", refused: true},
		{name: "another file named", env: "OTHER", refused: true},
		{name: "dangling, not named", dangling: true, env: "", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			dir := t.TempDir()
			realFile := filepath.Join(dir, "dotfiles", "aws-credentials")
			if err := os.MkdirAll(filepath.Dir(realFile), 0o700); err != nil {
				t.Fatal(err)
			}
			if !tt.dangling {
				writeFile(t, realFile, before, 0o644)
			}
			link := filepath.Join(dir, "credentials")
			if err := os.Symlink(filepath.Join("dotfiles", "aws-credentials"), link); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", strings.NewReplacer("LINK", link, "OTHER", filepath.Join(dir, "other")).Replace(tt.env))

			res, err := WriteProfile(Options{Path: link, Profile: "dev"}, tempCreds)
			if fi, lerr := os.Lstat(link); lerr != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%s is no longer a symlink: %v %v", link, fi, lerr)
			}
			if tt.refused {
				if err == nil || !strings.Contains(err.Error(), "is a symbolic link") || !strings.Contains(err.Error(), "AWS_SHARED_CREDENTIALS_FILE") {
					t.Fatalf("got %v, want the symlink refused with a way out", err)
				}
				if names := dirNames(t, dir); !slices.Equal(names, []string{"credentials", "dotfiles"}) {
					t.Errorf("refused write left %v", names)
				}
				if tt.dangling {
					if _, err := os.Lstat(realFile); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("refused write created the link's target: %v", err)
					}
					return
				}
				if got := readFile(t, realFile); got != before {
					t.Errorf("refused write changed the target: %q", got)
				}
				checkMode(t, realFile, 0o644)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantRealFile := filepath.Join(evalDir(t, filepath.Dir(realFile)), "aws-credentials")
			wantBackup := ""
			if !tt.dangling {
				wantBackup = wantRealFile + ".bak"
			}
			if res.Path != wantRealFile || res.Backup != wantBackup || !res.Created {
				t.Errorf("result %+v, want the real file %s", res, wantRealFile)
			}
			if got := credKeys(t, readFile(t, link), "dev"); got["aws_secret_access_key"] != tempCreds.SecretAccessKey {
				t.Errorf("real file not updated: %v", got)
			}
			checkMode(t, realFile, 0o600)
		})
	}
}

// evalDir is dir with its symlinks resolved (t.TempDir is under one on macOS).
func evalDir(t *testing.T, dir string) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWriteProfileLongTermKeys refuses to overwrite long-term keys unless asked to.
func TestWriteProfileLongTermKeys(t *testing.T) {
	const before = "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	tests := []struct {
		name, before string
		refused      bool
	}{
		{"long-term keys", before, true},
		{"long-term keys with an empty token", before + "aws_session_token =\n", true},
		{"AKIA with a token is temporary", before + "aws_session_token = tok\n", false},
		{"ASIA without a token", "[dev]\naws_access_key_id = ASIAOLD\n", false},
		{"long-term keys in another profile", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials")
			writeFile(t, path, tt.before, 0o600)
			_, err := WriteProfile(Options{Path: path, Profile: "dev"}, tempCreds)
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrLongTermKeys) {
				t.Fatalf("got %v, want ErrLongTermKeys", err)
			}
			for _, want := range []string{`"dev"`, "OverwriteLongTermKeys", "another profile name", "write credentials profile: "} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "wJalrXUtnFEMI") {
				t.Errorf("error carries the old secret: %v", err)
			}
			if got := readFile(t, path); got != tt.before {
				t.Errorf("refused write changed the file: %q", got)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("refused write left %v", names)
			}

			res, err := WriteProfile(Options{Path: path, Profile: "dev", OverwriteLongTermKeys: true}, tempCreds)
			if err != nil {
				t.Fatal(err)
			}
			if got := credKeys(t, readFile(t, path), "dev"); got["aws_access_key_id"] != tempCreds.AccessKeyID {
				t.Errorf("keys not replaced: %v", got)
			}
			if got := readFile(t, res.Backup); got != tt.before {
				t.Errorf("backup %q does not keep the long-term keys", got)
			}
		})
	}
}

// TestValidProfileName accepts the names the SDKs read back unchanged and explains the rest.
func TestValidProfileName(t *testing.T) {
	for _, name := range []string{"dev", "default", "my profile", "team.dev-1_2", "ünïcødé", "a=b", "profile dev",
		strings.Repeat("x", 128), strings.Repeat("é", 128)} {
		if err := ValidProfileName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	tests := []struct{ name, says string }{
		{"", "empty"},
		{strings.Repeat("x", 129), "129 characters"},
		{" dev", "leading or trailing spaces"},
		{"dev\t", "leading or trailing spaces"},
		{"de[v", `'['`},
		{"dev]", `']'`},
		{"dev#1", `'#'`},
		{"dev;1", `';'`},
		{"dev\nx", "line break"},
		{"dev\rx", "line break"},
		{"de\x00v", "control character"},
		{"de\xffv", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.says, func(t *testing.T) {
			err := ValidProfileName(tt.name)
			if err == nil {
				t.Fatalf("%q accepted", tt.name)
			}
			for _, want := range []string{tt.says, "1 to 128 characters"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}

			dir := t.TempDir()
			path := filepath.Join(dir, "aws", "credentials")
			if _, err := WriteProfile(Options{Path: path, Profile: tt.name}, tempCreds); err == nil {
				t.Fatal("WriteProfile accepted the name")
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("a refused write created %v", names)
			}
		})
	}
}

// TestWriteProfileRefusesDirectory refuses a path that is a directory and leaves it alone.
func TestWriteProfileRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := WriteProfile(Options{Path: dir, Profile: "dev"}, tempCreds)
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("got %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("refused write created %v", names)
	}
	if names := dirNames(t, filepath.Dir(dir)); len(names) != 1 {
		t.Errorf("refused write created %v beside the directory", names)
	}
}

// TestDefaultPath follows AWS_SHARED_CREDENTIALS_FILE and falls back to ~/.aws/credentials.
func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	tests := []struct{ env, want string }{
		{"", filepath.Join(home, ".aws", "credentials")},
		{"/etc/aws/creds", "/etc/aws/creds"},
		{"~/work/credentials", filepath.Join(home, "work", "credentials")},
		{"~", home},
		{"~bob/credentials", "~bob/credentials"},
		{"relative/credentials", "relative/credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", tt.env)
			if got := DefaultPath(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("used when Options.Path is empty", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "from-env")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", path)
		res, err := WriteProfile(Options{Profile: "dev"}, tempCreds)
		if err != nil {
			t.Fatal(err)
		}
		if res.Path != path {
			t.Errorf("wrote %s, want %s", res.Path, path)
		}
	})
}

// TestErrorsNeverCarrySecrets fails every way it can and checks no error shows a secret.
func TestErrorsNeverCarrySecrets(t *testing.T) {
	const secret, token = "SuperSecretValue/0123+abc", "SessionTokenValue//987="
	creds := Credentials{AccessKeyID: "ASIATESTKEY000000001", SecretAccessKey: secret, SessionToken: token}
	longTerm := "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + secret + "\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (Options, Credentials)
	}{
		{"invalid profile name", func(t *testing.T, dir string) (Options, Credentials) {
			return Options{Path: filepath.Join(dir, "c"), Profile: "bad]name"}, creds
		}},
		{"path is a directory", func(t *testing.T, dir string) (Options, Credentials) {
			return Options{Path: dir, Profile: "dev"}, creds
		}},
		{"long-term keys", func(t *testing.T, dir string) (Options, Credentials) {
			writeFile(t, filepath.Join(dir, "c"), longTerm, 0o600)
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, creds
		}},
		{"line break in the secret", func(t *testing.T, dir string) (Options, Credentials) {
			c := creds
			c.SecretAccessKey = secret + "\n[evil]"
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, c
		}},
		{"line break in the token", func(t *testing.T, dir string) (Options, Credentials) {
			c := creds
			c.SessionToken = token + "\r\n"
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, c
		}},
		{"space around the token", func(t *testing.T, dir string) (Options, Credentials) {
			c := creds
			c.SessionToken = " " + token
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, c
		}},
		{"empty access key id", func(t *testing.T, dir string) (Options, Credentials) {
			c := creds
			c.AccessKeyID = ""
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, c
		}},
		{"empty secret", func(t *testing.T, dir string) (Options, Credentials) {
			c := creds
			c.SecretAccessKey = ""
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, c
		}},
		{"parent is a file", func(t *testing.T, dir string) (Options, Credentials) {
			writeFile(t, filepath.Join(dir, "f"), "", 0o600)
			return Options{Path: filepath.Join(dir, "f", "c"), Profile: "dev"}, creds
		}},
		{"failure before rename", func(t *testing.T, dir string) (Options, Credentials) {
			setHook(t, func(string) error { return errors.New("disk full") })
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, creds
		}},
		{"backup path is a directory", func(t *testing.T, dir string) (Options, Credentials) {
			writeFile(t, filepath.Join(dir, "c"), "[dev]\n", 0o600)
			if err := os.MkdirAll(filepath.Join(dir, "c.bak", "x"), 0o700); err != nil {
				t.Fatal(err)
			}
			return Options{Path: filepath.Join(dir, "c"), Profile: "dev"}, creds
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, c := tt.setup(t, t.TempDir())
			_, err := WriteProfile(opts, c)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "write credentials profile: ") {
				t.Errorf("error %q lacks its context", err)
			}
			for _, s := range []string{secret, token, secret[:12], token[:12]} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error carries a secret: %v", err)
				}
			}
		})
	}
}

// TestFailureBeforeRename keeps the old file when the write fails after the temporary file is
// complete, and removes the temporary file.
func TestFailureBeforeRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	const before = "[dev]\naws_access_key_id = ASIAOLD\n"
	writeFile(t, path, before, 0o644)
	boom := errors.New("simulated failure")
	var seen string
	setHook(t, func(tmp string) error {
		seen = tmp
		b, err := os.ReadFile(tmp)
		if err != nil || !strings.Contains(string(b), tempCreds.SecretAccessKey) {
			t.Errorf("temporary file incomplete at the hook: %q %v", b, err)
		}
		checkMode(t, tmp, 0o600)
		return boom
	})
	_, err := WriteProfile(Options{Path: path, Profile: "dev"}, tempCreds)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if filepath.Dir(seen) != dir || !strings.HasPrefix(filepath.Base(seen), ".credentials.tmp-") {
		t.Errorf("temporary file %s, want .credentials.tmp-* beside the file", seen)
	}
	if got := readFile(t, path); got != before {
		t.Errorf("old file changed: %q", got)
	}
	checkMode(t, path, 0o644)
	if left := leftovers(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
