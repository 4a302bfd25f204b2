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

	"github.com/artana-go/go-artana/artana"
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
// event_hash recomputed with artana.Event.ComputeHash, ids, timestamps and
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
	r := &Reader{path: path, br: bufio.NewReaderSize(src, 64<<10)}
	var changes []Change
	fail := func(err error) ([]Change, error) { return nil, &Error{Path: path, Line: r.line, Err: err} }

	// Header.
	line, err := r.readLine()
	if err != nil && err != errTorn {
		if err == io.EOF {
			return fail(because(ErrHeader, "empty file, not a cassette"))
		}
		return fail(err)
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if err := checkLine(line); err != nil {
		return fail(err)
	}
	var hj headerJSON
	if err := json.Unmarshal(line, &hj); err != nil {
		return fail(because(ErrSyntax, "header: %v", err))
	}
	if hj.Format == nil || *hj.Format != Format {
		return fail(because(ErrHeader, "not an %s file", Format))
	}
	if hj.Version == nil || hj.Version.String() != fmt.Sprint(Version) {
		v := "none"
		if hj.Version != nil {
			v = hj.Version.String()
		}
		return fail(&reason{kind: ErrVersion, detail: fmt.Sprintf("cassette format version %s is not supported; this build reads version %d", v, Version)})
	}
	if hj.Kind == nil || !Kind(*hj.Kind).known() {
		return fail(because(ErrHeader, "unknown kind; want %q or %q", KindEvents, KindInteractions))
	}
	hdr := Header{Version: Version, Kind: Kind(*hj.Kind), Meta: hj.Meta}
	hdrLine := appendHeader(nil, hdr)
	if !bytes.Equal(hdrLine, line) {
		changes = append(changes, Change{Line: 1, Type: "header", Fields: []string{"form"}})
	}
	hdrHash := hashBytes(hdrLine)
	w.Write(hdrLine)
	w.WriteByte('\n')

	runID := hdr.Meta["run_id"]
	var (
		prev    string
		count   int64
		tenant  string
		oldEnd  []byte
		endLine int
		out     []byte
	)
	for {
		line, err := r.readLine()
		if err == io.EOF {
			break
		}
		if err != nil && err != errTorn {
			return fail(err)
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if err := checkLine(line); err != nil {
			return fail(err)
		}
		var j recordJSON
		if err := json.Unmarshal(line, &j); err != nil {
			return fail(because(ErrSyntax, "%v", err))
		}
		if j.Type == nil || j.Body == nil {
			return fail(because(ErrSyntax, "a record needs \"type\" and \"body\""))
		}
		if *j.Type == endType {
			if oldEnd != nil {
				changes = append(changes, Change{Line: endLine, Type: endType, Fields: []string{"removed"}})
			}
			oldEnd, endLine = bytes.Clone(line), r.line
			continue
		}
		if oldEnd != nil { // records after an end record: that end record goes
			changes = append(changes, Change{Line: endLine, Type: endType, Fields: []string{"removed"}})
			oldEnd = nil
		}
		oldPrev, oldHash := "", ""
		if j.Prev != nil {
			oldPrev = *j.Prev
		}
		if j.Hash != nil {
			oldHash = *j.Hash
		}
		ch := Change{Line: r.line, Type: *j.Type}
		out = out[:0]
		if hdr.Kind == KindEvents {
			e, oldSeq, err := resealEvent(*j.Type, j.Body, count+1, prev)
			if err != nil {
				return fail(err)
			}
			if runID != "" && e.RunID != runID {
				return fail(because(ErrBrokenChain, "event of run %q in the cassette of run %q; move it to its own cassette", e.RunID, runID))
			}
			if count == 0 {
				tenant = e.TenantID
			} else if e.TenantID != tenant {
				return fail(because(ErrBrokenChain, "tenant %q, but the run belongs to tenant %q", e.TenantID, tenant))
			}
			ch.Seq = e.Seq
			if oldSeq != e.Seq {
				ch.Fields = append(ch.Fields, "seq")
			}
			out = appendEventLine(out, &e)
			out = out[:len(out)-1]
			prev = e.Hash
		} else {
			if !validType(*j.Type) {
				return fail(because(ErrUnknownType, "%q is not a valid record type", *j.Type))
			}
			body, err := pyjson.Canonicalize(j.Body)
			if err != nil {
				return fail(because(ErrSyntax, "body: %v", err))
			}
			h := recordHash(*j.Type, prev, body)
			out = appendRecord(out, *j.Type, prev, h, body)
			prev = h
		}
		count++
		if !bytes.Equal(out, line) {
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
			changes = append(changes, ch)
		}
		w.Write(out)
		w.WriteByte('\n')
	}
	end := appendEndLine(nil, prev, hdrHash, count)
	if oldEnd == nil {
		changes = append(changes, Change{Line: r.line + 1, Type: endType, Fields: []string{"added"}})
	} else if !bytes.Equal(oldEnd, end[:len(end)-1]) {
		changes = append(changes, Change{Line: endLine, Type: endType, Fields: []string{"hash"}})
	}
	_, err = w.Write(end)
	return changes, err
}

// resealEvent decodes an event record leniently and seals it as seq, after
// the event whose hash is prev. It returns the seq the record had.
func resealEvent(typ string, body []byte, seq int64, prev string) (artana.Event, int64, error) {
	t := artana.EventType(typ)
	if !t.Valid() {
		return artana.Event{}, 0, because(ErrUnknownType, "%q is not an event type", typ)
	}
	var b eventBody
	if err := json.Unmarshal(body, &b); err != nil {
		return artana.Event{}, 0, because(ErrSyntax, "event body: %v", err)
	}
	if b.ID == nil || b.Payload == nil || b.Run == nil || b.Tenant == nil || b.Timestamp == nil {
		return artana.Event{}, 0, because(ErrSyntax, "event body needs id, payload, run, tenant and timestamp")
	}
	ts, err := isotime.Parse(*b.Timestamp)
	if err != nil {
		return artana.Event{}, 0, because(ErrSyntax, "event body: %v", err)
	}
	p, err := artana.DecodePayload(t, b.Payload)
	if err != nil {
		return artana.Event{}, 0, because(ErrSyntax, "event payload: %v", err)
	}
	if err := checkIDs(*b.Run, *b.Tenant); err != nil {
		return artana.Event{}, 0, because(ErrSyntax, "%v", err)
	}
	var oldSeq int64
	if b.Seq != nil {
		oldSeq = *b.Seq
	}
	e := artana.Event{ID: *b.ID, RunID: *b.Run, TenantID: *b.Tenant, Seq: seq, Type: t,
		PrevHash: prev, Timestamp: ts, Payload: p}
	e.Hash = e.ComputeHash()
	return e, oldSeq, nil
}
