package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/internal/regfile"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SyncMode is the value of SQLite's synchronous pragma.
type SyncMode string

// The synchronous modes a Store can use.
const (
	// SyncNormal, the default and the Python original's setting, makes a
	// commit durable against a crash of the process; in WAL mode the last
	// commits may be lost on power loss or an operating system crash.
	SyncNormal SyncMode = "NORMAL"
	// SyncFull syncs the WAL on every commit, so a commit is also durable
	// against power loss.
	SyncFull SyncMode = "FULL"
)

// DefaultBusyTimeout is how long a Store waits for another writer to
// release the database before an operation fails.
const DefaultBusyTimeout = 10 * time.Second

// An Option configures Open.
type Option func(*config)

type config struct {
	store     []ledger.StoreOption
	sync      SyncMode
	busy      time.Duration
	readOnly  bool
	skipCheck bool
	immutable bool // read-only with no WAL file: dsn opens it immutable
}

// WithStoreOptions applies the options every artana store shares, such as
// ledger.WithEventClock and ledger.WithEventIDs.
func WithStoreOptions(opts ...ledger.StoreOption) Option {
	return func(c *config) { c.store = append(c.store, opts...) }
}

// WithSynchronous sets the synchronous mode: SyncNormal (the default) or
// SyncFull.
func WithSynchronous(m SyncMode) Option {
	return func(c *config) { c.sync = m }
}

// WithBusyTimeout sets how long an operation waits for a lock held by
// another writer before it fails; DefaultBusyTimeout by default.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busy = d }
}

// ReadOnly opens an existing ledger for reading only. No file is created
// or modified: Open fails if the ledger does not exist or has no
// kernel_events table, and Append and Import fail with ErrReadOnly.
//
// A ledger that was closed cleanly (it has no -wal file) is read as an
// immutable file, so that SQLite creates no -wal and -shm files beside it;
// events that other processes append after Open are then not seen, so use
// ReadOnly to inspect a ledger, and a normal Open to follow one that is
// being written.
func ReadOnly() Option {
	return func(c *config) { c.readOnly = true }
}

// SkipFileCheck makes Open skip SQLite's check of the whole file (see
// CheckFile), which costs one read of the file: about a second per
// gigabyte. Verify still checks it.
func SkipFileCheck() Option {
	return func(c *config) { c.skipCheck = true }
}

// Store is an ledger.Store that keeps the event log in a SQLite file in
// the Python original's ledger format. It is safe for concurrent use, also
// by other Store values and processes on the same file.
type Store struct {
	path      string
	opts      ledger.StoreOptions
	readOnly  bool
	skipCheck bool
	decoded   bool // verify by decoding every row, as before stored-text verification (tests compare)
	abs       string
	immutable bool // opened read-only as an immutable file (no WAL): nothing changes it
	checked   bool // quick_check passed at Open, on an immutable file
	// checkedStat is the file's size and modification time when quick_check
	// passed: a file that changed since (which an immutable file must not)
	// is checked again.
	checkedStat string
	db          *sql.DB
	closed      atomic.Bool

	mu     sync.Mutex // serialises this Store's writes; guards writer and the statements
	writer *sql.Conn  // the connection writes use, opened on the first write
	stmts  writeStmts // prepared on writer
}

// writeStmts are the statements of an append, prepared once on the writer
// connection.
type writeStmts struct {
	begin, commit, rollback, last, insert *sql.Stmt
}

func (w *writeStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{w.begin, w.commit, w.rollback, w.last, w.insert} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	*w = writeStmts{}
	return errors.Join(errs...)
}

var (
	_ ledger.Store      = (*Store)(nil)
	_ ledger.RunCreator = (*Store)(nil)
)

