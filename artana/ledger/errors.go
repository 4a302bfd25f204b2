package ledger

import "errors"

// Errors for errors.Is. A store's errors name the run; every *ChainError
// matches ErrChainBroken.
var (
	// ErrRunExists means a run was created with the id of a run that has events.
	ErrRunExists = errors.New("run already exists")
	// ErrClosed means the store is closed.
	ErrClosed = errors.New("store is closed")
	// ErrTenantMismatch means the run belongs to another tenant.
	ErrTenantMismatch = errors.New("tenant mismatch")
	// ErrInvalidPayload means a payload was refused before it was appended.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrChainBroken is matched by every *ChainError.
	ErrChainBroken = errors.New("hash chain broken")
)
