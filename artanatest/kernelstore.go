package artanatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
)

// TestKernelStore runs the kernel's guarantees on stores that newStore
// opens, as a store author's check that the kernel works on the store, not
// only that the store appends and reads: a model step, a tool step, a tool
// step with an unknown outcome and its reconciliation, a pause and resume,
// a workflow, two kernels taking turns on one run (each one's incremental
// index sees the other's appends), and several kernels starting one run
// at once (exactly one succeeds). Each scenario then runs again on a
// MemStore, and the two event logs must be equal hash for hash: with
// Deterministic options, the kernel writes the same bytes on any store.
func TestKernelStore(t *testing.T, newStore NewStoreFunc) {
	for _, sc := range kernelScenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := newStore(t, Deterministic()...)
			t.Cleanup(func() { _ = s.Close() })
			sc.run(t, s)
			if t.Failed() || sc.noCompare {
				return
			}
			mem := ledger.NewMemStore(Deterministic()...)
			sc.run(t, mem)
			compareLogs(t, s, mem)
		})
	}
}

// compareLogs fails the test unless got holds the runs of want, event for
// event, with equal hashes.
func compareLogs(t *testing.T, got, want ledger.Store) {
	t.Helper()
	ctx := context.Background()
	gr, err := got.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wr, err := want.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gr) != len(wr) {
		t.Fatalf("the store has %d runs, a MemStore after the same steps %d", len(gr), len(wr))
	}
	for i := range wr {
		g, err := got.Events(ctx, gr[i].RunID, 0)
		if err != nil {
			t.Fatal(err)
		}
		w, err := want.Events(ctx, wr[i].RunID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if gr[i].RunID != wr[i].RunID || len(g) != len(w) {
			t.Fatalf("run %q has %d events on the store, run %q %d on a MemStore", gr[i].RunID, len(g), wr[i].RunID, len(w))
		}
		for j := range w {
			if g[j].Hash != w[j].Hash {
				t.Errorf("run %q seq %d: hash %s on the store, %s on a MemStore (%s)", w[j].RunID, w[j].Seq, g[j].Hash, w[j].Hash, w[j].Type)
			}
		}
	}
}

type label struct {
	Label string `json:"label"`
}

var acme = artana.Tenant{ID: "acme", BudgetUSD: 1}

type kernelScenario struct {
	name      string
	noCompare bool // the log depends on timing
	run       func(t *testing.T, s ledger.Store)
}

// newTurnKernel returns a kernel on s whose model answers label l (and
// fails the test if called when l is "").
func newTurnKernel(t *testing.T, s ledger.Store, l string, opts ...artana.Option) *artana.Kernel {
	t.Helper()
	var m llm.Model
	if l != "" {
		fm := NewFakeModel(t)
		fm.CompleteFn = func(context.Context, llm.Request) (llm.Response, error) {
			return llm.Response{OutputJSON: `{"label":"` + l + `"}`, Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 2, CostUSD: 0.001}}, nil
		}
		m = fm
	} else {
		m = NewFakeModel(t)
	}
	return NewKernelWithStore(t, s, m, opts...)
}

