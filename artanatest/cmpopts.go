package artanatest

import (
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Options for comparing ledger.Event values with go-cmp. They compose:
// cmp.Diff(want, got, IgnoreTimestamps(), IgnoreHashes()). Payloads need
// no option: go-cmp compares the Payload interface by dynamic type and
// then field by field through the pointer, so a *ModelCompleted is equal
// only to a *ModelCompleted with equal fields.

// IgnoreTimestamps ignores Event.Timestamp.
func IgnoreTimestamps() cmp.Option {
	return cmpopts.IgnoreFields(ledger.Event{}, "Timestamp")
}

// IgnoreIDs ignores event ids: Event.ID and the ToolCompleted.RequestID
// that refers to one.
func IgnoreIDs() cmp.Option {
	return cmp.Options{
		cmpopts.IgnoreFields(ledger.Event{}, "ID"),
		cmpopts.IgnoreFields(ledger.ToolCompleted{}, "RequestID"),
	}
}

// IgnoreHashes ignores Event.Hash and Event.PrevHash, which change with
// any timestamp or id.
func IgnoreHashes() cmp.Option {
	return cmpopts.IgnoreFields(ledger.Event{}, "Hash", "PrevHash")
}

// IgnoreVolatile ignores what a store's clock and id source decide:
// IgnoreTimestamps, IgnoreIDs and IgnoreHashes together. Run ids, tenants,
// seqs, types and payloads are still compared.
func IgnoreVolatile() cmp.Option {
	return cmp.Options{IgnoreTimestamps(), IgnoreIDs(), IgnoreHashes()}
}
