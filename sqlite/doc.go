// Package sqlite is an artana.Store on SQLite, using the pure-Go driver
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
package sqlite
