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

	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// A Change is one line that Reseal rewrote.
type Change struct {
	Line   int      // line in the file before resealing
	Type   string   // record type ("end" for the end record, "header" for line 1)
	Seq    int64    // for events, the seq after resealing
	Fields []string // what changed: some of "seq", "prev", "hash", "body", "form", "removed", "added"
}

// String describes the change on one line, e.g.
// "line 5: tool_completed seq 4: [seq prev hash body]".
func (c Change) String() string {
	if c.Seq > 0 {
		return fmt.Sprintf("line %d: %s seq %d: %v", c.Line, c.Type, c.Seq, c.Fields)
	}
	return fmt.Sprintf("line %d: %s: %v", c.Line, c.Type, c.Fields)
}

var errNoChange = errors.New("no change")

// Reseal accepts deliberate edits to the cassette at path: it rewrites
// every record in canonical form, recomputes the chain from the first
// record on (for events: seq renumbered from 1, prev_event_hash and
// event_hash recomputed with ledger.Event.ComputeHash, ids, timestamps and
// payloads kept) and writes a new end record, atomically and under the
// cassette's lock. It returns the lines that changed; a cassette that is
// already sealed is left untouched and yields none.
//
// Reseal refuses what it cannot repair for you: merge conflict markers,
// lines that are not JSON records, unknown record types, a header of an
// unknown format or version, and events of another run or tenant. A last
// line without a newline is accepted (editors drop it), so look at the
// changes after a crash. Records after an end record are kept, and that
// end record reported as removed.
func Reseal(ctx context.Context, path string) ([]Change, error) {
	var changes []Change
	err := writeAtomic(ctx, path, func(old *os.File, w *bufio.Writer) error {
		if old == nil {
			return fmt.Errorf("reseal %s: %w", path, os.ErrNotExist)
		}
		var err error
		changes, err = reseal(old, path, w)
		if err == nil && len(changes) == 0 {
			return errNoChange
		}
		return err
	})
	if errors.Is(err, errNoChange) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return changes, nil
}

func reseal(src io.Reader, path string, w *bufio.Writer) ([]Change, error) {
	rs := &resealer{r: &Reader{path: path, br: bufio.NewReaderSize(src, 64<<10)}, w: w}
	fail := func(err error) ([]Change, error) { return nil, &Error{Path: path, Line: rs.r.line, Err: err} }
	hdrHash, err := rs.header()
	if err != nil {
		return fail(err)
	}
	for {
		line, err := rs.r.readLine()
		if err == io.EOF {
			break
		}
		if err != nil && err != errTorn {
			return fail(err)
		}
		if err := rs.record(bytes.TrimSuffix(line, []byte("\r"))); err != nil {
			return fail(err)
		}
	}
	end := appendEndLine(nil, rs.prev, hdrHash, rs.count)
	if rs.oldEnd == nil {
		rs.changes = append(rs.changes, Change{Line: rs.r.line + 1, Type: endType, Fields: []string{"added"}})
	} else if !bytes.Equal(rs.oldEnd, end[:len(end)-1]) {
		rs.changes = append(rs.changes, Change{Line: rs.endLine, Type: endType, Fields: []string{"hash"}})
	}
	_, err = w.Write(end)
	return rs.changes, err
}

// A resealer rewrites a cassette line by line, sealing each record after
// the one before it and noting what changed.
type resealer struct {
	r       *Reader
	w       *bufio.Writer
	changes []Change

	hdr     Header
	runID   string // of an events cassette, from its header
	prev    string // hash of the last record written
	count   int64  // records written
	tenant  string // of the run, from its first event
	oldEnd  []byte // the end record read last, if any
	endLine int    // its line
	out     []byte
}

