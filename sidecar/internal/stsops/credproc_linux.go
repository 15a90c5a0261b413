package stsops

import (
	"os/exec"
	"syscall"
)

// superviseCommand puts the credential_process in its own process group, killed whole when the
// call ends, and has the kernel signal its shell when the sidecar dies, even by SIGKILL.
func superviseCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// shellArgs runs command under a shell that leads its process group and, on the SIGTERM the kernel
// sends when the sidecar dies, kills the whole group: Pdeathsig alone reaches only the direct
// child, not the script and the programs the command starts.
func shellArgs(command string) []string {
	return []string{"sh", "-c", `trap 'kill -KILL 0' TERM; sh -c "$1" & wait $!`, "sh", command}
}
