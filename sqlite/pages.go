package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"strconv"

	"github.com/artana-go/go-artana/internal/regfile"
)

// A pageFile reads the b-trees of a ledger page by page, the table leaf
// page after leaf page in rowid order, the indexes in key order, and splits
// their records without SQLite: reading a row costs a fraction of what
// SQLite's row machinery costs. It reads the pages of an immutable file
// (ReadOnly, no WAL) straight from the file, and those of any other ledger
// through SQLite's sqlite_dbpage table, in one read transaction (so that it
// sees the WAL's pages as SQLite does). It trusts nothing it reads: any
// page, cell or record that is not what SQLite writes for the ledger stops
// the read (ok false), and the fast path of verify then leaves the ledger
// to the thorough one. That the file is sound as SQLite sees it is proved
// by quick_check, which SQLite runs beside it, and the comparisons of the
// table with the indexes.
type pageFile struct {
	src      pageSource
	pageSize int
	usable   int    // page size less the bytes reserved at the end of each page
	pages    uint32 // the pages the file holds
	visited  uint32 // pages read, so that a loop in the tree ends
	overflow []byte // the record of a row that spills to overflow pages
	ovPage   []byte
	bufs     [][]byte // a page buffer for each depth of a tree
}

// A pageSource reads whole pages of a ledger.
type pageSource interface {
	readPage(n uint32, buf []byte) bool // page n (from 1) into buf, of the page size
	close() error
}

// openPageFile opens the ledger at path for reading its pages, after
// reading its header. It reports false for a file it does not read this
// way (not UTF-8, a page size it does not know).
func openPageFile(path string) (*pageFile, bool) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, false
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() < 512 {
		f.Close()
		return nil, false
	}
	src := &filePages{f: f}
	var h [512]byte
	if !src.readPage(1, h[:]) {
		f.Close()
		return nil, false
	}
	pf, ok := newPageFile(src, h[:], fi.Size())
	if !ok || fi.Size()%int64(pf.pageSize) != 0 {
		f.Close()
		return nil, false
	}
	src.size = int64(pf.pageSize)
	return pf, true
}

// newPageFile reads the header of the database file at the start of page1
// (at least 100 bytes) and returns a pageFile reading pages from src; size
// is the size of the database in bytes.
func newPageFile(src pageSource, page1 []byte, size int64) (*pageFile, bool) {
	if len(page1) < 100 || string(page1[:16]) != sqliteMagic {
		return nil, false
	}
	pageSize := int(binary.BigEndian.Uint16(page1[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	usable := pageSize - int(page1[20])
	if pageSize < 512 || pageSize&(pageSize-1) != 0 || usable < 480 || binary.BigEndian.Uint32(page1[56:]) != 1 ||
		size/int64(pageSize) > 1<<31 {
		return nil, false
	}
	return &pageFile{src: src, pageSize: pageSize, usable: usable, pages: uint32(size / int64(pageSize))}, true
}

func (pf *pageFile) Close() error { return pf.src.close() }

// read reads page n into buf (of the page size).
func (pf *pageFile) read(n uint32, buf []byte) bool {
	if n == 0 || n > pf.pages || pf.visited >= pf.pages {
		return false
	}
	pf.visited++
	return pf.src.readPage(n, buf)
}

// filePages reads pages from the file.
type filePages struct {
	f    *os.File
	size int64 // the page size; 0 while reading the header
}

func (fp *filePages) readPage(n uint32, buf []byte) bool {
	_, err := fp.f.ReadAt(buf, int64(n-1)*fp.size)
	return err == nil
}

func (fp *filePages) close() error { return fp.f.Close() }

// dbPages reads pages through SQLite's sqlite_dbpage table, in one read
// transaction, a run of consecutive pages at a time (the leaf pages of a
// ledger's table mostly follow one another in the file): one query, and a
// few allocations, for many pages.
type dbPages struct {
	ctx   context.Context
	tx    *sql.Tx
	stmt  *sql.Stmt
	count uint32 // the pages of the database
	first uint32 // the page in cache[0]
	cache [][]byte
	have  []bool
	list  []byte // the JSON list of the pages to read
}

// dbPagesRun is how many consecutive pages dbPages reads at once.
const dbPagesRun = 64

// openPageDB opens db's ledger for reading its pages through SQLite, in a
// read transaction of its own.
func openPageDB(ctx context.Context, db *sql.DB) (*pageFile, bool) {
	// Without a cancellation, a query starts no goroutine to watch for it;
	// the reads stop at the next check of ctx (scanPages).
	ctx = context.WithoutCancel(ctx)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false
	}
	src := &dbPages{ctx: ctx, tx: tx}
	if src.stmt, err = tx.PrepareContext(ctx, `SELECT pgno, data FROM sqlite_dbpage WHERE pgno IN (SELECT value FROM json_each(?))`); err != nil {
		tx.Rollback()
		return nil, false
	}
	var pageSize, count int64
	if tx.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize) != nil || tx.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&count) != nil ||
		pageSize < 512 || pageSize > 65536 || count < 1 || count > 1<<31 {
		src.close()
		return nil, false
	}
	src.count = uint32(count)
	page1 := make([]byte, pageSize)
	if !src.readPage(1, page1) {
		src.close()
		return nil, false
	}
	pf, ok := newPageFile(src, page1, count*pageSize)
	if !ok || int64(pf.pageSize) != pageSize {
		src.close()
		return nil, false
	}
	return pf, true
}

