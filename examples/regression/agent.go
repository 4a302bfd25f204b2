// Package regression is a support-triage agent and its regression test:
// the test replays a recorded model conversation (a recorder cassette in
// testdata/cassettes) offline and checks, with package artanatest, that
// the agent replays from its log, that the log's hash chain verifies and
// that the log is the one in testdata/TestTriage.golden.
//
// Re-record the conversation against the live model (OPENAI_API_KEY) with
//
//	go test ./examples/regression -run '^TestTriage$' -artana.record='^TestTriage$' -update
package regression

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/artana-go/go-artana/artana"
)

// Model is the model the agent asks.
const Model = "gpt-4o-mini"

// Decision is the agent's verdict on a ticket.
type Decision struct {
	Label string `json:"label"` // billing, refund, shipping or other
	Reply string `json:"reply"` // the answer to the customer
}

// RefundArgs are the arguments of the refund tool.
type RefundArgs struct {
	Order string `json:"order"`
}

// Tools returns the agent's tools: refund, which refunds an order.
func Tools() *artana.Tools {
	tools := artana.NewTools()
	_ = artana.RegisterTool(tools, "refund", func(ctx context.Context, a RefundArgs) (json.RawMessage, error) {
		return json.Marshal(map[string]string{"order": a.Order, "status": "refunded"})
	}, artana.WithDescription("Refund an order in full."))
	return tools
}

// Triage handles the ticket in the run ticketID, resuming it if it has
// already started: the model classifies the ticket and may call refund;
// after the tool calls, the model writes the reply.
func Triage(ctx context.Context, k *artana.Kernel, ticketID, text string) (Decision, error) {
	run, err := k.LoadOrStartRun(ctx, artana.Tenant{ID: "support", BudgetUSD: 5}, ticketID)
	if err != nil {
		return Decision{}, err
	}
	first, err := artana.StepModel[Decision](ctx, k, run, artana.ModelStep{
		Model: Model, Prompt: "Classify this ticket and refund if needed: " + text, StepKey: "classify"})
	if err != nil {
		return Decision{}, err
	}
	results := ""
	for i, call := range first.ToolCalls {
		res, err := k.StepTool(ctx, run, artana.ToolStep{Tool: call.ToolName, Args: call.ArgumentsJSON, StepKey: fmt.Sprintf("tool-%d", i)})
		if err != nil {
			return Decision{}, err
		}
		results += "\n" + call.ToolName + ": " + res.ResultJSON
	}
	final, err := artana.StepModel[Decision](ctx, k, run, artana.ModelStep{
		Model: Model, Prompt: "Write the reply. Label: " + first.Output.Label + results, StepKey: "reply"})
	return final.Output, err
}
