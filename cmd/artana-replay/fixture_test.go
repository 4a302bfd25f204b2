package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/sqlite"
)

// fixtureMain is the "artana-fixture" command of the test scripts. It
// writes ledgers that the scripts need and that are easier to make than to
// commit:
//
//	artana-fixture seedflow OUT.db [SECOND_PROMPT]
//	artana-fixture statuses OUT.db
//	artana-fixture streams OUT.cassette
//	artana-fixture large OUT.db EVENTS
//	artana-fixture toolloop OUT.db CALLID_PREFIX ORDER_STATUS
//	artana-fixture hostile OUT.db
func fixtureMain() {
	if err := fixture(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "artana-fixture:", err)
		os.Exit(1)
	}
}

func fixture(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return errors.New("usage: artana-fixture seedflow|statuses|large OUT.db [ARG]")
	}
	switch args[0] {
	case "seedflow":
		prompt := "Second question"
		if len(args) > 2 {
			prompt = args[2]
		}
		return writeSeedFlow(ctx, args[1], prompt)
	case "statuses":
		return writeStatuses(ctx, args[1])
	case "hostile":
		return writeHostile(ctx, args[1])
	case "toolloop":
		if len(args) < 4 {
			return errors.New("usage: artana-fixture toolloop OUT.db CALLID_PREFIX ORDER_STATUS")
		}
		return writeToolLoop(ctx, args[1], args[2], args[3])
	case "streams":
		return writeStreams(args[1])
	case "large":
		var n int
		if len(args) < 3 {
			return errors.New("usage: artana-fixture large OUT.db EVENTS")
		}
		if _, err := fmt.Sscan(args[2], &n); err != nil {
			return err
		}
		return writeLarge(ctx, args[1], "run", n)
	}
	return fmt.Errorf("unknown fixture %q", args[0])
}

func fixedStore(ctx context.Context, path string) (*sqlite.Store, error) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return sqlite.Open(ctx, path, sqlite.WithStoreOptions(
		ledger.WithEventClock(artanatest.SteppingClock(start, 1500*time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs())))
}

type decision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

type transferArgs struct {
	AccountID string `json:"account_id"`
	Amount    string `json:"amount"`
}

