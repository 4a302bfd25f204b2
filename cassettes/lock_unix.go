//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cassettes

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// openNoWait is added to the flags a lock file is opened with: a path
// that became a named pipe after it was checked does not block the open.
// It changes nothing for a regular file.
const openNoWait = unix.O_NONBLOCK

// tryLock takes an advisory flock on f without blocking. It reports false
// if another open file description holds a conflicting lock.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		default:
			return false, err
		}
	}
}

func unlock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }
