package sqlite

import (
	"context"
	"database/sql"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/artana-go/go-artana/artana/ledger"
)

// The fast verification of a whole ledger (verifyEachFast) proves a sound
// ledger sound with one read of the table in rowid order, cheap scans of the
// indexes, and SQLite's quick_check, all at once on two connections. It
// never reports a problem itself: anything it cannot prove sends VerifyEach
// to the thorough path (verifyEachThorough: integrity_check, each run read
// through its index), which finds and names what is wrong. So a ledger
// passes only if the thorough path would pass it too:
//
//   - integrity_check is quick_check (pages, cells, overflow chains, free
//     list, record formats, NOT NULL, column types) plus, for every index,
//     that its entries are exactly the table's rows (each row has its entry,
//     no entry more) and that a UNIQUE index holds no key twice. quick_check
//     runs as it is; for the two (run_id, seq) indexes, a covering scan sums
//     up each run's entries (rowDigest: count, rowids, seqs, a mix of both,
//     and the entries whose run_id or seq has another type) and each sum must
//     equal that of the run's rows in the table; for the event_id index, a
//     covering scan in key order hashes every (event_id, rowid) entry, the
//     keys must be strictly increasing (unique), and the entries read, the
//     entries the index counts and the table's rows must agree in number and
//     in the sum of their hashes.
//   - The table's rows of a run and the rows reads through the index find
//     (the thorough path's digest comparison) are the digests above.
//   - Each run's chain and stored payload texts are verified from the table
//     read, in rowid order: a run passes only if its rows in rowid order
//     start at seq 1 and each follows the one before (StoredVerifier), which
//     is the order a read through the index yields once the index holds
//     exactly the table's entries.
//
// Reading the table in rowid order costs a fraction of reading it run by run
// through the index (a b-tree search per row), and the index scans read only
// the index pages.

// idSeed keys the hashes of (event_id, rowid) pairs, the same for the table
// and the index within a process.
var idSeed = maphash.MakeSeed()

// idHash hashes an event_id index entry: the key and the rowid.
func idHash(id string, rowid int64) uint64 {
	x := maphash.String(idSeed, id) + uint64(rowid)*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// idSum sums up a multiset of (event_id, rowid) pairs.
type idSum struct {
	n   int64
	sum uint64
}

func (s *idSum) add(id string, rowid int64) {
	s.n++
	s.sum += idHash(id, rowid)
}

// fileProof is what the fast path learns of the file beside the table
// read: whether quick_check and the schema entries are sound, and the
// digests of the indexes.
type fileProof struct {
	ok           bool
	runSeq, pkey map[string]*rowDigest // per run, from the two (run_id, seq) indexes
	ids          idSum                 // the event_id index, read in key order
	idCount      int64                 // the entries the event_id index counts
}

// The indexes of the ledger table. SQLite numbers the automatic indexes in
// the order of the constraints in the CREATE TABLE statement, which
// checkSchemaEntries pins: UNIQUE event_id, then the primary key.
const (
	indexRunSeq = "idx_kernel_events_run_seq"
	indexID     = "sqlite_autoindex_kernel_events_1"
	indexPKey   = "sqlite_autoindex_kernel_events_2"
)

// The event_id index is read page by page, each page one text of entries
// "LEN:IDROWID" separated by spaces; a key of another type adds nothing to
// the text but is counted, so the entries read fall short of the count.
const (
	idPage      = 8192
	idPageQuery = `SELECT string_agg(CASE WHEN typeof(e) = 'text' THEN printf('%d:%s%d', octet_length(e), e, r) END, ' '), count(*)` +
		` FROM (SELECT event_id AS e, rowid AS r FROM kernel_events INDEXED BY ` + indexID + ` WHERE event_id > ? ORDER BY event_id LIMIT 8192)`
	idFirstPageQuery = `SELECT string_agg(CASE WHEN typeof(e) = 'text' THEN printf('%d:%s%d', octet_length(e), e, r) END, ' '), count(*)` +
		` FROM (SELECT event_id AS e, rowid AS r FROM kernel_events INDEXED BY ` + indexID + ` WHERE event_id >= '' ORDER BY event_id LIMIT 8192)`
	// count(*) would count the entries of the smallest index, whichever it is.
	idCountQuery = `SELECT coalesce(sum(1), 0) FROM kernel_events INDEXED BY ` + indexID
)

// querier is what a *sql.DB and a *sql.Conn share.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// coveringScan reports whether SQLite answers query from the index alone,
// in its order: the index scans compare the index with the table only if
// they do not read the table.
func coveringScan(ctx context.Context, q querier, query, index string, args ...any) bool {
	rows, err := q.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return false
	}
	defer rows.Close()
	covering := false
	for rows.Next() {
		var id, parent, notused int64
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return false
		}
		switch {
		case strings.Contains(detail, "TEMP B-TREE"):
			return false
		case strings.Contains(detail, "kernel_events"):
			if !strings.Contains(detail, "USING COVERING INDEX "+index) {
				return false
			}
			covering = true
		}
	}
	return rows.Err() == nil && covering
}

