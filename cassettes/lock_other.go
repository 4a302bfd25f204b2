//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cassettes

import "os"

// On this platform cassettes take no cross-process lock; writers in one
// process are still serialised by the Store.
const openNoWait = 0

func tryLock(*os.File, bool) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
