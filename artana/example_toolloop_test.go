package artana_test

import (
	"context"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
)

type OrderArgs struct {
	Order string `json:"order"`
}

// The standard tool-calling loop: the model asks for a tool, the loop runs
// it as a logged tool step and sends the result back as a tool message;
// the model then answers. Run again, the loop replays from the log.
func ExampleRunToolLoop() {
	ctx := context.Background()
	calls := 0
	model := llm.ModelFunc(func(ctx context.Context, req llm.Request) (llm.Response, error) {
		calls++
		last := req.Messages[len(req.Messages)-1]
		if last.Role != "tool" {
			return llm.Response{ToolCalls: []ledger.ToolCall{
				{ID: "call_1", ToolName: "order_status", ArgumentsJSON: `{"order":"A-17"}`}}}, nil
		}
		return llm.Response{OutputJSON: fmt.Sprintf("%q", "Order A-17: "+last.Content)}, nil
	})
	k := artana.New(ledger.NewMemStore(), model)
	defer k.Close()
	_ = artana.RegisterTool(k.Tools(), "order_status", func(ctx context.Context, a OrderArgs) (string, error) {
		return "delivered", nil
	})
	run, _ := k.StartRun(ctx, artana.Tenant{ID: "org_demo"}, "ticket-7")
	loop := artana.ToolLoop{Model: "gpt-4o-mini", Prompt: "Where is order A-17?", StepKey: "support"}
	for range 2 {
		res, err := artana.RunToolLoop[string](ctx, k, run, loop)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Output, res.Turns, res.FromLog)
	}
	fmt.Println("model calls:", calls)
	// Output:
	// Order A-17: "delivered" 2 false
	// Order A-17: "delivered" 2 true
	// model calls: 2
}