func (dp *dbPages) readPage(n uint32, buf []byte) bool {
	if n < dp.first || n >= dp.first+uint32(len(dp.cache)) || !dp.have[n-dp.first] {
		if !dp.fetch(n, len(buf)) {
			return false
		}
	}
	i := n - dp.first
	if !dp.have[i] || len(dp.cache[i]) != len(buf) {
		return false
	}
	copy(buf, dp.cache[i])
	return true
}

// fetch reads pages n to n+dbPagesRun-1 (those the database has) into the
// cache.
func (dp *dbPages) fetch(n uint32, size int) bool {
	last := min(n+dbPagesRun-1, dp.count)
	if n > last {
		return false
	}
	if len(dp.cache) == 0 {
		dp.cache, dp.have = make([][]byte, dbPagesRun), make([]bool, dbPagesRun)
		for i := range dp.cache {
			dp.cache[i] = make([]byte, size)
		}
	}
	clear(dp.have)
	dp.first = n
	dp.list = append(dp.list[:0], '[')
	for p := n; p <= last; p++ {
		if p > n {
			dp.list = append(dp.list, ',')
		}
		dp.list = strconv.AppendUint(dp.list, uint64(p), 10)
	}
	dp.list = append(dp.list, ']')
	rows, err := dp.stmt.QueryContext(dp.ctx, dp.list)
	if err != nil {
		return false
	}
	defer rows.Close()
	var (
		pgno int64
		data sql.RawBytes
	)
	for rows.Next() {
		if rows.Scan(&pgno, &data) != nil || pgno < int64(n) || pgno > int64(last) || len(data) != size {
			return false
		}
		copy(dp.cache[pgno-int64(n)], data)
		dp.have[pgno-int64(n)] = true
	}
	return rows.Err() == nil
}

func (dp *dbPages) close() error {
	dp.stmt.Close()
	return dp.tx.Rollback()
}

// btreePage is a page of a table b-tree with its header read.
type btreePage struct {
	data  []byte
	hdr   int // the offset of the b-tree page header: 100 on page 1
	leaf  bool
	cells int
	right uint32 // the right-most child of an interior page
}

func (pf *pageFile) parse(n uint32, data []byte, index bool) (btreePage, bool) {
	p := btreePage{data: data}
	if n == 1 {
		p.hdr = 100
	}
	if len(data) < p.hdr+12 {
		return p, false
	}
	leaf, interior := byte(0x0d), byte(0x05)
	if index {
		leaf, interior = 0x0a, 0x02
	}
	switch data[p.hdr] {
	case leaf:
		p.leaf = true
	case interior:
		p.right = binary.BigEndian.Uint32(data[p.hdr+8:])
	default:
		return p, false
	}
	p.cells = int(binary.BigEndian.Uint16(data[p.hdr+3:]))
	ptrs := p.hdr + 8
	if !p.leaf {
		ptrs += 4
	}
	if ptrs+2*p.cells > pf.usable {
		return p, false
	}
	return p, true
}

// cell returns the offset of cell i of p.
func (p *btreePage) cell(i int, usable int) (int, bool) {
	ptrs := p.hdr + 8
	if !p.leaf {
		ptrs += 4
	}
	off := int(binary.BigEndian.Uint16(p.data[ptrs+2*i:]))
	return off, off >= ptrs+2*p.cells && off < usable
}

// uvarint reads a SQLite varint (big-endian, 7 bits a byte, the ninth byte
// whole) from b.
func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	if len(b) < 9 {
		return 0, 0
	}
	return v<<8 | uint64(b[8]), 9
}

