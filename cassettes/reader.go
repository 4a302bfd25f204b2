package cassettes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/regfile"
)

// A ReadOption configures a Reader.
type ReadOption func(*Reader)

// RecordTypes restricts the record types a Reader accepts (besides the end
// record); any other type is reported as ErrUnknownType. Without it, a
// KindEvents cassette accepts the nine event types and other kinds accept
// any well-formed type name.
func RecordTypes(types ...string) ReadOption {
	return func(r *Reader) {
		r.types = make(map[string]bool, len(types))
		for _, t := range types {
			r.types[t] = true
		}
	}
}

// NoRecovery makes OpenShared report an append that a killed writer left
// unfinished as ErrInterruptedAppend, rather than finish it (which writes
// the file).
func NoRecovery() ReadOption {
	return func(r *Reader) { r.noRecover = true }
}

// A Reader reads a cassette one record at a time, checking every line as
// it goes: JSON shape, canonical form, record type, the hash chain, and
// finally the end record. Its memory is bounded by the longest line.
//
// Errors are *Error values ("path:line: reason") wrapping one of the
// package's sentinel errors. After an error, or after io.EOF, every later
// call returns the same result.
type Reader struct {
	path   string
	br     *bufio.Reader
	closer io.Closer
	types  map[string]bool
	// noRecover: OpenShared reports a pending redo record instead of
	// finishing the append.
	noRecover bool

	hdr     Header
	hdrHash string

	buf     []byte
	line    int   // number of the last line read
	off     int64 // byte offset of the next line
	lineOff int64 // byte offset of the last line read
	prev    string
	count   int64
	chain   ledger.StoredVerifier
	runID   string // the header's run_id, checked against events
	endOff  int64  // offset of the end record, once read
	// fastEvent's scratch memory, and the run and tenant of the last event
	// it read (shared by the events it returns)
	head                []byte
	owned               ledger.OwnedDecoder
	lastRun, lastTenant string
	err                 error // sticky: io.EOF after the end record, or the first error
}

// NewReader reads the header of the cassette that r yields and returns a
// Reader positioned at the first record. path is used in error messages.
func NewReader(r io.Reader, path string, opts ...ReadOption) (*Reader, error) {
	rd := &Reader{path: path, br: bufio.NewReaderSize(r, 64<<10)}
	for _, o := range opts {
		o(rd)
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// OpenReader opens the cassette file at path for reading. Close the Reader
// to close the file. OpenReader takes no lock: a reader racing an append may see a
// torn last line or a missing end record; OpenShared (and Store) read under
// the shared lock. A path that is not a regular file (a named pipe, a
// device) is refused at once.
func OpenReader(path string, opts ...ReadOption) (*Reader, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open cassette: %w", err)
	}
	r, err := NewReader(f, path, opts...)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// OpenShared opens the cassette at path for reading, as OpenReader does, under
// the shared lock that writers take exclusively: it waits for an append
// under way to finish (until ctx is done, or DefaultLockWait when ctx has
// no deadline), so that it reads the file whole, never a write in
// progress. An append that a killed writer left unfinished (its redo
// record) is finished first, as the next writer would; if this process
// may not write the file, the error wraps ErrInterruptedAppend. Close
// releases the lock.
func OpenShared(ctx context.Context, path string, opts ...ReadOption) (*Reader, error) {
	var o Reader
	for _, opt := range opts {
		opt(&o)
	}
	f, err := lockPathRecover(ctx, path, os.O_RDONLY, false, !o.noRecover)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("open cassette: %w", err)
	}
	r, err := NewReader(f, path, opts...)
	if err != nil {
		unlock(f)
		f.Close()
		return nil, err
	}
	r.closer = lockedFile{f}
	return r, nil
}

// lockedFile releases the file's lock when it is closed.
type lockedFile struct{ f *os.File }

func (l lockedFile) Close() error {
	unlock(l.f)
	return l.f.Close()
}

// Close closes the file opened by OpenReader or OpenShared. It does nothing for a Reader made
// by NewReader.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// Header returns the cassette's header.
func (r *Reader) Header() Header { return r.hdr }

// Line returns the number of the last line read.
func (r *Reader) Line() int { return r.line }

// Next returns the next record, checked. It returns io.EOF after the end
// record has been read and found to match.
func (r *Reader) Next() (Record, error) {
	rec, _, err := r.next()
	return rec, err
}

// NextEvent returns the next record of a KindEvents cassette as an event,
// checked against the event hash chain (ledger.ChainVerifier). It returns
// io.EOF after the end record. The event shares no memory with the Reader:
// callers may keep it. A line exactly in the form the writers produce is
// checked from its text, as Verify checks it, and decoded in two
// allocations; any other line is parsed in full, which explains what is
// wrong with it.
func (r *Reader) NextEvent() (ledger.Event, error) {
	if r.hdr.Kind != KindEvents {
		return ledger.Event{}, fmt.Errorf("%s: NextEvent on a cassette of kind %q; use Next", r.path, r.hdr.Kind)
	}
	return r.readEvent()
}

// readEvent is NextEvent on a Reader of a KindEvents cassette.
func (r *Reader) readEvent() (ledger.Event, error) {
	if r.err != nil {
		return ledger.Event{}, r.err
	}
	line, err := r.readLine()
	if err != nil {
		return ledger.Event{}, r.lineErr(line, err)
	}
	if e, ok := r.fastEvent(line); ok {
		return e, nil
	}
	_, e, err := r.record(line)
	if err != nil {
		return ledger.Event{}, err
	}
	return *e, nil
}

func (r *Reader) fail(line int, err error) error {
	r.err = &Error{Path: r.path, Line: line, Err: err}
	return r.err
}

var errTorn = errors.New("torn")

// readLine returns the next line without its newline. It returns io.EOF
// at the end of the input, and errTorn with the bytes of a last line that
// has no newline.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			r.buf = append(r.buf, chunk...)
			continue
		}
		if len(r.buf) > 0 {
			r.buf = append(r.buf, chunk...)
			chunk = r.buf
		}
		if err == io.EOF {
			if len(chunk) == 0 {
				return nil, io.EOF
			}
			r.line++
			r.lineOff = r.off
			r.off += int64(len(chunk))
			return chunk, errTorn
		}
		if err != nil {
			return nil, err
		}
		r.line++
		r.lineOff = r.off
		r.off += int64(len(chunk))
		return chunk[:len(chunk)-1], nil
	}
}