// proveFile runs quick_check, checks the schema entries and reads the
// indexes, on a connection of its own.
func (s *Store) proveFile(ctx context.Context) (p fileProof) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return p
	}
	defer conn.Close()
	// An immutable file that passed quick_check at Open, and has neither
	// grown nor been written since, is as it was.
	checked := s.checked && s.checkedStat != "" && fileStamp(s.abs) == s.checkedStat
	if s.checkSchemaEntries(ctx) != "" {
		return p
	}
	// quick_check runs on a connection of its own beside the reads of the
	// indexes: the proof holds only if both pass.
	quick := make(chan error, 1)
	if checked {
		quick <- nil
	} else {
		go func() { quick <- quickCheck(ctx, s.db) }()
	}
	p.ok = s.readIndexesOf(ctx, conn, &p)
	if err := <-quick; err != nil {
		return fileProof{}
	}
	return p
}

// readIndexesOf reads the three indexes into p: from the file's pages for
// an immutable file (readIndexes), through SQLite otherwise.
func (s *Store) readIndexesOf(ctx context.Context, conn *sql.Conn, p *fileProof) bool {
	if s.immutable {
		return s.readIndexes(ctx, conn, p)
	}
	var ok bool
	if p.runSeq, ok = runIndex(ctx, conn, indexRunSeq); !ok {
		return false
	}
	if p.pkey, ok = runIndex(ctx, conn, indexPKey); !ok {
		return false
	}
	p.ids, p.idCount, ok = eventIDIndex(ctx, conn)
	return ok
}

// readIndexes reads the three indexes of an immutable file from its pages
// (pageFile.scanIndex), in key order: it sums up each run's entries of the
// two (run_id, seq) indexes and the entries of the event_id index, and
// reports false unless every entry is as SQLite writes it for the rows the
// writers write and every index is in strictly increasing key order.
func (s *Store) readIndexes(ctx context.Context, q querier, p *fileProof) bool {
	roots, ok := indexRoots(ctx, q)
	if !ok {
		return false
	}
	pf, ok := openPageFile(s.abs)
	if !ok {
		return false
	}
	defer pf.Close()
	if p.runSeq, ok = pageRunDigests(ctx, pf, roots[indexRunSeq]); !ok {
		return false
	}
	if p.pkey, ok = pageRunDigests(ctx, pf, roots[indexPKey]); !ok {
		return false
	}
	ok = pageIDSum(ctx, pf, roots[indexID], &p.ids)
	p.idCount = p.ids.n
	return ok
}

// indexRoots returns the root pages of the ledger table's indexes by name;
// it reports false unless each of the three has a page number a pageFile
// can read.
func indexRoots(ctx context.Context, q querier) (map[string]uint32, bool) {
	roots := map[string]int64{}
	rows, err := q.QueryContext(ctx, `SELECT name, rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kernel_events'`)
	if err != nil {
		return nil, false
	}
	for rows.Next() {
		var name string
		var root int64
		if err := rows.Scan(&name, &root); err != nil {
			rows.Close()
			return nil, false
		}
		roots[name] = root
	}
	rows.Close()
	if rows.Err() != nil {
		return nil, false
	}
	out := make(map[string]uint32, 3)
	for _, name := range []string{indexRunSeq, indexPKey, indexID} {
		r := roots[name]
		if r <= 1 || r > 1<<32-1 {
			return nil, false
		}
		out[name] = uint32(r)
	}
	return out, true
}

