package sqlite

import (
	"encoding/binary"
	"os"

	"github.com/artana-go/go-artana/internal/regfile"
)

// A pageFile reads the table b-tree of a ledger file that is read as
// immutable (ReadOnly, no WAL) straight from the file, leaf page after leaf
// page in rowid order, and splits its records without SQLite: reading a
// row costs a fraction of what SQLite's row machinery costs. It trusts
// nothing it reads: any page, cell or record that is not what SQLite writes
// for the ledger table stops the read (ok false), and the fast path of
// verify then leaves the ledger to the thorough one. That the file is sound
// as SQLite sees it is proved by quick_check and the index scans, which
// SQLite runs beside it.
type pageFile struct {
	f        *os.File
	pageSize int
	usable   int    // page size less the bytes reserved at the end of each page
	pages    uint32 // the pages the file holds
	visited  uint32 // pages read, so that a loop in the tree ends
	overflow []byte // the record of a row that spills to overflow pages
	ovPage   []byte
	bufs     [][]byte // a page buffer for each depth of a tree
}

// openPageFile opens the ledger at path for reading its pages, after
// reading its header. It reports false for a file it does not read this
// way (not UTF-8, a page size it does not know).
func openPageFile(path string) (*pageFile, bool) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, false
	}
	var h [100]byte
	fi, err := f.Stat()
	if err != nil || fi.Size() < int64(len(h)) {
		f.Close()
		return nil, false
	}
	if _, err := f.ReadAt(h[:], 0); err != nil || string(h[:16]) != sqliteMagic {
		f.Close()
		return nil, false
	}
	size := int(binary.BigEndian.Uint16(h[16:]))
	if size == 1 {
		size = 65536
	}
	usable := size - int(h[20])
	if size < 512 || size&(size-1) != 0 || usable < 480 || binary.BigEndian.Uint32(h[56:]) != 1 ||
		fi.Size()%int64(size) != 0 || fi.Size()/int64(size) > 1<<31 {
		f.Close()
		return nil, false
	}
	return &pageFile{f: f, pageSize: size, usable: usable, pages: uint32(fi.Size() / int64(size))}, true
}

func (pf *pageFile) Close() error { return pf.f.Close() }

// read reads page n into buf (of the page size).
func (pf *pageFile) read(n uint32, buf []byte) bool {
	if n == 0 || n > pf.pages || pf.visited >= pf.pages {
		return false
	}
	pf.visited++
	_, err := pf.f.ReadAt(buf, int64(n-1)*int64(pf.pageSize))
	return err == nil
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
