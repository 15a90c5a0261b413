package credfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// replaceWait bounds how long a replace is retried while another program holds the file open
// (Windows only): long enough for the AWS CLI or an SDK to finish reading it.
const replaceWait = 2 * time.Second

// staleTemp is the age after which a temporary file of ours is taken as left by a crash. Writers
// hold the lock while their temporary file exists, so under the lock any such file is stale; the
// margin spares the file of a writer that does not take the lock (an older version) mid-write.
const staleTemp = 10 * time.Second

// tempPrefix starts the name of writeAtomic's temporary files for path; os.CreateTemp appends
// digits.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// writeAtomic replaces path with data so that readers and crashes see either the old file or the
// complete new one. The temporary file lives in the same directory, since a rename is only atomic
// within one file system, and is made private (mode 0600; on Windows an ACL for the current user
// alone) before any secret is written to it. hook, when not nil, runs between the complete
// temporary file and the rename; its error aborts the write. On any error the temporary file is
// removed and path is left as it was.
func writeAtomic(path string, data []byte, hook func(tmp string) error) (err error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
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
	if err = restrict(f); err != nil {
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
	if err = replace(os.Rename, isBusy, tmp, path, replaceWait); err != nil {
		return err
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

// replace renames tmp over path, retrying with a growing delay for up to wait while busy says the
// failure is another program holding path open, and then reports ErrBusy.
func replace(rename func(oldpath, newpath string) error, busy func(error) bool, tmp, path string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	delay := 10 * time.Millisecond
	for {
		err := rename(tmp, path)
		switch {
		case err == nil:
			return nil
		case !busy(err):
			return fmt.Errorf("replace %s: %w", path, err)
		case time.Now().After(deadline):
			return fmt.Errorf("%w: %s is in use by another program (the AWS CLI or an SDK) and could not be replaced; "+
				"close it and try again (if nothing has it open, check that you may write it)", ErrBusy, path)
		}
		time.Sleep(delay)
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// removeStaleTemps removes the temporary files a crashed write left beside path and beside its
// backup; they may hold live secrets. It runs under path's lock and touches only regular files
// named exactly as writeAtomic names them and older than staleTemp. A failure is not an error of
// the write, which does not need the files gone.
func removeStaleTemps(path string) {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefixes := []string{tempPrefix(path), tempPrefix(path + ".bak")}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isOurTemp(e.Name(), prefixes) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// isOurTemp says whether name is one of prefixes followed by the digits os.CreateTemp adds.
func isOurTemp(name string, prefixes []string) bool {
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(name, p)
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}
