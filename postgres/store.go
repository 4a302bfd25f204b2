package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// An Option configures Open.
type Option func(*config)

type config struct {
	store    []ledger.StoreOption
	readOnly bool
	maxConns int32
}

// WithStoreOptions applies the options every artana store shares, such as
// ledger.WithEventClock and ledger.WithEventIDs.
func WithStoreOptions(opts ...ledger.StoreOption) Option {
	return func(c *config) { c.store = append(c.store, opts...) }
}

// ReadOnly opens an existing ledger for reading only: Open creates no
// table and fails if there is no kernel_events table, the connections are
// read-only sessions, and Append, CreateRun, Import and the lease methods
// fail with ErrReadOnly.
func ReadOnly() Option {
	return func(c *config) { c.readOnly = true }
}

// WithMaxConns sets the size of the connection pool (pgxpool's default,
// the larger of 4 and the number of CPUs, otherwise; the URL's
// pool_max_conns parameter also sets it).
func WithMaxConns(n int32) Option {
	return func(c *config) { c.maxConns = n }
}

// Store is an ledger.Store that keeps the event log in a PostgreSQL
// table, kernel_events, shared by any number of processes on any number of
// hosts. It is safe for concurrent use.
type Store struct {
	ledger   string // the URL, redacted
	opts     ledger.StoreOptions
	readOnly bool
	pool     *pgxpool.Pool
	closed   atomic.Bool

	// What Open found of the table.
	pkIndex  string // the primary key's index, the name a seq clash reports
	tsText   bool   // the table has the timestamp_text column
	insertSQ string // the insert statement of an append
	columns  string // the columns a read selects

	mu   sync.Mutex
	last map[string]lastEvent // the last event this Store saw appended, per run
	busy map[string]busyRun   // runs where other writers won races

	alwaysLock bool // tests: every append in the locked transaction, as the Python store does
}

// lastEvent is what an append needs of a run's last event.
type lastEvent struct {
	seq    int64
	hash   string
	tenant string
}

var (
	_ ledger.Store      = (*Store)(nil)
	_ ledger.RunCreator = (*Store)(nil)
)

// maxCached bounds the per-run cache of last events; beyond it the cache
// starts afresh.
const maxCached = 1 << 14

// Open connects to the PostgreSQL database at url (postgres://user:password@host:port/db?...,
// with any parameter pgx accepts, such as sslmode, search_path or
// pool_max_conns) and checks, or creates, the kernel_events and
// kernel_run_leases tables in the connection's schema. A kernel_events
// table whose shape differs from the ledger's is refused with
// ErrIncompatible and left untouched. Errors and String never show the
// password.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	redacted := Redact(url)
	fail := func(err error) (*Store, error) { return nil, &Error{Op: "open", Ledger: redacted, Err: err} }
	if !IsURL(url) {
		return fail(errors.New("not a postgres:// or postgresql:// URL"))
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fail(fmt.Errorf("parse the URL: %w", err))
	}
	if cfg.maxConns > 0 {
		pc.MaxConns = cfg.maxConns
	}
	if cfg.readOnly {
		pc.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fail(connErr(err))
	}
	s := &Store{ledger: redacted, opts: ledger.NewStoreOptions(cfg.store...), readOnly: cfg.readOnly, pool: pool,
		last: make(map[string]lastEvent), busy: make(map[string]busyRun)}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return fail(err)
	}
	return s, nil
}

// String returns the store's URL without the password.
func (s *Store) String() string { return s.ledger }

// connErr marks errors that are not the server's answer (it could not be
// reached, or the connection broke) with ErrConnection.
func connErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%w: %w", ErrConnection, err)
	case errors.As(err, &pe):
		// Errors the server sends when it shuts down or restarts.
		switch pe.Code {
		case "57P01", "57P02", "57P03", "08000", "08003", "08006":
			return fmt.Errorf("%w: %w", ErrConnection, err)
		}
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%w: %w", ErrConnection, err)
}

