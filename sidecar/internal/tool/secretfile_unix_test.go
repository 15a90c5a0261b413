//go:build unix

package tool

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSecretFilesThatBlock names what a read would block on, or what would expose the process:
// each is refused at once, without a call to STS.
func TestSecretFilesThatBlock(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	must(t, syscall.Mkfifo(fifo, 0o600))
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	must(t, err)
	t.Cleanup(func() { _ = l.Close() })
	environ := filepath.Join(dir, "environ")
	must(t, os.Symlink("/proc/self/environ", environ))
	stdin := filepath.Join(dir, "stdin")
	must(t, os.Symlink("/proc/self/fd/0", stdin))
	fifoLink := filepath.Join(dir, "fifo-link")
	must(t, os.Symlink(fifo, fifoLink))

	web := func(file string) map[string]any {
		return map[string]any{"RoleArn": roleArn, "RoleSessionName": "web", "WebIdentityTokenFile": file}
	}
	const arwwi = "AssumeRoleWithWebIdentity"
	tests := []fileCase{
		{name: "FIFO", command: arwwi, params: web(fifo), want: []string{"is a named pipe (FIFO), not a regular file"}},
		{name: "symlink to a FIFO", command: arwwi, params: web(fifoLink), want: []string{"named pipe"}},
		{name: "FIFO as SAML", command: "AssumeRoleWithSAML", params: map[string]any{"SAMLAssertionFile": fifo}, want: []string{"SAMLAssertionFile", "named pipe"}},
		{name: "the sidecar's stdin", command: arwwi, params: web("/proc/self/fd/0"), want: []string{"is in /proc, which holds devices and process state"}},
		{name: "stdin as SAML", command: "AssumeRoleWithSAML", params: map[string]any{"SAMLAssertionFile": "/proc/self/fd/0"}, want: []string{"is in /proc"}},
		{name: "/dev/stdin", command: arwwi, params: web("/dev/stdin"), want: []string{"is in /dev"}},
		{name: "/dev/zero", command: arwwi, params: web("/dev/zero"), want: []string{"is in /dev"}},
		{name: "dot-dot into /sys", command: arwwi, params: web(dir + "/../../../../../../../sys/kernel"), want: []string{"is in /sys"}},
		{name: "socket", command: arwwi, params: web(sock), want: []string{"is a socket, not a regular file"}},
		{name: "symlink to /proc/self/environ", command: arwwi, params: web(environ), want: []string{"leads (through a symbolic link) into /proc"}},
	}
	if _, err := os.Stat("/proc/self/fd/0"); err == nil {
		// Where /proc exists, a link to stdin is the stdin of the test: a pipe, a terminal or
		// /dev/null, never a regular file.
		tests = append(tests, fileCase{name: "symlink to stdin", command: arwwi, params: web(stdin), want: []string{"WebIdentityTokenFile"}})
	}
	runFileCases(t, tests)
}