// The Python original's statements, with its whitespace, so that sqlite_master holds
// the same text as in a ledger the Python original created.
const (
	createTable = `CREATE TABLE IF NOT EXISTS kernel_events (
                        run_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        event_id TEXT NOT NULL UNIQUE,
                        tenant_id TEXT NOT NULL,
                        event_type TEXT NOT NULL,
                        prev_event_hash TEXT,
                        event_hash TEXT NOT NULL,
                        timestamp TEXT NOT NULL,
                        payload_json TEXT NOT NULL,
                        PRIMARY KEY (run_id, seq)
                    )`
	createIndex = `CREATE INDEX IF NOT EXISTS idx_kernel_events_run_seq
                    ON kernel_events (run_id, seq)` + "\n                    "  // the Python original's trailing whitespace is stored too

	columns     = `run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, timestamp, payload_json`
	insertEvent = `INSERT INTO kernel_events (` + columns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	lastEvent   = `SELECT seq, event_hash, tenant_id FROM kernel_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1`
)

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// Open opens the ledger at path, creating the file and its directory if
// they do not exist (unless ReadOnly is given). A file that is not a SQLite
// database, or a database whose kernel_events table differs from the
// ledger table, is refused with ErrNotSQLite or ErrIncompatible and left
// unmodified.
//
// A new ledger is created whole: it is built under a temporary name and
// linked into place with its table and index, so that a process killed
// while creating it leaves no ledger or a valid empty one. An existing
// ledger is checked with SQLite's quick_check (CheckFile) unless
// SkipFileCheck is given; a damaged one is refused with ErrDamaged.
//
// The database is put in WAL mode; every connection uses the busy timeout
// and the synchronous mode of the options.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{sync: SyncNormal, busy: DefaultBusyTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	fail := func(err error) (*Store, error) { return nil, &Error{Op: "open", Path: path, Err: err} }
	if path == "" {
		return fail(errors.New("empty path; pass the path of a ledger file"))
	}
	switch cfg.sync {
	case SyncNormal, SyncFull:
	default:
		return fail(fmt.Errorf("synchronous mode %q is not NORMAL or FULL", cfg.sync))
	}
	if cfg.busy < 0 {
		return fail(fmt.Errorf("negative busy timeout %v", cfg.busy))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail(err)
	}
	if err := checkFile(abs, cfg.readOnly); err != nil {
		return fail(err)
	}
	if !cfg.readOnly && !exists(abs) {
		if err := createLedger(ctx, abs, cfg); err != nil {
			return fail(err)
		}
	}
	cfg.immutable = cfg.readOnly && !exists(abs+"-wal")
	db, err := sql.Open("sqlite", dsn(abs, cfg))
	if err != nil {
		return fail(err)
	}
	s := &Store{path: path, abs: abs, opts: ledger.NewStoreOptions(cfg.store...), readOnly: cfg.readOnly, skipCheck: cfg.skipCheck,
		immutable: cfg.immutable, db: db}
	if err := s.init(ctx); err != nil {
		_ = db.Close()
		return fail(err)
	}
	return s, nil
}

// checkFile refuses a path that exists but is not a SQLite database, and
// creates the missing directory of a new ledger. It reads the file only.
func checkFile(path string, readOnly bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if readOnly {
			return fmt.Errorf("no such ledger file (a read-only open does not create one): %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create the ledger's directory: %w", err)
		}
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory; pass the path of a ledger file")
	case !fi.Mode().IsRegular():
		return fmt.Errorf("is a %s, not a ledger file: %w; pass the path of a ledger file", regfile.Describe(fi.Mode()), regfile.ErrNotRegular)
	case fi.Size() == 0:
		return nil // SQLite treats an empty file as an empty database
	}
	f, err := regfile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteMagic {
		return fmt.Errorf("%w: the file does not start with the SQLite header (it starts with %q); the file was not modified",
			ErrNotSQLite, head)
	}
	return nil
}

