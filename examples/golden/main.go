// Command golden is the Go port of the Python original's golden example:
// the canonical, production-leaning use of artana. It proves eight
// features, printing each, and checks every invariant it claims; if one
// fails it says which and exits with status 1.
//
//  1. The enforced policy and the default middleware stack, in the order
//     the kernel runs it (PIIScrubber, Quota, CapabilityGuard).
//  2. A kernel-issued run id (StartRun with no id).
//  3. A model call through artana.Chat with structured output (Decision).
//  4. The same call answered from the log: same output, no model call,
//     no event appended.
//  5. A tool (submit_transfer, requiring the capability finance:write) that
//     fails once with an unknown outcome, which the log records.
//  6. The step, run again, halting before reconciliation: the log holds no
//     outcome to answer it with, so it neither runs the tool again nor
//     logs a new request.
//  7. ReconcileTool running the tool again with the same idempotency key
//     and logging its success.
//  8. The reconciled step answered from the log.
//
// The log is kept by the cassette store (package cassettes), one file per
// run, in a temporary directory removed at the end; pass -dir to keep it
// and inspect it with artana-replay (artana-replay show DIR).
//
// Run it offline, from the repository root; the model's answer comes from
// the committed cassette testdata/cassettes/TestGolden.cassette (a replay)
// and nothing touches the network:
//
//	go run ./examples/golden
//
// The command only replays: it compiles neither an LLM SDK nor SQLite, so
// its first run on a fresh machine is short. Recording lives where the
// live model is built, in the example's test. Record a fresh cassette
// against a real OpenAI-compatible endpoint (OPENAI_BASE_URL selects one
// other than OpenAI's) with the one record switch:
//
//	OPENAI_API_KEY=sk-... go test ./examples/golden -run '^TestGolden$' -artana.record='^TestGolden$'
//
// The committed cassette was recorded that way against a local stand-in
// OpenAI-compatible server (add -args -standin to the command above) that
// answers with Chat Completions bodies shaped like OpenAI's; no real model
// produced it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/examples/internal/command"
)

// Decision is the structured output asked of the model.
type Decision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

// TransferArgs are the arguments of the submit_transfer tool.
type TransferArgs struct {
	AccountID string `json:"account_id"`
	Amount    string `json:"amount"`
}

const (
	modelName    = "gpt-4o-mini"
	modelStepKey = "decision.v1"
	toolStepKey  = "transfer.acc_1.10.v1"
	toolName     = "submit_transfer"
	prompt       = "Respond only as JSON for schema {approved:boolean,reason:string}. Approve this request and give a short reason."
)

func main() { command.Main("golden", run) }

// run runs the example; a nil error means every invariant held.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := command.NewFlags("golden", "TestGolden", stderr)
	dir := flags.Set.String("dir", "", "keep the run's event log in this directory, one cassette file per run (default: a temporary directory, removed at the end)")
	if ok, err := flags.Parse(args); !ok {
		return err
	}
	return flags.Replay(func(model llm.Model, answeredBy string) error {
		return prove(ctx, model, *dir, answeredBy, stdout)
	})
}

// prove runs the eight features with model, keeping the event log in dir
// (a temporary directory if ""), and prints them to out with answeredBy
// saying where the model's answers come from.
func prove(ctx context.Context, model llm.Model, dir, answeredBy string, out io.Writer) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "artana-golden-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "runs")
	}
	store, err := cassettes.OpenStore(dir)
	if err != nil {
		return err
	}
	g := &golden{out: out, model: &countingModel{Model: model}, answeredBy: answeredBy}
	return g.prove(ctx, store)
}

// countingModel counts the calls that reach the model.
type countingModel struct {
	llm.Model
	calls int
}

func (m *countingModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	m.calls++
	return m.Model.Complete(ctx, req)
}

// golden holds what the features share.
type golden struct {
	out        io.Writer
	model      *countingModel
	answeredBy string

	k            *artana.Kernel
	run          artana.Run
	toolAttempts int
}

// feature prints a feature's heading and its details, in order.
func (g *golden) feature(name string, details ...any) {
	fmt.Fprintf(g.out, "\n=== %s ===\n", name)
	for i := 0; i+1 < len(details); i += 2 {
		fmt.Fprintf(g.out, "%s: %v\n", details[i], details[i+1])
	}
}

// invariant returns an error naming the feature and what broke, or nil if
// ok.
func invariant(feature string, ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s: invariant failed: %s", feature, fmt.Sprintf(format, args...))
}

func (g *golden) events(ctx context.Context) ([]ledger.Event, error) {
	return g.k.Store().Events(ctx, g.run.ID, 0)
}

