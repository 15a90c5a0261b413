//go:build !linux

package stsops

import (
	"os/exec"
	"runtime"
)

// superviseCommand does nothing where the OS has no parent-death signal.
func superviseCommand(*exec.Cmd) {}

// shellArgs runs command as the SDK does.
func shellArgs(command string) []string {
	if runtime.GOOS == "windows" {
		return []string{"cmd.exe", "/C", command}
	}
	return []string{"sh", "-c", command}
}
