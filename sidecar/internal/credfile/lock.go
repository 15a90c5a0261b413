package credfile

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrBusy is wrapped by WriteProfile's error when the file could not be written because another
// process holds it: another writer has held the lock file beside it for longer than a write
// takes, or (on Windows) a program that has the file open keeps it from being replaced. The
// file was not changed and the write can be tried again.
var ErrBusy = errors.New("the credentials file is busy")

// lockWait bounds how long a write waits for the lock while the file does not change. A write
// holds the lock for a few file syncs, so a wait this long without any write landing means a
// stuck process, and the caller is better told than kept waiting. While other writers' writes
// keep landing the wait goes on, up to maxLockWait in all.
const (
	lockWait    = 10 * time.Second
	maxLockWait = 30 * time.Second
)

// errWouldBlock is what tryLock returns when another process holds the lock.
var errWouldBlock = errors.New("the lock is held by another process")

// pathLocks serialises writers within the process, one mutex per file, so that only one
// goroutine at a time polls the file lock; entries are dropped when no writer needs them.
var pathLocks = struct {
	sync.Mutex
	m map[string]*pathLock
}{m: map[string]*pathLock{}}

// pathLock is one file's mutex and the number of writers holding or waiting for it.
type pathLock struct {
	sync.Mutex
	users int
}

// lockPath takes the write lock of path (a cleaned, absolute path): first the process's own
// mutex, then the advisory lock file path+".lock", which other processes take the same way. The
// lock file stays beside the file: removing it while another process waits on it would let two
// writers in at once. The returned function releases both.
func lockPath(path string) (unlock func(), err error) {
	pathLocks.Lock()
	pl := pathLocks.m[path]
	if pl == nil {
		pl = &pathLock{}
		pathLocks.m[path] = pl
	}
	pl.users++
	pathLocks.Unlock()
	pl.Lock()
	release := func() {
		pl.Unlock()
		pathLocks.Lock()
		if pl.users--; pl.users == 0 {
			delete(pathLocks.m, path)
		}
		pathLocks.Unlock()
	}

	f, err := lockFile(path+".lock", lockWait, maxLockWait, replacedSince(path))
	if err != nil {
		release()
		return nil, err
	}
	return func() {
		// Closing the file releases the OS lock.
		_ = f.Close()
		release()
	}, nil
}

// replacedSince returns a function that says whether path was replaced (another writer's write
// landed) since its last call. It compares size and modification time, which a stat reads without
// opening the file, so watching never gets in the way of the writer's replace on Windows.
func replacedSince(path string) func() bool {
	type mark struct {
		size int64
		mod  time.Time
		ok   bool
	}
	now := func() mark {
		fi, err := os.Stat(path)
		if err != nil {
			return mark{}
		}
		return mark{fi.Size(), fi.ModTime(), true}
	}
	last := now()
	return func() bool {
		m := now()
		changed := m != last
		last = m
		return changed
	}
}

// lockFile opens (creating it 0600) and locks the lock file name, polling with a growing delay,
// since a blocking lock could not be abandoned. It gives up with ErrBusy when wait passes without
// progress (a call of progress returning true), or when limit passes in all.
func lockFile(name string, wait, limit time.Duration, progress func() bool) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	start := time.Now()
	deadline := start.Add(wait)
	delay := time.Millisecond
	for {
		err := tryLock(f)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errWouldBlock) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		now := time.Now()
		if progress() {
			deadline = now.Add(wait)
		}
		if now.After(deadline) || now.Sub(start) > limit {
			_ = f.Close()
			return nil, fmt.Errorf("%w: it is locked by another process writing it (the lock file %s was held for %s); "+
				"try again in a moment", ErrBusy, name, now.Sub(start).Round(time.Second))
		}
		time.Sleep(delay)
		delay = min(delay*2, 20*time.Millisecond)
	}
}
