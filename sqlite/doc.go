// Package sqlite is an ledger.Store on SQLite, using the pure-Go driver
// modernc.org/sqlite (no cgo).
//
// A ledger file written by this package is the Python original's ledger
// format, byte for byte where it matters: the same kernel_events table and
// index, the same payload_json column form (declaration order, ", " and
// ": " separators, ASCII escapes), isoformat timestamps, and a NULL
// prev_event_hash for seq 1. The Python original reads and verifies the
// runs this package writes, and this package reads and verifies the runs
// the Python original writes.
//
// Every append is one BEGIN IMMEDIATE transaction that reads the run's last
// seq and hash and inserts the next event, so any number of Store values,
// in any number of processes, can append to one file without producing a
// duplicate seq or a gap. A busy timeout makes concurrent writers wait
// instead of failing.
//
// The database runs in WAL mode. With the default synchronous=NORMAL, a
// committed append survives the crash of the process (it is in the WAL, and
// the operating system writes it out), but the last appends may be lost if
// the machine loses power; WithSynchronous(SyncFull) makes every commit
// durable against power loss as well, at some cost in speed.
//
// Open refuses, without modifying it, a file that is not a SQLite database
// and a database whose kernel_events table has other columns. ReadOnly
// opens an existing ledger for inspection without ever writing to it.
// Open creates a new ledger whole (built under a temporary name, then
// linked into place), so a process killed meanwhile leaves no ledger or a
// valid empty one; it checks an existing one with SQLite's quick_check
// (CheckFile) and refuses a damaged file with ErrDamaged. A path that is
// not a regular file (a named pipe, a device) is refused at once.
//
// Verify and VerifyEach check more than the hash chain: the file (what
// integrity_check checks, which compares every index with the table, and
// the schema entries), each run's rows as the table holds them against
// those that reads through the (run_id, seq) index find, and each stored
// payload's text against the text the writer produces for what it decodes
// to (ledger.ColumnForm.Check), so that a key added to, renamed in or
// deleted from a payload_json column is reported with run, seq and key. A
// sound ledger is proved sound in one read of its table, beside
// quick_check and scans of its indexes, on all cores; only a ledger that
// read cannot prove sound is read the thorough way, which names what is
// wrong.
package sqlite
