package artanatest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
)

// start is the first timestamp of the Deterministic clock.
func start() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

// Deterministic returns store options for a byte-stable log: timestamps
// from 2025-01-01 00:00:00 UTC, one second apart, and event ids counting up from
// 00000000000000000000000000000001. Every call returns fresh sources, so
// two stores opened with them write identical events for identical
// appends. Use it with stores other than MemStore:
//
//	s, err := sqlite.Open(ctx, path, sqlite.WithStoreOptions(artanatest.Deterministic()...))
func Deterministic() []ledger.StoreOption {
	return []ledger.StoreOption{
		ledger.WithEventClock(SteppingClock(start(), time.Second)),
		ledger.WithEventIDs(SequentialIDs()),
	}
}

// RunIDs returns a run id source for artana.WithRunIDs that yields
// "run-1", "run-2", ... It is safe for concurrent use.
func RunIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("run-%d", n)
	}
}

// NewStore returns an empty in-memory store with the Deterministic clock
// and ids, closed when the test ends.
func NewStore(t testing.TB) *ledger.MemStore {
	t.Helper()
	s := ledger.NewMemStore(Deterministic()...)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// NewKernel returns a kernel for the test t on a new NewStore store,
// calling model for live model steps (nil for a kernel that only replays
// or runs tools). Its log is byte-stable: timestamps and event ids come
// from Deterministic, and StartRun without a run id issues "run-1",
// "run-2", ... (RunIDs). The kernel has the middleware of
// DefaultKernelOptions (a quota, so tenants need a budget, and the
// capability guard; no scrubber), then opts, which may override any of
// this (for example another artana.WithRunIDs). The kernel, and so its store, is
// closed when the test ends.
func NewKernel(t testing.TB, model llm.Model, opts ...artana.Option) *artana.Kernel {
	t.Helper()
	return NewKernelWithStore(t, NewStore(t), model, opts...)
}

// NewKernelWithStore is NewKernel on a store of the caller's. The kernel
// closes store when the test ends. The store's clock and ids are its own:
// open it with Deterministic() for a byte-stable log, or compare its log
// with the NormalizeVolatile golden option.
func NewKernelWithStore(t testing.TB, store ledger.Store, model llm.Model, opts ...artana.Option) *artana.Kernel {
	t.Helper()
	all := append(DefaultKernelOptions(), artana.WithRunIDs(RunIDs()))
	k := newKernel(store, model, append(all, opts...)...)
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Errorf("artanatest: close kernel: %v", err)
		}
	})
	return k
}

// DefaultKernelOptions returns the options NewKernel gives every kernel
// before the caller's, and that AssertReplays gives its replay kernel: the
// Quota and CapabilityGuard middleware of the root package. The quota needs
// every tenant that runs a model step to have a BudgetUSD greater than 0.
// No scrubber is among them: a test kernel sends and logs the prompt as
// written. Add artana.WithMiddleware(artana.PIIScrubber{}) to test the
// scrubbing an enforced kernel (artana.NewEnforced) does; a step error then
// says how many spans it redacted. For a kernel without this middleware,
// build it with artana.New on NewStore(t) and artana.WithRunIDs(RunIDs()).
func DefaultKernelOptions() []artana.Option {
	return []artana.Option{artana.WithMiddleware(artana.Quota{}, artana.CapabilityGuard{})}
}

// newKernel builds a kernel; kept in one place so that the constructors
// follow artana.New's signature in a single spot.
func newKernel(store ledger.Store, model llm.Model, opts ...artana.Option) *artana.Kernel {
	return artana.New(store, model, opts...)
}
