package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artana"
	"github.com/google/go-cmp/cmp"
)

func TestKernelStatus(t *testing.T) {
	ctx := context.Background()
	store := ledger.NewMemStore()
	fail := true
	tools := artana.NewTools()
	err := artana.RegisterTool(tools, "transfer", func(context.Context, struct{}) (string, error) {
		if fail {
			return "", errors.New("connection dropped after the request was sent")
		}
		return "ok", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	k := artana.New(store, nil, artana.WithTools(tools))
	tenant := artana.Tenant{ID: "t", BudgetUSD: 1}
	run, err := k.StartRun(ctx, tenant, "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := func(what string, state ledger.RunState, seq int64, tool, stepKey, text string) {
		t.Helper()
		got, err := k.Status(ctx, run.ID)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		w := got // Events, LastSeq and Reason are not checked here
		w.RunID, w.TenantID, w.State, w.Seq, w.Tool, w.StepKey = "r1", "t", state, seq, tool, stepKey
		if d := cmp.Diff(w, got); d != "" {
			t.Errorf("%s: status (-want +got):\n%s", what, d)
		}
		if got.String() != text {
			t.Errorf("%s: String() = %q, want %q", what, got.String(), text)
		}
		events, err := store.Events(ctx, run.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(got, ledger.StatusOf(events)); d != "" {
			t.Errorf("%s: StatusOf differs from Kernel.Status (-Status +StatusOf):\n%s", what, d)
		}
	}
	want("a new run", ledger.RunComplete, 0, "", "", "complete")

	step := artana.ToolStep{Tool: "transfer", Args: struct{}{}, StepKey: "transfer.v1"}
	if _, err := k.StepTool(ctx, run, step); !errors.Is(err, artana.ErrUnknownOutcome) {
		t.Fatalf("StepTool: %v, want ErrUnknownOutcome", err)
	}
	want("after an unknown outcome", ledger.RunUnknownOutcome, 3, "transfer", "transfer.v1",
		`unknown outcome: tool "transfer" (step "transfer.v1", seq 3); call ReconcileTool`)

	fail = false
	if _, err := k.ReconcileTool(ctx, run, step); err != nil {
		t.Fatal(err)
	}
	want("after reconciliation", ledger.RunComplete, 0, "", "", "complete")

	if _, err := k.Pause(ctx, run, artana.PauseStep{Reason: "review the transfer", StepKey: "review"}); err != nil {
		t.Fatal(err)
	}
	want("paused", ledger.RunPaused, 5, "", "review", `paused: "review the transfer" (step "review", seq 5); call Resume`)
	if _, err := k.Resume(ctx, run, map[string]bool{"approved": true}); err != nil {
		t.Fatal(err)
	}
	want("resumed", ledger.RunComplete, 0, "", "", "complete")

	// A tool requested whose process died before it logged an outcome.
	if _, err := store.Append(ctx, run.ID, "t", &ledger.ToolRequested{ToolName: "transfer", ArgumentsJSON: "{}",
		IdempotencyKey: "k2", ToolVersion: "1.0.0", SchemaVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	want("a tool without completion", ledger.RunPendingTool, 7, "transfer", "",
		`pending tool: tool "transfer" (seq 7) was requested and has no outcome logged`)

	if _, err := k.Status(ctx, "nope"); !errors.Is(err, artana.ErrRunNotFound) {
		t.Errorf("Status of an unknown run: %v, want ErrRunNotFound", err)
	}
}
