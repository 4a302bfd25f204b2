package ledger

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// MemStore is a Store that keeps events in memory. It is safe for
// concurrent use, and it is the default store of tests.
//
// Events returned by Events share their payloads with the store: treat
// them as read-only.
type MemStore struct {
	opts   StoreOptions
	mu     sync.RWMutex
	runs   map[string]*memRun
	closed bool
}

// memChunk is the number of events per chunk of a run. Runs grow chunk by
// chunk, so an append past the first chunk never copies earlier events and
// costs the same at event 10,000 and at event 1,000,000; the first chunk
// grows by append from memFirstChunk.
const memChunk = 1024

// memFirstChunk is the capacity a run's first chunk starts with.
const memFirstChunk = 16

type memRun struct {
	chunks [][]Event
	n      int64
}

func (r *memRun) at(i int64) *Event { return &r.chunks[i/memChunk][i%memChunk] }

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore(opts ...StoreOption) *MemStore {
	return &MemStore{opts: NewStoreOptions(opts...), runs: make(map[string]*memRun)}
}

var _ RunCreator = (*MemStore)(nil)

// Append appends p to the run; see Store.
func (s *MemStore) Append(ctx context.Context, runID, tenantID string, p Payload) (Event, error) {
	return s.append(ctx, runID, tenantID, p, false)
}

// CreateRun appends p as the first event of a new run; see RunCreator.
func (s *MemStore) CreateRun(ctx context.Context, runID, tenantID string, p Payload) (Event, error) {
	return s.append(ctx, runID, tenantID, p, true)
}

func (s *MemStore) append(ctx context.Context, runID, tenantID string, p Payload, create bool) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Event{}, ErrClosed
	}
	r := s.runs[runID]
	var last *Event
	if r != nil {
		last = r.at(r.n - 1)
		if create {
			return Event{}, fmt.Errorf("create run %q: it already has %d events: %w", runID, r.n, ErrRunExists)
		}
	}
	e, err := s.opts.NextEvent(last, runID, tenantID, p)
	if err != nil {
		return Event{}, err
	}
	if r == nil {
		r = &memRun{}
		s.runs[runID] = r
	}
	if r.n%memChunk == 0 {
		// A run's first chunk starts small and grows by append, so that a
		// short run (a test's) does not cost a whole chunk; the later ones
		// are made whole.
		size := memChunk
		if len(r.chunks) == 0 {
			size = memFirstChunk
		}
		r.chunks = append(r.chunks, make([]Event, 0, size))
	}
	c := &r.chunks[len(r.chunks)-1]
	*c = append(*c, e)
	r.n++
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
	r := s.runs[runID]
	afterSeq = max(afterSeq, 0)
	if r == nil || afterSeq >= r.n {
		return []Event{}, nil
	}
	// seq is index+1, so the events after afterSeq start at index afterSeq.
	out := make([]Event, 0, r.n-afterSeq)
	for i := afterSeq; i < r.n; {
		chunk := r.chunks[i/memChunk][i%memChunk:]
		out = append(out, chunk...)
		i += int64(len(chunk))
	}
	return out, nil
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
	for id, r := range s.runs {
		first, last := r.at(0), r.at(r.n-1)
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
