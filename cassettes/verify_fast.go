package cassettes

import (
	"bytes"
	"context"
	"io"
	"strings"
	"unsafe"

	"github.com/artana-go/go-artana/artana/ledger"
)

// Verify reads and checks every remaining record as Next does, up to and
// including the end record, without keeping them, and returns how many
// records it read. It returns nil for a cassette that ends as it should,
// and otherwise the error Next would have returned. each, if not nil, is
// called after every record.
//
// The records of an events cassette in exactly the form the writers
// produce are checked from their text (ledger.StoredVerifier), without
// decoding them into events; memory stays bounded by the longest line.
func (r *Reader) Verify(ctx context.Context, each func()) (int64, error) {
	var n int64
	for {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if r.err != nil {
			if r.err == io.EOF {
				return n, nil
			}
			return n, r.err
		}
		line, err := r.readLine()
		if err == nil && r.hdr.Kind == KindEvents && r.verifyEventLine(line) {
			// checked from its text
		} else if err != nil {
			return n, r.lineErr(line, err)
		} else if _, _, err := r.record(line); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
		if each != nil {
			each()
		}
	}
}

// verifyEventLine checks an events record line that is exactly in the form
// the writers produce, from its text, and reports false, having changed
// nothing, for any other line: the caller then reads it the usual way,
// which explains what is wrong with it.
func (r *Reader) verifyEventLine(line []byte) bool {
	e, ok := r.splitEventLine(line)
	if !ok {
		return false
	}
	if handled, err := r.chain.NextStored(&e); !handled || err != nil {
		return false
	}
	r.prev = strings.Clone(e.Hash)
	r.count++
	return true
}

// splitEventLine splits an events record line that is exactly in the form
// the writers produce (a known event type that the Reader accepts, strings
// of printable ASCII without escapes, the header's run) into the fields of
// a stored event, views of line. It reports false for any other line.
func (r *Reader) splitEventLine(line []byte) (ledger.StoredEvent, bool) {
	typ, rest, ok := cutPlain(line, `{"type":"`)
	if !ok || typ == endType || !ledger.EventType(typ).Valid() || (r.types != nil && !r.types[typ]) {
		return ledger.StoredEvent{}, false
	}
	prev, rest, ok := cutPlain(rest, `,"prev":"`)
	if !ok {
		return ledger.StoredEvent{}, false
	}
	hash, rest, ok := cutPlain(rest, `,"hash":"`)
	if !ok {
		return ledger.StoredEvent{}, false
	}
	body, ok := bytes.CutPrefix(rest, []byte(`,"body":`))
	if !ok || len(body) < 2 || body[len(body)-1] != '}' {
		return ledger.StoredEvent{}, false
	}
	body = body[:len(body)-1]
	id, rest, ok := cutPlain(body, `{"id":"`)
	if !ok {
		return ledger.StoredEvent{}, false
	}
	rest, ok = bytes.CutPrefix(rest, []byte(`,"payload":`))
	i := bytes.LastIndex(rest, []byte(`,"run":"`))
	if !ok || i < 0 {
		return ledger.StoredEvent{}, false
	}
	payload := rest[:i]
	run, rest, ok := cutPlain(rest[i:], `,"run":"`)
	if !ok {
		return ledger.StoredEvent{}, false
	}
	rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`))
	var seq int64
	digits := 0
	for ok && digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' && digits < 18 {
		seq = seq*10 + int64(rest[digits]-'0')
		digits++
	}
	if !ok || digits == 0 || (rest[0] == '0' && digits > 1) {
		return ledger.StoredEvent{}, false
	}
	tenant, rest, ok := cutPlain(rest[digits:], `,"tenant":"`)
	if !ok {
		return ledger.StoredEvent{}, false
	}
	ts, rest, ok := cutPlain(rest, `,"timestamp":"`)
	if !ok || string(rest) != "}" || (r.runID != "" && run != r.runID) {
		return ledger.StoredEvent{}, false
	}
	return ledger.StoredEvent{ID: id, RunID: run, TenantID: tenant, Seq: seq, Type: ledger.EventType(typ),
		PrevHash: prev, Hash: hash, Timestamp: ts, Payload: payload, Form: ledger.CanonicalForm}, true
}

// cutPlain reads prefix and then a string of printable ASCII without
// escapes up to its closing quote (the text the writers give such a
// string), and returns a view of it (valid until b changes) and the rest.
func cutPlain(b []byte, prefix string) (string, []byte, bool) {
	b, ok := bytes.CutPrefix(b, []byte(prefix))
	if !ok {
		return "", nil, false
	}
	for i, c := range b {
		if c == '"' {
			return unsafe.String(unsafe.SliceData(b), i), b[i+1:], true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			break
		}
	}
	return "", nil, false
}
