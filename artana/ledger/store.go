package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/artana-go/go-artana/internal/isotime"
)

// A Store is an append-only, hash-chained event log of runs. Every
// implementation must pass artanatest.TestStore.
//
// Implementations must be safe for concurrent use. Append assigns the seq,
// previous hash, event id, timestamp and hash atomically: concurrent appends
// to one run never produce a gap, a duplicate seq or a broken link.
type Store interface {
	// Append validates p and appends it to the run, creating the run if it
	// has no events yet. It returns the event as stored. Appending to a run
	// that belongs to another tenant fails with ErrTenantMismatch; an invalid
	// payload fails with ErrInvalidPayload. On error nothing is appended.
	Append(ctx context.Context, runID, tenantID string, p Payload) (Event, error)

	// Events returns the run's events with seq > afterSeq, in seq order.
	// Events(ctx, id, 0) reads the whole run. A run without events yields
	// an empty slice and no error.
	Events(ctx context.Context, runID string, afterSeq int64) ([]Event, error)

	// Runs lists every run in the store, ordered by run id.
	Runs(ctx context.Context) ([]RunInfo, error)

	// Close releases the store. Later calls fail with ErrClosed; closing
	// again returns nil.
	Close() error
}

// RunInfo summarises one run of a store.
type RunInfo struct {
	RunID    string
	TenantID string
	Events   int64     // number of events, which is also the last seq
	First    time.Time // timestamp of seq 1
	Last     time.Time // timestamp of the last event
	LastHash string    // hash of the last event
}

// StoreOptions are the settings every store shares. Store packages apply
// their functional options with NewStoreOptions.
type StoreOptions struct {
	Now   func() time.Time // the clock; time.Now by default
	NewID func() string    // event ids; random 32-hex-digit ids by default
}

// A StoreOption configures a store.
type StoreOption func(*StoreOptions)

// WithEventClock makes a store take event timestamps from now, so that
// tests can produce byte-identical logs. Timestamps are truncated to
// microseconds.
func WithEventClock(now func() time.Time) StoreOption {
	return func(o *StoreOptions) { o.Now = now }
}

// WithEventIDs makes a store take event ids from newID.
func WithEventIDs(newID func() string) StoreOption {
	return func(o *StoreOptions) { o.NewID = newID }
}

// NewStoreOptions applies opts over the defaults.
func NewStoreOptions(opts ...StoreOption) StoreOptions {
	o := StoreOptions{Now: time.Now, NewID: newID}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// newID returns a random id in the form of Python's uuid4().hex: 32
// lowercase hex digits of a version 4 UUID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// NextEvent builds and seals the event that follows last in a run (last is
// nil for the run's first event): seq and previous hash follow last, the id
// and timestamp come from o, and Hash is computed. It validates p and checks
// that the tenant matches the run's. Stores call it inside their append
// critical section.
func (o StoreOptions) NextEvent(last *Event, runID, tenantID string, p Payload) (Event, error) {
	if err := o.CheckAppend(last, runID, tenantID, p); err != nil {
		return Event{}, err
	}
	e := Event{
		ID:        o.NewID(),
		RunID:     runID,
		TenantID:  tenantID,
		Seq:       1,
		Type:      p.Kind(),
		Timestamp: isotime.Truncate(o.Now()),
		Payload:   p,
	}
	if last != nil {
		e.Seq, e.PrevHash = last.Seq+1, last.Hash
	}
	e.Hash = e.ComputeHash()
	return e, nil
}

// CheckAppend reports whether p may be appended to the run whose last
// event is last (nil for a new run): the run id is not empty, the payload is
// valid and the tenant matches the run's. NextEvent checks it too; stores
// call it before any I/O to leave nothing behind on bad input.
func (StoreOptions) CheckAppend(last *Event, runID, tenantID string, p Payload) error {
	if runID == "" {
		return fmt.Errorf("append: empty run id: %w", ErrInvalidPayload)
	}
	if p == nil {
		return fmt.Errorf("append to run %q: nil payload: %w", runID, ErrInvalidPayload)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("append to run %q: %w: %w", runID, ErrInvalidPayload, err)
	}
	if last != nil && last.TenantID != tenantID {
		return fmt.Errorf("append to run %q: run belongs to tenant %q, not %q: %w",
			runID, last.TenantID, tenantID, ErrTenantMismatch)
	}
	return nil
}

// A RunCreator is a Store that can start a run atomically. CreateRun
// appends p as the first event of runID only if the run has no events yet;
// otherwise it appends nothing and fails with an error matching
// ErrRunExists. artana's Kernel.StartRun uses it when the store has it, so that two
// processes starting the same run id never both succeed (without it, the
// loser's run_started lands at seq 2 and StartRun reports the clash after
// the fact). MemStore, sqlite.Store, postgres.Store and cassettes.Store implement it.
type RunCreator interface {
	CreateRun(ctx context.Context, runID, tenantID string, p Payload) (Event, error)
}