// checkLine reports the problems every line may have, before JSON parsing.
func checkLine(line []byte) error {
	for _, m := range [...]string{"<<<<<<<", "=======", ">>>>>>>", "|||||||"} {
		if bytes.HasPrefix(line, []byte(m)) {
			return because(ErrMergeConflict, "%q: a merge left conflict markers in the cassette; resolve the conflict (or re-record), then reseal it", truncate(line, 40))
		}
	}
	if len(line) == 0 {
		return because(ErrSyntax, "empty line")
	}
	if line[len(line)-1] == '\r' {
		return because(ErrNotCanonical, "line ends with CR: line endings were converted (add \"*.jsonl -text\" to .gitattributes and check the file out again)")
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

type headerJSON struct {
	Format  *string           `json:"format"`
	Version *json.Number      `json:"version"`
	Kind    *string           `json:"kind"`
	Meta    map[string]string `json:"meta"`
}

func (r *Reader) readHeader() error {
	line, err := r.readLine()
	switch {
	case err == io.EOF:
		return r.fail(1, because(ErrHeader, "empty file, not a cassette"))
	case err == errTorn:
		return r.fail(1, because(ErrTornLine, "the header line has no newline: the file was cut short while being created; re-create it"))
	case err != nil:
		return r.fail(1, err)
	}
	if err := checkLine(line); err != nil {
		return r.fail(1, err)
	}
	var h headerJSON
	if err := json.Unmarshal(line, &h); err != nil {
		return r.fail(1, because(ErrSyntax, "header: %v", err))
	}
	if h.Format == nil || *h.Format != Format {
		got := "no format field"
		if h.Format != nil {
			got = fmt.Sprintf("format %q", *h.Format)
		}
		return r.fail(1, because(ErrHeader, "not an %s file (%s)", Format, got))
	}
	if h.Version == nil {
		return r.fail(1, because(ErrHeader, "no version field"))
	}
	v, err := h.Version.Int64()
	if err != nil || v < 1 {
		return r.fail(1, because(ErrHeader, "version %s is not a positive integer", h.Version.String()))
	}
	if v != Version {
		return r.fail(1, &reason{kind: ErrVersion,
			detail: fmt.Sprintf("cassette format version %d is not supported; this build reads version %d", v, Version)})
	}
	if h.Kind == nil || !Kind(*h.Kind).known() {
		got := "no kind field"
		if h.Kind != nil {
			got = fmt.Sprintf("kind %q", *h.Kind)
		}
		return r.fail(1, because(ErrHeader, "%s; want %q or %q", got, KindEvents, KindInteractions))
	}
	r.hdr = Header{Version: int(v), Kind: Kind(*h.Kind), Meta: h.Meta}
	if !bytes.Equal(appendHeader(nil, r.hdr), line) {
		return r.fail(1, because(ErrNotCanonical, "header differs from its canonical form (edited by hand?); if the edit is deliberate, reseal the cassette"))
	}
	r.hdrHash = hashBytes(line)
	r.runID = r.hdr.Meta["run_id"]
	return nil
}

type recordJSON struct {
	Type *string         `json:"type"`
	Prev *string         `json:"prev"`
	Hash *string         `json:"hash"`
	Body json.RawMessage `json:"body"`
}

// parseRecord parses one record line and checks it is in canonical form.
func parseRecord(line []byte) (Record, error) {
	if rec, ok := fastRecord(line); ok {
		return rec, nil
	}
	if err := checkLine(line); err != nil {
		return Record{}, err
	}
	var j recordJSON
	if err := json.Unmarshal(line, &j); err != nil {
		return Record{}, because(ErrSyntax, "%v", err)
	}
	switch {
	case j.Type == nil:
		return Record{}, because(ErrSyntax, "record has no \"type\" field")
	case j.Prev == nil:
		return Record{}, because(ErrSyntax, "record has no \"prev\" field")
	case j.Hash == nil:
		return Record{}, because(ErrSyntax, "record has no \"hash\" field")
	case j.Body == nil:
		return Record{}, because(ErrSyntax, "record has no \"body\" field")
	}
	rec := Record{Type: *j.Type, Prev: *j.Prev, Hash: *j.Hash, Body: j.Body}
	var stack [512]byte
	if !bytes.Equal(appendRecord(stack[:0], rec.Type, rec.Prev, rec.Hash, rec.Body), line) {
		return Record{}, because(ErrNotCanonical, "line differs from its canonical form (edited by hand?); if the edit is deliberate, reseal the cassette")
	}
	return rec, nil
}

type endJSON struct {
	Header  *string `json:"header"`
	Records *int64  `json:"records"`
}

func (r *Reader) next() (Record, *ledger.Event, error) {
	if r.err != nil {
		return Record{}, nil, r.err
	}
	line, err := r.readLine()
	if err != nil {
		return Record{}, nil, r.lineErr(line, err)
	}
	return r.record(line)
}

// lineErr is the error of a record line that readLine failed to read (it
// returned line and err).
func (r *Reader) lineErr(line []byte, err error) error {
	switch {
	case err == io.EOF:
		return r.fail(r.line+1, because(ErrTruncated,
			"the file ends after line %d without its end record: lines were cut off or a write was interrupted; restore the file from version control, or reseal it if what remains is intended", r.line))
	case err == errTorn:
		return r.fail(r.line, because(ErrTornLine,
			"%d bytes without a newline at the end of the file: a write was interrupted before it was acknowledged; remove the line (the lines before it are intact)", len(line)))
	}
	return r.fail(r.line+1, err)
}

// record checks line, the record line just read, and returns it.
func (r *Reader) record(line []byte) (Record, *ledger.Event, error) {
	rec, err := parseRecord(line)
	if err != nil {
		return Record{}, nil, r.fail(r.line, err)
	}
	rec.Line = r.line
	if rec.Type == endType {
		if err := r.checkEnd(&rec); err != nil {
			return Record{}, nil, r.fail(r.line, err)
		}
		endLine, endOff := r.line, r.lineOff
		if _, err := r.readLine(); err != io.EOF {
			if err != nil && err != errTorn {
				return Record{}, nil, r.fail(r.line+1, err)
			}
			return Record{}, nil, r.fail(r.line, because(ErrBrokenChain,
				"line after the end record (line %d): cassettes were concatenated or merged; restore the file, or reseal it if the lines are intended", endLine))
		}
		r.endOff = endOff
		r.err = io.EOF
		return Record{}, nil, io.EOF
	}
	var ev *ledger.Event
	if r.hdr.Kind == KindEvents {
		if r.types != nil && !r.types[rec.Type] {
			return Record{}, nil, r.fail(r.line, because(ErrUnknownType, "%q is not accepted here", rec.Type))
		}
		e, err := decodeEvent(&rec)
		if err != nil {
			return Record{}, nil, r.fail(r.line, err)
		}
		if r.runID != "" && e.RunID != r.runID {
			return Record{}, nil, r.fail(r.line, because(ErrBrokenChain,
				"seq %d belongs to run %q, but the cassette header is for run %q", e.Seq, e.RunID, r.runID))
		}
		if err := r.chain.Next(&e); err != nil {
			var ce *ledger.ChainError
			if errors.As(err, &ce) {
				return Record{}, nil, r.fail(r.line, because(ErrBrokenChain, "seq %d: %s", ce.Seq, ce.Reason))
			}
			return Record{}, nil, r.fail(r.line, because(ErrBrokenChain, "%v", err))
		}
		ev = &e
	} else {
		if !validType(rec.Type) || (r.types != nil && !r.types[rec.Type]) {
			return Record{}, nil, r.fail(r.line, because(ErrUnknownType, "%q is not accepted in a cassette of kind %q", rec.Type, r.hdr.Kind))
		}
		if rec.Prev != r.prev {
			return Record{}, nil, r.fail(r.line, r.linkError(rec.Prev))
		}
		if h := recordHash(rec.Type, rec.Prev, rec.Body); h != rec.Hash {
			return Record{}, nil, r.fail(r.line, because(ErrBrokenChain,
				"hash mismatch: stored %s, computed %s: the record was edited; reseal the cassette if the edit is deliberate", rec.Hash, h))
		}
	}
	r.prev = rec.Hash
	r.count++
	return rec, ev, nil
}

func (r *Reader) linkError(prev string) error {
	if r.count == 0 {
		return because(ErrBrokenChain, "first record has prev %q, want \"\": records before it were removed or it was moved here", prev)
	}
	return because(ErrBrokenChain, "prev %s does not match the hash of the record before it (%s): records were reordered, removed or inserted", prev, r.prev)
}

func (r *Reader) checkEnd(rec *Record) error {
	if rec.Prev != r.prev {
		return r.linkError(rec.Prev)
	}
	if h := recordHash(endType, rec.Prev, rec.Body); h != rec.Hash {
		return because(ErrBrokenChain, "end record hash mismatch: stored %s, computed %s: the end record was edited", rec.Hash, h)
	}
	var e endJSON
	if err := json.Unmarshal(rec.Body, &e); err != nil || e.Header == nil || e.Records == nil {
		return because(ErrSyntax, "end record body must be {\"header\":…,\"records\":…}")
	}
	if *e.Header != r.hdrHash {
		return because(ErrBrokenChain, "the header line was changed after the cassette was written (end record has header hash %s, header hashes to %s); reseal the cassette if the edit is deliberate", *e.Header, r.hdrHash)
	}
	if *e.Records != r.count {
		return because(ErrBrokenChain, "end record counts %d records, the file has %d", *e.Records, r.count)
	}
	if !bytes.Equal(appendEndBody(nil, r.hdrHash, r.count), rec.Body) {
		return because(ErrNotCanonical, "end record body differs from its canonical form")
	}
	return nil
}

// ReadAll reads every record of the cassette at path.
func ReadAll(path string, opts ...ReadOption) (Header, []Record, error) {
	r, err := OpenReader(path, opts...)
	if err != nil {
		return Header{}, nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.hdr, recs, nil
		}
		if err != nil {
			return Header{}, nil, err
		}
		recs = append(recs, rec)
	}
}

// ReadEvents reads every event of the KindEvents cassette at path, checking
// the hash chain.
func ReadEvents(path string) (Header, []ledger.Event, error) {
	r, err := OpenReader(path)
	if err != nil {
		return Header{}, nil, err
	}
	defer r.Close()
	if r.hdr.Kind != KindEvents {
		return Header{}, nil, &Error{Path: path, Line: 1, Err: because(ErrHeader, "cassette holds %s, not events", r.hdr.Kind)}
	}
	var events []ledger.Event
	for {
		e, err := r.NextEvent()
		if err == io.EOF {
			return r.hdr, events, nil
		}
		if err != nil {
			return Header{}, nil, err
		}
		events = append(events, e)
	}
}

// resumeReader returns a Reader over src, which yields the file from
// offset off on, in the state it has after reading line (count records,
// the last with hash prev, and event last for KindEvents). last may be nil
// only when count is 0. With anchor set, the first line read is taken as
// an already verified event whose own hash is merely recomputed, and the
// chain resumes from it.
func resumeReader(src io.Reader, path string, hdr Header, hdrHash string, line int, off int64, prev string, count int64, last *ledger.Event) *Reader {
	r := &Reader{path: path, br: bufio.NewReaderSize(src, 64<<10), hdr: hdr, hdrHash: hdrHash,
		line: line, off: off, prev: prev, count: count, runID: hdr.Meta["run_id"]}
	if last != nil {
		r.chain.Resume(last)
	}
	return r
}

// anchor reads the next line as an event that was verified before: it
// checks only that the event's hash matches its content, and resumes the
// chain from it.
func (r *Reader) anchor() error {
	line, err := r.readLine()
	if err != nil {
		if err == io.EOF || err == errTorn {
			return r.fail(r.line, because(ErrTruncated, "the file changed while it was read"))
		}
		return r.fail(r.line, err)
	}
	rec, err := parseRecord(line)
	if err != nil {
		return r.fail(r.line, err)
	}
	e, err := decodeEvent(&rec)
	if err != nil {
		return r.fail(r.line, err)
	}
	if h := e.ComputeHash(); h != e.Hash {
		return r.fail(r.line, because(ErrBrokenChain, "seq %d: hash mismatch: stored %s, computed %s (event changed after it was written)", e.Seq, e.Hash, h))
	}
	r.chain.Resume(&e)
	r.prev = e.Hash
	r.count = e.Seq
	return nil
}