// header reads, checks and rewrites the header line, and returns the hash
// of the rewritten one.
func (rs *resealer) header() (string, error) {
	line, err := rs.r.readLine()
	if err != nil && err != errTorn {
		if err == io.EOF {
			return "", because(ErrHeader, "empty file, not a cassette")
		}
		return "", err
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if err := checkLine(line); err != nil {
		return "", err
	}
	var hj headerJSON
	if err := json.Unmarshal(line, &hj); err != nil {
		return "", because(ErrSyntax, "header: %v", err)
	}
	if hj.Format == nil || *hj.Format != Format {
		return "", because(ErrHeader, "not an %s file", Format)
	}
	if hj.Version == nil || hj.Version.String() != fmt.Sprint(Version) {
		v := "none"
		if hj.Version != nil {
			v = hj.Version.String()
		}
		return "", &reason{kind: ErrVersion, detail: fmt.Sprintf("cassette format version %s is not supported; this build reads version %d", v, Version)}
	}
	if hj.Kind == nil || !Kind(*hj.Kind).known() {
		return "", because(ErrHeader, "unknown kind; want %q or %q", KindEvents, KindInteractions)
	}
	rs.hdr = Header{Version: Version, Kind: Kind(*hj.Kind), Meta: hj.Meta}
	rs.runID = rs.hdr.Meta["run_id"]
	hdrLine := appendHeader(nil, rs.hdr)
	if !bytes.Equal(hdrLine, line) {
		rs.changes = append(rs.changes, Change{Line: 1, Type: "header", Fields: []string{"form"}})
	}
	rs.w.Write(hdrLine)
	rs.w.WriteByte('\n')
	return hashBytes(hdrLine), nil
}

// record reseals one record line; an end record is dropped, to be
// written anew at the end.
func (rs *resealer) record(line []byte) error {
	if err := checkLine(line); err != nil {
		return err
	}
	var j recordJSON
	if err := json.Unmarshal(line, &j); err != nil {
		return because(ErrSyntax, "%v", err)
	}
	if j.Type == nil || j.Body == nil {
		return because(ErrSyntax, "a record needs \"type\" and \"body\"")
	}
	if *j.Type == endType {
		if rs.oldEnd != nil {
			rs.changes = append(rs.changes, Change{Line: rs.endLine, Type: endType, Fields: []string{"removed"}})
		}
		rs.oldEnd, rs.endLine = bytes.Clone(line), rs.r.line
		return nil
	}
	if rs.oldEnd != nil { // records after an end record: that end record goes
		rs.changes = append(rs.changes, Change{Line: rs.endLine, Type: endType, Fields: []string{"removed"}})
		rs.oldEnd = nil
	}
	ch := Change{Line: rs.r.line, Type: *j.Type}
	rs.out = rs.out[:0]
	if rs.hdr.Kind == KindEvents {
		e, oldSeq, err := resealEvent(*j.Type, j.Body, rs.count+1, rs.prev)
		if err != nil {
			return err
		}
		if rs.runID != "" && e.RunID != rs.runID {
			return because(ErrBrokenChain, "event of run %q in the cassette of run %q; move it to its own cassette", e.RunID, rs.runID)
		}
		if rs.count == 0 {
			rs.tenant = e.TenantID
		} else if e.TenantID != rs.tenant {
			return because(ErrBrokenChain, "tenant %q, but the run belongs to tenant %q", e.TenantID, rs.tenant)
		}
		ch.Seq = e.Seq
		if oldSeq != e.Seq {
			ch.Fields = append(ch.Fields, "seq")
		}
		rs.out = appendEventLine(rs.out, &e)
		rs.out = rs.out[:len(rs.out)-1]
		rs.prev = e.Hash
	} else {
		if !validType(*j.Type) {
			return because(ErrUnknownType, "%q is not a valid record type", *j.Type)
		}
		body, err := pyjson.Canonicalize(j.Body)
		if err != nil {
			return because(ErrSyntax, "body: %v", err)
		}
		h := recordHash(*j.Type, rs.prev, body)
		rs.out = appendRecord(rs.out, *j.Type, rs.prev, h, body)
		rs.prev = h
	}
	rs.count++
	if !bytes.Equal(rs.out, line) {
		rs.changes = append(rs.changes, changed(ch, &j, rs.out))
	}
	rs.w.Write(rs.out)
	rs.w.WriteByte('\n')
	return nil
}

// changed completes ch with the fields in which the rewritten line out
// differs from the record read, j.
func changed(ch Change, j *recordJSON, out []byte) Change {
	oldPrev, oldHash := "", ""
	if j.Prev != nil {
		oldPrev = *j.Prev
	}
	if j.Hash != nil {
		oldHash = *j.Hash
	}
	var nj recordJSON
	json.Unmarshal(out, &nj)
	if oldPrev != *nj.Prev {
		ch.Fields = append(ch.Fields, "prev")
	}
	if oldHash != *nj.Hash {
		ch.Fields = append(ch.Fields, "hash")
	}
	if !bytes.Equal(j.Body, nj.Body) {
		ch.Fields = append(ch.Fields, "body")
	}
	if len(ch.Fields) == 0 {
		ch.Fields = append(ch.Fields, "form")
	}
	return ch
}

// resealEvent decodes an event record leniently and seals it as seq, after
// the event whose hash is prev. It returns the seq the record had.
func resealEvent(typ string, body []byte, seq int64, prev string) (ledger.Event, int64, error) {
	t := ledger.EventType(typ)
	if !t.Valid() {
		return ledger.Event{}, 0, because(ErrUnknownType, "%q is not an event type", typ)
	}
	var b eventBody
	if err := json.Unmarshal(body, &b); err != nil {
		return ledger.Event{}, 0, because(ErrSyntax, "event body: %v", err)
	}
	if b.ID == nil || b.Payload == nil || b.Run == nil || b.Tenant == nil || b.Timestamp == nil {
		return ledger.Event{}, 0, because(ErrSyntax, "event body needs id, payload, run, tenant and timestamp")
	}
	ts, err := isotime.Parse(*b.Timestamp)
	if err != nil {
		return ledger.Event{}, 0, because(ErrSyntax, "event body: %v", err)
	}
	p, err := ledger.DecodePayload(t, b.Payload)
	if err != nil {
		return ledger.Event{}, 0, because(ErrSyntax, "event payload: %v", err)
	}
	if err := checkIDs(*b.Run, *b.Tenant); err != nil {
		return ledger.Event{}, 0, because(ErrSyntax, "%v", err)
	}
	var oldSeq int64
	if b.Seq != nil {
		oldSeq = *b.Seq
	}
	e := ledger.Event{ID: *b.ID, RunID: *b.Run, TenantID: *b.Tenant, Seq: seq, Type: t,
		PrevHash: prev, Timestamp: ts, Payload: p}
	e.Hash = e.ComputeHash()
	return e, oldSeq, nil
}
