package artana

import (
	"errors"
	"fmt"
	"math"
)

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
