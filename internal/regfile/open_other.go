//go:build !unix

package regfile

import "os"

// openNonBlocking opens path read-only; Open has checked it is a regular
// file.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
