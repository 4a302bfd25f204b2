// Package regfile opens files that must be regular files, refusing at once
// (without blocking) a named pipe, a device or a socket, whose open or read
// could wait forever.
package regfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is matched by the error of a path that is neither a
// regular file nor a directory.
var ErrNotRegular = errors.New("not a regular file")

// Describe names what a file of mode m is: "named pipe (FIFO)",
// "character device", "socket", ...
func Describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeIrregular != 0:
		return "file of unknown type"
	}
	return "special file"
}

// Check returns an error wrapping ErrNotRegular, naming path and what it
// is, unless fi is a regular file or, with dirOK, a directory.
func Check(path string, fi fs.FileInfo, dirOK bool) error {
	m := fi.Mode()
	if m.IsRegular() || (dirOK && m.IsDir()) {
		return nil
	}
	want := "a regular file"
	if dirOK {
		want = "a regular file or a directory"
	}
	return fmt.Errorf("%s is a %s: %w; only %s is read (a pipe, device or socket could block forever)",
		path, Describe(m), ErrNotRegular, want)
}

// Open opens path for reading if it is a regular file. It never blocks on a
// named pipe: the file is opened without waiting for a writer (see
// openNonBlocking) and checked before anything is read.
func Open(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := Check(path, fi, false); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	// The path may have been replaced between the Stat and the open.
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = Check(path, fi, false)
		}
		return nil, err
	}
	return f, nil
}
