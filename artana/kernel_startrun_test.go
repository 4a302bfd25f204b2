package artana

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
)

// barrierStore holds every reader of an empty run until n readers have
// come, so that racing kernels all see the run as new before any of them
// appends: the window in which two processes would both start it.
type barrierStore struct {
	*ledger.MemStore
	n       int
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func (s *barrierStore) Events(ctx context.Context, runID string, afterSeq int64) ([]ledger.Event, error) {
	events, err := s.MemStore.Events(ctx, runID, afterSeq)
	if err != nil || len(events) > 0 || afterSeq > 0 {
		return events, err
	}
	s.mu.Lock()
	s.waiting++
	if s.waiting == s.n {
		close(s.release)
	}
	s.mu.Unlock()
	select {
	case <-s.release:
	case <-time.After(2 * time.Second): // a racer that never reads must not hang the test
	}
	return events, nil
}

// TestStartRunRace: kernels racing to start the same run id on one store
// (as two processes would) leave exactly one run_started, and every loser
// gets ErrRunExists.
func TestStartRunRace(t *testing.T) {
	const racers = 6
	store := &barrierStore{MemStore: ledger.NewMemStore(), n: racers, release: make(chan struct{})}
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for range racers {
		k := New(store, replyWith(`{}`))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := k.StartRun(tctx, liveTenant, "contested")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ledger.ErrRunExists):
			t.Errorf("losing StartRun: %v, want ErrRunExists", err)
		}
	}
	events, err := store.Events(tctx, "contested", 0)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || len(events) != 1 {
		t.Errorf("%d StartRun calls won and the run has %d events; want 1 and 1", won, len(events))
	}
}

// appendOnlyStore hides MemStore's CreateRun, like a third-party store.
type appendOnlyStore struct{ ledger.Store }

// TestStartRunWithoutRunCreator: on a store without CreateRun, StartRun
// still refuses an id that already has events.
func TestStartRunWithoutRunCreator(t *testing.T) {
	store := appendOnlyStore{ledger.NewMemStore()}
	if _, err := New(store, replyWith(`{}`)).StartRun(tctx, liveTenant, "r"); err != nil {
		t.Fatal(err)
	}
	_, err := New(store, replyWith(`{}`)).StartRun(tctx, liveTenant, "r")
	if !errors.Is(err, ledger.ErrRunExists) {
		t.Errorf("second StartRun: %v, want ErrRunExists", err)
	}
}