// pageRunDigests reads the (run_id, seq) index at page root of pf in key
// order and sums up each run's entries (rowDigest). It reports false unless
// every entry is of the types the writers give the columns, in strictly
// increasing key order.
func pageRunDigests(ctx context.Context, pf *pageFile, root uint32) (map[string]*rowDigest, bool) {
	out := make(map[string]*rowDigest)
	var (
		x, last indexEntry
		cur     *rowDigest
		first   = true
		n       int
	)
	ok := pf.scanIndex(root, func(rec []byte) bool {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return false
		}
		if !splitIndexRecord(rec, true, &x) {
			return false
		}
		if !first && (x.text < last.text || x.text == last.text && (x.seq < last.seq || x.seq == last.seq && x.rowid <= last.rowid)) {
			return false // out of order
		}
		if first || x.text != last.text {
			if out[x.text] != nil {
				return false
			}
			cur = new(rowDigest)
			last.text = strings.Clone(x.text)
			out[last.text] = cur
		}
		first, last.seq, last.rowid = false, x.seq, x.rowid
		cur.add(x.rowid, x.seq)
		return true
	})
	return out, ok
}

// pageIDSum reads the event_id index at page root of pf in key order and
// adds its entries to sum. It reports false unless every key is text, in
// strictly increasing order.
func pageIDSum(ctx context.Context, pf *pageFile, root uint32, sum *idSum) bool {
	var (
		x     indexEntry
		last  []byte
		first = true
		n     int
	)
	return pf.scanIndex(root, func(rec []byte) bool {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return false
		}
		if !splitIndexRecord(rec, false, &x) || (!first && x.text <= unsafeString(last)) {
			return false // unique keys, in increasing order
		}
		first, last = false, append(last[:0], x.text...)
		sum.add(x.text, x.rowid)
		return true
	})
}

// runIndexPage reads a page of a (run_id, seq) index in key order after
// the entry (?1, ?2, ?3): one text of entries "LEN:RUNID SEQ ROWID"
// separated by spaces (an entry whose run_id or seq has another type adds
// nothing to the text but is counted), and the number of entries.
func runIndexPage(index string, first bool) string {
	where := `(run_id, seq, rowid) > (?, ?, ?)`
	if first {
		where = `run_id >= ''`
	}
	return `SELECT string_agg(CASE WHEN typeof(a) = 'text' AND typeof(b) = 'integer' THEN printf('%d:%s %d %d', octet_length(a), a, b, r) END, ' '), count(*)` +
		` FROM (SELECT run_id AS a, seq AS b, rowid AS r FROM kernel_events INDEXED BY ` + index + ` WHERE ` + where +
		` ORDER BY run_id, seq, rowid LIMIT 8192)`
}

// runIndex reads a (run_id, seq) index in key order, page by page, and
// sums up each run's entries (rowDigest). It reports false unless every
// entry was read, in strictly increasing key order, and is of the types
// the writers give the columns.
func runIndex(ctx context.Context, q querier, index string) (map[string]*rowDigest, bool) {
	countQuery := `SELECT coalesce(sum(1), 0) FROM kernel_events INDEXED BY ` + index // count(*) would use the smallest index
	if !coveringScan(ctx, q, runIndexPage(index, false), index, "", 0, 0) || !coveringScan(ctx, q, countQuery, index) {
		return nil, false
	}
	var count int64
	if err := q.QueryRowContext(ctx, countQuery).Scan(&count); err != nil {
		return nil, false
	}
	out := make(map[string]*rowDigest)
	var (
		last  indexEntry
		cur   *rowDigest
		first = true
		read  int64
	)
	for {
		query, args := runIndexPage(index, first), []any{last.text, last.seq, last.rowid}
		if first {
			args = nil
		}
		var (
			page sql.NullString
			n    int64
		)
		if err := q.QueryRowContext(ctx, query, args...).Scan(&page, &n); err != nil {
			return nil, false
		}
		got := int64(0)
		for rest := page.String; rest != ""; got++ {
			var (
				x  indexEntry
				ok bool
			)
			if x, rest, ok = nextRunEntry(rest); !ok {
				return nil, false
			}
			if !first && (x.text < last.text || x.text == last.text && (x.seq < last.seq || x.seq == last.seq && x.rowid <= last.rowid)) {
				return nil, false // out of order
			}
			if first || x.text != last.text {
				if out[x.text] != nil {
					return nil, false
				}
				cur = new(rowDigest)
				out[strings.Clone(x.text)] = cur
			}
			cur.add(x.rowid, x.seq)
			last, first = x, false
		}
		if got != n {
			return nil, false // a run_id or seq of another type
		}
		read += n
		if n < idPage {
			return out, read == count
		}
		last.text = strings.Clone(last.text) // the page's text goes
	}
}

