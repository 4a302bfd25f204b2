package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/artana-go/go-artana/internal/isotime"
)

// ComputeHash returns the event's hash as the Python original computes it: the
// lowercase hex SHA-256 of event id, run id, tenant id, seq, event type,
// previous hash ("" for the first event), isotime.Format(timestamp) and
// the payload's CanonicalForm, joined by "|". The Hash field itself is not read.
func (e *Event) ComputeHash() string {
	var stack [512]byte
	b := appendHashInput(stack[:0], e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// HashInput returns the exact bytes that ComputeHash digests, for
// debugging a hash mismatch.
func (e *Event) HashInput() []byte { return appendHashInput(nil, e) }

func appendHashInput(b []byte, e *Event) []byte {
	b = appendHashHead(b, e.ID, e.RunID, e.TenantID, e.Seq, e.Type, e.PrevHash)
	b = isotime.Append(b, e.Timestamp)
	b = append(b, '|')
	if e.Payload != nil {
		b = appendPayload(b, e.Payload, true)
	}
	return b
}

// appendHashHead appends the fields of the hash input before the
// timestamp, each followed by "|".
func appendHashHead(b []byte, id, runID, tenantID string, seq int64, typ EventType, prevHash string) []byte {
	b = append(b, id...)
	b = append(b, '|')
	b = append(b, runID...)
	b = append(b, '|')
	b = append(b, tenantID...)
	b = append(b, '|')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '|')
	b = append(b, typ...)
	b = append(b, '|')
	b = append(b, prevHash...)
	return append(b, '|')
}

// A ChainError reports the first event of a run that fails verification.
type ChainError struct {
	RunID  string
	Seq    int64  // the seq of the offending event
	Reason string // what is wrong, e.g. "hash mismatch: stored …, computed …"
}

// Error returns "run R seq N: reason".
func (e *ChainError) Error() string {
	return fmt.Sprintf("run %q seq %d: %s", e.RunID, e.Seq, e.Reason)
}

// Is reports whether target is ErrChainBroken.
func (e *ChainError) Is(target error) bool { return target == ErrChainBroken }

// A ChainVerifier checks events one at a time, so that a run of any length
// is verified in constant memory. The zero value is ready to verify a run
// from seq 1; Resume starts it after an already verified event.
type ChainVerifier struct {
	buf      []byte // hash input, reused from event to event
	started  bool
	runID    string
	tenantID string
	lastSeq  int64
	lastHash string
}

// Resume makes v verify the events that follow last, without re-reading
// the events before it.
func (v *ChainVerifier) Resume(last *Event) {
	v.started, v.runID, v.tenantID, v.lastSeq, v.lastHash = true, last.RunID, last.TenantID, last.Seq, last.Hash
}

// Next verifies e as the event that follows those already seen: same run,
// same tenant, seq one more than the previous (1 for the first), previous
// hash equal to the previous event's hash, payload kind equal to the event
// type, and stored hash equal to the computed one. The error is a
// *ChainError naming the first problem found.
func (v *ChainVerifier) Next(e *Event) error {
	if err := v.checkLinks(e); err != nil {
		return err
	}
	v.buf = appendHashInput(v.buf[:0], e)
	sum := sha256.Sum256(v.buf)
	var computed [2 * sha256.Size]byte
	hex.Encode(computed[:], sum[:])
	if string(computed[:]) != e.Hash {
		return &ChainError{RunID: e.RunID, Seq: e.Seq, Reason: fmt.Sprintf(
			"hash mismatch: stored %s, computed %s (event or payload changed after it was written)", e.Hash, string(computed[:]))}
	}
	v.started, v.runID, v.tenantID, v.lastSeq, v.lastHash = true, e.RunID, e.TenantID, e.Seq, e.Hash
	return nil
}

// checkLinks checks what Next checks but the hash.
func (v *ChainVerifier) checkLinks(e *Event) error {
	fail := func(format string, args ...any) error {
		return &ChainError{RunID: e.RunID, Seq: e.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case v.started && e.RunID != v.runID:
		return fail("event of run %q found among the events of run %q", e.RunID, v.runID)
	case v.started && e.TenantID != v.tenantID:
		return fail("tenant mixed within the run: %q, earlier events have %q", e.TenantID, v.tenantID)
	case e.Seq != v.lastSeq+1:
		if e.Seq <= v.lastSeq {
			return fail("seq out of order or repeated after seq %d", v.lastSeq)
		}
		return fail("seq gap: expected seq %d after seq %d", v.lastSeq+1, v.lastSeq)
	case e.PrevHash != v.lastHash:
		if v.lastSeq == 0 {
			return fail("broken link: first event has prev hash %q, want none", e.PrevHash)
		}
		return fail("broken link: prev hash %q, but seq %d has hash %q", e.PrevHash, v.lastSeq, v.lastHash)
	case e.Payload == nil:
		return fail("no payload")
	case e.Payload.Kind() != e.Type:
		return fail("event type %s does not match payload kind %s", e.Type, e.Payload.Kind())
	}
	return nil
}

// VerifyChain verifies the events of one run, in order from seq 1. It
// returns nil for an empty slice and otherwise the *ChainError of the first
// bad event: hash mismatch, broken link, seq gap, or tenant (or run) mixed
// within the run.
func VerifyChain(events []Event) error {
	var v ChainVerifier
	for i := range events {
		if err := v.Next(&events[i]); err != nil {
			return err
		}
	}
	return nil
}
