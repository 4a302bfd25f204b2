package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
)

// ErrDamaged means the ledger file is damaged: SQLite's own check of the
// file fails, or a run's rows differ between the table and the index that
// reads go through. It is not a changed event (ledger.ErrChainBroken) but a
// broken file: restore it from a backup or from an export.
var ErrDamaged = errors.New("ledger file damaged")

// damagedNext says what to do about a damaged file.
const damagedNext = "the file is damaged (a disk or copy error, or an edit below SQLite); restore it from a backup, or recover what SQLite still reads with: sqlite3 FILE .recover"

// CheckFile runs SQLite's PRAGMA quick_check over the whole file: page
// structure, record formats, NOT NULL and UNIQUE constraints. It does not
// compare the index entries with the table; Verify and VerifyEach do that
// for the rows a run is read from. It returns nil for a sound file and
// otherwise an *Error wrapping ErrDamaged with SQLite's first findings.
//
// Its cost is one read of the whole file (see the README for a measure).
func (s *Store) CheckFile(ctx context.Context) error {
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	if err := quickCheck(ctx, s.db); err != nil {
		return &Error{Op: "check", Path: s.path, Err: err}
	}
	return nil
}

// quickCheck runs PRAGMA quick_check on q.
func quickCheck(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) error {
	rows, err := q.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return damagedErr(err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return damagedErr(err)
		}
		if msg != "ok" {
			found = append(found, finding(msg))
		}
	}
	if err := rows.Err(); err != nil {
		return damagedErr(err)
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: PRAGMA quick_check: %s; %s", ErrDamaged, strings.Join(found, "; "), damagedNext)
	}
	return nil
}

// finding puts one of SQLite's check messages on one line.
func finding(msg string) string {
	msg = strings.TrimPrefix(msg, "*** in database main ***\n")
	return strings.Join(strings.Fields(msg), " ")
}

// damagedErr turns SQLite's "database disk image is malformed" (and a
// failed check) into ErrDamaged.
func damagedErr(err error) error {
	if err == nil || errors.Is(err, ErrDamaged) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt") || strings.Contains(msg, "file is not a database") {
		return fmt.Errorf("%w: %v; %s", ErrDamaged, err, damagedNext)
	}
	return err
}

// rowDigest sums up a run's rows in any order: how many, and sums of
// their rowids, of their seqs and of a mix of the two, in integer
// arithmetic that SQLite computes the same way (no term reaches 2^32, so
// no sum of fewer than 2^31 rows overflows). The rows a run is read from
// through the index and the rows the table holds for it must agree.
type rowDigest struct {
	n, rowids, seqs, mix int64
}

func (d *rowDigest) add(rowid, seq int64) {
	d.n++
	d.rowids += rowid % 4294967291
	d.seqs += seq % 4294967279
	d.mix += ((rowid%65521)*65537 + seq%65537) % 4294967291
}

// digestColumns is rowDigest.add summed up by SQLite, then the number of
// rows whose seq is not an integer.
const digestColumns = `count(*), sum(rowid % 4294967291), sum(seq % 4294967279),` +
	` sum(((rowid % 65521) * 65537 + seq % 65537) % 4294967291), sum(typeof(seq) != 'integer')`

// tableDigests reads the table itself, without any index, and sums up the
// rows of each run (of runID only, if not empty).
func (s *Store) tableDigests(ctx context.Context, runID string) (map[string]*rowDigest, error) {
	if s.decoded {
		return s.tableDigestsScan(ctx, runID)
	}
	if out, ok := s.tableDigestsFast(ctx, runID); ok {
		return out, nil
	}
	return s.tableDigestsScan(ctx, runID)
}