// fileStamp returns the size and modification time of the file at path,
// or "" when it cannot be read.
func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// dsn returns the driver's data source name for the file at the absolute
// path abs: a file: URI, so that SQLite applies mode=ro or mode=rwc.
func dsn(abs string, cfg config) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	q := "_pragma=busy_timeout(" + strconv.FormatInt(cfg.busy.Milliseconds(), 10) + ")" +
		"&_pragma=synchronous(" + string(cfg.sync) + ")"
	switch {
	case cfg.readOnly && cfg.immutable:
		// Without a WAL file, a read-only connection would create the -wal
		// and -shm files and leave them behind. The file is complete
		// without them, so read it as immutable: SQLite creates nothing
		// and takes no locks.
		q += "&_pragma=query_only(1)&mode=ro&immutable=1"
	case cfg.readOnly:
		q += "&_pragma=query_only(1)&mode=ro"
	default:
		q += "&mode=rwc"
	}
	return "file:" + r.Replace(filepath.ToSlash(abs)) + "?" + q
}

// init checks the schema and, unless read-only, switches to WAL and creates
// the table and index. Nothing is written before the checks pass.
func (s *Store) init(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return openErr(err)
	}
	defer conn.Close()
	var n int
	err = conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kernel_events'`).Scan(&n)
	if err != nil {
		return openErr(err)
	}
	if n > 0 {
		if err := checkSchema(ctx, conn); err != nil {
			return err
		}
	} else if s.readOnly {
		return fmt.Errorf("%w: the database has no kernel_events table, so it is not an artana ledger", ErrIncompatible)
	}
	if n > 0 && !s.skipCheck {
		if err := quickCheck(ctx, conn); err != nil {
			return err
		}
		if s.immutable {
			s.checked, s.checkedStat = true, fileStamp(s.abs)
		}
	}
	if s.readOnly {
		return nil
	}
	var mode string
	if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("set WAL mode: the database stays in journal mode %q (WAL needs shared memory, which this file system may not offer)", mode)
	}
	if n > 0 {
		return nil
	}
	return createSchema(ctx, conn)
}

// createSchema creates the table and its index in one transaction.
func createSchema(ctx context.Context, conn *sql.Conn) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("create table kernel_events: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("create table kernel_events: %w", err)
	}
	if _, err := conn.ExecContext(ctx, createIndex); err != nil {
		return fmt.Errorf("create index idx_kernel_events_run_seq: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("create table kernel_events: commit: %w", err)
	}
	return nil
}

// createLedger creates an empty ledger at path whole: in a temporary file
// beside it (WAL mode, table and index), synced, then hard-linked into
// place, which fails rather than replace a ledger another process created
// meanwhile (that one is then used). A process killed meanwhile leaves at
// most the temporary file, never a partial ledger at path.
func createLedger(ctx context.Context, path string, cfg config) (err error) {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("create the ledger: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	defer func() {
		for _, p := range []string{name, name + "-wal", name + "-shm", name + "-journal"} {
			os.Remove(p)
		}
	}()
	c := cfg
	c.readOnly, c.immutable = false, false
	db, err := sql.Open("sqlite", dsn(name, c))
	if err != nil {
		return fmt.Errorf("create the ledger: %w", err)
	}
	build := func() error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		var mode string
		if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
			return fmt.Errorf("set WAL mode: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("set WAL mode: the database stays in journal mode %q (WAL needs shared memory, which this file system may not offer)", mode)
		}
		return createSchema(ctx, conn)
	}
	err = build()
	if cerr := db.Close(); err == nil { // closing checkpoints the WAL into the file
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create the ledger: %w", err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("create the ledger: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create the ledger: fsync: %w", err)
	}
	if err := os.Link(name, path); err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: rename, unless another
		// process created the ledger meanwhile. A narrow race remains
		// there: a ledger another process creates between the check and
		// the rename is replaced.
		if exists(path) {
			return nil
		}
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("create the ledger: %w", err)
		}
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// openErr turns SQLite's "file is not a database" into ErrNotSQLite.
func openErr(err error) error {
	if strings.Contains(err.Error(), "file is not a database") {
		return fmt.Errorf("%w: %v; the file was not modified", ErrNotSQLite, err)
	}
	return err
}

