package credfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// writeAtomic replaces path with data so that readers and crashes see either the old file or the
// complete new one. The temporary file lives in the same directory, since a rename is only atomic
// within one file system, and is made 0600 before any secret is written to it. hook, when not
// nil, runs between the complete temporary file and the rename; its error aborts the write. On
// any error the temporary file is removed and path is left as it was.
func writeAtomic(path string, data []byte, hook func(tmp string) error) (err error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp, closed := f.Name(), false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("restrict temporary file: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write temporary file: %w", err)
	}
	// Synced before the rename, or a crash could leave the new name pointing at empty content.
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync temporary file: %w", err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	if hook != nil {
		if err = hook(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	// The rename lives in the directory, which must be synced for it to survive a power loss.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s after replacing %s: %w", dir, base, err)
	}
	return nil
}

// syncDir flushes a directory's entries to disk. Windows cannot sync a directory opened this way,
// and some file systems do not support it; there the rename is as durable as it can be made.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