func countingTools(t *testing.T, executions *int) *artana.Tools {
	tools := artana.NewTools()
	var mu sync.Mutex
	err := artana.RegisterTool(tools, "refund", func(ctx context.Context, args struct {
		Order string `json:"order"`
	}) (json.RawMessage, error) {
		mu.Lock()
		defer mu.Unlock()
		*executions++
		return json.RawMessage(fmt.Sprintf(`{"refund_id":"R-%d"}`, *executions)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tools
}

var kernelScenarios = []kernelScenario{
	{name: "ReplayPolicies", run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		k := newTurnKernel(t, s, "billing")
		run, err := k.StartRun(ctx, acme, "drift")
		if err != nil {
			t.Fatal(err)
		}
		step := artana.ModelStep{Model: "m", Prompt: "Classify: charged twice", StepKey: "classify"}
		if _, err := artana.StepModel[label](ctx, k, run, step); err != nil {
			t.Fatal(err)
		}
		// Prompt drift replays from the log and is logged once.
		step.Prompt = "Classify the ticket: charged twice"
		step.ReplayPolicy = artana.ReplayAllowPromptDrift
		k2 := newTurnKernel(t, s, "")
		for range 2 {
			r, err := artana.StepModel[label](ctx, k2, run, step)
			if err != nil || !r.FromLog || r.Drift == nil || r.Output.Label != "billing" {
				t.Fatalf("drifted step = %+v, %v", r, err)
			}
		}
		// Fork on drift continues live in a fork.
		step.Prompt = "Classify it: charged twice"
		step.ReplayPolicy = artana.ReplayForkOnDrift
		k3 := newTurnKernel(t, s, "refunds")
		r, err := artana.StepModel[label](ctx, k3, run, step)
		if err != nil || r.FromLog || r.Drift == nil || r.RunID == run.ID || r.Output.Label != "refunds" {
			t.Fatalf("forked step = %+v, %v", r, err)
		}
		AssertChainValid(t, s, "drift")
		AssertChainValid(t, s, r.RunID)
		if err := ledger.CheckFork(ctx, s, r.RunID); err != nil {
			t.Error(err)
		}
	}},
	{name: "ModelStepReplays", run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		k := newTurnKernel(t, s, "billing")
		run, err := k.StartRun(ctx, acme, "ticket-1")
		if err != nil {
			t.Fatal(err)
		}
		step := artana.ModelStep{Model: "m", Prompt: "Classify: charged twice", StepKey: "classify"}
		live, err := artana.StepModel[label](ctx, k, run, step)
		if err != nil || live.FromLog || live.Output.Label != "billing" {
			t.Fatalf("live step = %+v, %v", live, err)
		}
		// A new kernel (a restarted process) replays it from the store.
		k2 := newTurnKernel(t, s, "")
		run2, err := k2.LoadRun(ctx, acme, "ticket-1")
		if err != nil {
			t.Fatal(err)
		}
		AssertNoNewEvents(t, s, "ticket-1", func(ctx context.Context) error {
			again, err := artana.StepModel[label](ctx, k2, run2, step)
			if err == nil && (!again.FromLog || again.Output != live.Output || again.Seq != live.Seq) {
				err = fmt.Errorf("replayed step = %+v, want %+v from the log", again, live)
			}
			return err
		})
		AssertChainValid(t, s, "ticket-1")
	}},
	{name: "ToolStepReplays", run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		executions := 0
		tools := countingTools(t, &executions)
		k := NewKernelWithStore(t, s, nil, artana.WithTools(tools))
		run, err := k.StartRun(ctx, acme, "refunds")
		if err != nil {
			t.Fatal(err)
		}
		step := artana.ToolStep{Tool: "refund", Args: map[string]string{"order": "A-1"}, StepKey: "refund"}
		live, err := k.StepTool(ctx, run, step)
		if err != nil || live.FromLog {
			t.Fatalf("live tool step = %+v, %v", live, err)
		}
		k2 := NewKernelWithStore(t, s, nil, artana.WithTools(tools))
		again, err := k2.StepTool(ctx, run, step)
		if err != nil || !again.FromLog || again.ResultJSON != live.ResultJSON || executions != 1 {
			t.Errorf("replayed tool step = %+v, %v, %d executions; want %s from the log, 1 execution", again, err, executions, live.ResultJSON)
		}
		AssertChainValid(t, s, "refunds")
	}},
	{name: "ToolLoopReplays", run: func(t *testing.T, s ledger.Store) {
		// Messages with tool calls and tool messages (the fields the
		// Python original lacks) survive the store and hash the same.
		ctx := t.Context()
		fm := NewFakeModel(t)
		fm.CompleteFn = func(_ context.Context, req llm.Request) (llm.Response, error) {
			if req.Messages[len(req.Messages)-1].Role != "tool" {
				return llm.Response{ToolCalls: []ledger.ToolCall{
					{ID: "call_1", ToolName: "refund", ArgumentsJSON: `{"order": "Ä-1"}`},
					{ID: "call_2", ToolName: "refund", ArgumentsJSON: `{"order": "B-2"}`},
				}, Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 2, CostUSD: 0.001}}, nil
			}
			return llm.Response{OutputJSON: `{"label":"refund"}`, Usage: llm.Usage{PromptTokens: 9, CompletionTokens: 2, CostUSD: 0.001}}, nil
		}
		executions := 0
		tools := countingTools(t, &executions)
		k := NewKernelWithStore(t, s, fm, artana.WithTools(tools))
		run, err := k.StartRun(ctx, acme, "loop")
		if err != nil {
			t.Fatal(err)
		}
		loop := artana.ToolLoop{Model: "m", StepKey: "support",
			Messages: []ledger.ChatMessage{{Role: "system", Content: "Desk", Name: "desk"}, {Role: "user", Content: "Refund Ä-1 and B-2"}}}
		live, err := artana.RunToolLoop[label](ctx, k, run, loop)
		if err != nil || live.Output.Label != "refund" || executions != 2 {
			t.Fatalf("live loop = %+v, %v, %d executions", live, err, executions)
		}
		k2 := NewKernelWithStore(t, s, NewFakeModel(t), artana.WithTools(tools))
		AssertNoNewEvents(t, s, "loop", func(ctx context.Context) error {
			again, err := artana.RunToolLoop[label](ctx, k2, run, loop)
			if err == nil && (!again.FromLog || again.Output != live.Output || len(again.Messages) != len(live.Messages) || executions != 2) {
				err = fmt.Errorf("replayed loop = %+v, want %+v from the log", again, live)
			}
			return err
		})
		AssertChainValid(t, s, "loop")
	}},
	{name: "UnknownOutcomeHalts", run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		executions := 0
		k := NewKernelWithStore(t, s, nil, artana.WithTools(countingTools(t, &executions)))
		run, err := k.StartRun(ctx, acme, "transfer")
		if err != nil {
			t.Fatal(err)
		}
		res := AssertHaltsOnUnknownOutcome(t, k, run,
			artana.ToolStep{Tool: "refund", Args: map[string]string{"order": "A-2"}, StepKey: "refund"},
			func() int { return executions })
		if res.ResultJSON != `{"refund_id":"R-2"}` {
			t.Errorf("reconciled result %s", res.ResultJSON)
		}
	}},
	{name: "PauseResume", run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		k := newTurnKernel(t, s, "refund")
		run, err := k.StartRun(ctx, acme, "review")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Pause(ctx, run, artana.PauseStep{Reason: "needs a human", Context: map[string]string{"order": "A-3"}}); err != nil {
			t.Fatal(err)
		}
		k2 := newTurnKernel(t, s, "")
		if _, err := k2.Resume(ctx, run, map[string]bool{"approved": true}); err != nil {
			t.Fatal(err)
		}
		events, err := s.Events(ctx, "review", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 3 || events[1].Type != ledger.EventPauseRequested || events[2].Type != ledger.EventResumeRequested {
			t.Errorf("log after pause and resume: %v", eventList(events))
		}
	}},
	{name: "WorkflowResumes", run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		ran := map[string]int{}
		flow := func(ctx context.Context, wf *artana.Workflow) (int, error) {
			a, err := artana.Step(ctx, wf, "fetch", func(context.Context) (int, error) { ran["fetch"]++; return 20, nil })
			if err != nil {
				return 0, err
			}
			return artana.Step(ctx, wf, "add", func(context.Context) (int, error) { ran["add"]++; return a + 22, nil })
		}
		k := NewKernelWithStore(t, s, nil)
		res, err := artana.RunWorkflow(ctx, k, acme, "flow", flow)
		if err != nil || res.Output != 42 {
			t.Fatalf("RunWorkflow = %+v, %v", res, err)
		}
		k2 := NewKernelWithStore(t, s, nil)
		AssertNoNewEvents(t, s, "flow", func(ctx context.Context) error {
			res, err := artana.RunWorkflow(ctx, k2, acme, "flow", flow)
			if err == nil && res.Output != 42 {
				err = fmt.Errorf("replayed workflow output %d, want 42", res.Output)
			}
			return err
		})
		if ran["fetch"] != 1 || ran["add"] != 1 {
			t.Errorf("steps ran %v times, want once each", ran)
		}
	}},
	{name: "KernelsTakeTurns", run: func(t *testing.T, s ledger.Store) {
		// Two kernels (two processes, or hosts) on one run: each syncs
		// the other's appends before its next step.
		ctx := t.Context()
		a, b := newTurnKernel(t, s, "from-a"), newTurnKernel(t, s, "from-b")
		run, err := a.StartRun(ctx, acme, "shared")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.LoadRun(ctx, acme, "shared"); err != nil {
			t.Fatal(err)
		}
		for i, k := range []*artana.Kernel{a, b, a, b} {
			step := artana.ModelStep{Model: "m", Prompt: fmt.Sprintf("turn %d", i), StepKey: fmt.Sprintf("turn-%d", i)}
			if _, err := artana.StepModel[label](ctx, k, run, step); err != nil {
				t.Fatalf("turn %d: %v", i, err)
			}
		}
		// Each kernel replays the other's turns.
		for i, k := range []*artana.Kernel{b, a} {
			step := artana.ModelStep{Model: "m", Prompt: fmt.Sprintf("turn %d", i), StepKey: fmt.Sprintf("turn-%d", i)}
			res, err := artana.StepModel[label](ctx, k, run, step)
			want := []string{"from-a", "from-b"}[i]
			if err != nil || !res.FromLog || res.Output.Label != want {
				t.Errorf("turn %d replayed by the other kernel = %+v, %v; want %q from the log", i, res, err, want)
			}
		}
		AssertChainValid(t, s, "shared")
	}},
	{name: "StartRunRace", noCompare: true, run: func(t *testing.T, s ledger.Store) {
		ctx := t.Context()
		const racers = 6
		errs := make(chan error, racers)
		var wg sync.WaitGroup
		for range racers {
			k := NewKernelWithStore(t, s, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := k.StartRun(ctx, acme, "contested")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ledger.ErrRunExists):
				t.Errorf("StartRun lost with %v, want ErrRunExists", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d kernels started the run, want 1", won, racers)
		}
		AssertChainValid(t, s, "contested")
	}},
}
