package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Errors returned by Open and the Store's methods, usable with errors.Is.
// They are wrapped in an *Error that says which ledger, run and seq.
var (
	// ErrIncompatible means the database has a kernel_events table that is
	// not artana's ledger table.
	ErrIncompatible = errors.New("incompatible kernel_events table")
	// ErrNoLedger means a read-only Open found no kernel_events table.
	ErrNoLedger = errors.New("no kernel_events table")
	// ErrReadOnly means a write was attempted on a store opened with ReadOnly.
	ErrReadOnly = errors.New("store is read-only")
	// ErrLeaseHeld means another owner holds an unexpired lease on the run.
	ErrLeaseHeld = errors.New("run lease held by another owner")
	// ErrLeaseLost means a lease expired, was released or was taken over
	// before it was renewed or released.
	ErrLeaseLost = errors.New("run lease lost")
	// ErrConnection means the server could not be reached or the
	// connection broke during the operation. The next call reconnects.
	ErrConnection = errors.New("connection to the PostgreSQL server failed")
)

// An Error describes a failed operation on a ledger: the operation, the
// server (its URL without the password) and, where one is concerned, the
// run and the seq.
type Error struct {
	Op     string // "open", "append", "read", "import", "lease", ...
	Ledger string // the URL, password removed
	RunID  string // the run concerned, or ""
	Seq    int64  // the event concerned, or 0
	Err    error  // what went wrong
}

// Error names the operation, the ledger, the run and the seq.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(e.Ledger)
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

// IsURL reports whether s is a PostgreSQL URL (postgres:// or
// postgresql://), the form Open and artana-replay take.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the URL with its password, in the user information or in
// a password query parameter, replaced by "xxxxx", for messages and logs.
// A string that does not parse as a URL is returned as its scheme only.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.Index(rawURL, "://"); i >= 0 {
			return rawURL[:i+3] + "…"
		}
		return "(unparsable PostgreSQL URL)"
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