// scanTable calls fn with the rowid and the record of every row of the
// table b-tree rooted at root, in rowid order, until fn returns false. It
// reports whether every page was read and every row given to fn.
func (pf *pageFile) scanTable(root uint32, fn func(rowid int64, record []byte) bool) bool {
	type level struct {
		page btreePage
		next int // the next child to descend into; cells means the right-most one
	}
	var (
		stack   []level
		lastRow int64
		first   = true
	)
	descend := func(n uint32) bool {
		if len(stack) >= 40 {
			return false
		}
		buf := pf.buffer(len(stack))
		if !pf.read(n, buf) {
			return false
		}
		p, ok := pf.parse(n, buf, false)
		if !ok {
			return false
		}
		stack = append(stack, level{page: p})
		return true
	}
	if !descend(root) {
		return false
	}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		p := &top.page
		if p.leaf {
			for i := 0; i < p.cells; i++ {
				off, ok := p.cell(i, pf.usable)
				if !ok {
					return false
				}
				rowid, record, ok := pf.leafCell(p.data[:pf.usable], off)
				if !ok || (!first && rowid <= lastRow) {
					return false
				}
				first, lastRow = false, rowid
				if !fn(rowid, record) {
					return false
				}
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if top.next > p.cells {
			stack = stack[:len(stack)-1]
			continue
		}
		child := p.right
		if top.next < p.cells {
			off, ok := p.cell(top.next, pf.usable)
			if !ok || off+4 > pf.usable {
				return false
			}
			child = binary.BigEndian.Uint32(p.data[off:])
		}
		top.next++
		if !descend(child) {
			return false
		}
	}
	return true
}

// buffer returns the page buffer of a depth in a tree, reused.
func (pf *pageFile) buffer(depth int) []byte {
	for len(pf.bufs) <= depth {
		pf.bufs = append(pf.bufs, make([]byte, pf.pageSize))
	}
	return pf.bufs[depth]
}

// leafCell reads the cell of a table leaf page at off: the rowid and the
// record, gathered from the overflow pages when it spills.
func (pf *pageFile) leafCell(page []byte, off int) (int64, []byte, bool) {
	size, n := uvarint(page[off:])
	if n == 0 {
		return 0, nil, false
	}
	off += n
	rowid, n := uvarint(page[off:])
	if n == 0 {
		return 0, nil, false
	}
	rec, ok := pf.payload(page, off+n, size, uint64(pf.usable)-35)
	return int64(rowid), rec, ok
}

// indexCell reads the cell of an index page at off (past the child page
// number of an interior page): the record, gathered from the overflow
// pages when it spills.
func (pf *pageFile) indexCell(page []byte, off int) ([]byte, bool) {
	size, n := uvarint(page[off:])
	if n == 0 {
		return nil, false
	}
	return pf.payload(page, off+n, size, (uint64(pf.usable)-12)*64/255-23)
}

// payload reads a cell's payload of size bytes that starts at off, of
// which at most maxLocal bytes are on the page itself (SQLite's rule for
// the page's kind).
func (pf *pageFile) payload(page []byte, off int, size, maxLocal uint64) ([]byte, bool) {
	u := uint64(pf.usable)
	if size > 1<<30 || off > len(page) {
		return nil, false
	}
	local := size
	if size > maxLocal {
		minLocal := (u-12)*32/255 - 23
		local = minLocal + (size-minLocal)%(u-4)
		if local > maxLocal {
			local = minLocal
		}
	}
	if uint64(off)+local > uint64(len(page)) {
		return nil, false
	}
	if local == size {
		return page[off : off+int(local)], true
	}
	if uint64(off)+local+4 > uint64(len(page)) {
		return nil, false
	}
	rec := append(pf.overflow[:0], page[off:off+int(local)]...)
	next := binary.BigEndian.Uint32(page[off+int(local):])
	if pf.ovPage == nil {
		pf.ovPage = make([]byte, pf.pageSize)
	}
	for uint64(len(rec)) < size {
		if !pf.read(next, pf.ovPage) {
			return nil, false
		}
		next = binary.BigEndian.Uint32(pf.ovPage)
		take := min(size-uint64(len(rec)), u-4)
		rec = append(rec, pf.ovPage[4:4+take]...)
	}
	pf.overflow = rec
	return rec, true
}

// scanIndex calls fn with every entry of the index b-tree rooted at root,
// in key order (the entries of interior pages between those of their
// children), until fn returns false. It reports whether every page was read
// and every entry given to fn.
func (pf *pageFile) scanIndex(root uint32, fn func(record []byte) bool) bool {
	return pf.walkIndex(root, 0, fn)
}

func (pf *pageFile) walkIndex(n uint32, depth int, fn func(record []byte) bool) bool {
	if depth >= 40 {
		return false
	}
	buf := pf.buffer(depth)
	if !pf.read(n, buf) {
		return false
	}
	p, ok := pf.parse(n, buf, true)
	if !ok {
		return false
	}
	page := p.data[:pf.usable]
	for i := 0; i < p.cells; i++ {
		off, ok := p.cell(i, pf.usable)
		if !ok {
			return false
		}
		if !p.leaf {
			if off+4 > len(page) || !pf.walkIndex(binary.BigEndian.Uint32(page[off:]), depth+1, fn) {
				return false
			}
			off += 4
		}
		rec, ok := pf.indexCell(page, off)
		if !ok || !fn(rec) {
			return false
		}
	}
	return p.leaf || pf.walkIndex(p.right, depth+1, fn)
}

// indexEntry is an index record split: its key's text column (run_id or
// event_id), the seq when the key has one, and the rowid.
type indexEntry struct {
	text       string
	seq, rowid int64
}

// splitIndexRecord splits the record of an index entry: a text, an integer
// seq when withSeq, and the rowid, as SQLite writes the entries of the
// ledger's indexes for the rows the writers write. It reports false for any
// other record.
func splitIndexRecord(rec []byte, withSeq bool, x *indexEntry) bool {
	hdrLen, n := uvarint(rec)
	if n == 0 || hdrLen > uint64(len(rec)) || hdrLen < uint64(n) {
		return false
	}
	hdr, body := rec[n:hdrLen], rec[hdrLen:]
	t, n := uvarint(hdr)
	if n == 0 || t < 13 || t%2 == 0 || (t-13)/2 > uint64(len(body)) {
		return false
	}
	hdr = hdr[n:]
	l := (t - 13) / 2
	x.text, body = unsafeString(body[:l]), body[l:]
	ints := []*int64{&x.rowid}
	if withSeq {
		ints = []*int64{&x.seq, &x.rowid}
	}
	for _, dst := range ints {
		var ok bool
		if *dst, body, hdr, ok = nextInt(body, hdr); !ok {
			return false
		}
	}
	return len(hdr) == 0 && len(body) == 0
}

// nextInt reads an integer column: its serial type from hdr and its value
// from body.
func nextInt(body, hdr []byte) (int64, []byte, []byte, bool) {
	t, n := uvarint(hdr)
	if n == 0 {
		return 0, nil, nil, false
	}
	hdr = hdr[n:]
	switch {
	case t >= 1 && t <= 6:
		w := [...]int{0, 1, 2, 3, 4, 6, 8}[t]
		if w > len(body) {
			return 0, nil, nil, false
		}
		v := int64(int8(body[0]))
		for _, b := range body[1:w] {
			v = v<<8 | int64(b)
		}
		return v, body[w:], hdr, true
	case t == 8 || t == 9:
		return int64(t - 8), body, hdr, true
	}
	return 0, nil, nil, false
}

// A ledgerRecord is a kernel_events record split into its columns, each a
// view of the record.
type ledgerRecord struct {
	runID, eventID, tenantID, eventType, prevHash, hash, timestamp, payload string
	seq                                                                     int64
	prevNull                                                                bool
}

// splitRecord splits a record of the ledger table as the writers write it:
// nine columns, seq an integer, prev_event_hash text or NULL, the others
// text. It reports false for any other record.
func splitRecord(rec []byte, r *ledgerRecord) bool {
	hdrLen, n := uvarint(rec)
	if n == 0 || hdrLen > uint64(len(rec)) || hdrLen < uint64(n) {
		return false
	}
	hdr, body := rec[n:hdrLen], rec[hdrLen:]
	var types [9]uint64
	for i := range types {
		t, n := uvarint(hdr)
		if n == 0 {
			return false
		}
		types[i], hdr = t, hdr[n:]
	}
	if len(hdr) != 0 {
		return false // more columns than the table has
	}
	text := func(t uint64) (string, bool) {
		if t < 13 || t%2 == 0 {
			return "", false
		}
		l := (t - 13) / 2
		if l > uint64(len(body)) {
			return "", false
		}
		s := body[:l]
		body = body[l:]
		return unsafeString(s), true
	}
	var ok bool
	if r.runID, ok = text(types[0]); !ok {
		return false
	}
	switch t := types[1]; {
	case t >= 1 && t <= 6:
		w := [...]int{0, 1, 2, 3, 4, 6, 8}[t]
		if w > len(body) {
			return false
		}
		v := int64(int8(body[0]))
		for _, b := range body[1:w] {
			v = v<<8 | int64(b)
		}
		r.seq, body = v, body[w:]
	case t == 8 || t == 9:
		r.seq = int64(t - 8)
	default:
		return false
	}
	for i, dst := range []*string{&r.eventID, &r.tenantID, &r.eventType, &r.prevHash, &r.hash, &r.timestamp, &r.payload} {
		t := types[2+i]
		if dst == &r.prevHash && t == 0 {
			r.prevHash, r.prevNull = "", true
			continue
		}
		if dst == &r.prevHash {
			r.prevNull = false
		}
		if *dst, ok = text(t); !ok {
			return false
		}
	}
	// '' rather than NULL for prev_event_hash: the thorough path explains.
	return len(body) == 0 && (r.prevNull || r.prevHash != "")
}
