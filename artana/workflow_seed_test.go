package artana_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/original"
)

// seedLedger is a read-only Store over events the Python original wrote;
// any append fails the test.
type seedLedger struct {
	t    *testing.T
	runs map[string][]ledger.Event
}

func (s *seedLedger) Append(context.Context, string, string, ledger.Payload) (ledger.Event, error) {
	s.t.Error("the replayed workflow appended an event")
	return ledger.Event{}, errors.New("read-only ledger")
}

func (s *seedLedger) Events(_ context.Context, runID string, afterSeq int64) ([]ledger.Event, error) {
	var out []ledger.Event
	for _, e := range s.runs[runID] {
		if e.Seq > afterSeq {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *seedLedger) Runs(context.Context) ([]ledger.RunInfo, error) { return nil, nil }
func (s *seedLedger) Close() error                                   { return nil }

type seedNote struct {
	Note  string  `json:"note"`
	Score float64 `json:"score"`
}

// The workflows the Python original wrote (../sqlite/testdata/gen_seed_ledgers.py,
// dumped to testdata/seed_rows/workflow.jsonl) replay in Go: the same
// workflow completes without running an action and without appending, the
// results decoded from the seed's json_step_serde and pydantic_step_serde
// bytes, and the named pause found resumed with the human's input.
func TestReplaySeedWorkflow(t *testing.T) {
	runs, _, _ := original.ReadRows(t, "testdata/seed_rows/workflow.jsonl")
	k := artana.New(&seedLedger{t: t, runs: runs}, nil)
	tenant := artana.Tenant{ID: "org_flow", BudgetUSD: 1}
	ctx := context.Background()
	mustNotRun := func(string) { t.Error("a step action ran on replay") }

	simple, err := artana.RunWorkflow(ctx, k, tenant, "workflow_complete", func(ctx context.Context, wf *artana.Workflow) (string, error) {
		return artana.Step(ctx, wf, "only", func(context.Context) (string, error) { mustNotRun("only"); return "", nil })
	})
	if err != nil {
		t.Fatalf("workflow_complete: %v", err)
	}
	if d := cmp.Diff(artana.WorkflowResult[string]{RunID: "workflow_complete", State: ledger.RunComplete, Output: "done"}, simple); d != "" {
		t.Fatalf("workflow_complete (-want +got):\n%s", d)
	}

	pydantic := artana.Codec[seedNote]{
		Marshal:   func(n seedNote) (string, error) { b, err := json.Marshal(n); return string(b), err },
		Unmarshal: func(s string, n *seedNote) error { return json.Unmarshal([]byte(s), n) },
	}
	type fetched struct {
		Items []any `json:"items"`
		OK    bool  `json:"ok"`
	}
	var human seedNote
	res, err := artana.RunWorkflow(ctx, k, tenant, "workflow_paused_resumed", func(ctx context.Context, wf *artana.Workflow) (seedNote, error) {
		a, err := artana.Step(ctx, wf, "fetch", func(context.Context) (fetched, error) { mustNotRun("fetch"); return fetched{}, nil })
		if err != nil || !a.OK || len(a.Items) != 3 || a.Items[2] != "ü" {
			t.Errorf("fetch replayed %+v, %v", a, err)
		}
		b, err := artana.StepWith(ctx, wf, "score", pydantic, func(context.Context) (seedNote, error) { mustNotRun("score"); return seedNote{}, nil })
		if err != nil {
			return b, err
		}
		input, err := wf.Pause(ctx, artana.PauseStep{Reason: "needs human review", StepKey: "review"})
		if err != nil {
			return b, err
		}
		if err := json.Unmarshal(input, &human); err != nil {
			return b, err
		}
		return b, nil
	})
	if err != nil || res.State != ledger.RunComplete {
		t.Fatalf("workflow_paused_resumed: %+v, %v", res, err)
	}
	if res.Output != (seedNote{"naïve ✓", 1e-05}) || human != (seedNote{"approved by Zoë", 100}) {
		t.Fatalf("output %+v, human input %+v", res.Output, human)
	}

	// A workflow that names its steps differently is refused.
	_, err = artana.RunWorkflow(ctx, k, tenant, "workflow_complete", func(ctx context.Context, wf *artana.Workflow) (string, error) {
		return artana.Step(ctx, wf, "renamed", func(context.Context) (string, error) { return "", nil })
	})
	if !errors.Is(err, artana.ErrReplayMismatch) {
		t.Fatalf("renamed step: %v", err)
	}
}
