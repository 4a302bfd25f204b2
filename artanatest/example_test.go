package artanatest_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/google/go-cmp/cmp"
)

// exampleT stands in for the *testing.T of a test, since an Example has
// none: it prints failures and runs cleanups at end.
type exampleT struct {
	testing.TB
	name     string
	failed   bool
	cleanups []func()
}

func (t *exampleT) Helper()                  {}
func (t *exampleT) Name() string             { return t.name }
func (t *exampleT) Context() context.Context { return context.Background() }
func (t *exampleT) Logf(string, ...any)      {}
func (t *exampleT) Failed() bool             { return t.failed }
func (t *exampleT) Cleanup(f func())         { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) {
	t.failed = true
	fmt.Printf("FAIL: "+format+"\n", args...)
}
func (t *exampleT) Fatalf(format string, args ...any) { t.Errorf(format, args...); t.FailNow() }
func (t *exampleT) FailNow()                          { panic("example failed") }

func (t *exampleT) end() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

type Decision struct {
	Label string `json:"label"`
}

// classify is an agent: it opens its run by id, so that it resumes, and
// asks the model for a label.
func classify(ctx context.Context, k *artana.Kernel) (Decision, error) {
	run, err := k.LoadOrStartRun(ctx, artana.Tenant{ID: "acme", BudgetUSD: 1}, "ticket-42")
	if err != nil {
		return Decision{}, err
	}
	res, err := artana.StepModel[Decision](ctx, k, run, artana.ModelStep{
		Model: "gpt-4o-mini", Prompt: "Classify: I was charged twice", StepKey: "classify"})
	return res.Output, err
}

func ExampleNewKernel() {
	t := &exampleT{name: "TestTriage"} // in a test: the test's t
	defer t.end()

	model := artanatest.NewFakeModel(t, artanatest.Reply{Output: Decision{Label: "billing"}})
	k := artanatest.NewKernel(t, model)
	ctx := t.Context()
	run, _ := k.StartRun(ctx, artana.Tenant{ID: "acme", BudgetUSD: 1}, "")
	_, _ = artana.StepModel[Decision](ctx, k, run, artana.ModelStep{Model: "gpt-4o-mini", Prompt: "Classify"})
	events, err := k.Store().Events(ctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(run.ID, e.Seq, e.Type, e.ID, isotime.Format(e.Timestamp))
	}
	// Output:
	// run-1 1 run_started 00000000000000000000000000000001 2025-01-01T00:00:00+00:00
	// run-1 2 model_requested 00000000000000000000000000000002 2025-01-01T00:00:01+00:00
	// run-1 3 model_completed 00000000000000000000000000000003 2025-01-01T00:00:02+00:00
}

// A FakeModel answers from its queue of replies first, then with
// CompleteFn, and counts the calls.
func ExampleFakeModel() {
	m := &artanatest.FakeModel{
		CompleteFn: func(ctx context.Context, req llm.Request) (llm.Response, error) {
			return llm.Response{OutputJSON: `{"label":"other"}`}, nil
		},
	}
	m.Enqueue(
		artanatest.Reply{Output: Decision{Label: "billing"}, Usage: llm.Usage{PromptTokens: 12, CostUSD: 0.0001}},
		artanatest.Reply{OutputJSON: `{"label":"refund"}`,
			ToolCalls: []ledger.ToolCall{{ToolName: "refund", ArgumentsJSON: `{"order":"A-1"}`}}},
	)
	for range 3 {
		resp, _ := m.Complete(context.Background(), llm.Request{Model: "gpt-4o-mini"})
		fmt.Println(resp.OutputJSON, resp.Usage.PromptTokens, len(resp.ToolCalls))
	}
	fmt.Println("calls:", m.Calls())
	// Output:
	// {"label":"billing"} 12 0
	// {"label":"refund"} 0 1
	// {"label":"other"} 0 0
	// calls: 3
}

func ExampleAssertReplays() {
	t := &exampleT{name: "TestClassify"}
	defer t.end()

	model := artanatest.NewFakeModel(t, artanatest.Reply{Output: Decision{Label: "billing"}})
	k := artanatest.NewKernel(t, model)
	got := artanatest.AssertReplays(t, k, classify)
	fmt.Println(got.Label, "model calls:", model.Calls())
	// Output: billing model calls: 1
}

func ExampleAssertNoNewEvents() {
	t := &exampleT{name: "TestClassify"}
	defer t.end()

	k := artanatest.NewKernel(t, artanatest.NewFakeModel(t, artanatest.Reply{Output: Decision{Label: "billing"}}))
	_, _ = classify(t.Context(), k)
	artanatest.AssertNoNewEvents(t, k.Store(), "ticket-42", func(ctx context.Context) error {
		_, err := classify(ctx, k) // replays
		return err
	})
	fmt.Println("failed:", t.Failed())
	// Output: failed: false
}

