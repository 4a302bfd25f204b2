package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unsafe"

	"github.com/artana-go/go-artana/internal/isotime"
)

// A StoredEvent is an event as a store holds it: its fields as read, the
// timestamp and the payload still as text. Its strings may point into a
// buffer the store reuses; the verifier keeps no reference to them.
type StoredEvent struct {
	ID, RunID, TenantID string
	Seq                 int64
	Type                EventType
	PrevHash, Hash      string
	Timestamp           string      // as stored
	Payload             []byte      // as stored, in Form
	Form                PayloadForm // the form the store keeps payloads in
}

// A StoredVerifier is a ChainVerifier that also verifies events given as
// their stored text (NextStored), as stores do when they verify a run.
// The zero value is ready to verify a run from seq 1.
type StoredVerifier struct {
	ChainVerifier
	hash    [2 * sha256.Size]byte // the last hash, when NextStored kept it
	text    textChecker           // checks payload texts
	scratch scratchChecks
}

// NextStored verifies e as the event that follows those already seen,
// without decoding it into an Event: it does what Next and
// PayloadForm.Check do for the decoded event, for the events the writers
// produce (a payload exactly in e.Form, a timestamp exactly in the form
// that is hashed), hashing the stored text. It allocates nothing.
//
// For any other event it reports handled false and checks nothing: the
// store then decodes the event as it does for its readers, and calls Next
// and PayloadForm.Check, which explain what is wrong. When handled is
// true, err is what Next would have returned (PayloadForm.Check passes).
func (v *StoredVerifier) NextStored(e *StoredEvent) (handled bool, err error) {
	if v.started && e.RunID == v.runID && e.TenantID == v.tenantID && e.Seq == v.lastSeq+1 &&
		e.PrevHash == v.lastHash {
		// The common case: the link is good; see whether the text is.
	} else if v.started || e.Seq != 1 || e.PrevHash != "" {
		return false, nil // let Next name what is wrong with the link
	}
	if handled, err = v.CheckStored(e); !handled || err != nil {
		return handled, err
	}
	if !v.started || v.runID != e.RunID {
		v.runID = strings.Clone(e.RunID)
	}
	if !v.started || v.tenantID != e.TenantID {
		v.tenantID = strings.Clone(e.TenantID)
	}
	v.started, v.lastSeq = true, e.Seq
	v.lastHash = v.keepHash(e.Hash)
	return true, nil
}

// CheckStored verifies e alone, as NextStored does once the link to the
// event before it is good: that its hash is that of its fields with
// e.PrevHash as the hash before it ("" for the first event of a run), and
// that its payload and timestamp are exactly in the stored forms. It leaves
// the links (same run and tenant, the next seq, e.PrevHash the hash of the
// event before it) to the caller, and v's chain as it was, so that events
// of a run can be checked in any order, on several goroutines with a
// verifier each. It allocates nothing; handled and err are as for
// NextStored.
func (v *StoredVerifier) CheckStored(e *StoredEvent) (handled bool, err error) {
	b := appendHashHead(v.buf[:0], e.ID, e.RunID, e.TenantID, e.Seq, e.Type, e.PrevHash)
	b, ok := appendStoredTimestamp(b, e.Timestamp)
	if !ok {
		v.buf = b
		return false, nil
	}
	b = append(b, '|')
	if b, ok = v.appendStoredPayload(b, e); !ok {
		v.buf = b
		return false, nil
	}
	v.buf = b
	sum := sha256.Sum256(b)
	var computed [2 * sha256.Size]byte
	hex.Encode(computed[:], sum[:])
	if string(computed[:]) != e.Hash {
		return true, &ChainError{RunID: e.RunID, Seq: e.Seq, Reason: "hash mismatch: stored " + e.Hash + ", computed " +
			string(computed[:]) + " (event or payload changed after it was written)"}
	}
	return true, nil
}

// keepHash returns a copy of h that v owns, in a buffer of its own when h
// has the size of a hash.
func (v *StoredVerifier) keepHash(h string) string {
	if len(h) != len(v.hash) {
		return strings.Clone(h)
	}
	// v.lastHash may be the previous content of v.hash: compare first.
	if v.lastHash == h {
		return v.lastHash
	}
	copy(v.hash[:], h)
	return unsafeString(v.hash[:])
}

// appendStoredTimestamp appends ts when it is exactly the form that is
// hashed (isotime.Format of what isotime.Parse reads from it).
func appendStoredTimestamp(b []byte, ts string) ([]byte, bool) {
	if !isotime.Canonical(ts) {
		return b, false
	}
	return append(b, ts...), true
}

// appendStoredPayload appends the canonical form of e's payload when its
// stored text is exactly form's encoding of what it decodes to (as
// appendPayload writes it), checking the text in one pass (textChecker).
func (v *StoredVerifier) appendStoredPayload(b []byte, e *StoredEvent) ([]byte, bool) {
	sp := v.scratch.get(e.Type)
	canonical := e.Form == CanonicalForm
	if sp == nil || !v.text.check(sp, e.Payload, canonical) || sp.p.Validate() != nil {
		return b, false
	}
	if canonical {
		return append(b, e.Payload...), true
	}
	return v.text.appendCanonical(b, sp, e.Payload), true
}

// scratchPayloads holds one payload of each type to decode into, event
// after event.
type scratchPayloads struct {
	p [10]Payload
}

func (s *scratchPayloads) get(t EventType) Payload {
	i := payloadIndex(t)
	if i < 0 {
		return nil
	}
	if s.p[i] == nil {
		s.p[i] = newPayload(t)
	}
	return s.p[i]
}

// scratchChecks holds one scratchPayload of each type for a verifier to
// check texts with, event after event.
type scratchChecks struct {
	p [10]*scratchPayload
}

func (s *scratchChecks) get(t EventType) *scratchPayload {
	i := payloadIndex(t)
	if i < 0 {
		return nil
	}
	if s.p[i] == nil {
		s.p[i] = newScratchPayload(t)
	}
	return s.p[i]
}

// payloadIndex numbers the ten event types from 0, or returns -1.
func payloadIndex(t EventType) int {
	switch t {
	case EventRunStarted:
		return 0
	case EventResumeRequested:
		return 1
	case EventPauseRequested:
		return 2
	case EventModelRequested:
		return 3
	case EventModelCompleted:
		return 4
	case EventToolRequested:
		return 5
	case EventToolCompleted:
		return 6
	case EventWorkflowStepRequested:
		return 7
	case EventWorkflowStepCompleted:
		return 8
	case EventReplayedWithDrift:
		return 9
	}
	return -1
}

// unsafeString views b as a string; b must not change while the string is
// in use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Link is Next without recomputing the hash: for an event whose hash was
// just computed from its payload, by the store it was appended to.
func (v *ChainVerifier) Link(e *Event) error {
	if err := v.checkLinks(e); err != nil {
		return err
	}
	v.started, v.runID, v.tenantID, v.lastSeq, v.lastHash = true, e.RunID, e.TenantID, e.Seq, e.Hash
	return nil
}
