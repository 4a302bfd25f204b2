package artana

import (
	"context"
	"slices"
	"sort"
	"sync"
)

// MemStore is a Store that keeps events in memory. It is safe for
// concurrent use, and it is the default store of tests.
type MemStore struct {
	opts   StoreOptions
	mu     sync.RWMutex
	runs   map[string][]Event
	closed bool
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore(opts ...StoreOption) *MemStore {
	return &MemStore{opts: NewStoreOptions(opts...), runs: make(map[string][]Event)}
}

// Append appends p to the run; see Store.
func (s *MemStore) Append(ctx context.Context, runID, tenantID string, p Payload) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Event{}, ErrClosed
	}
	events := s.runs[runID]
	var last *Event
	if n := len(events); n > 0 {
		last = &events[n-1]
	}
	e, err := s.opts.NextEvent(last, runID, tenantID, p)
	if err != nil {
		return Event{}, err
	}
	s.runs[runID] = append(events, e)
	return e, nil
}

// Events returns the run's events after afterSeq; see Store.
func (s *MemStore) Events(ctx context.Context, runID string, afterSeq int64) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	events := s.runs[runID]
	if afterSeq < 0 {
		afterSeq = 0
	}
	if afterSeq >= int64(len(events)) {
		return []Event{}, nil
	}
	// seq is index+1, so the events after afterSeq start at index afterSeq.
	return slices.Clone(events[afterSeq:]), nil
}

// Runs lists the runs ordered by run id; see Store.
func (s *MemStore) Runs(ctx context.Context) ([]RunInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]RunInfo, 0, len(s.runs))
	for id, events := range s.runs {
		first, last := events[0], events[len(events)-1]
		out = append(out, RunInfo{RunID: id, TenantID: first.TenantID, Events: last.Seq,
			First: first.Timestamp, Last: last.Timestamp, LastHash: last.Hash})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out, nil
}

// Close discards the events. Closing twice returns nil.
func (s *MemStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.runs = nil
	return nil
}
