package cassettes

import (
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
)

// fastEvent reads an events record line that is exactly in the form the
// writers produce as Reader.record does, checking it from its text as
// Verify does (ledger.StoredVerifier), and decodes it (ledger.OwnedDecoder)
// into an event that shares no memory with line or the Reader: its id, hash
// and payload strings in one new buffer, its run, tenant and previous hash shared with
// the events before it. For any other line, or one that fails a check, it
// reports false having changed nothing: the caller then reads the line the
// usual way, which explains what is wrong with it.
func (r *Reader) fastEvent(line []byte) (ledger.Event, bool) {
	se, ok := r.splitEventLine(line)
	if !ok {
		return ledger.Event{}, false
	}
	ts, err := isotime.Parse(se.Timestamp)
	if err != nil {
		return ledger.Event{}, false
	}
	head := append(append(r.head[:0], se.ID...), se.Hash...)
	r.head = head
	p, ids, ok := r.owned.Decode(se.Type, se.Payload, head)
	if !ok {
		return ledger.Event{}, false
	}
	if handled, err := r.chain.NextStored(&se); !handled || err != nil {
		return ledger.Event{}, false
	}
	e := ledger.Event{ID: ids[:len(se.ID)], Hash: ids[len(se.ID):], Seq: se.Seq,
		Type: eventType(se.Type), Timestamp: ts, Payload: p}
	switch {
	case se.RunID == r.runID:
		e.RunID = r.runID
	case se.RunID == r.lastRun:
		e.RunID = r.lastRun
	default:
		r.lastRun = strings.Clone(se.RunID)
		e.RunID = r.lastRun
	}
	if se.TenantID != r.lastTenant {
		r.lastTenant = strings.Clone(se.TenantID)
	}
	e.TenantID = r.lastTenant
	switch {
	case se.PrevHash == "":
	case se.PrevHash == r.prev:
		e.PrevHash = r.prev
	default:
		e.PrevHash = strings.Clone(se.PrevHash)
	}
	r.prev = e.Hash
	r.count++
	return e, true
}

// eventType returns the constant that t, a valid event type, equals, so
// that events do not keep the memory t is a view of.
func eventType(t ledger.EventType) ledger.EventType {
	for _, c := range [...]ledger.EventType{ledger.EventModelRequested, ledger.EventModelCompleted,
		ledger.EventToolRequested, ledger.EventToolCompleted, ledger.EventWorkflowStepRequested,
		ledger.EventWorkflowStepCompleted, ledger.EventRunStarted, ledger.EventResumeRequested,
		ledger.EventPauseRequested, ledger.EventReplayedWithDrift} {
		if t == c {
			return c
		}
	}
	return ledger.EventType(strings.Clone(string(t)))
}
