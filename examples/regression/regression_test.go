package regression_test

import (
	"context"
	"testing"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/examples/regression"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
)

func TestTriage(t *testing.T) {
	var live artana.Model // built only when the test records
	if rec, err := recorder.Recording(t.Name()); err != nil {
		t.Fatal(err)
	} else if rec {
		if live, err = openai.New(); err != nil {
			t.Fatal(err)
		}
	}
	k := artanatest.NewKernel(t, recorder.New(t, live), artana.WithTools(regression.Tools()))
	got := artanatest.AssertReplays(t, k, func(ctx context.Context, k *artana.Kernel) (regression.Decision, error) {
		return regression.Triage(ctx, k, "ticket-7", "I was charged twice for order A-17.")
	})
	if got.Label != "refund" {
		t.Errorf("label = %q, want refund", got.Label)
	}
	artanatest.AssertChainValid(t, k.Store(), "ticket-7")
	artanatest.AssertGoldenEvents(t, k.Store(), "ticket-7")
}