func (g *golden) prove(ctx context.Context, store ledger.Store) error {
	// Feature 1: the enforced policy installs the mandatory middleware
	// and refuses a tenant without a budget.
	const f1 = "Feature 1 - Enforced Policy + Middleware Order"
	_, refused := artana.NewEnforced(ledger.NewMemStore(), nil).StartRun(ctx, artana.Tenant{ID: "no_budget"}, "")
	stack := artana.DefaultMiddleware()
	names := make([]string, len(stack))
	for i, m := range stack {
		names[i] = strings.TrimPrefix(fmt.Sprintf("%T", m), "artana.")
	}
	g.feature(f1,
		"policy_mode", "enforced",
		"middleware_order", names,
		"tenant_without_budget_refused", errors.Is(refused, artana.ErrInvalidInput))
	if err := invariant(f1, errors.Is(refused, artana.ErrInvalidInput),
		"an enforced kernel started a run for a tenant without a budget: %v, want ErrInvalidInput", refused); err != nil {
		store.Close()
		return err
	}
	if got := strings.Join(names, ","); got != "PIIScrubber,Quota,CapabilityGuard" {
		store.Close()
		return invariant(f1, false, "middleware order %s, want PIIScrubber,Quota,CapabilityGuard", got)
	}

	k := artana.NewEnforced(store, g.model)
	defer k.Close() // closes the store
	g.k = k
	err := artana.RegisterTool(k.Tools(), toolName, g.submitTransfer,
		artana.WithCapability("finance:write"),
		artana.WithDescription("Submit a money transfer from an account."))
	if err != nil {
		return err
	}

	for _, prove := range []func(context.Context) error{g.runAndReplayModel, g.unknownOutcomeAndReconcile} {
		if err := prove(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(g.out, "\n✅ All golden features validated.")
	return nil
}

// submitTransfer is the tool: its first attempt fails as a dropped
// connection would, after the request may have reached the bank, so its
// outcome is unknown; later attempts succeed.
func (g *golden) submitTransfer(ctx context.Context, a TransferArgs) (map[string]string, error) {
	g.toolAttempts++
	if g.toolAttempts == 1 {
		// A plain error (not TransientToolError or PermanentToolError) is
		// logged as unknown_outcome.
		return nil, errors.New("simulated network drop after request submission")
	}
	return map[string]string{"status": "submitted", "account_id": a.AccountID, "amount": a.Amount}, nil
}

// runAndReplayModel proves features 2 to 4.
func (g *golden) runAndReplayModel(ctx context.Context) error {
	tenant := artana.Tenant{
		ID:           "org_live",
		Capabilities: []string{"decision:approve", "finance:write"},
		BudgetUSD:    0.20,
	}
	const f2 = "Feature 2 - Kernel-Issued Run"
	run, err := g.k.StartRun(ctx, tenant, "")
	if err != nil {
		return err
	}
	g.run = run
	g.feature(f2, "run_id", run.ID, "tenant_id", run.Tenant.ID)
	if err := invariant(f2, len(run.ID) == 32, "run id %q is not 32 hex digits", run.ID); err != nil {
		return err
	}

	const f3 = "Feature 3 - Model Call"
	step := artana.ModelStep{Model: modelName, Prompt: prompt, StepKey: modelStepKey}
	first, err := artana.Chat[Decision](ctx, g.k, tenant, run.ID, step)
	if err != nil {
		return err
	}
	afterFirst, err := g.events(ctx)
	if err != nil {
		return err
	}
	g.feature(f3,
		"answered_by", g.answeredBy,
		"from_log", first.FromLog,
		"output", first.OutputJSON,
		"usage", usage(first.Usage),
		"event_types", eventTypes(afterFirst))
	if err := invariant(f3, !first.FromLog && g.model.calls == 1,
		"from_log=%v after %d model calls, want a fresh call", first.FromLog, g.model.calls); err != nil {
		return err
	}

	const f4 = "Feature 4 - Model Step Answered From the Log"
	second, err := artana.Chat[Decision](ctx, g.k, tenant, run.ID, step)
	if err != nil {
		return err
	}
	afterSecond, err := g.events(ctx)
	if err != nil {
		return err
	}
	g.feature(f4,
		"from_log", second.FromLog,
		"output_matches_live", second.Output == first.Output,
		"event_count_unchanged", len(afterSecond) == len(afterFirst),
		"model_calls", g.model.calls,
		"usage", usage(second.Usage),
		"event_types", eventTypes(afterSecond))
	return errors.Join(
		invariant(f4, second.FromLog, "the second call was not answered from the log"),
		invariant(f4, second.Output == first.Output, "the output from the log %+v differs from %+v", second.Output, first.Output),
		invariant(f4, len(afterSecond) == len(afterFirst), "answering from the log appended events (%d before, %d after)", len(afterFirst), len(afterSecond)),
		invariant(f4, g.model.calls == 1, "answering from the log called the model (%d calls)", g.model.calls),
	)
}

// unknownOutcomeAndReconcile proves features 5 to 8.
func (g *golden) unknownOutcomeAndReconcile(ctx context.Context) error {
	step := artana.ToolStep{Tool: toolName, Args: TransferArgs{AccountID: "acc_1", Amount: "10.00"}, StepKey: toolStepKey}
	unknown, afterUnknown, err := g.unknownOutcome(ctx, step)
	if err != nil {
		return err
	}
	beforeReconcile, err := g.haltBeforeReconcile(ctx, step, afterUnknown)
	if err != nil {
		return err
	}
	reconciled, afterReconcile, err := g.reconcile(ctx, step, unknown, beforeReconcile)
	if err != nil {
		return err
	}
	return g.reconciledFromLog(ctx, step, reconciled, afterReconcile)
}

// unknownOutcome proves feature 5: the first attempt of the tool fails
// with an unknown outcome, logged. It returns that completion and the
// events after it.
func (g *golden) unknownOutcome(ctx context.Context, step artana.ToolStep) (*ledger.ToolCompleted, []ledger.Event, error) {
	const f5 = "Feature 5 - Unknown Tool Outcome Recorded"
	_, stepErr := g.k.StepTool(ctx, g.run, step)
	if stepErr == nil {
		return nil, nil, invariant(f5, false, "the first tool attempt succeeded; it should fail with an unknown outcome")
	}
	if !errors.Is(stepErr, artana.ErrUnknownOutcome) {
		return nil, nil, fmt.Errorf("%s: %w", f5, stepErr)
	}
	afterUnknown, err := g.events(ctx)
	if err != nil {
		return nil, nil, err
	}
	unknown, requestID := latestToolCompletion(afterUnknown, toolName, toolStepKey)
	requested := countToolRequests(afterUnknown, toolName, toolStepKey)
	outcome := ledger.ToolOutcome("")
	if unknown != nil {
		outcome = unknown.Outcome
	}
	g.feature(f5,
		"error", stepErr,
		"tool_attempts", g.toolAttempts,
		"latest_tool_outcome", outcome,
		"latest_request_id", requestID,
		"tool_requested_count", requested)
	return unknown, afterUnknown, errors.Join(
		invariant(f5, outcome == ledger.OutcomeUnknown, "latest tool outcome %q, want unknown_outcome", outcome),
		invariant(f5, requested == 1, "%d tool_requested events, want 1", requested),
		invariant(f5, g.toolAttempts == 1, "the tool ran %d times, want 1", g.toolAttempts),
	)
}

// haltBeforeReconcile proves feature 6: the step run again halts without
// running the tool or logging. It returns the events then.
func (g *golden) haltBeforeReconcile(ctx context.Context, step artana.ToolStep, afterUnknown []ledger.Event) ([]ledger.Event, error) {
	const f6 = "Feature 6 - Halt Before Reconciliation"
	requested := countToolRequests(afterUnknown, toolName, toolStepKey)
	_, haltErr := g.k.StepTool(ctx, g.run, step)
	beforeReconcile, err := g.events(ctx)
	if err != nil {
		return nil, err
	}
	requestedAfterHalt := countToolRequests(beforeReconcile, toolName, toolStepKey)
	g.feature(f6,
		"error", haltErr,
		"tool_attempts", g.toolAttempts,
		"event_count", len(beforeReconcile),
		"tool_requested_unchanged", requestedAfterHalt == requested)
	return beforeReconcile, errors.Join(
		invariant(f6, errors.Is(haltErr, artana.ErrUnknownOutcome), "the step run again returned %v, want ErrUnknownOutcome", haltErr),
		invariant(f6, requestedAfterHalt == requested, "the halt logged a new tool_requested (%d, then %d)", requested, requestedAfterHalt),
		invariant(f6, len(beforeReconcile) == len(afterUnknown), "the halt appended events (%d, then %d)", len(afterUnknown), len(beforeReconcile)),
		invariant(f6, g.toolAttempts == 1, "the halt ran the tool again (%d attempts)", g.toolAttempts),
	)
}

// reconcile proves feature 7: ReconcileTool runs the tool again with the
// unknown attempt's idempotency key and logs its success. It returns the
// result and the events after it.
func (g *golden) reconcile(ctx context.Context, step artana.ToolStep, unknown *ledger.ToolCompleted, beforeReconcile []ledger.Event) (artana.ToolResult, []ledger.Event, error) {
	const f7 = "Feature 7 - Tool Reconciliation"
	reconciled, err := g.k.ReconcileTool(ctx, g.run, step)
	if err != nil {
		return reconciled, nil, fmt.Errorf("%s: %w", f7, err)
	}
	afterReconcile, err := g.events(ctx)
	if err != nil {
		return reconciled, nil, err
	}
	success, _ := latestToolCompletion(afterReconcile, toolName, toolStepKey)
	outcome := ledger.ToolOutcome("")
	sameKey := false
	if success != nil {
		outcome = success.Outcome
		sameKey = unknown.ReceivedIdempotencyKey != nil && success.ReceivedIdempotencyKey != nil &&
			*success.ReceivedIdempotencyKey == *unknown.ReceivedIdempotencyKey
	}
	g.feature(f7,
		"reconciled_result", reconciled.ResultJSON,
		"tool_attempts", g.toolAttempts,
		"new_event_appended", len(afterReconcile) == len(beforeReconcile)+1,
		"same_idempotency_key", sameKey,
		"latest_tool_outcome", outcome)
	return reconciled, afterReconcile, errors.Join(
		invariant(f7, outcome == ledger.OutcomeSuccess, "latest tool outcome %q, want success", outcome),
		invariant(f7, len(afterReconcile) == len(beforeReconcile)+1, "reconcile appended %d events, want 1", len(afterReconcile)-len(beforeReconcile)),
		invariant(f7, g.toolAttempts == 2, "the tool ran %d times, want 2", g.toolAttempts),
		invariant(f7, sameKey, "reconcile used another idempotency key"),
	)
}

// reconciledFromLog proves feature 8: the step now answers the reconciled
// result from the log, and the log's hash chain verifies.
func (g *golden) reconciledFromLog(ctx context.Context, step artana.ToolStep, reconciled artana.ToolResult, afterReconcile []ledger.Event) error {
	const f8 = "Feature 8 - Reconciled Tool Step Answered From the Log"
	again, err := g.k.StepTool(ctx, g.run, step)
	if err != nil {
		return fmt.Errorf("%s: %w", f8, err)
	}
	afterReplay, err := g.events(ctx)
	if err != nil {
		return err
	}
	chainErr := ledger.VerifyChain(afterReplay)
	g.feature(f8,
		"result_matches_reconcile", again.ResultJSON == reconciled.ResultJSON,
		"tool_attempts", g.toolAttempts,
		"from_log", again.FromLog,
		"seq", again.Seq,
		"event_count_unchanged", len(afterReplay) == len(afterReconcile),
		"hash_chain_verified", chainErr == nil)
	return errors.Join(
		invariant(f8, again.FromLog, "the step ran the tool instead of answering from the log"),
		invariant(f8, again.ResultJSON == reconciled.ResultJSON, "the result from the log %s differs from %s", again.ResultJSON, reconciled.ResultJSON),
		invariant(f8, g.toolAttempts == 2, "the tool ran %d times, want 2", g.toolAttempts),
		invariant(f8, len(afterReplay) == len(afterReconcile), "answering from the log appended events (%d, then %d)", len(afterReconcile), len(afterReplay)),
		invariant(f8, chainErr == nil, "the log's hash chain does not verify: %v", chainErr),
	)
}

// latestToolCompletion returns the last tool_completed answering a
// tool_requested of tool with stepKey, and that request's event id.
func latestToolCompletion(events []ledger.Event, tool, stepKey string) (*ledger.ToolCompleted, string) {
	requests := map[string]bool{}
	for _, e := range events {
		if r, ok := e.Payload.(*ledger.ToolRequested); ok && r.ToolName == tool && r.StepKey != nil && *r.StepKey == stepKey {
			requests[e.ID] = true
		}
	}
	for i := len(events) - 1; i >= 0; i-- {
		if c, ok := events[i].Payload.(*ledger.ToolCompleted); ok && c.RequestID != nil && requests[*c.RequestID] {
			return c, *c.RequestID
		}
	}
	return nil, ""
}

// countToolRequests counts the tool_requested events of tool with stepKey.
func countToolRequests(events []ledger.Event, tool, stepKey string) int {
	n := 0
	for _, e := range events {
		if r, ok := e.Payload.(*ledger.ToolRequested); ok && r.ToolName == tool && r.StepKey != nil && *r.StepKey == stepKey {
			n++
		}
	}
	return n
}

func eventTypes(events []ledger.Event) []ledger.EventType {
	types := make([]ledger.EventType, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	return types
}

func usage(u llm.Usage) string {
	return fmt.Sprintf("prompt_tokens=%d completion_tokens=%d cost_usd=%g", u.PromptTokens, u.CompletionTokens, u.CostUSD)
}
