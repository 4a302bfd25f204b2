package artana_test

import (
	"context"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/original"

	"github.com/artana-go/go-artana/artana"
)

// The Go values of the seed's workflow and pause ledgers, logged by the Go
// kernel, give the bytes the Python original logged for them: the
// json_step_serde result, the pydantic_step_serde result, the pause
// context and the human input.
func TestSeedValuesLogSameBytes(t *testing.T) {
	type fetched struct {
		Items []any `json:"items"`
		OK    bool  `json:"ok"`
	}
	logged := func(path, runID string, seq int64) string {
		t.Helper()
		runs, _, _ := original.ReadRows(t, path)
		for _, e := range runs[runID] {
			if e.Seq != seq {
				continue
			}
			switch p := e.Payload.(type) {
			case *ledger.WorkflowStepCompleted:
				return p.ResultJSON
			case *ledger.PauseRequested:
				return *p.ContextJSON
			case *ledger.ResumeRequested:
				return *p.HumanInputJSON
			}
		}
		t.Fatalf("%s: run %s has no value at seq %d", path, runID, seq)
		return ""
	}
	const wf = "testdata/seed_rows/workflow.jsonl"
	fetch, err := artana.JSONCodec[fetched]().Marshal(fetched{Items: []any{1, 2.5, "ü"}, OK: true})
	if want := logged(wf, "workflow_paused_resumed", 2); err != nil || fetch != want {
		t.Errorf("json_step_serde result: Go %s (%v), Python %s", fetch, err, want)
	}
	score, err := artana.PydanticCodec[seedNote]().Marshal(seedNote{"naïve ✓", 1e-05})
	if want := logged(wf, "workflow_paused_resumed", 4); err != nil || score != want {
		t.Errorf("pydantic_step_serde result: Go %s (%v), Python %s", score, err, want)
	}

	// Pause and resume through the kernel, on a fresh store.
	k := artana.New(ledger.NewMemStore(), nil)
	ctx := context.Background()
	run, err := k.StartRun(ctx, artana.Tenant{ID: "org_pause", BudgetUSD: 1}, "values")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Pause(ctx, run, artana.PauseStep{Reason: "review", Context: seedNote{"amount > limit", 0.5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Resume(ctx, run, seedNote{"ok", 1}); err != nil {
		t.Fatal(err)
	}
	events, err := k.Store().Events(ctx, "values", 0)
	if err != nil {
		t.Fatal(err)
	}
	const pr = "testdata/seed_rows/pause_resume.jsonl"
	runs, _, order := original.ReadRows(t, pr)
	var wantContext, wantInput string
	for _, id := range order {
		for _, e := range runs[id] {
			if p, ok := e.Payload.(*ledger.PauseRequested); ok && p.ContextJSON != nil && wantContext == "" {
				wantContext = *p.ContextJSON
			}
			if p, ok := e.Payload.(*ledger.ResumeRequested); ok && p.HumanInputJSON != nil && wantInput == "" {
				wantInput = *p.HumanInputJSON
			}
		}
	}
	if got := *events[1].Payload.(*ledger.PauseRequested).ContextJSON; got != wantContext {
		t.Errorf("pause context: Go %s, Python %s", got, wantContext)
	}
	if got := *events[2].Payload.(*ledger.ResumeRequested).HumanInputJSON; got != wantInput {
		t.Errorf("human input: Go %s, Python %s", got, wantInput)
	}
}