// Append appends p to the run; see ledger.Store. Appends to one run are
// serialised by the table's primary key and a transaction-scoped advisory
// lock on the run, so that any number of processes on any number of hosts
// append to a run without a gap or a duplicate seq. A Store remembers the
// last event it appended to each run, so that its next append to the run
// is a single statement; if another writer appended in between, the
// statement fails on the primary key and the append is retried in a
// transaction that reads the run's last event under the lock.
func (s *Store) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	return s.append(ctx, "append", runID, tenantID, p)
}

// CreateRun appends p as the first event of a new run, atomically across
// hosts; see ledger.RunCreator. If the run has events, nothing is appended
// and the error matches ledger.ErrRunExists.
func (s *Store) CreateRun(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	return s.append(ctx, "create run", runID, tenantID, p)
}

func (s *Store) append(ctx context.Context, op, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Event{}, &Error{Op: op, Ledger: s.ledger, RunID: runID, Err: err}
	}
	if err := s.opts.CheckAppend(nil, runID, tenantID, p); err != nil {
		return ledger.Event{}, err
	}
	if s.closed.Load() {
		return ledger.Event{}, ledger.ErrClosed
	}
	if s.readOnly {
		return ledger.Event{}, &Error{Op: op, Ledger: s.ledger, RunID: runID, Err: ErrReadOnly}
	}
	for attempt := 1; ; attempt++ {
		e, err := s.appendOnce(ctx, op, runID, tenantID, p)
		if err == nil {
			s.remember(&e)
			return e, nil
		}
		s.forget(runID)
		var na *notAppended
		if errors.As(err, &na) && attempt < 3 && ctx.Err() == nil && !s.closed.Load() {
			// The connection failed and the event is certainly not in the
			// ledger: append again on a new connection.
			time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
			continue
		}
		var se *Error
		if errors.As(err, &se) || errors.Is(err, ledger.ErrTenantMismatch) || errors.Is(err, ledger.ErrInvalidPayload) {
			return ledger.Event{}, err
		}
		return ledger.Event{}, &Error{Op: op, Ledger: s.ledger, RunID: runID, Seq: e.Seq, Err: err}
	}
}

// appendOnce makes one attempt at an append: after the last event this
// Store knows of the run, in one statement, else (or if another writer
// appended in between) in a transaction that reads the run's last event
// under the run's lock.
func (s *Store) appendOnce(ctx context.Context, op, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	create := op == "create run"
	var known *ledger.Event
	if l, ok := s.cached(runID); ok && !create && !s.alwaysLock && !s.contended(runID) {
		known = &ledger.Event{RunID: runID, Seq: l.seq, Hash: l.hash, TenantID: l.tenant}
	}
	if create || known != nil {
		e, err := s.opts.NextEvent(known, runID, tenantID, p)
		if err != nil {
			return ledger.Event{}, err
		}
		pid, err := s.withConn(ctx, func(c *pgxpool.Conn) error {
			_, err := c.Exec(ctx, s.insertSQ, s.insertArgs(&e)...)
			return err
		})
		err = s.insertErr(ctx, &e, pid, err)
		switch {
		case err == nil:
			if !create {
				s.uncontended(runID)
			}
			return e, nil
		case errors.Is(err, errSeqTaken) && create:
			n, _ := s.count(ctx, runID)
			return e, &Error{Op: op, Ledger: s.ledger, RunID: runID,
				Err: fmt.Errorf("the run already has events (%d now): %w", n, ledger.ErrRunExists)}
		case !errors.Is(err, errSeqTaken):
			return e, err
		}
		// Another writer appended first: go on under the lock, and make
		// the next appends to this run under it too, rather than lose
		// more races.
		s.markContended(runID)
	}
	return s.appendLocked(ctx, runID, tenantID, p)
}

// errSeqTaken is an insert that failed because the seq is taken: another
// writer appended to the run first.
var errSeqTaken = errors.New("seq already taken by another writer")

// notAppended is a failed connection after which the event is certainly
// not in the ledger.
type notAppended struct{ err error }

func (e *notAppended) Error() string { return e.err.Error() + "; nothing was appended" }
func (e *notAppended) Unwrap() error { return e.err }

// withConn runs fn on a connection of the pool and returns the server
// process id of the connection, by which the outcome of a statement whose
// connection failed is told.
func (s *Store) withConn(ctx context.Context, fn func(*pgxpool.Conn) error) (uint32, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Release()
	return c.Conn().PgConn().PID(), fn(c)
}

