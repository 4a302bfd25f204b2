// Package postgres is an ledger.Store on PostgreSQL, through
// github.com/jackc/pgx/v5 (a connection pool), so that many workers on many
// machines share one ledger. The kernel never sees pgx: it sees an
// ledger.Store.
//
// The ledger is a kernel_events table with the columns of the Python
// original's ledger (run_id, seq, event_id unique, tenant_id, event_type,
// prev_event_hash, event_hash, timestamp as TIMESTAMPTZ, payload_json as
// text, primary key (run_id, seq)), plus a nullable timestamp_text column
// that keeps the text of a timestamp that is not UTC. payload_json holds
// the same text as in a SQLite ledger, so an event hashes the same in this
// store, the SQLite store and a cassette; Import keeps the hashes of events
// sealed elsewhere. Open refuses, and leaves untouched, a kernel_events
// table of another shape, saying what differs. The table lives in the
// connection's schema: give search_path in the URL to keep several ledgers
// in one database.
//
// # Appends
//
// Every append is one transaction, serialised per run by the primary key
// and a transaction-scoped advisory lock on the run, so that any number of
// processes on any number of hosts append to shared runs without a gap or
// a duplicate seq. A Store remembers the last event it appended to each
// run: its next append to that run is a single INSERT statement (taking the
// lock), as cheap as a plain insert. If another writer appended in between,
// that statement fails on the primary key, and the append is redone in a
// transaction that reads the run's last event under the lock (BEGIN, the
// lock and the read in one round trip), and so are the store's next
// appends to that run, rather than lose more races (16, doubling with each
// race lost again). CreateRun is
// an insert of seq 1, so exactly one of several hosts creating one run
// succeeds.
//
// A commit is durable when the server acknowledges it (with PostgreSQL's
// default synchronous_commit), so a server crash or restart loses no
// acknowledged append. Nothing is ever half-written: an append is one
// transaction. When the connection fails during an append, the Store looks
// the event up on a new connection: if it was committed, the append
// succeeded; if it certainly was not (the server process that ran it is
// gone), the append is made again on a new connection, up to three tries;
// otherwise it fails with an error matching ErrConnection that says
// whether the event may be in the run. The next call takes a new
// connection from the pool.
//
// # Reads
//
// Scan and ScanAll stream events from the server as they arrive; Events
// reads the events after a seq, so the kernel's incremental run index sees
// the appends of other processes and hosts as it does on SQLite.
//
// # Leases
//
// AcquireLease, RenewLease and ReleaseLease let a fleet make sure one worker
// drives a run at a time, with an expiry after which another worker can take
// the run over. Leases are opt-in: appending does not check them.
package postgres
