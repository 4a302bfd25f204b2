package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// ForkRunID returns the id of the run that forks runID when the request
// whose logged prev_event_hash is prevHash drifts into req:
// "<runID>::fork::" and 16 hex digits of SHA-256 over prevHash, "|" and
// the canonical payload of req. The hash covers the parent's prefix (by
// the hash of its last event) as well as the new request, so that the
// fork id names exactly one prefix: the copied prefix cannot keep the
// parent's event hashes, which cover the run id.
func ForkRunID(runID, prevHash string, req Payload) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'|'})
	h.Write(CanonicalForm.Encode(req))
	return runID + forkSep + hex.EncodeToString(h.Sum(nil))[:16]
}

const forkSep = "::fork::"

// ForkParent returns the run a fork id names as its parent, and false for
// a run id that is no fork.
func ForkParent(runID string) (string, bool) {
	i := strings.LastIndex(runID, forkSep)
	if i < 0 || len(runID)-i-len(forkSep) != 16 {
		return "", false
	}
	return runID[:i], true
}

// CheckFork checks that forkID is a fork of the run its id names: the
// parent holds a replayed_with_drift event naming it (the latest is read), the fork's events
// before the drifting step are the parent's (payload for payload), and
// the id's hash is that of the parent's prefix (the hash of its last
// event) and of the fork's first own event, the drifted request.
func CheckFork(ctx context.Context, s Store, forkID string) error {
	parentID, ok := ForkParent(forkID)
	if !ok {
		return fmt.Errorf("run %q is no fork: its id does not end in %s and 16 hex digits", forkID, forkSep)
	}
	parent, err := s.Events(ctx, parentID, 0)
	if err != nil {
		return err
	}
	fork, err := s.Events(ctx, forkID, 0)
	if err != nil {
		return err
	}
	var d *ReplayedWithDrift
	for _, e := range parent {
		if p, ok := e.Payload.(*ReplayedWithDrift); ok && p.ForkRunID != nil && *p.ForkRunID == forkID {
			d = p // the latest one
		}
	}
	if d == nil {
		return fmt.Errorf("fork %q: its parent %q holds no replayed_with_drift event naming it", forkID, parentID)
	}
	src := slices.IndexFunc(parent, func(e Event) bool { return e.ID == d.SourceRequestedEventID })
	if src < 0 {
		return fmt.Errorf("fork %q: the drift event names request %s, which is no event of %q", forkID, d.SourceRequestedEventID, parentID)
	}
	if len(fork) <= src {
		return fmt.Errorf("fork %q has %d events, not the %d of the prefix and the drifted request", forkID, len(fork), src+1)
	}
	for i := range src {
		if fork[i].Type != parent[i].Type || !bytes.Equal(CanonicalForm.Encode(fork[i].Payload), CanonicalForm.Encode(parent[i].Payload)) {
			return fmt.Errorf("fork %q: seq %d differs from its parent's", forkID, fork[i].Seq)
		}
	}
	if got := ForkRunID(parentID, parent[src].PrevHash, forkRequest(fork[src].Payload)); got != forkID {
		return fmt.Errorf("fork %q: the parent's prefix (last hash %s) and the fork's request at seq %d hash to %q", forkID, parent[src].PrevHash, fork[src].Seq, got)
	}
	return nil
}

// forkRequest returns the form of a fork's first own event that its id
// hashes: a tool request without its idempotency key, which derives from
// the fork's id.
func forkRequest(p Payload) Payload {
	if t, ok := p.(*ToolRequested); ok {
		c := *t
		c.IdempotencyKey = ""
		return &c
	}
	return p
}