// A column of the ledger table as PRAGMA table_info reports it.
type column struct {
	name    string
	typ     string
	notNull bool
	pk      int
}

func (c column) String() string {
	s := c.name + " " + c.typ
	if c.notNull {
		s += " NOT NULL"
	}
	if c.pk > 0 {
		s += fmt.Sprintf(" (primary key column %d)", c.pk)
	}
	return s
}

var ledgerColumns = []column{
	{"run_id", "TEXT", true, 1},
	{"seq", "INTEGER", true, 2},
	{"event_id", "TEXT", true, 0},
	{"tenant_id", "TEXT", true, 0},
	{"event_type", "TEXT", true, 0},
	{"prev_event_hash", "TEXT", false, 0},
	{"event_hash", "TEXT", true, 0},
	{"timestamp", "TEXT", true, 0},
	{"payload_json", "TEXT", true, 0},
}

// checkSchema verifies that kernel_events has the ledger's columns,
// primary key and unique event_id.
func checkSchema(ctx context.Context, conn *sql.Conn) error {
	incompatible := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s; this database is not an artana ledger (or was changed by hand), so it was left unmodified: open another file",
			ErrIncompatible, fmt.Sprintf(format, args...))
	}
	rows, err := conn.QueryContext(ctx, `SELECT name, upper(type), "notnull", pk FROM pragma_table_info('kernel_events') ORDER BY cid`)
	if err != nil {
		return err
	}
	var got []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.pk); err != nil {
			rows.Close()
			return err
		}
		got = append(got, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, want := range ledgerColumns {
		if i >= len(got) {
			return incompatible("column %d is missing, want %s", i+1, want)
		}
		if got[i] != want {
			return incompatible("column %d is %s, want %s", i+1, got[i], want)
		}
	}
	if len(got) > len(ledgerColumns) {
		return incompatible("unexpected column %d: %s", len(ledgerColumns)+1, got[len(ledgerColumns)])
	}
	var unique int
	err = conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_index_list('kernel_events') AS l
		WHERE l."unique" = 1 AND l.partial = 0
		AND (SELECT group_concat(name) FROM pragma_index_info(l.name)) = 'event_id'`).Scan(&unique)
	if err != nil {
		return err
	}
	if unique == 0 {
		return incompatible("event_id is not UNIQUE")
	}
	return nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Append appends p to the run in one BEGIN IMMEDIATE transaction; see
// ledger.Store. It waits up to the busy timeout for other writers.
func (s *Store) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	return s.append(ctx, "append", runID, tenantID, p)
}

// CreateRun appends p as the first event of a new run, in the same
// transaction that checks the run has no events; see ledger.RunCreator.
// If it has, nothing is appended and the error matches ledger.ErrRunExists.
func (s *Store) CreateRun(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	return s.append(ctx, "create run", runID, tenantID, p)
}

func (s *Store) append(ctx context.Context, op, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	fail := func(seq int64, err error) (ledger.Event, error) {
		return ledger.Event{}, &Error{Op: op, Path: s.path, RunID: runID, Seq: seq, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(0, err)
	}
	if err := s.opts.CheckAppend(nil, runID, tenantID, p); err != nil {
		return ledger.Event{}, err
	}
	var e ledger.Event
	err := s.write(ctx, func(tx *writeTx) error {
		last, err := tx.lastEvent(ctx, runID)
		if err != nil {
			return err
		}
		if op == "create run" && last != nil {
			return &Error{Op: op, Path: s.path, RunID: runID, Seq: last.Seq,
				Err: fmt.Errorf("the run already has %d events: %w", last.Seq, ledger.ErrRunExists)}
		}
		e, err = s.opts.NextEvent(last, runID, tenantID, p)
		if err != nil {
			return err
		}
		return tx.insert(ctx, &e)
	})
	if err != nil {
		var se *Error
		if errors.As(err, &se) || errors.Is(err, ledger.ErrTenantMismatch) || errors.Is(err, ledger.ErrInvalidPayload) {
			return ledger.Event{}, err
		}
		return fail(e.Seq, err)
	}
	return e, nil
}

// writeTx is an open BEGIN IMMEDIATE transaction on the writer connection.
type writeTx struct{ s *Store }

func (tx *writeTx) lastEvent(ctx context.Context, runID string) (*ledger.Event, error) {
	last := ledger.Event{RunID: runID}
	err := tx.s.stmts.last.QueryRowContext(ctx, runID).Scan(&last.Seq, &last.Hash, &last.TenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the run's last event: %w", err)
	}
	return &last, nil
}

func (tx *writeTx) insert(ctx context.Context, e *ledger.Event) error {
	var prev any
	if e.PrevHash != "" {
		prev = e.PrevHash
	}
	_, err := tx.s.stmts.insert.ExecContext(ctx, e.RunID, e.Seq, e.ID, e.TenantID, string(e.Type), prev, e.Hash,
		isotime.Format(e.Timestamp), string(ledger.ColumnForm.Encode(e.Payload)))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed: kernel_events.event_id") {
			return fmt.Errorf("event id %s is already in the ledger: %w", e.ID, err)
		}
		return fmt.Errorf("insert: %w", err)
	}
	return nil
}

// write runs fn in a BEGIN IMMEDIATE transaction on the writer connection,
// committing if fn and the context allow it and rolling back otherwise.
func (s *Store) write(ctx context.Context, fn func(*writeTx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	if s.writer == nil {
		if err := s.openWriter(ctx); err != nil {
			return err
		}
	}
	if _, err := s.stmts.begin.ExecContext(ctx); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		s.resetWriter()
		return fmt.Errorf("begin the write transaction (waited up to the busy timeout for other writers): %w", err)
	}
	err := fn(&writeTx{s})
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		if _, cerr := s.stmts.commit.ExecContext(context.WithoutCancel(ctx)); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		} else {
			return nil
		}
	}
	if _, rerr := s.stmts.rollback.ExecContext(context.WithoutCancel(ctx)); rerr != nil &&
		!strings.Contains(rerr.Error(), "no transaction is active") {
		s.resetWriter()
	}
	return err
}

func (s *Store) openWriter(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	var w writeStmts
	for _, st := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&w.begin, "BEGIN IMMEDIATE"}, {&w.commit, "COMMIT"}, {&w.rollback, "ROLLBACK"},
		{&w.last, lastEvent}, {&w.insert, insertEvent},
	} {
		if *st.dst, err = conn.PrepareContext(ctx, st.query); err != nil {
			w.close()
			conn.Close()
			return err
		}
	}
	s.writer, s.stmts = conn, w
	return nil
}

// resetWriter discards the writer connection, whose transaction state is
// unknown after a failed rollback; the next write opens a new one.
func (s *Store) resetWriter() {
	if s.writer == nil {
		return
	}
	_ = s.stmts.close()
	_ = s.writer.Raw(func(any) error { return driver.ErrBadConn })
	s.writer.Close()
	s.writer = nil
}

// Import inserts events that were sealed elsewhere, for example exported
// from another ledger, keeping their ids, timestamps and hashes. The events
// of each run must continue that run's chain in this ledger: the first one
// follows the run's last stored event (or is seq 1) and every event
// verifies (ledger.ChainVerifier). Events of several runs may be mixed; the
// events of one run must be in seq order. Import is all-or-nothing: on any
// error nothing is inserted.
func (s *Store) Import(ctx context.Context, events []ledger.Event) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: "import", Path: s.path, Err: err}
	}
	if len(events) == 0 {
		return nil
	}
	var failed *Error
	err := s.write(ctx, func(tx *writeTx) error {
		verifiers := make(map[string]*ledger.ChainVerifier)
		for i := range events {
			e := &events[i]
			fail := func(err error) error {
				failed = &Error{Op: "import", Path: s.path, RunID: e.RunID, Seq: e.Seq,
					Err: fmt.Errorf("event %d of %d: %w; nothing was imported", i+1, len(events), err)}
				return failed
			}
			if e.RunID == "" {
				return fail(errors.New("empty run id"))
			}
			v := verifiers[e.RunID]
			if v == nil {
				v = new(ledger.ChainVerifier)
				last, err := tx.lastEvent(ctx, e.RunID)
				if err != nil {
					return fail(err)
				}
				if last != nil {
					v.Resume(last)
				}
				verifiers[e.RunID] = v
			}
			if err := v.Next(e); err != nil {
				return fail(fmt.Errorf("does not continue the run's chain in this ledger: %w", err))
			}
			if err := tx.insert(ctx, e); err != nil {
				return fail(err)
			}
		}
		return nil
	})
	if err != nil && failed == nil {
		return &Error{Op: "import", Path: s.path, Err: fmt.Errorf("%w; nothing was imported", err)}
	}
	return err
}

// Events returns the run's events with seq > afterSeq; see ledger.Store.
// The events are not verified; use Verify for that.
func (s *Store) Events(ctx context.Context, runID string, afterSeq int64) ([]ledger.Event, error) {
	events := []ledger.Event{}
	err := s.Scan(ctx, runID, afterSeq, func(e ledger.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// Scan calls fn with each of the run's events with seq > afterSeq, in seq
// order, without holding the run in memory. It stops at the first error fn
// returns and returns that error. The events come from one consistent
// snapshot of the ledger.
func (s *Store) Scan(ctx context.Context, runID string, afterSeq int64, fn func(ledger.Event) error) error {
	return s.scan(ctx, runID, `SELECT `+columns+` FROM kernel_events WHERE run_id = ? AND seq > ? ORDER BY seq`,
		fn, runID, afterSeq)
}

// ScanAll calls fn with every event of the ledger, ordered by run id and
// then seq, without holding a run in memory. It stops at the first error fn
// returns and returns that error.
func (s *Store) ScanAll(ctx context.Context, fn func(ledger.Event) error) error {
	return s.scan(ctx, "", `SELECT `+columns+` FROM kernel_events ORDER BY run_id, seq`, fn)
}

func (s *Store) scan(ctx context.Context, runID, query string, fn func(ledger.Event) error, args ...any) error {
	return s.scanRaw(ctx, runID, query, func(e ledger.Event, _ rawRow) error { return fn(e) }, args...)
}

// rawRow is what a row holds beyond the event it decodes to: its payload
// text and, when the query selects it after the columns, its rowid.
type rawRow struct {
	payload []byte
	rowid   int64
}

// scanRaw runs query, which selects the columns (and, optionally, the
// rowid after them), and calls fn with each row decoded.
func (s *Store) scanRaw(ctx context.Context, runID, query string, fn func(ledger.Event, rawRow) error, args ...any) error {
	fail := func(err error) error { return &Error{Op: "read", Path: s.path, RunID: runID, Err: damagedErr(err)} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return s.readErr(fail(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return s.readErr(fail(err))
	}
	withRowid := len(cols) > 9
	for rows.Next() {
		e, raw, err := s.decodeRow(rows, withRowid)
		if err != nil {
			return err
		}
		if err := fn(e, raw); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.readErr(fail(err))
	}
	return nil
}

// readErr reports ErrClosed for a read that failed because Close ran.
func (s *Store) readErr(err error) error {
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	return err
}

// decodeRow reads one kernel_events row, as Python's get_events_for_run
// does: timestamps through isotime.Parse, payloads through DecodePayload.
func (s *Store) decodeRow(rows *sql.Rows, withRowid bool) (ledger.Event, rawRow, error) {
	var (
		e               ledger.Event
		typ, ts, pl     string
		prev            sql.NullString
		runID, tenantID sql.NullString
		raw             rawRow
	)
	dest := []any{&runID, &e.Seq, &e.ID, &tenantID, &typ, &prev, &e.Hash, &ts, &pl}
	if withRowid {
		dest = append(dest, &raw.rowid)
	}
	if err := rows.Scan(dest...); err != nil {
		return e, raw, &Error{Op: "read", Path: s.path, RunID: runID.String,
			Err: fmt.Errorf("bad row after seq %d: %w", e.Seq, err)}
	}
	e.RunID, e.TenantID, e.PrevHash, e.Type = runID.String, tenantID.String, prev.String, ledger.EventType(typ)
	fail := func(err error) (ledger.Event, rawRow, error) {
		return e, raw, &Error{Op: "read", Path: s.path, RunID: e.RunID, Seq: e.Seq,
			Err: fmt.Errorf("%w; the row is damaged or was not written by artana", err)}
	}
	if !runID.Valid || !tenantID.Valid {
		return fail(errors.New("NULL run_id or tenant_id"))
	}
	if prev.Valid && prev.String == "" {
		return fail(errors.New("prev_event_hash is an empty string, want NULL or a hash"))
	}
	var err error
	if e.Timestamp, err = isotime.Parse(ts); err != nil {
		return fail(fmt.Errorf("column timestamp: %w", err))
	}
	if e.Payload, err = ledger.DecodePayload(e.Type, []byte(pl)); err != nil {
		return fail(fmt.Errorf("column payload_json: %w", err))
	}
	raw.payload = []byte(pl)
	return e, raw, nil
}

// Runs lists every run of the ledger ordered by run id, with its event
// count, tenant, the timestamps of its first and last events and its last
// hash; see ledger.Store.
func (s *Store) Runs(ctx context.Context) ([]ledger.RunInfo, error) {
	fail := func(err error) ([]ledger.RunInfo, error) {
		return nil, s.readErr(&Error{Op: "list runs of", Path: s.path, Err: err})
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if s.closed.Load() {
		return nil, ledger.ErrClosed
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT r.run_id, r.n, f.tenant_id, f.timestamp, f.seq, l.timestamp, l.seq, l.event_hash
		FROM (SELECT run_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM kernel_events GROUP BY run_id) AS r
		JOIN kernel_events AS f ON f.run_id = r.run_id AND f.seq = r.lo
		JOIN kernel_events AS l ON l.run_id = r.run_id AND l.seq = r.hi
		ORDER BY r.run_id`)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	runs := []ledger.RunInfo{}
	for rows.Next() {
		var (
			r           ledger.RunInfo
			first, last string
			fseq, lseq  int64
		)
		if err := rows.Scan(&r.RunID, &r.Events, &r.TenantID, &first, &fseq, &last, &lseq, &r.LastHash); err != nil {
			return fail(err)
		}
		if r.First, err = isotime.Parse(first); err != nil {
			return nil, &Error{Op: "list runs of", Path: s.path, RunID: r.RunID, Seq: fseq, Err: fmt.Errorf("column timestamp: %w", err)}
		}
		if r.Last, err = isotime.Parse(last); err != nil {
			return nil, &Error{Op: "list runs of", Path: s.path, RunID: r.RunID, Seq: lseq, Err: fmt.Errorf("column timestamp: %w", err)}
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return runs, nil
}

// Close closes the database. Later calls fail with ledger.ErrClosed;
// closing again returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	if s.writer != nil {
		errs = append(errs, s.stmts.close(), s.writer.Close())
		s.writer = nil
	}
	errs = append(errs, s.db.Close())
	if err := errors.Join(errs...); err != nil {
		return &Error{Op: "close", Path: s.path, Err: err}
	}
	return nil
}
