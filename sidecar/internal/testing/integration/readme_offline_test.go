package integration

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"awsflow-sts/sidecar/internal/localsts"
)

// readmeBlock returns the fenced code block of README.md between <!-- name:begin --> and
// <!-- name:end -->, without its fences.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- " + regexp.QuoteMeta(name) + ":begin -->\n```\\w*\n(.*?)```\n<!-- " + regexp.QuoteMeta(name) + ":end -->")
	m := re.FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README.md has no fenced block between <!-- %s:begin --> and <!-- %s:end -->", name, name)
	}
	return string(m[1])
}

// TestReadmeOffline runs the README's offline commands as written, in bash with the binary under
// test on PATH as awsflow-sts and no AWS configuration of the user's: the local STS on its fixed
// default port, the --env lines, GetCallerIdentity as the demo user and an AssumeRole of Dev.
func TestReadmeOffline(t *testing.T) {
	script := readmeBlock(t, "offline")
	for _, want := range []string{"awsflow-sts localsts", "--env", "call GetCallerIdentity", "call AssumeRole"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the README's offline commands lack %q:\n%s", want, script)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	if c, err := net.DialTimeout("tcp", localsts.DefaultAddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s is in use before the test: stop the local STS (or whatever listens there) and run again", localsts.DefaultAddr)
	}
	dir := t.TempDir()
	binDir := filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binPath, filepath.Join(binDir, "awsflow-sts")); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	// Its own process group, so the local STS it starts in the background is stopped even when a
	// command fails before the script's own kill.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything the script left behind
	}
	if err != nil {
		t.Fatalf("the README's offline commands failed: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	}
	got := out.String()
	for _, want := range []string{
		"arn:aws:iam::" + localsts.DemoAccount + ":user/alice",
		"AssumeRole** succeeded: `arn:aws:sts::" + localsts.DemoAccount + ":assumed-role/Dev/me`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q:\n%s\nstderr:\n%s", want, got, stderr.String())
		}
	}
	if strings.Contains(got, localsts.DemoSecretAccessKey) {
		t.Errorf("the output holds the demo secret key:\n%s", got)
	}
}

// TestReadmeLocalSTSDescribe checks that the README's description of the demo world is what
// `awsflow-sts localsts --describe` prints, so the two cannot drift.
func TestReadmeLocalSTSDescribe(t *testing.T) {
	want := readmeBlock(t, "localsts-describe")
	cmd := exec.Command(binPath, "localsts", "--describe")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("awsflow-sts localsts --describe: %v\n%s", err, stderr.String())
	}
	if string(got) != want {
		t.Errorf("README.md's localsts-describe block differs from `awsflow-sts localsts --describe`; paste its output there.\nREADME:\n%s\n--describe:\n%s", want, got)
	}
}
