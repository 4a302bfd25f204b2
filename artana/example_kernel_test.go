package artana_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
)

type Verdict struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

type Transfer struct {
	AccountID string `json:"account_id"`
	Amount    string `json:"amount"`
}

// A run with a model step and a tool step, then the same steps again:
// the second time everything replays from the log.
func ExampleStepModel() {
	ctx := context.Background()
	calls := 0
	model := llm.ModelFunc(func(ctx context.Context, req llm.Request) (llm.Response, error) {
		calls++
		return llm.Response{OutputJSON: `{"approved":true,"reason":"balance ok"}`}, nil
	})
	k := artana.New(ledger.NewMemStore(), model)
	defer k.Close()
	_ = artana.RegisterTool(k.Tools(), "submit_transfer",
		func(ctx context.Context, t Transfer) (json.RawMessage, error) {
			return json.RawMessage(`{"status":"submitted"}`), nil
		}, artana.WithCapability("finance:write"))

	tenant := artana.Tenant{ID: "org_demo", Capabilities: []string{"finance:write"}}
	run, _ := k.StartRun(ctx, tenant, "demo")
	for range 2 {
		d, err := artana.StepModel[Verdict](ctx, k, run, artana.ModelStep{Model: "gpt-4o-mini", Prompt: "Approve?", StepKey: "decide"})
		if err != nil {
			fmt.Println(err)
			return
		}
		r, err := k.StepTool(ctx, run, artana.ToolStep{Tool: "submit_transfer", Args: Transfer{"acc_1", "10.00"}, StepKey: "pay"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(d.Output.Reason, d.FromLog, r.ResultJSON, r.FromLog)
	}
	fmt.Println("model calls:", calls)

	_, err := k.StepTool(ctx, artana.Run{ID: "demo", Tenant: artana.Tenant{ID: "org_demo"}},
		artana.ToolStep{Tool: "submit_transfer", Args: Transfer{"acc_1", "10.00"}})
	fmt.Println(errors.Is(err, artana.ErrCapabilityDenied))
	// Output:
	// balance ok false {"status":"submitted"} false
	// balance ok true {"status":"submitted"} true
	// model calls: 1
	// true
}