// nextRunEntry reads "LEN:RUNID SEQ ROWID" and the space after it from the
// start of page.
func nextRunEntry(page string) (x indexEntry, rest string, ok bool) {
	colon := strings.IndexByte(page, ':')
	if colon <= 0 {
		return x, "", false
	}
	n, err := strconv.Atoi(page[:colon])
	if err != nil || n < 0 || n >= len(page)-colon-1 || page[colon+1+n] != ' ' {
		return x, "", false
	}
	x.text, rest = page[colon+1:colon+1+n], page[colon+2+n:]
	for _, dst := range []*int64{&x.seq, &x.rowid} {
		end := strings.IndexByte(rest, ' ')
		num := rest
		if end >= 0 {
			num, rest = rest[:end], rest[end+1:]
		} else {
			rest = ""
		}
		if *dst, err = strconv.ParseInt(num, 10, 64); err != nil {
			return x, "", false
		}
	}
	if len(page) > 0 && page[len(page)-1] == ' ' {
		return x, "", false
	}
	return x, rest, true
}

// eventIDIndex reads the event_id index in key order, page by page, and
// sums up its entries; it also returns the number of entries the index
// counts. It reports false if the keys are not strictly increasing or an
// entry cannot be read.
func eventIDIndex(ctx context.Context, q querier) (sum idSum, count int64, ok bool) {
	if !coveringScan(ctx, q, idPageQuery, indexID, "") || !coveringScan(ctx, q, idCountQuery, indexID) {
		return sum, 0, false
	}
	if err := q.QueryRowContext(ctx, idCountQuery).Scan(&count); err != nil {
		return sum, 0, false
	}
	last, first := "", true
	for {
		query, args := idPageQuery, []any{last}
		if first {
			query, args = idFirstPageQuery, nil
		}
		var (
			page sql.NullString
			n    int64
		)
		if err := q.QueryRowContext(ctx, query, args...).Scan(&page, &n); err != nil {
			return sum, 0, false
		}
		read := int64(0)
		for rest := page.String; rest != ""; read++ {
			var id string
			var rowid int64
			if id, rowid, rest, ok = nextIDEntry(rest); !ok || (!first && id <= last) {
				return sum, 0, false
			}
			sum.add(id, rowid)
			last, first = id, false
		}
		if read != n {
			return sum, 0, false // a key that is not text
		}
		if n < idPage {
			return sum, count, true
		}
		last = strings.Clone(last) // the page's text goes
	}
}

// nextIDEntry reads "LEN:IDROWID" and the space after it from the start of
// page.
func nextIDEntry(page string) (id string, rowid int64, rest string, ok bool) {
	colon := strings.IndexByte(page, ':')
	if colon <= 0 {
		return "", 0, "", false
	}
	n, err := strconv.Atoi(page[:colon])
	if err != nil || n < 0 || n > len(page)-colon-1 {
		return "", 0, "", false
	}
	id, rest = page[colon+1:colon+1+n], page[colon+1+n:]
	end := strings.IndexByte(rest, ' ')
	num := rest
	if end >= 0 {
		num, rest = rest[:end], rest[end+1:]
		if rest == "" {
			return "", 0, "", false
		}
	} else {
		rest = ""
	}
	if rowid, err = strconv.ParseInt(num, 10, 64); err != nil {
		return "", 0, "", false
	}
	return id, rowid, rest, true
}

// hashLen is the length of an event hash (hex SHA-256).
const hashLen = 64

// runProof is what the table read learns of one run.
type runProof struct {
	id      string
	verify  bool // the run is one of those asked for
	table   rowDigest
	events  int64 // events verified
	rows    int64 // rows of a run that is not verified
	tenant  string
	lastSeq int64
	hash    [hashLen]byte // the hash of the last event
}