// insertErr classifies the error of an insert of e, made on the
// connection of server process pid. A server's refusal means nothing was
// written. A connection that failed after the statement was sent leaves
// the outcome unknown: the event is looked up by id on a new connection;
// found, the append succeeded; not found once pid is gone, it certainly
// failed (*notAppended).
func (s *Store) insertErr(ctx context.Context, e *ledger.Event, pid uint32, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505" && pe.ConstraintName == s.pkIndex:
			return errSeqTaken
		case pe.Code == "23505":
			return fmt.Errorf("event id %s is already in the ledger: %w", e.ID, err)
		case pe.Code == "25006":
			return fmt.Errorf("%w: the server refused the write (read-only transaction): %w", ErrReadOnly, err)
		}
		if !errors.Is(connErr(err), ErrConnection) {
			return err
		}
	}
	if pgconn.SafeToRetry(err) || pid == 0 {
		return &notAppended{connErr(err)}
	}
	found, final, lerr := s.landed(ctx, e, pid)
	switch {
	case lerr == nil && found:
		return nil
	case lerr == nil && final && ctx.Err() == nil:
		return &notAppended{connErr(err)}
	case lerr == nil && final:
		return fmt.Errorf("%w; nothing was appended", connErr(err))
	case lerr == nil:
		lerr = fmt.Errorf("server process %d, which ran the append, is still running", pid)
	}
	return fmt.Errorf("%w; event id %s may or may not be in the run: read the run to find out (%v)",
		connErr(err), e.ID, lerr)
}

// landed reports whether e is in the ledger, and whether that is final
// (the server process pid that ran its insert is gone, so it cannot commit
// any more), looking on new connections for up to 10 seconds (a server
// that restarts comes back).
func (s *Store) landed(ctx context.Context, e *ledger.Event, pid uint32) (found, final bool, err error) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for try := 1; ; try++ {
		var running bool
		err = s.pool.QueryRow(lctx, `SELECT
				EXISTS (SELECT 1 FROM kernel_events WHERE run_id = $1 AND seq = $2 AND event_id = $3),
				EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $4)`,
			e.RunID, e.Seq, e.ID, int64(pid)).Scan(&found, &running)
		switch {
		case err == nil && (found || !running):
			return found, true, nil
		case err == nil && lctx.Err() != nil:
			return false, false, nil // the process still runs
		case err == nil:
			// A process that was terminated takes a moment to exit.
		case lctx.Err() != nil || s.closed.Load():
			return false, false, fmt.Errorf("looking it up failed: %w", err)
		}
		time.Sleep(time.Duration(min(try, 10)) * 50 * time.Millisecond)
	}
}

// appendLocked appends p in a transaction that holds the run's advisory
// lock while it reads the run's last event and inserts the next one.
func (s *Store) appendLocked(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	for try := 1; ; try++ {
		var e ledger.Event
		pid, err := s.withConn(ctx, func(c *pgxpool.Conn) error {
			// BEGIN, the lock and the read of the last event in one round
			// trip; then the insert and the commit.
			b := &pgx.Batch{}
			b.BeginTx(pgx.TxOptions{})
			b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, runID)
			b.Queue(lastSQL, runID)
			br := c.SendBatch(ctx, b)
			tx := br.Tx()
			last, err := func() (*ledger.Event, error) {
				defer br.Close()
				for range 2 {
					if _, err := br.Exec(); err != nil {
						return nil, err
					}
				}
				return scanLast(br.QueryRow(), runID)
			}()
			if err == nil {
				err = br.Close()
			}
			if err == nil {
				if e, err = s.opts.NextEvent(last, runID, tenantID, p); err == nil {
					_, err = tx.Exec(ctx, s.insertSQ, s.insertArgs(&e)...)
				}
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				_ = tx.Rollback(context.WithoutCancel(ctx))
				return err
			}
			return tx.Commit(context.WithoutCancel(ctx))
		})
		switch {
		case err == nil:
			return e, nil
		case errors.Is(err, ledger.ErrTenantMismatch) || errors.Is(err, ledger.ErrInvalidPayload):
			return e, err
		case e.ID == "":
			// Nothing was inserted before the failure.
			if errors.Is(connErr(err), ErrConnection) && ctx.Err() == nil {
				return e, &notAppended{connErr(err)}
			}
			return e, connErr(err)
		}
		err = s.insertErr(ctx, &e, pid, err)
		if errors.Is(err, errSeqTaken) && try < 5 {
			// A writer that does not take the lock (a hand-written insert,
			// say) appended first: read again.
			continue
		}
		return e, err
	}
}

