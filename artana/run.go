package artana

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/artana-go/go-artana/artana/ledger"
)

// A Tenant is who a run belongs to and what it may do.
type Tenant struct {
	ID string // required
	// Capabilities the tenant holds, e.g. "finance:write". Tools that
	// require a capability the tenant lacks are neither offered nor run.
	Capabilities []string
	// BudgetUSD is the spending limit per run, for budget middleware.
	BudgetUSD float64
}

// Can reports whether the tenant holds capability c. Every tenant can use
// what requires no capability ("").
func (t Tenant) Can(c string) bool { return c == "" || slices.Contains(t.Capabilities, c) }

// A Run is a handle on a run of the log, as returned by StartRun and
// LoadRun and passed to every step.
type Run struct {
	ID     string
	Tenant Tenant
}

// StartRun starts a run for tenant: it logs run_started and returns the
// run. With runID "" the kernel issues a new id; a runID that already has
// events is refused with ErrRunExists.
func (k *Kernel) StartRun(ctx context.Context, tenant Tenant, runID string) (Run, error) {
	const op = "start run"
	if err := k.checkTenant(op, runID, tenant); err != nil {
		return Run{}, err
	}
	if runID != "" {
		return k.startRun(ctx, op, tenant, runID)
	}
	for range 5 {
		run, err := k.startRun(ctx, op, tenant, k.newRunID())
		if err == nil || !errors.Is(err, ledger.ErrRunExists) {
			return run, err
		}
	}
	return Run{}, &Error{Op: op, Kind: ledger.ErrRunExists, Msg: "no unused run id after 5 attempts; check the id source given to WithRunIDs"}
}

func (k *Kernel) startRun(ctx context.Context, op string, tenant Tenant, runID string) (Run, error) {
	x := k.lockIndex(runID)
	defer x.mu.Unlock()
	if err := x.sync(ctx, k.store); err != nil {
		return Run{}, &Error{Op: op, RunID: runID, Err: err}
	}
	if x.lastSeq > 0 {
		return Run{}, &Error{Op: op, RunID: runID, Kind: ledger.ErrRunExists,
			Msg: "choose another run id, or open the run with LoadRun"}
	}
	var e ledger.Event
	var err error
	if c, ok := k.store.(ledger.RunCreator); ok {
		e, err = c.CreateRun(ctx, runID, tenant.ID, &ledger.RunStarted{})
	} else {
		e, err = k.store.Append(ctx, runID, tenant.ID, &ledger.RunStarted{})
	}
	if errors.Is(err, ledger.ErrRunExists) {
		k.forget(x)
		return Run{}, &Error{Op: op, RunID: runID, Kind: ledger.ErrRunExists,
			Msg: "another writer started the run at the same time; open it with LoadRun", Err: err}
	}
	if err != nil {
		k.forget(x)
		return Run{}, &Error{Op: op, RunID: runID, Err: err}
	}
	if err := x.appended(ctx, k.store, &e); err != nil {
		return Run{}, &Error{Op: op, RunID: runID, Err: err}
	}
	if e.Seq != 1 {
		return Run{}, &Error{Op: op, RunID: runID, Seq: e.Seq, Kind: ledger.ErrRunExists,
			Msg: "another writer started the run at the same time"}
	}
	return Run{ID: runID, Tenant: tenant}, nil
}

// LoadRun opens an existing run for tenant. It fails with ErrRunNotFound
// if the run has no events and with ErrTenantMismatch if it belongs to
// another tenant.
func (k *Kernel) LoadRun(ctx context.Context, tenant Tenant, runID string) (Run, error) {
	run := Run{ID: runID, Tenant: tenant}
	x, err := k.lockRun(ctx, "load run", run)
	if err != nil {
		return Run{}, err
	}
	x.mu.Unlock()
	return run, nil
}

// LoadOrStartRun loads the run if it exists and starts it otherwise, as the
// Python original's ChatClient does.
func (k *Kernel) LoadOrStartRun(ctx context.Context, tenant Tenant, runID string) (Run, error) {
	run, err := k.LoadRun(ctx, tenant, runID)
	if errors.Is(err, ErrRunNotFound) && runID != "" {
		return k.StartRun(ctx, tenant, runID)
	}
	return run, err
}

// Validate reports whether t is a complete tenant as the Python original's
// TenantContext requires: a non-empty ID and a budget greater than zero.
// The error matches ErrInvalidInput.
//
// Kernels built with New accept tenants without a budget (BudgetUSD 0)
// as long as no Quota middleware needs one; kernels built with
// NewEnforced, and the Quota middleware, require Validate to pass.
func (t Tenant) Validate() error {
	if err := t.validateID(); err != nil {
		return err
	}
	if !(t.BudgetUSD > 0) {
		return &Error{Op: "validate tenant", Kind: ErrInvalidInput,
			Msg: fmt.Sprintf("tenant %q has budget %v; give it a BudgetUSD greater than 0", t.ID, t.BudgetUSD)}
	}
	return nil
}

// validateID checks what every kernel requires of a tenant: an id, and a
// budget that is zero (none) or positive.
func (t Tenant) validateID() error {
	if t.ID == "" {
		return &Error{Op: "validate tenant", Kind: ErrInvalidInput, Msg: "tenant has no id; set Tenant.ID"}
	}
	if math.IsNaN(t.BudgetUSD) || t.BudgetUSD < 0 {
		return &Error{Op: "validate tenant", Kind: ErrInvalidInput,
			Msg: fmt.Sprintf("tenant %q has budget %v; give it a BudgetUSD greater than 0, or 0 for none", t.ID, t.BudgetUSD)}
	}
	return nil
}

// checkTenant validates the tenant a run is used with: fully on enforced
// kernels, the id and budget sign otherwise.
func (k *Kernel) checkTenant(op, runID string, t Tenant) error {
	check := t.validateID
	if k.enforced {
		check = t.Validate
	}
	if err := check(); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		c := *e
		c.Op, c.RunID = op, runID
		return &c
	}
	return nil
}

// Status returns the status of the run runID, read from the store: the
// same the artana-replay CLI shows. A run with no events is
// ErrRunNotFound.
func (k *Kernel) Status(ctx context.Context, runID string) (ledger.RunStatus, error) {
	events, err := k.store.Events(ctx, runID, 0)
	if err != nil {
		return ledger.RunStatus{}, &Error{Op: "status", RunID: runID, Err: err}
	}
	if len(events) == 0 {
		return ledger.RunStatus{}, &Error{Op: "status", RunID: runID, Kind: ErrRunNotFound, Msg: "the store holds no event of this run; check the run id"}
	}
	return ledger.StatusOf(events), nil
}