// verifyEachFast is VerifyEach for a ledger with nothing wrong: it returns
// the checks of the runs (all of them when only is empty) and true, or
// false when it cannot prove the ledger sound, having called onEvent
// reported times. See the comment at the top of this file.
func (s *Store) verifyEachFast(ctx context.Context, only []string, onEvent func()) (checks []RunCheck, reported int64, ok bool) {
	if s.decoded || s.closed.Load() || ctx.Err() != nil {
		return nil, 0, false
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	proved := make(chan fileProof, 1)
	wg.Go(func() { proved <- s.proveFile(ctx) })

	t := newTableRead(ctx, only, onEvent)
	defer t.q.abort()
	read := s.scanPages(ctx, &t.e, t.row)
	if !read || !t.q.stop() {
		return nil, t.reported, false
	}
	if p := <-proved; !p.proves(t) {
		return nil, t.reported, false
	}
	return t.checks(only), t.reported, true
}

// A tableRead is verifyEachFast's read of the table, row by row in rowid
// order. Its goroutine checks what links the rows (run, tenant, seq, the
// hash before); the hash and stored text of each event, which need no
// other event, are checked on worker goroutines (q).
type tableRead struct {
	want     map[string]bool // the runs asked for, nil for all
	q        *checkQueue
	runs     map[string]*runProof
	cur      *runProof          // the run of the last row
	e        ledger.StoredEvent // the row read
	ids      idSum
	onEvent  func()
	reported int64 // the calls of onEvent
}

func newTableRead(ctx context.Context, only []string, onEvent func()) *tableRead {
	t := &tableRead{
		runs:    make(map[string]*runProof),
		e:       ledger.StoredEvent{Form: ledger.ColumnForm},
		onEvent: onEvent,
	}
	if len(only) > 0 {
		t.want = make(map[string]bool, len(only))
		for _, id := range only {
			t.want[id] = true
		}
	}
	t.q = newCheckQueue(ctx)
	return t
}

// row takes the row rowid, split into t.e from raw.
func (t *tableRead) row(rowid int64, raw []byte) bool {
	e := &t.e
	if len(e.Hash) != hashLen {
		return false
	}
	t.ids.add(e.ID, rowid)
	cur := t.cur
	if cur == nil || cur.id != e.RunID {
		if cur = t.runs[e.RunID]; cur == nil {
			cur = &runProof{id: strings.Clone(e.RunID), verify: t.want == nil || t.want[e.RunID]}
			t.runs[cur.id] = cur
		}
		t.cur = cur
	}
	cur.table.add(rowid, e.Seq)
	if !cur.verify {
		// The seqs of a run increase with the rowid, so no seq is
		// there twice (a run that is verified is checked below).
		if cur.rows > 0 && e.Seq <= cur.lastSeq {
			return false
		}
		cur.rows++
		cur.lastSeq = e.Seq
		return true
	}
	// What NextStored checks of the link to the event before.
	if cur.events == 0 {
		if e.Seq != 1 || e.PrevHash != "" {
			return false
		}
		cur.tenant = strings.Clone(e.TenantID)
	} else if e.Seq != cur.lastSeq+1 || e.TenantID != cur.tenant || e.PrevHash != unsafe.String(&cur.hash[0], len(cur.hash)) {
		return false
	}
	if !t.q.add(raw) {
		return false
	}
	cur.events++
	cur.lastSeq = e.Seq
	copy(cur.hash[:], e.Hash)
	if t.onEvent != nil {
		t.reported++
		t.onEvent()
	}
	return true
}

// proves reports whether p is sound and its indexes hold exactly the
// entries of the rows t read: the same event_id entries and, run by run,
// the same (run_id, seq) entries.
func (p *fileProof) proves(t *tableRead) bool {
	if !p.ok || p.ids != t.ids || p.idCount != t.ids.n {
		return false
	}
	for _, index := range []map[string]*rowDigest{p.runSeq, p.pkey} {
		if len(index) != len(t.runs) {
			return false
		}
		for id, d := range index {
			if r := t.runs[id]; r == nil || r.table != *d {
				return false
			}
		}
	}
	return true
}

// checks returns the checks of the runs named in only (every run read when
// only is empty, in run id order).
func (t *tableRead) checks(only []string) []RunCheck {
	list := only
	if len(list) == 0 {
		list = make([]string, 0, len(t.runs))
		for id := range t.runs {
			list = append(list, id)
		}
		slices.Sort(list)
	}
	checks := make([]RunCheck, 0, len(list))
	for _, id := range list {
		c := RunCheck{RunID: id}
		if r := t.runs[id]; r != nil {
			c.Events = r.events
		}
		checks = append(checks, c)
	}
	return checks
}

// scanPages reads the table in rowid order from its pages (pageFile: from
// the file when it is immutable, else through SQLite), and calls verify with each row split into e. It
// reports whether every row was read and verified.
func (s *Store) scanPages(ctx context.Context, e *ledger.StoredEvent, verify func(rowid int64, record []byte) bool) bool {
	var root int64
	err := s.db.QueryRowContext(ctx, `SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'kernel_events'`).Scan(&root)
	if err != nil || root <= 1 || root > 1<<32-1 {
		return false
	}
	var (
		pf *pageFile
		ok bool
	)
	if s.immutable {
		pf, ok = openPageFile(s.abs)
	} else {
		pf, ok = openPageDB(ctx, s.db)
	}
	if !ok {
		return false
	}
	defer pf.Close()
	var r ledgerRecord
	n := 0
	return pf.scanTable(uint32(root), func(rowid int64, record []byte) bool {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return false
		}
		if !splitRecord(record, &r) {
			return false
		}
		r.event(e)
		return verify(rowid, record)
	})
}

