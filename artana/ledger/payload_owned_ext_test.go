package ledger_test

import (
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/google/go-cmp/cmp"
)

// TestOwnedPayloadAfterNextStored checks that OwnedPayload returns, after
// NextStored verified an event from its text in either form, the payload
// the event was written with, intact after the verifier moves on.
func TestOwnedPayloadAfterNextStored(t *testing.T) {
	events := sealed(t, 200)
	for _, form := range []ledger.PayloadForm{ledger.CanonicalForm, ledger.ColumnForm} {
		var v ledger.StoredVerifier
		var got []ledger.Payload
		var heads []string
		for _, e := range events {
			s := ledger.StoredEvent{ID: e.ID, RunID: e.RunID, TenantID: e.TenantID, Seq: e.Seq, Type: e.Type,
				PrevHash: e.PrevHash, Hash: e.Hash, Timestamp: isotime.Format(e.Timestamp),
				Payload: form.Encode(e.Payload), Form: form}
			if handled, err := v.NextStored(&s); !handled || err != nil {
				t.Fatalf("seq %d: %v, %v", e.Seq, handled, err)
			}
			p, head := v.OwnedPayload(e.Type, []byte(e.ID))
			clear(s.Payload)
			got, heads = append(got, p), append(heads, head)
		}
		for i, e := range events {
			if diff := cmp.Diff(e.Payload, got[i]); diff != "" {
				t.Fatalf("seq %d: OwnedPayload (-written +got):\n%s", e.Seq, diff)
			}
			if heads[i] != e.ID {
				t.Fatalf("seq %d: head %q, want %q", e.Seq, heads[i], e.ID)
			}
		}
	}
}
