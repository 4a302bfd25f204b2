package ledger_test

import (
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
)

func TestMemStore(t *testing.T) {
	artanatest.TestStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		return ledger.NewMemStore(opts...)
	})
}

// TestMemStoreChunks reads across chunk boundaries.
func TestMemStoreChunks(t *testing.T) {
	ctx := t.Context()
	s := ledger.NewMemStore()
	const n = 2*1024 + 7
	for i := range n {
		if _, err := s.Append(ctx, "long", "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, after := range []int64{0, 1023, 1024, 1025, 2047, 2048, n - 1, n} {
		events, err := s.Events(ctx, "long", after)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(events)) != n-after {
			t.Fatalf("Events(after %d) = %d events, want %d", after, len(events), n-after)
		}
		for i, e := range events {
			if e.Seq != after+int64(i)+1 {
				t.Fatalf("Events(after %d)[%d].Seq = %d", after, i, e.Seq)
			}
		}
	}
	all, err := s.Events(ctx, "long", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyChain(all); err != nil {
		t.Fatal(err)
	}
}

func TestKernelOnMemStore(t *testing.T) {
	artanatest.TestKernelStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		return ledger.NewMemStore(opts...)
	})
}
