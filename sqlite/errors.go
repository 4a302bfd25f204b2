package sqlite

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by Open and the Store's methods, usable with errors.Is.
// They are wrapped in an *Error that says which file, run and seq.
var (
	// ErrNotSQLite means the file is not a SQLite database.
	ErrNotSQLite = errors.New("not a SQLite database")
	// ErrIncompatible means the database has a kernel_events table that is
	// not the ledger table of artana.
	ErrIncompatible = errors.New("incompatible kernel_events table")
	// ErrReadOnly means a write was attempted on a store opened with ReadOnly.
	ErrReadOnly = errors.New("store is read-only")
)

// An Error describes a failed operation on a ledger file: the operation,
// the file and, where one is concerned, the run and the seq.
type Error struct {
	Op    string // "open", "append", "read", "import", ...
	Path  string // the ledger file
	RunID string // the run concerned, or ""
	Seq   int64  // the event concerned, or 0
	Err   error  // what went wrong
}

// Error names the operation, the file, the run and the seq.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	if e.RunID != "" {
		fmt.Fprintf(&b, ": run %q", e.RunID)
		if e.Seq != 0 {
			fmt.Fprintf(&b, " seq %d", e.Seq)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
