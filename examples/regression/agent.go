// Package regression is a customer-support agent written the way
// OpenAI-style agents are written, and its regression test.
//
// The agent answers a ticket with the standard tool-calling loop
// (artana.RunToolLoop): the model may call lookup_order and refund, in
// parallel; each call runs as a logged tool step and its result, or its
// failure, goes back to the model as a tool message; the model then
// answers with a Decision.
//
// The test replays a recorded conversation (a recorder cassette in
// testdata/cassettes, holding the model's interactions and the tools'
// executions) offline, with no model and no tool backend, and checks with
// package artanatest that the agent replays from its log, that the log's
// hash chain verifies and that the log is the one in
// testdata/TestSupport.golden. The conversation was recorded through the
// openai model against a local OpenAI-compatible server (see
// testdata/server); re-record it, and rewrite the golden log, with
//
//	go test ./examples/regression -run '^TestSupport$' -artana.record='^TestSupport$'
package regression

import (
	"context"
	"errors"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
)

// Model is the model the agent asks.
const Model = "gpt-4o"

// SystemPrompt tells the model what the agent is for.
const SystemPrompt = "You are the support desk of a web shop. Look orders up and refund them when the customer asks; " +
	"call the tools you need in parallel. Answer with a label (billing, refund, shipping or other) and the reply to the customer."

// Decision is the agent's answer to a ticket.
type Decision struct {
	Label string `json:"label"` // billing, refund, shipping or other
	Reply string `json:"reply"` // the answer to the customer
}

// OrderArgs are the arguments of both tools.
type OrderArgs struct {
	Order string `json:"order"` // the order id, e.g. "A-17"
}

// Order is what lookup_order returns.
type Order struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	TotalCents int    `json:"total_cents"`
}

// Refund is what refund returns.
type Refund struct {
	RefundID string `json:"refund_id"`
}

// A Backend is the shop's order system, which the tools call.
type Backend interface {
	LookupOrder(ctx context.Context, id string) (Order, error)
	Refund(ctx context.Context, id string) (Refund, error)
}

// Errors of a Backend that the model is told about.
var (
	ErrNoOrder         = errors.New("no such order")
	ErrAlreadyRefunded = errors.New("the order was already refunded")
)

// Tools returns the agent's tools on backend. backend may be nil when the
// tools are replayed from a cassette and never run.
func Tools(backend Backend) *artana.Tools {
	tools := artana.NewTools()
	_ = artana.RegisterTool(tools, "lookup_order", func(ctx context.Context, a OrderArgs) (Order, error) {
		o, err := backend.LookupOrder(ctx, a.Order)
		if errors.Is(err, ErrNoOrder) {
			return Order{}, artana.PermanentToolError(err)
		}
		return o, err
	}, artana.WithDescription("Look an order up by id: its status and total."))
	_ = artana.RegisterTool(tools, "refund", func(ctx context.Context, a OrderArgs) (Refund, error) {
		r, err := backend.Refund(ctx, a.Order)
		if errors.Is(err, ErrNoOrder) || errors.Is(err, ErrAlreadyRefunded) {
			return Refund{}, artana.PermanentToolError(err)
		}
		if err == nil {
			if x, ok := artana.ToolExecutionFrom(ctx); ok {
				x.SetEffectID(r.RefundID)
			}
		}
		return r, err
	}, artana.WithDescription("Refund an order in full."))
	return tools
}

// Tenant is the tenant the agent's runs belong to.
var Tenant = artana.Tenant{ID: "support", BudgetUSD: 5}

// Handle answers the ticket text in the run ticketID, resuming the run if
// it has already started.
func Handle(ctx context.Context, k *artana.Kernel, ticketID, text string) (Decision, error) {
	run, err := k.LoadOrStartRun(ctx, Tenant, ticketID)
	if err != nil {
		return Decision{}, err
	}
	res, err := artana.RunToolLoop[Decision](ctx, k, run, artana.ToolLoop{
		Model:    Model,
		StepKey:  "support",
		Messages: []ledger.ChatMessage{{Role: "system", Content: SystemPrompt}, {Role: "user", Content: text}},
		MaxTurns: 4,
	})
	return res.Output, err
}