// writeSeedFlow runs, with the Go kernel, the flow that the Python
// original runs in testdata/kernel_seed_run.py (run "seed_run"), with
// secondPrompt as the prompt of the second model step.
func writeSeedFlow(ctx context.Context, path, secondPrompt string) error {
	store, err := fixedStore(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	model := llm.ModelFunc(func(_ context.Context, req llm.Request) (llm.Response, error) {
		out, _ := json.Marshal(decision{true, "ok: " + req.Prompt})
		return llm.Response{OutputJSON: string(out),
			Usage:     llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01},
			ToolCalls: []ledger.ToolCall{{ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"acc_1","amount":"10.00"}`}}}, nil
	})
	k := artana.New(store, model)
	attempts := 0
	err = artana.RegisterTool(k.Tools(), "submit_transfer", func(_ context.Context, a transferArgs) (json.RawMessage, error) {
		attempts++
		if attempts == 1 {
			return nil, errors.New("simulated network drop after request submission")
		}
		return json.RawMessage(fmt.Sprintf(`{"status": "submitted", "account_id": %q, "amount": %q}`, a.AccountID, a.Amount)), nil
	}, artana.WithCapability("finance:write"))
	if err != nil {
		return err
	}
	tenant := artana.Tenant{ID: "org_seed", Capabilities: []string{"finance:write"}, BudgetUSD: 1}
	run, err := k.StartRun(ctx, tenant, "seed_run")
	if err != nil {
		return err
	}
	if _, err := artana.StepModel[decision](ctx, k, run, artana.ModelStep{Model: "fake-model", Prompt: "Approve transfer, café 🚀", StepKey: "decision.v1"}); err != nil {
		return err
	}
	if _, err := artana.StepModel[decision](ctx, k, run, artana.ModelStep{Model: "fake-model", Prompt: secondPrompt}); err != nil {
		return err
	}
	step := artana.ToolStep{Tool: "submit_transfer", Args: transferArgs{"acc_1", "10.00"}, StepKey: "transfer.acc_1.v1"}
	if _, err := k.StepTool(ctx, run, step); err == nil {
		return errors.New("the first tool call was expected to fail")
	}
	if _, err := k.ReconcileTool(ctx, run, step); err != nil {
		return err
	}
	if _, err := k.StepTool(ctx, run, artana.ToolStep{Tool: "submit_transfer", Args: transferArgs{"acc_2", "5"}}); err != nil {
		return err
	}
	return k.Close()
}

// writeStatuses writes one run per status.
func writeStatuses(ctx context.Context, path string) error {
	store, err := fixedStore(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	key := "k1"
	runs := map[string][]ledger.Payload{
		"done_run": {&ledger.RunStarted{},
			&ledger.ModelRequested{Model: "m", Prompt: "hi", Messages: []ledger.ChatMessage{{Role: "user", Content: "hi"}}, AllowedTools: []string{}},
			&ledger.ModelCompleted{Model: "m", OutputJSON: "{}", PromptTokens: 3, CompletionTokens: 2, CostUSD: 0.5, ToolCalls: []ledger.ToolCall{}}},
		"paused_run": {&ledger.RunStarted{}, &ledger.PauseRequested{Reason: "needs review"}},
		"pending_run": {&ledger.RunStarted{}, &ledger.ToolRequested{ToolName: "t", ArgumentsJSON: "{}", IdempotencyKey: key,
			ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion}},
		"unknown_run": {&ledger.RunStarted{}, &ledger.ToolRequested{ToolName: "t", ArgumentsJSON: "{}", IdempotencyKey: key,
			ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion},
			&ledger.ToolCompleted{ToolName: "t", ResultJSON: "{}", Outcome: ledger.OutcomeUnknown, ReceivedIdempotencyKey: &key}},
	}
	for _, id := range []string{"done_run", "paused_run", "pending_run", "unknown_run"} {
		for _, p := range runs[id] {
			if _, err := store.Append(ctx, id, "org_status", p); err != nil {
				return err
			}
		}
	}
	return store.Close()
}

// writeLarge writes a run of n events (model requests and completions) in
// batches, sealed in memory and imported.
func writeLarge(ctx context.Context, path, runID string, n int) error {
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	opts := ledger.NewStoreOptions(ledger.WithEventClock(artanatest.SteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
	var last *ledger.Event
	batch := make([]ledger.Event, 0, 5000)
	for i := 0; i < n; i++ {
		var p ledger.Payload
		if i%2 == 0 {
			p = &ledger.ModelRequested{Model: "bench-model", Prompt: fmt.Sprintf("question %d: what is the balance of account acc_%d?", i, i%97),
				Messages: []ledger.ChatMessage{{Role: "user", Content: fmt.Sprintf("question %d: what is the balance of account acc_%d?", i, i%97)}}, AllowedTools: []string{"lookup"}}
		} else {
			p = &ledger.ModelCompleted{Model: "bench-model", OutputJSON: `{"answer":"the balance is 10.00 USD","confidence":0.93}`,
				PromptTokens: 40, CompletionTokens: 12, CostUSD: 0.0002, ToolCalls: []ledger.ToolCall{}}
		}
		e, err := opts.NextEvent(last, runID, "org_bench", p)
		if err != nil {
			return err
		}
		batch = append(batch, e)
		last = &batch[len(batch)-1]
		if len(batch) == cap(batch) || i == n-1 {
			if err := store.Import(ctx, batch); err != nil {
				return err
			}
			keep := batch[len(batch)-1]
			last = &keep
			batch = batch[:0]
		}
	}
	return store.Close()
}

type orderArgs struct {
	Order string `json:"order"`
}

// writeToolLoop writes the run "ticket" of a two-turn tool loop: two
// parallel calls (ids PREFIX1, PREFIX2) of lookup_order (answering status)
// and refund (failing), then the answer.
func writeToolLoop(ctx context.Context, path, prefix, status string) error {
	store, err := fixedStore(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	model := llm.ModelFunc(func(_ context.Context, req llm.Request) (llm.Response, error) {
		if req.Messages[len(req.Messages)-1].Role != "tool" {
			return llm.Response{ToolCalls: []ledger.ToolCall{
				{ID: prefix + "1", ToolName: "lookup_order", ArgumentsJSON: `{"order": "A-17"}`},
				{ID: prefix + "2", ToolName: "refund", ArgumentsJSON: `{"order": "A-17"}`},
			}, Usage: llm.Usage{PromptTokens: 75, CompletionTokens: 53, CostUSD: 0.0007}}, nil
		}
		return llm.Response{OutputJSON: `"Order A-17 was already refunded."`,
			Usage: llm.Usage{PromptTokens: 149, CompletionTokens: 32, CostUSD: 0.0007}}, nil
	})
	k := artana.New(store, model)
	if err := artana.RegisterTool(k.Tools(), "lookup_order", func(_ context.Context, a orderArgs) (map[string]string, error) {
		return map[string]string{"order": a.Order, "status": status}, nil
	}); err != nil {
		return err
	}
	if err := artana.RegisterTool(k.Tools(), "refund", func(_ context.Context, a orderArgs) (string, error) {
		return "", artana.PermanentToolError(fmt.Errorf("order %s was already refunded", a.Order))
	}); err != nil {
		return err
	}
	run, err := k.StartRun(ctx, artana.Tenant{ID: "support"}, "ticket")
	if err != nil {
		return err
	}
	_, err = artana.RunToolLoop[string](ctx, k, run, artana.ToolLoop{Model: "gpt-4o", StepKey: "support",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "Where is my refund for A-17?"}}})
	return err
}

// hostileText is ledger data that would run script, load an image or
// close the page's markup if a report took it for HTML.
const hostileText = `</script><script>window.__pwned=1;document.title="pwned"</script><img src=x onerror="window.__pwned=2;document.title='pwned'"><a href="https://example.com/">x</a>`

// writeHostile writes a run whose every free-text field holds
// hostileText: run id, tenant, model, prompt, messages, tool name,
// arguments, step keys, results, error message and pause reason. Its tool
// call ends with an unknown outcome and the run ends paused.
func writeHostile(ctx context.Context, path string) error {
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	opts := ledger.NewStoreOptions(ledger.WithEventClock(artanatest.SteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 250*time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
	h := hostileText
	arg, _ := json.Marshal(map[string]string{"q": h})
	out, _ := json.Marshal(map[string]string{"answer": h})
	key := "key " + h
	call := ledger.ToolCall{ID: "call " + h, ToolName: "tool" + h, ArgumentsJSON: string(arg)}
	payloads := []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "model" + h, Prompt: h, Messages: []ledger.ChatMessage{
			{Role: "system", Content: h}, {Role: "user", Content: h, Name: h}}, AllowedTools: []string{"tool" + h}, StepKey: &key},
		&ledger.ModelCompleted{Model: "model" + h, OutputJSON: string(out), PromptTokens: 10, CompletionTokens: 5, CostUSD: 0.001,
			ToolCalls: []ledger.ToolCall{call}},
		&ledger.ToolRequested{ToolName: "tool" + h, ArgumentsJSON: string(arg), IdempotencyKey: "idem", ToolVersion: "1.0.0", SchemaVersion: "1", StepKey: &key},
		&ledger.ToolCompleted{ToolName: "tool" + h, ResultJSON: string(out), Outcome: ledger.OutcomeUnknown, ErrorMessage: &key},
		&ledger.PauseRequested{Reason: h, StepKey: &key},
	}
	var evs []ledger.Event
	var last *ledger.Event
	for _, p := range payloads {
		e, err := opts.NextEvent(last, "run"+h, "tenant"+h, p)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		last = &evs[len(evs)-1]
	}
	if err := store.Import(ctx, evs); err != nil {
		return err
	}
	return store.Close()
}
