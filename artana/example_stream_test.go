package artana_test

import (
	"context"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
)

// countingModel streams its answer in three pieces.
type countingModel struct{}

func (countingModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	return countingModel{}.Stream(ctx, req, func(llm.Delta) error { return nil })
}

func (countingModel) Stream(_ context.Context, _ llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	usage := llm.Usage{PromptTokens: 9, CompletionTokens: 7}
	for _, d := range []llm.Delta{{Text: `{"approved":`}, {Text: `true,"reason":"ok"}`}, {Usage: &usage}} {
		if err := yield(d); err != nil {
			return llm.Response{}, err
		}
	}
	return llm.Response{OutputJSON: `{"approved":true,"reason":"ok"}`, Usage: usage}, nil
}

// A streamed step delivers the answer as it comes; the same step again
// is answered from the log, which delivers the logged output as one delta.
func ExampleModelStep_onDelta() {
	ctx := context.Background()
	k := artana.New(ledger.NewMemStore(), countingModel{})
	defer k.Close()
	run, _ := k.StartRun(ctx, artana.Tenant{ID: "org_demo"}, "streamed")
	step := artana.ModelStep{Model: "demo", Prompt: "approve?", OnDelta: func(d llm.Delta) error {
		if d.Text != "" {
			fmt.Printf("text %q\n", d.Text)
		}
		if d.Usage != nil {
			fmt.Printf("usage %d+%d\n", d.Usage.PromptTokens, d.Usage.CompletionTokens)
		}
		return nil
	}}
	for range 2 {
		res, err := artana.StepModel[Verdict](ctx, k, run, step)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("approved=%v from log=%v\n", res.Output.Approved, res.FromLog)
	}
	// Output:
	// text "{\"approved\":"
	// text "true,\"reason\":\"ok\"}"
	// usage 9+7
	// approved=true from log=false
	// text "{\"approved\":true,\"reason\":\"ok\"}"
	// usage 9+7
	// approved=true from log=true
}
