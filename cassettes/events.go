package cassettes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
)

// An events cassette stores each ledger.Event as one record whose type is
// the event type, whose prev and hash are the event's prev_event_hash and
// event_hash, and whose body is
//
//	{"id":…,"payload":{…},"run":…,"seq":N,"tenant":…,"timestamp":…}
//
// with the payload in ledger.CanonicalForm and the timestamp in
// Python isoformat form: exactly the inputs of Event.ComputeHash.

// appendEventLine writes e's record line with its newline.
func appendEventLine(dst []byte, e *ledger.Event) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, string(e.Type))
	dst = append(dst, `,"prev":`...)
	dst = appendString(dst, e.PrevHash)
	dst = append(dst, `,"hash":`...)
	dst = appendString(dst, e.Hash)
	dst = append(dst, `,"body":`...)
	dst = appendEventBody(dst, e)
	return append(dst, "}\n"...)
}

func appendEventBody(dst []byte, e *ledger.Event) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"payload":`...)
	dst = append(dst, ledger.CanonicalForm.Encode(e.Payload)...)
	dst = append(dst, `,"run":`...)
	dst = appendString(dst, e.RunID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	dst = append(dst, `,"tenant":`...)
	dst = appendString(dst, e.TenantID)
	dst = append(dst, `,"timestamp":`...)
	dst = appendString(dst, isotime.Format(e.Timestamp))
	return append(dst, '}')
}

type eventBody struct {
	ID        *string         `json:"id"`
	Payload   json.RawMessage `json:"payload"`
	Run       *string         `json:"run"`
	Seq       *int64          `json:"seq"`
	Tenant    *string         `json:"tenant"`
	Timestamp *string         `json:"timestamp"`
}

// decodeEvent parses an events record into an Event and checks that the
// body is exactly what appendEventBody writes for it. It does not check
// the hash chain.
func decodeEvent(rec *Record) (ledger.Event, error) {
	typ := ledger.EventType(rec.Type)
	if !typ.Valid() {
		return ledger.Event{}, because(ErrUnknownType, "%q is not an event type", rec.Type)
	}
	b, ok := fastEventBody(rec.Body)
	if !ok {
		if err := json.Unmarshal(rec.Body, &b); err != nil {
			return ledger.Event{}, because(ErrSyntax, "event body: %v", err)
		}
	}
	missing := ""
	switch {
	case b.ID == nil:
		missing = "id"
	case b.Payload == nil:
		missing = "payload"
	case b.Run == nil:
		missing = "run"
	case b.Seq == nil:
		missing = "seq"
	case b.Tenant == nil:
		missing = "tenant"
	case b.Timestamp == nil:
		missing = "timestamp"
	}
	if missing != "" {
		return ledger.Event{}, because(ErrSyntax, "event body has no %q field", missing)
	}
	ts, err := isotime.Parse(*b.Timestamp)
	if err != nil {
		return ledger.Event{}, because(ErrSyntax, "event body: %v", err)
	}
	p, err := ledger.DecodePayload(typ, b.Payload)
	if err != nil {
		return ledger.Event{}, because(ErrSyntax, "event payload: %v", err)
	}
	e := ledger.Event{ID: *b.ID, RunID: *b.Run, TenantID: *b.Tenant, Seq: *b.Seq, Type: typ,
		PrevHash: rec.Prev, Hash: rec.Hash, Timestamp: ts, Payload: p}
	if err := ledger.CanonicalForm.Check(&e, b.Payload); err != nil {
		return ledger.Event{}, because(ErrNotCanonical, "%v; if the edit is deliberate, reseal the cassette", err)
	}
	var stack [1024]byte
	if !bytes.Equal(appendEventBody(stack[:0], &e), rec.Body) {
		return ledger.Event{}, because(ErrNotCanonical,
			"event body differs from its canonical form (edited by hand?); if the edit is deliberate, reseal the cassette")
	}
	return e, nil
}

// checkIDs reports run or tenant ids that a cassette cannot store
// faithfully.
func checkIDs(runID, tenantID string) error {
	if !utf8.ValidString(runID) {
		return fmt.Errorf("run id %q is not valid UTF-8: %w", runID, ledger.ErrInvalidPayload)
	}
	if !utf8.ValidString(tenantID) {
		return fmt.Errorf("tenant id %q is not valid UTF-8: %w", tenantID, ledger.ErrInvalidPayload)
	}
	return nil
}
