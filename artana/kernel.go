package artana

import (
	"context"
	"fmt"
	"sync"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
)

// A Kernel runs model and tool steps against a ledger.Store, logging every step
// before and after it happens and replaying steps already in the log. It is
// safe for concurrent use; steps on one run are serialized.
type Kernel struct {
	store      ledger.Store
	model      llm.Model
	tools      *Tools
	middleware []Middleware
	enforced   bool // built by NewEnforced
	newRunID   func() string
	// replayPolicy is the policy of steps that name none.
	replayPolicy ReplayPolicy

	mu   sync.Mutex
	runs map[string]*runIndex
}

// An Option configures a Kernel.
type Option func(*Kernel)

// WithTools makes the kernel use the registry t (a new, empty one
// otherwise). Registries may be shared between kernels.
func WithTools(t *Tools) Option { return func(k *Kernel) { k.tools = t } }

// WithRunIDs makes StartRun take kernel-issued run ids from newID (newID by
// default), so that tests can produce identical logs.
func WithRunIDs(newID func() string) Option { return func(k *Kernel) { k.newRunID = newID } }

// New returns a kernel logging to store and calling model for model steps
// that do not replay. model may be nil for a kernel that only replays or
// runs tools; a live model step then fails.
func New(store ledger.Store, model llm.Model, opts ...Option) *Kernel {
	k := &Kernel{store: store, model: model, newRunID: ledger.NewStoreOptions().NewID, runs: make(map[string]*runIndex)}
	for _, opt := range opts {
		opt(k)
	}
	if k.tools == nil {
		k.tools = NewTools()
	}
	k.middleware = orderMiddleware(k.middleware)
	return k
}

// Tools returns the kernel's tool registry, for RegisterTool.
func (k *Kernel) Tools() *Tools { return k.tools }

// Store returns the kernel's store.
func (k *Kernel) Store() ledger.Store { return k.store }

// Close closes the kernel's store, as the Python original's kernel does, and drops the
// kernel's run indexes.
func (k *Kernel) Close() error {
	k.mu.Lock()
	k.runs = make(map[string]*runIndex)
	k.mu.Unlock()
	return k.store.Close()
}

// index returns the kernel's index of a run, creating an empty one.
func (k *Kernel) index(runID string) *runIndex {
	k.mu.Lock()
	defer k.mu.Unlock()
	x := k.runs[runID]
	if x == nil {
		x = newRunIndex(runID)
		k.runs[runID] = x
	}
	return x
}

// lockIndex returns the run's index, locked. An index that forget dropped
// while this call waited for its lock is not used: steps on one run must
// all go through the one index that the kernel holds for it.
func (k *Kernel) lockIndex(runID string) *runIndex {
	for {
		x := k.index(runID)
		x.mu.Lock()
		k.mu.Lock()
		current := k.runs[runID] == x
		k.mu.Unlock()
		if current {
			return x
		}
		x.mu.Unlock()
	}
}

// forget drops an index that holds no events, so that looking up unknown
// runs does not grow the kernel.
func (k *Kernel) forget(x *runIndex) {
	if x.lastSeq != 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.runs[x.id] == x {
		delete(k.runs, x.id)
	}
}

// lockRun returns the run's index, locked and up to date, after checking
// that the run exists and belongs to run.Tenant. The caller unlocks it.
func (k *Kernel) lockRun(ctx context.Context, op string, run Run) (*runIndex, error) {
	return k.lockRunOrEmpty(ctx, op, run, false)
}

// lockRunOrEmpty is lockRun that, with allowEmpty, also accepts a run
// without events, as workflows do.
func (k *Kernel) lockRunOrEmpty(ctx context.Context, op string, run Run, allowEmpty bool) (*runIndex, error) {
	if run.ID == "" {
		return nil, &Error{Op: op, Kind: ErrInvalidInput, Msg: "empty run id"}
	}
	if err := k.checkTenant(op, run.ID, run.Tenant); err != nil {
		return nil, err
	}
	x := k.lockIndex(run.ID)
	if err := x.sync(ctx, k.store); err != nil {
		x.mu.Unlock()
		return nil, &Error{Op: op, RunID: run.ID, Err: err}
	}
	if x.lastSeq == 0 {
		if allowEmpty {
			return x, nil
		}
		k.forget(x)
		x.mu.Unlock()
		return nil, &Error{Op: op, RunID: run.ID, Kind: ErrRunNotFound, Msg: "the run has no events; start it with StartRun"}
	}
	if x.tenantID != run.Tenant.ID {
		x.mu.Unlock()
		return nil, &Error{Op: op, RunID: run.ID, Kind: ledger.ErrTenantMismatch,
			Msg: fmt.Sprintf("run belongs to tenant %q, not %q", x.tenantID, run.Tenant.ID)}
	}
	if x.tenantErr != nil {
		x.mu.Unlock()
		return nil, x.tenantErr
	}
	return x, nil
}

// append logs p to the run and indexes it.
func (k *Kernel) append(ctx context.Context, x *runIndex, run Run, p ledger.Payload) (ledger.Event, error) {
	e, err := k.store.Append(ctx, run.ID, run.Tenant.ID, p)
	if err != nil {
		return ledger.Event{}, err
	}
	if err := x.appended(ctx, k.store, &e); err != nil {
		return ledger.Event{}, err
	}
	return e, nil
}