// tableDigestsScan is tableDigests reading the columns one by one; it
// explains a row that tableDigestsFast cannot read.
func (s *Store) tableDigestsScan(ctx context.Context, runID string) (map[string]*rowDigest, error) {
	q := `SELECT run_id, rowid, seq FROM kernel_events NOT INDEXED`
	var args []any
	if runID != "" {
		q += ` WHERE run_id = ?`
		args = append(args, runID)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, damagedErr(err)
	}
	defer rows.Close()
	out := make(map[string]*rowDigest)
	for rows.Next() {
		var (
			run        sql.NullString
			rowid, seq int64
		)
		if err := rows.Scan(&run, &rowid, &seq); err != nil {
			return nil, damagedErr(err)
		}
		d := out[run.String]
		if d == nil {
			d = new(rowDigest)
			out[run.String] = d
		}
		d.add(rowid, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, damagedErr(err)
	}
	return out, nil
}

// Verify checks the run: the file (what SQLite's integrity_check checks:
// pages, records, and every index against the table; and the ledger's
// schema), the rows of the run as the table holds them against those the
// index yields, the hash chain, and that each stored payload is exactly
// the text the writer produces for it (ledger.PayloadForm.Check),
// streaming the run. It returns nil for a valid (or empty) run in a sound
// file; otherwise an error wrapping ErrDamaged, the *ledger.ChainError of
// the first bad event, or the error of a row that cannot be read.
//
// A sound ledger is proved sound in one read of the table in rowid order,
// from its pages, with quick_check and scans of the indexes beside it
// (read from their pages too when the ledger is opened ReadOnly and has no
// WAL); anything that read cannot prove is examined the thorough way
// (integrity_check, the run read through its index), which names what is
// wrong. Verify reads the whole file; to verify many runs, VerifyEach does
// that once for all of them.
func (s *Store) Verify(ctx context.Context, runID string) error {
	return verifyOne(ctx, runID, s.VerifyEach)
}

// verifyOne verifies the run runID with each (VerifyEach or
// verifyEachThorough) and returns the first error it reports.
func verifyOne(ctx context.Context, runID string, each func(context.Context, []string, func(RunCheck) error, func()) error) error {
	var first error
	err := each(ctx, []string{runID}, func(c RunCheck) error {
		if c.Err != nil && first == nil {
			first = c.Err
		}
		return nil
	}, nil)
	if err != nil {
		return err
	}
	return first
}

// A RunCheck is what VerifyEach found for one run, or, with an empty
// RunID, for the file.
type RunCheck struct {
	RunID  string // "" for damage that concerns the file rather than a run
	Events int64  // the events read and verified before Err, or all of them
	Err    error  // nil when the run verifies
}

// VerifyEach verifies the runs named in only (every run of the ledger when
// only is empty) as Verify does, and calls fn with the outcome of each, in
// run id order. The file check and the read of the table are done once for
// all runs. Runs are listed from the table as well as from the index, so a
// run that one of them lost or invented is reported, not left out. A
// finding of SQLite's check that concerns a row is reported with the run
// of the row; one that concerns the file is reported last, with an empty
// RunID. An error that keeps the file from being read at all is returned.
// onEvent, if not nil, is called after each event verified.
func (s *Store) VerifyEach(ctx context.Context, only []string, fn func(RunCheck) error, onEvent func()) error {
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	checks, reported, ok := s.verifyEachFast(ctx, only, onEvent)
	if ok {
		for _, c := range checks {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return &Error{Op: "verify", Path: s.path, Err: err}
	}
	if onEvent != nil && reported > 0 {
		// The events the fast path counted are counted once.
		report := onEvent
		onEvent = func() {
			if reported > 0 {
				reported--
				return
			}
			report()
		}
	}
	return s.verifyEachThorough(ctx, only, fn, onEvent)
}

// verifyEachThorough is VerifyEach reading the file the long way, which
// explains whatever verifyEachFast cannot prove sound: SQLite's
// integrity_check, the table read without the index, and each run read
// through the index, as every reader reads it.
func (s *Store) verifyEachThorough(ctx context.Context, only []string, fn func(RunCheck) error, onEvent func()) error {
	fail := func(err error) error { return &Error{Op: "verify", Path: s.path, Err: err} }
	// SQLite's integrity_check reads the whole file on a connection of its
	// own while the table and the runs are read: on more than one core,
	// verify takes the longer of the two rather than their sum.
	wait := s.startIntegrityCheck(ctx)
	defer wait()

	table, err := s.tableDigests(ctx, "")
	if err != nil {
		return fail(err)
	}
	ids := only
	if len(ids) == 0 {
		if ids, err = s.allRuns(ctx, table); err != nil {
			return fail(err)
		}
	}
	// The runs are verified while the check runs; their outcomes are
	// reported once it is done, each with what it found in the run.
	checks := make([]RunCheck, 0, len(ids))
	verify := func(id string) error {
		n, err := s.verifyRun(ctx, id, table[id], onEvent)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		checks = append(checks, RunCheck{RunID: id, Events: n, Err: err})
		return nil
	}
	for _, id := range ids {
		if err := verify(id); err != nil {
			return err
		}
	}
	c := wait()
	if c.err != nil {
		return fail(c.err)
	}
	if len(only) == 0 {
		// A run that only the check names (none of its rows read above).
		for _, id := range runsOnlyChecked(ids, c.perRun) {
			if err := verify(id); err != nil {
				return err
			}
		}
		sort.SliceStable(checks, func(i, j int) bool { return checks[i].RunID < checks[j].RunID })
	}
	return s.reportChecks(checks, c, fn)
}

// integrity is the outcome of checkIntegrity.
type integrity struct {
	perRun map[string][]string
	file   []string
	err    error
}

// startIntegrityCheck runs checkIntegrity on a goroutine of its own and
// returns a func that waits for its outcome (each call the same).
func (s *Store) startIntegrityCheck(ctx context.Context) (wait func() *integrity) {
	checked := make(chan integrity, 1)
	go func() {
		var c integrity
		c.perRun, c.file, c.err = s.checkIntegrity(ctx)
		checked <- c
	}()
	var check *integrity
	return func() *integrity {
		if check == nil {
			c := <-checked
			check = &c
		}
		return check
	}
}

// allRuns lists, in order, the runs of the table (as read into table) and
// of the index.
func (s *Store) allRuns(ctx context.Context, table map[string]*rowDigest) ([]string, error) {
	set := make(map[string]bool, len(table))
	for id := range table {
		set[id] = true
	}
	if err := s.indexRuns(ctx, set); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// runsOnlyChecked lists, in order, the runs that integrity_check's
// findings name and ids does not.
func runsOnlyChecked(ids []string, perRun map[string][]string) []string {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	var more []string
	for id := range perRun {
		if !seen[id] {
			more = append(more, id)
		}
	}
	sort.Strings(more)
	return more
}

// reportChecks calls fn with each run's check, a run without a problem of
// its own failing with integrity_check's findings about its rows, and then
// with the findings that concern the file, if any.
func (s *Store) reportChecks(checks []RunCheck, c *integrity, fn func(RunCheck) error) error {
	for _, rc := range checks {
		if rc.Err == nil && len(c.perRun[rc.RunID]) > 0 {
			rc.Err = &Error{Op: "verify", Path: s.path, RunID: rc.RunID, Err: fmt.Errorf("%w: PRAGMA integrity_check: %s; %s",
				ErrDamaged, strings.Join(c.perRun[rc.RunID], "; "), damagedNext)}
		}
		if err := fn(rc); err != nil {
			return err
		}
	}
	if len(c.file) > 0 {
		err := &Error{Op: "verify", Path: s.path, Err: fmt.Errorf("%w: %s; %s", ErrDamaged, strings.Join(c.file, "; "), damagedNext)}
		if err := fn(RunCheck{Err: err}); err != nil {
			return err
		}
	}
	return nil
}

// rowMissing matches integrity_check's report of an index that lacks a row.
var rowMissing = regexp.MustCompile(`^row (\d+) missing from index (\S+)$`)

// checkIntegrity runs PRAGMA integrity_check and checks the ledger's
// schema entries. A finding that names a row is returned under the row's
// run (with its seq); the others concern the file.
func (s *Store) checkIntegrity(ctx context.Context) (perRun map[string][]string, file []string, err error) {
	rows, err := s.db.QueryContext(ctx, `PRAGMA integrity_check(100)`)
	if err != nil {
		return nil, nil, damagedErr(err)
	}
	var found []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, nil, damagedErr(err)
		}
		if msg != "ok" {
			found = append(found, finding(msg))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, damagedErr(err)
	}
	perRun = make(map[string][]string)
	for _, msg := range found {
		m := rowMissing.FindStringSubmatch(msg)
		if m == nil {
			file = append(file, "PRAGMA integrity_check: "+msg)
			continue
		}
		var run sql.NullString
		var seq int64
		err := s.db.QueryRowContext(ctx, `SELECT run_id, seq FROM kernel_events NOT INDEXED WHERE rowid = ?`, m[1]).Scan(&run, &seq)
		if err != nil {
			file = append(file, "PRAGMA integrity_check: "+msg)
			continue
		}
		perRun[run.String] = append(perRun[run.String], fmt.Sprintf("index %s lacks the row of seq %d", m[2], seq))
	}
	if msg := s.checkSchemaEntries(ctx); msg != "" {
		file = append(file, msg)
	}
	return perRun, file, nil
}

// The schema entries of the ledger table, by name: SQLite stores the
// statements without "IF NOT EXISTS".
var ledgerSchema = []string{
	"index|idx_kernel_events_run_seq|kernel_events|" + strings.Replace(createIndex, "INDEX IF NOT EXISTS", "INDEX", 1),
	"table|kernel_events|kernel_events|" + strings.Replace(createTable, "TABLE IF NOT EXISTS", "TABLE", 1),
	"index|sqlite_autoindex_kernel_events_1|kernel_events|",
	"index|sqlite_autoindex_kernel_events_2|kernel_events|",
}

// checkSchemaEntries compares sqlite_master's entries for the ledger table
// with those that artana and the Python original write. It returns what
// differs, or "".
func (s *Store) checkSchemaEntries(ctx context.Context) string {
	rows, err := s.db.QueryContext(ctx, `SELECT type || '|' || name || '|' || tbl_name || '|' || coalesce(sql, '') FROM sqlite_master
		WHERE tbl_name = 'kernel_events' OR name LIKE '%kernel_events%' ORDER BY name`)
	if err != nil {
		return "sqlite_master: " + err.Error()
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return "sqlite_master: " + err.Error()
		}
		got = append(got, e)
	}
	if !slices.Equal(got, ledgerSchema) {
		return fmt.Sprintf("the schema entries of kernel_events in sqlite_master are %q, want %q", got, ledgerSchema)
	}
	return ""
}

// indexRuns adds to set the run ids that the (run_id, seq) index holds.
func (s *Store) indexRuns(ctx context.Context, set map[string]bool) error {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT run_id FROM kernel_events INDEXED BY idx_kernel_events_run_seq`)
	if err != nil {
		return damagedErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return damagedErr(err)
		}
		set[id.String] = true
	}
	return damagedErr(rows.Err())
}

// verifyRun streams the run through the index, as every read does,
// verifying the chain and the payload texts, and compares its rows with
// want, the table's digest of the run (nil: the table holds no row of it).
func (s *Store) verifyRun(ctx context.Context, runID string, want *rowDigest, onEvent func()) (int64, error) {
	if s.decoded {
		return s.verifyRunDecoded(ctx, runID, want, onEvent, 0)
	}
	n, ok, err := s.verifyRunStored(ctx, runID, want, onEvent)
	if ok {
		return n, err
	}
	return s.verifyRunDecoded(ctx, runID, want, onEvent, n)
}

// verifyRunDecoded is verifyRun decoding each row into an event, as a
// read does; it explains every problem verifyRunStored leaves to it. The
// first skip events are not reported to onEvent: verifyRunStored did.
func (s *Store) verifyRunDecoded(ctx context.Context, runID string, want *rowDigest, onEvent func(), skip int64) (int64, error) {
	if onEvent != nil && skip > 0 {
		// The events the fast read counted are counted once.
		report := onEvent
		onEvent = func() {
			if skip > 0 {
				skip--
				return
			}
			report()
		}
	}
	var (
		v        ledger.ChainVerifier
		got      rowDigest
		verified int64
		broken   error // the first bad event; the rows are still counted
	)
	err := s.scanRaw(ctx, runID, `SELECT `+columns+`, rowid FROM kernel_events WHERE run_id = ? ORDER BY seq`,
		func(e ledger.Event, raw rawRow) error {
			got.add(raw.rowid, e.Seq)
			if broken != nil {
				return nil
			}
			if err := v.Next(&e); err != nil {
				broken = fmt.Errorf("verify %s: %w", s.path, err)
				return nil
			}
			if err := ledger.ColumnForm.Check(&e, raw.payload); err != nil {
				broken = fmt.Errorf("verify %s: %w", s.path, err)
				return nil
			}
			verified++
			if onEvent != nil {
				onEvent()
			}
			return nil
		}, runID)
	if err != nil {
		// A row that cannot be read: its error names run and seq.
		if broken != nil {
			return verified, broken
		}
		return verified, err
	}
	if want == nil {
		want = &rowDigest{}
	}
	if got != *want {
		return 0, s.digestErr(runID, want, &got)
	}
	return verified, broken
}

// digestErr reports a run whose rows differ between the table and the
// index.
func (s *Store) digestErr(runID string, want, got *rowDigest) error {
	return &Error{Op: "verify", Path: s.path, RunID: runID, Err: fmt.Errorf(
		"%w: the run's rows differ between the table and its index: the table holds %d rows of the run, reads through the index find %d; %s",
		ErrDamaged, want.n, got.n, damagedNext)}
}
