//go:build unix

package tool

import "syscall"

// openFlags make opening a secret file return at once whatever the path names: O_NONBLOCK keeps
// a FIFO or device that slipped past the checks from blocking the open, O_CLOEXEC keeps the
// descriptor out of credential_process children.
const openFlags = syscall.O_NONBLOCK | syscall.O_CLOEXEC

// systemDirs hold the kernel's pseudo-files and devices: never a token or an assertion, and
// reading them can block (a terminal, the sidecar's own stdin) or expose the process
// (/proc/self/environ).
var systemDirs = []string{"/proc", "/dev", "/sys"}