// event points e's fields at r's columns.
func (r *ledgerRecord) event(e *ledger.StoredEvent) {
	e.ID, e.RunID, e.TenantID, e.Seq, e.Type = r.eventID, r.runID, r.tenantID, r.seq, ledger.EventType(r.eventType)
	e.PrevHash, e.Hash, e.Timestamp = r.prevHash, r.hash, r.timestamp
	e.Payload = unsafe.Slice(unsafe.StringData(r.payload), len(r.payload))
}

// unsafeString views b as a string; b must not change while it is in use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// A checkQueue hands events to worker goroutines that check each one alone
// (StoredVerifier.CheckStored: its hash and stored text), in batches of
// their SQLite records. Its memory is a few batches of about a megabyte,
// or of the largest event.
type checkQueue struct {
	ctx     context.Context
	work    chan *eventBatch
	free    chan *eventBatch
	batch   *eventBatch
	failed  atomic.Bool
	wg      sync.WaitGroup
	stopped bool
}

type eventBatch struct {
	data []byte // the events' bytes, one after the other
	ends []int  // where each event ends in data
}

const (
	checkBatches     = 8
	checkBatchEvents = 256
	checkBatchBytes  = 1 << 20
)

func newCheckQueue(ctx context.Context) *checkQueue {
	q := &checkQueue{ctx: ctx, work: make(chan *eventBatch, checkBatches), free: make(chan *eventBatch, checkBatches)}
	for range checkBatches {
		q.free <- &eventBatch{ends: make([]int, 0, checkBatchEvents)}
	}
	q.batch = <-q.free
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	for range workers {
		q.wg.Go(q.check)
	}
	return q
}

// add queues an event's stored bytes; it reports false when a worker found
// an event it cannot prove sound, or ctx is done.
func (q *checkQueue) add(raw []byte) bool {
	b := q.batch
	b.data = append(b.data, raw...)
	b.ends = append(b.ends, len(b.data))
	if len(b.ends) < checkBatchEvents && len(b.data) < checkBatchBytes {
		return true
	}
	q.work <- b
	select {
	case q.batch = <-q.free:
	case <-q.ctx.Done():
		q.batch = nil
		return false
	}
	return !q.failed.Load()
}

// stop checks the events still queued, waits for the workers and reports
// whether every event was proved sound.
func (q *checkQueue) stop() bool {
	if !q.stopped {
		q.stopped = true
		if q.batch != nil && len(q.batch.ends) > 0 {
			q.work <- q.batch
		}
		close(q.work)
		q.wg.Wait()
	}
	return !q.failed.Load() && q.ctx.Err() == nil
}

// abort stops the workers without checking what is still queued.
func (q *checkQueue) abort() {
	q.failed.Store(true)
	q.stop()
}

// check is a worker: it checks each event of each batch alone.
func (q *checkQueue) check() {
	var (
		v ledger.StoredVerifier
		e = ledger.StoredEvent{Form: ledger.ColumnForm}
		r ledgerRecord
	)
	for b := range q.work {
		start := 0
		for _, end := range b.ends {
			if q.failed.Load() {
				break
			}
			raw := b.data[start:end]
			start = end
			if !splitRecord(raw, &r) {
				q.failed.Store(true)
				break
			}
			r.event(&e)
			if handled, err := v.CheckStored(&e); !handled || err != nil {
				q.failed.Store(true)
			}
		}
		b.data, b.ends = b.data[:0], b.ends[:0]
		q.free <- b
	}
}
