package artana_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
)

// A workflow fetches and scores, then pauses for a human. After Resume,
// running it again skips the completed steps and goes on with the human's
// input.
func ExampleRunWorkflow() {
	ctx := context.Background()
	k := artana.New(ledger.NewMemStore(), nil)
	tenant := artana.Tenant{ID: "org_flow", BudgetUSD: 1}

	flow := func(ctx context.Context, wf *artana.Workflow) (string, error) {
		score, err := artana.Step(ctx, wf, "score", func(context.Context) (float64, error) {
			fmt.Println("  scoring")
			return 0.42, nil
		})
		if err != nil {
			return "", err
		}
		input, err := wf.Pause(ctx, artana.PauseStep{Reason: "score below 0.5", Context: map[string]float64{"score": score}, StepKey: "review"})
		if err != nil {
			return "", err
		}
		var decision struct{ Approve bool }
		if err := json.Unmarshal(input, &decision); err != nil {
			return "", err
		}
		return fmt.Sprintf("score %.2f, approved %v", score, decision.Approve), nil
	}

	res, err := artana.RunWorkflow(ctx, k, tenant, "loan-7", flow)
	if err != nil {
		panic(err)
	}
	fmt.Println("first run:", res.State, "at seq", res.Ticket.Seq, "-", res.Ticket.Reason)

	if _, err := k.Resume(ctx, artana.Run{ID: "loan-7", Tenant: tenant}, map[string]bool{"Approve": true}); err != nil {
		panic(err)
	}
	res, err = artana.RunWorkflow(ctx, k, tenant, "loan-7", flow)
	if err != nil {
		panic(err)
	}
	fmt.Println("second run:", res.State, "-", res.Output)
	// Output:
	//   scoring
	// first run: paused at seq 3 - score below 0.5
	// second run: complete - score 0.42, approved true
}

// Pausing a run outside workflows: the ticket names the pause_requested
// event, and Resume logs the human's answer.
func ExampleKernel_Pause() {
	ctx := context.Background()
	store := ledger.NewMemStore()
	k := artana.New(store, nil)
	run, err := k.StartRun(ctx, artana.Tenant{ID: "org_pause"}, "transfer-1")
	if err != nil {
		panic(err)
	}
	ticket, err := k.Pause(ctx, run, artana.PauseStep{Reason: "amount above limit", Context: map[string]int{"amount": 5000}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("paused at seq %d: %s\n", ticket.Seq, ticket.Reason)
	resumed, err := k.Resume(ctx, run, map[string]string{"approved_by": "Zoë"})
	if err != nil {
		panic(err)
	}
	fmt.Println("resumed at seq", resumed.Seq)
	events, err := store.Events(ctx, run.ID, 0)
	if err != nil {
		panic(err)
	}
	for _, e := range events {
		fmt.Printf("%d %s %s\n", e.Seq, e.Type, ledger.ColumnForm.Encode(e.Payload))
	}
	// Output:
	// paused at seq 2: amount above limit
	// resumed at seq 3
	// 1 run_started {"kind": "run_started"}
	// 2 pause_requested {"kind": "pause_requested", "reason": "amount above limit", "context_json": "{\"amount\":5000}", "step_key": null}
	// 3 resume_requested {"kind": "resume_requested", "human_input_json": "{\"approved_by\":\"Zo\u00eb\"}"}
}

// The chat convenience: the first call runs the model, the same call again
// replays from the log. The default middleware scrubs the e-mail address
// before anything is logged or sent.
func ExampleChat() {
	ctx := context.Background()
	model := llm.ModelFunc(func(ctx context.Context, req llm.Request) (llm.Response, error) {
		fmt.Println("  model sees:", req.Prompt)
		return llm.Response{OutputJSON: `{"approved":true,"reason":"Balance check passed."}`,
			Usage: llm.Usage{CostUSD: 0.01}}, nil
	})
	k := artana.NewEnforced(ledger.NewMemStore(), model)
	tenant := artana.Tenant{ID: "org_demo", Capabilities: []string{"finance:write"}, BudgetUSD: 1}
	step := artana.ModelStep{Model: "gpt-4o-mini", Prompt: "Transfer 10 from acc_1. My email is user@example.com"}
	for range 2 {
		res, err := artana.Chat[Verdict](ctx, k, tenant, "example_run_1", step)
		if err != nil {
			panic(err)
		}
		fmt.Printf("replayed=%v %+v\n", res.FromLog, res.Output)
	}
	// Output:
	//   model sees: Transfer 10 from acc_1. My email is [REDACTED_EMAIL]
	// replayed=false {Approved:true Reason:Balance check passed.}
	// replayed=true {Approved:true Reason:Balance check passed.}
}