func ExampleAssertChainValid() {
	t := &exampleT{name: "TestClassify"}
	defer t.end()

	k := artanatest.NewKernel(t, artanatest.NewFakeModel(t, artanatest.Reply{Output: Decision{Label: "billing"}}))
	_, _ = classify(t.Context(), k)
	artanatest.AssertChainValid(t, k.Store(), "ticket-42")
	artanatest.AssertChainValid(t, k.Store(), "ticket-43")
	// Output: FAIL: artanatest: AssertChainValid: run "ticket-43" has no events; check the run id
}

func ExampleAssertHaltsOnUnknownOutcome() {
	t := &exampleT{name: "TestRefund"}
	defer t.end()

	executions := 0
	tools := artana.NewTools()
	_ = artana.RegisterTool(tools, "refund", func(ctx context.Context, args struct {
		Order string `json:"order"`
	}) (json.RawMessage, error) {
		executions++
		return json.RawMessage(fmt.Sprintf(`{"refund_id":"R-%d"}`, executions)), nil
	})
	k := artanatest.NewKernel(t, nil, artana.WithTools(tools))
	run, _ := k.StartRun(t.Context(), artana.Tenant{ID: "acme", BudgetUSD: 1}, "")
	res := artanatest.AssertHaltsOnUnknownOutcome(t, k, run,
		artana.ToolStep{Tool: "refund", Args: map[string]string{"order": "A-1"}, StepKey: "refund"},
		func() int { return executions })
	fmt.Println(res.ResultJSON, "executions:", executions)
	// Output: {"refund_id":"R-2"} executions: 2
}

func ExampleAssertGoldenEvents() {
	t := &exampleT{name: "ExampleAssertGoldenEvents"} // testdata/ExampleAssertGoldenEvents.golden
	defer t.end()

	k := artanatest.NewKernel(t, artanatest.NewFakeModel(t, artanatest.Reply{Output: Decision{Label: "billing"}}))
	_, _ = classify(t.Context(), k)
	artanatest.AssertGoldenEvents(t, k.Store(), "ticket-42")
	fmt.Println("failed:", t.Failed())
	// Output: failed: false
}

// EventsText is the text AssertGoldenEvents compares: the run's events
// cassette, here normalized since the store has a real clock and random
// ids.
func ExampleEventsText() {
	s := ledger.NewMemStore()
	ctx := context.Background()
	_, _ = s.Append(ctx, rand.Text(), "acme", &ledger.RunStarted{})
	runs, _ := s.Runs(ctx)
	events, err := s.Events(ctx, runs[0].RunID, 0)
	if err != nil {
		panic(err)
	}
	text, _ := artanatest.EventsText(events, artanatest.NormalizeVolatile())
	fmt.Print(string(text))
	// Output:
	// {"format":"artana-cassette","version":1,"kind":"events","meta":{"run_id":"<run>"}}
	// {"type":"run_started","prev":"","hash":"<hash-1>","body":{"id":"<id-1>","payload":{"kind":"run_started"},"run":"<run>","seq":1,"tenant":"acme","timestamp":"<timestamp>"}}
	// {"type":"end","prev":"<hash-1>","hash":"<end-hash>","body":{"header":"<header-hash>","records":1}}
}

// The same appends to a deterministic store and to a store with a real
// clock and random ids differ only in what IgnoreVolatile ignores.
func ExampleIgnoreVolatile() {
	ctx := context.Background()
	read := func(s ledger.Store) []ledger.Event {
		_, _ = s.Append(ctx, "r1", "acme", &ledger.RunStarted{})
		_, _ = s.Append(ctx, "r1", "acme", &ledger.ModelCompleted{Model: "m", OutputJSON: `{"label":"billing"}`})
		events, err := s.Events(ctx, "r1", 0)
		if err != nil {
			panic(err)
		}
		return events
	}
	a := read(ledger.NewMemStore(artanatest.Deterministic()...))
	b := read(ledger.NewMemStore())
	fmt.Println(cmp.Equal(a, b), cmp.Equal(a, b, artanatest.IgnoreVolatile()))

	b[1].Payload = &ledger.ModelCompleted{Model: "m", OutputJSON: `{"label":"spam"}`}
	fmt.Println(cmp.Equal(a, b, artanatest.IgnoreVolatile()))
	// Output:
	// false true
	// false
}