// lockClass is the first key of the advisory locks of kernel_events runs;
// the second is hashtext(run_id).
const lockClass = 0x61727461 // "arta"

// inTx runs fn in a transaction on c, committing if fn succeeds.
func (s *Store) inTx(ctx context.Context, c interface {
	Begin(context.Context) (pgx.Tx, error)
}, fn func(pgx.Tx) error) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(context.WithoutCancel(ctx))
}

// lastSQL reads the run's last event.
const lastSQL = `SELECT seq, event_hash, tenant_id FROM kernel_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`

// lastOf reads the run's last event (seq, hash, tenant), or nil.
func lastOf(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, runID string) (*ledger.Event, error) {
	return scanLast(q.QueryRow(ctx, lastSQL, runID), runID)
}

func scanLast(row pgx.Row, runID string) (*ledger.Event, error) {
	last := ledger.Event{RunID: runID}
	err := row.Scan(&last.Seq, &last.Hash, &last.TenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the run's last event: %w", err)
	}
	return &last, nil
}

func (s *Store) count(ctx context.Context, runID string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM kernel_events WHERE run_id = $1`, runID).Scan(&n)
	return n, err
}

func (s *Store) cached(runID string) (lastEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.last[runID]
	return l, ok
}

func (s *Store) remember(e *ledger.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.last[e.RunID]; ok && l.seq >= e.Seq {
		return
	}
	if len(s.last) >= maxCached {
		s.last = make(map[string]lastEvent)
	}
	s.last[e.RunID] = lastEvent{seq: e.Seq, hash: e.Hash, tenant: e.TenantID}
}

// busyAppends is how many appends to a run go straight to the locked
// transaction after another writer won a race on it; each race lost again
// right after doubles it, up to maxBusyAppends.
const busyAppends, maxBusyAppends = 16, 1024

func (s *Store) markContended(runID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.busy) >= maxCached {
		s.busy = make(map[string]busyRun)
	}
	b := s.busy[runID]
	b.window = min(max(2*b.window, busyAppends), maxBusyAppends)
	b.left = b.window
	s.busy[runID] = b
}

// A busyRun is a run on which other writers won races.
type busyRun struct {
	window int // appends to make under the lock after the last race lost
	left   int // of which left
}

// contended reports whether the next append to the run goes straight to
// the locked transaction, counting it.
func (s *Store) contended(runID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.busy[runID]
	if !ok || b.left == 0 {
		return false
	}
	b.left--
	s.busy[runID] = b
	return true
}

// uncontended forgets the races lost on a run once its one-statement
// append succeeds.
func (s *Store) uncontended(runID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, runID)
}

func (s *Store) forget(runID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.last, runID)
}

// insertArgs returns the values of the insert statement for e.
func (s *Store) insertArgs(e *ledger.Event) []any {
	var prev any
	if e.PrevHash != "" {
		prev = e.PrevHash
	}
	args := []any{e.RunID, e.Seq, e.ID, e.TenantID, string(e.Type), prev, e.Hash,
		e.Timestamp, string(ledger.ColumnForm.Encode(e.Payload))}
	if s.tsText {
		args = append(args, timestampText(e.Timestamp))
	}
	return args
}

// timestampText returns the timestamp's text for the timestamp_text
// column: NULL (nil) for a UTC timestamp, which TIMESTAMPTZ keeps exactly,
// and the isoformat text for one with another offset or none, which a
// TIMESTAMPTZ would lose and the hash needs.
func timestampText(t time.Time) any {
	if t.Location() == time.UTC {
		return nil
	}
	return isotime.Format(t)
}

// Import inserts events that were sealed elsewhere, for example exported
// from another ledger, keeping their ids, timestamps and hashes, with
// COPY in one transaction that holds the advisory locks of their runs. The
// events of each run must continue that run's chain in this ledger: the
// first one follows the run's last stored event (or is seq 1) and every
// event verifies (ledger.ChainVerifier). Events of several runs may be
// mixed; the events of one run must be in seq order. Import is
// all-or-nothing: on any error nothing is inserted.
func (s *Store) Import(ctx context.Context, events []ledger.Event) error {
	fail := func(runID string, seq int64, err error) error {
		return &Error{Op: "import", Ledger: s.ledger, RunID: runID, Seq: seq, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail("", 0, err)
	}
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	if s.readOnly {
		return fail("", 0, ErrReadOnly)
	}
	if len(events) == 0 {
		return nil
	}
	runs, err := s.importRuns(events, fail)
	if err != nil {
		return err
	}
	var failed error
	err = s.inTx(ctx, s.pool, func(tx pgx.Tx) error {
		verifiers, err := lockRuns(ctx, tx, runs)
		if err != nil {
			return err
		}
		for i := range events {
			e := &events[i]
			if err := verifiers[e.RunID].Next(e); err != nil {
				failed = fail(e.RunID, e.Seq, fmt.Errorf("event %d of %d does not continue the run's chain in this ledger: %w; nothing was imported",
					i+1, len(events), err))
				return failed
			}
		}
		return s.copyEvents(ctx, tx, events)
	})
	if err != nil {
		if failed != nil {
			return failed
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fail("", 0, fmt.Errorf("an event is already in the ledger (%s); nothing was imported: %w", pe.Detail, err))
		}
		return fail("", 0, fmt.Errorf("%w; nothing was imported", connErr(err)))
	}
	for _, run := range runs {
		s.forget(run)
	}
	return nil
}

// importRuns checks what Import can check of events before it touches
// the database (a run id each, a timestamp the table can keep) and
// returns their runs, sorted: the runs are locked in one order, so that
// two imports never deadlock.
func (s *Store) importRuns(events []ledger.Event, fail func(runID string, seq int64, err error) error) ([]string, error) {
	var runs []string
	seen := make(map[string]bool)
	for i := range events {
		e := &events[i]
		if e.RunID == "" {
			return nil, fail("", e.Seq, fmt.Errorf("event %d of %d: empty run id; nothing was imported", i+1, len(events)))
		}
		if !s.tsText && e.Timestamp.Location() != time.UTC {
			return nil, fail(e.RunID, e.Seq, fmt.Errorf("event %d of %d: timestamp %s is not UTC, and this kernel_events table has no timestamp_text column to keep its offset (the hash needs it); nothing was imported",
				i+1, len(events), isotime.Format(e.Timestamp)))
		}
		if !seen[e.RunID] {
			seen[e.RunID] = true
			runs = append(runs, e.RunID)
		}
	}
	sort.Strings(runs)
	return runs, nil
}

// lockRuns takes the advisory locks of runs in tx, in order, and returns a
// chain verifier for each, resumed at the run's last stored event.
func lockRuns(ctx context.Context, tx pgx.Tx, runs []string) (map[string]*ledger.ChainVerifier, error) {
	verifiers := make(map[string]*ledger.ChainVerifier, len(runs))
	for _, run := range runs {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, run); err != nil {
			return nil, err
		}
		last, err := lastOf(ctx, tx, run)
		if err != nil {
			return nil, err
		}
		v := new(ledger.ChainVerifier)
		if last != nil {
			v.Resume(last)
		}
		verifiers[run] = v
	}
	return verifiers, nil
}

// copyEvents inserts events into kernel_events with COPY.
func (s *Store) copyEvents(ctx context.Context, tx pgx.Tx, events []ledger.Event) error {
	cols := []string{"run_id", "seq", "event_id", "tenant_id", "event_type", "prev_event_hash", "event_hash", "timestamp", "payload_json"}
	if s.tsText {
		cols = append(cols, "timestamp_text")
	}
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"kernel_events"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(events) {
			return nil, nil
		}
		i++
		return s.insertArgs(&events[i-1]), nil
	}))
	return err
}

// Close closes the connection pool, waiting for operations under way.
// Later calls fail with ledger.ErrClosed; closing again returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}
