//go:build !windows

package credfile

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on f without waiting; the kernel drops it when the file is
// closed or the process dies, so a crash never leaves the file locked.
func tryLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}

// isBusy is false on Unix, where a rename replaces a file whoever has it open.
func isBusy(error) bool { return false }

// restrict makes a new file readable and writable by its owner alone.
func restrict(f *os.File) error { return f.Chmod(0o600) }
