package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/google/go-cmp/cmp"
)

type orderArgs struct {
	Order string `json:"order"`
}

// supportTools registers lookup_order (succeeds) and refund (fails with a
// permanent error for already refunded orders), counting executions.
// supportDesk returns a kernel over m with the support tools registered,
// the run runID started, and the count of the tools' executions.
func supportDesk(t testing.TB, m llm.Model, runID string, opts ...Option) (*Kernel, *ledger.MemStore, Run, *atomic.Int64) {
	k, store := newTestKernel(t, m, opts...)
	runs := new(atomic.Int64)
	supportTools(t, k.Tools(), runs)
	return k, store, mustStart(t, k, liveTenant, runID), runs
}

func supportTools(t testing.TB, tools *Tools, runs *atomic.Int64) {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(RegisterTool(tools, "lookup_order", func(_ context.Context, a orderArgs) (map[string]string, error) {
		runs.Add(1)
		return map[string]string{"order": a.Order, "status": "delivered", "email": "ann@example.com"}, nil
	}))
	must(RegisterTool(tools, "refund", func(_ context.Context, a orderArgs) (json.RawMessage, error) {
		runs.Add(1)
		return nil, PermanentToolError(fmt.Errorf("order %s was already refunded", a.Order))
	}, WithCapability("finance:write")))
}

// scriptedTurns is a model that answers turn N (counted by the tool
// messages it receives) with script[N-1], checking the conversation.
type scriptedTurns struct {
	script []llm.Response
	calls  atomic.Int64
	reqs   []llm.Request
}

func (m *scriptedTurns) Complete(_ context.Context, req llm.Request) (llm.Response, error) {
	n := m.calls.Add(1)
	m.reqs = append(m.reqs, req)
	if int(n) > len(m.script) {
		return m.script[len(m.script)-1], nil
	}
	return m.script[n-1], nil
}

func supportScript() *scriptedTurns {
	return &scriptedTurns{script: []llm.Response{
		{ToolCalls: []ledger.ToolCall{
			{ID: "call_v6Lac", ToolName: "lookup_order", ArgumentsJSON: `{"order": "A-17"}`},
			{ID: "call_onyWz", ToolName: "refund", ArgumentsJSON: `{"order": "A-17"}`},
		}, Usage: llm.Usage{PromptTokens: 75, CompletionTokens: 53, CostUSD: 0.001}},
		{OutputJSON: `{"approved":false,"reason":"already refunded"}`, Usage: llm.Usage{PromptTokens: 149, CompletionTokens: 32, CostUSD: 0.002}},
	}}
}

var supportLoop = ToolLoop{Model: "gpt-4o", StepKey: "support",
	Messages: []ledger.ChatMessage{{Role: "system", Content: "Support desk."}, {Role: "user", Content: "Refund order A-17."}}}

func TestToolLoop(t *testing.T) {
	m := supportScript()
	k, store, run, runs := supportDesk(t, m, "ticket-7")

	res, err := RunToolLoop[Decision](tctx, k, run, supportLoop)
	if err != nil {
		t.Fatal(err)
	}
	wantRes := res // the usage and the messages are checked below
	wantRes.Output, wantRes.Turns, wantRes.FromLog = Decision{Approved: false, Reason: "already refunded"}, 2, false
	if d := cmp.Diff(wantRes, res); d != "" || runs.Load() != 2 {
		t.Fatalf("result, %d tool runs (want 2) (-want +got):\n%s", runs.Load(), d)
	}
	if d := cmp.Diff(llm.Usage{PromptTokens: 75 + 149, CompletionTokens: 53 + 32, CostUSD: 0.001 + 0.002}, res.Usage); d != "" {
		t.Errorf("usage, want the sum of both turns (-want +got):\n%s", d)
	}
	want := append(supportLoop.Messages[:2:2],
		ledger.ChatMessage{Role: "assistant", ToolCalls: m.script[0].ToolCalls},
		ledger.ChatMessage{Role: "tool", ToolCallID: "call_v6Lac", Content: `{"email":"ann@example.com","order":"A-17","status":"delivered"}`},
		ledger.ChatMessage{Role: "tool", ToolCallID: "call_onyWz", Content: `{"error":"order A-17 was already refunded","outcome":"permanent_error"}`},
	)
	// The second turn was sent the whole conversation, the failure included.
	if diff := cmp.Diff(want, m.reqs[1].Messages); diff != "" {
		t.Errorf("turn-2 messages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(append(want, ledger.ChatMessage{Role: "assistant", Content: res.OutputJSON}), res.Messages); diff != "" {
		t.Errorf("result messages (-want +got):\n%s", diff)
	}
	types := eventTypes(t, store, run.ID)
	wantTypes := []ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested, ledger.EventModelCompleted,
		ledger.EventToolRequested, ledger.EventToolCompleted, ledger.EventToolRequested, ledger.EventToolCompleted,
		ledger.EventModelRequested, ledger.EventModelCompleted}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[2].Payload.(*ledger.ModelCompleted).ToolCalls; !cmp.Equal(got, m.script[0].ToolCalls) {
		t.Errorf("logged tool calls %v, want them with their ids", got)
	}
	req := events[3].Payload.(*ledger.ToolRequested)
	wantReq := *req // the tool and its arguments are checked through the result
	wantReq.StepKey, wantReq.IdempotencyKey = new("support/call_v6Lac"), idempotencyKey(run.ID, "support/call_v6Lac", 0)
	if d := cmp.Diff(&wantReq, req); d != "" {
		t.Errorf("tool request: want the step key and idempotency key of run and call id (-want +got):\n%s", d)
	}
	if got := *events[1].Payload.(*ledger.ModelRequested).StepKey; got != "support/turn-1" {
		t.Errorf("turn-1 step key %q", got)
	}

	// Replayed on a new kernel with no model and tools that fail when
	// called: nothing runs, nothing is appended, the result is equal.
	n := len(types)
	replayer := New(store, nil, WithTools(k.Tools()))
	again, err := RunToolLoop[Decision](tctx, replayer, run, supportLoop)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if !again.FromLog || runs.Load() != 2 || m.calls.Load() != 2 || len(eventTypes(t, store, run.ID)) != n {
		t.Errorf("replay ran something: from log %v, tool runs %d, model calls %d", again.FromLog, runs.Load(), m.calls.Load())
	}
	again.FromLog = res.FromLog
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("replayed result (-live +replayed):\n%s", diff)
	}
}

func TestToolLoopStopOnToolError(t *testing.T) {
	m := supportScript()
	k, store, run, _ := supportDesk(t, m, "stop")
	loop := supportLoop
	loop.StopOnToolError = true
	_, err := RunToolLoop[Decision](tctx, k, run, loop)
	e := wantKind(t, err, ErrToolFailed)
	var te *ToolError
	if !errors.As(err, &te) {
		t.Fatalf("error %v holds no *ToolError", err)
	}
	type failure struct {
		Tool  string
		Error toolErrorText
	}
	got := failure{e.Tool, textOf(te)}
	want := failure{"refund", toolErrorText{ledger.OutcomePermanentError, "order A-17 was already refunded"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("error %v: want the refund's permanent failure (-want +got):\n%s", err, d)
	}
	if m.calls.Load() != 1 {
		t.Errorf("model called %d times, want 1: the loop stops at the failure", m.calls.Load())
	}
	// Replayed, it stops the same way, with the same error.
	_, again := RunToolLoop[Decision](tctx, New(store, nil, WithTools(k.Tools())), run, loop)
	if again == nil || again.Error() != err.Error() {
		t.Errorf("replayed error %v, want %v", again, err)
	}
}

func TestToolLoopTurnLimit(t *testing.T) {
	always := &scriptedTurns{script: []llm.Response{{ToolCalls: []ledger.ToolCall{{ToolName: "lookup_order", ArgumentsJSON: `{"order":"A-1"}`}}}}}
	k, store, run, runs := supportDesk(t, always, "limit")
	loop := ToolLoop{Model: "m", Prompt: "look it up", MaxTurns: 3}
	_, err := RunToolLoop[Decision](tctx, k, run, loop)
	var tl *TurnLimitError
	if !errors.As(err, &tl) {
		t.Fatalf("error %v, want a *TurnLimitError", err)
	}
	wantTL := TurnLimitError{RunID: run.ID, Limit: 3, Seq: 11, Pending: []ledger.ToolCall{{ID: "call_3_1", ToolName: "lookup_order", ArgumentsJSON: `{"order":"A-1"}`}}}
	if d := cmp.Diff(wantTL, *tl); d != "" {
		t.Fatalf("turn limit error (-want +got):\n%s", d)
	}
	if !strings.Contains(err.Error(), "turn limit 3") || !strings.Contains(err.Error(), "lookup_order") || !strings.Contains(err.Error(), "MaxTurns") {
		t.Errorf("error %q does not name the limit, the call and the fix", err)
	}
	events, readErr := store.Events(tctx, run.ID, 0)
	if readErr != nil {
		t.Fatal(readErr)
	}
	if last := events[len(events)-1]; last.Type != ledger.EventModelCompleted || last.Seq != tl.Seq {
		t.Errorf("last event %s seq %d, want the model_completed of turn 3 (seq %d): the pending calls are not run", last.Type, last.Seq, tl.Seq)
	}
	if runs.Load() != 2 {
		t.Errorf("%d tool runs, want 2 (turns 1 and 2)", runs.Load())
	}
	// Ids the model did not give are made from turn and position, the
	// same on replay.
	req := events[3].Payload.(*ledger.ToolRequested)
	if *req.StepKey != "tool-loop/call_1_1" {
		t.Errorf("step key %q, want tool-loop/call_1_1", *req.StepKey)
	}
	_, again := RunToolLoop[Decision](tctx, New(store, nil, WithTools(k.Tools())), run, loop)
	if again == nil || again.Error() != err.Error() {
		t.Errorf("replayed: %v, want %v", again, err)
	}
	if _, err := RunToolLoop[Decision](tctx, k, run, ToolLoop{Model: "m", Prompt: "x", MaxTurns: -1}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("negative MaxTurns: %v", err)
	}
}

// TestToolLoopReusedCallID: a turn whose calls reuse an id (of an earlier
// turn, or twice in the turn) ends the loop with an error naming the turn
// and the id, before any call of that turn runs, the same on replay.
func TestToolLoopReusedCallID(t *testing.T) {
	first := ledger.ToolCall{ID: "call_a", ToolName: "lookup_order", ArgumentsJSON: `{"order":"A-1"}`}
	for name, tc := range map[string]struct {
		script []llm.Response
		where  string
		runs   int64
	}{
		"in a later turn": {[]llm.Response{
			{ToolCalls: []ledger.ToolCall{first}},
			{ToolCalls: []ledger.ToolCall{{ID: "call_a", ToolName: "lookup_order", ArgumentsJSON: `{"order":"B-2"}`}}},
		}, "turn 2", 1},
		"twice in a turn": {[]llm.Response{
			{ToolCalls: []ledger.ToolCall{first, {ID: "call_a", ToolName: "lookup_order", ArgumentsJSON: `{"order":"B-2"}`}}},
		}, "turn 1", 0},
	} {
		t.Run(name, func(t *testing.T) {
			k, store, run, runs := supportDesk(t, &scriptedTurns{script: tc.script}, "reuse")
			_, err := RunToolLoop[Decision](tctx, k, run, ToolLoop{Model: "m", Prompt: "x"})
			var me *ledger.MessageError
			if !errors.Is(err, ErrInvalidInput) || !errors.As(err, &me) || me.ToolCallID != "call_a" || !strings.Contains(err.Error(), tc.where) {
				t.Fatalf("error %v, want ErrInvalidInput with a *MessageError for call_a naming %s", err, tc.where)
			}
			if runs.Load() != tc.runs {
				t.Errorf("%d tool runs, want %d: no call of the turn runs", runs.Load(), tc.runs)
			}
			events, readErr := store.Events(tctx, run.ID, 0)
			if readErr != nil {
				t.Fatal(readErr)
			}
			if last := events[len(events)-1]; last.Type != ledger.EventModelCompleted {
				t.Errorf("last event %s, want the model_completed of the turn", last.Type)
			}
			_, again := RunToolLoop[Decision](tctx, New(store, nil, WithTools(k.Tools())), run, ToolLoop{Model: "m", Prompt: "x"})
			if again == nil || again.Error() != err.Error() {
				t.Errorf("replayed: %v, want %v", again, err)
			}
		})
	}
}

// TestToolLoopBadCalls: a call of a tool the loop does not offer, and
// arguments that do not fit, go back to the model as errors.
func TestToolLoopBadCalls(t *testing.T) {
	m := &scriptedTurns{script: []llm.Response{
		{ToolCalls: []ledger.ToolCall{
			{ID: "c1", ToolName: "delete_everything", ArgumentsJSON: `{}`},
			{ID: "c2", ToolName: "lookup_order", ArgumentsJSON: `{"order": 17}`},
			{ID: "c3", ToolName: "refund", ArgumentsJSON: `{"order":"A-1"}`},
		}},
		{OutputJSON: `{"approved":true,"reason":"x"}`},
	}}
	k, store, run, runs := supportDesk(t, m, "bad-calls")
	loop := ToolLoop{Model: "m", Prompt: "go", Tools: []string{"lookup_order"}}
	res, err := RunToolLoop[Decision](tctx, k, run, loop)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Messages[2:5]
	for i, want := range []string{`{"error":"tool \"delete_everything\" is not available"}`, `"invalid arguments: arguments {\"order\":17} do not fit`, `{"error":"tool \"refund\" is not available"}`} {
		if !strings.Contains(got[i].Content, want) || got[i].ToolCallID != m.script[0].ToolCalls[i].ID {
			t.Errorf("tool message %d = %+v, want it to answer %s with %s", i, got[i], m.script[0].ToolCalls[i].ID, want)
		}
	}
	if runs.Load() != 0 {
		t.Errorf("%d tool runs, want none", runs.Load())
	}
	if types := eventTypes(t, store, run.ID); len(types) != 5 {
		t.Errorf("events %v, want only the two model steps", types)
	}
	if again, err := RunToolLoop[Decision](tctx, New(store, nil, WithTools(k.Tools())), run, loop); err != nil || !cmp.Equal(again.Messages, res.Messages) {
		t.Errorf("replay: %v, %v", again.Messages, err)
	}
	loop.StopOnToolError = true
	m.calls.Store(0)
	_, err = RunToolLoop[Decision](tctx, k, mustStart(t, k, liveTenant, "bad-calls-stop"), loop)
	wantKind(t, err, ErrToolNotFound)
}

// TestToolLoopCapabilities: a tool the tenant may not use is not offered,
// and a call of it goes back to the model as unavailable, without running.
func TestToolLoopCapabilities(t *testing.T) {
	m := supportScript()
	k, store := newTestKernel(t, m)
	var runs atomic.Int64
	supportTools(t, k.Tools(), &runs)
	run := mustStart(t, k, Tenant{ID: "org_readonly"}, "readonly")
	res, err := RunToolLoop[Decision](tctx, k, run, supportLoop)
	if err != nil {
		t.Fatal(err)
	}
	if got := toolNames(m.reqs[0].Tools); !cmp.Equal(got, []string{"lookup_order"}) {
		t.Errorf("offered %v, want lookup_order only", got)
	}
	if c := res.Messages[4].Content; c != `{"error":"tool \"refund\" is not available"}` || runs.Load() != 1 {
		t.Errorf("refund answered %s after %d tool runs; want not available, 1 run", c, runs.Load())
	}
	if n := len(eventTypes(t, store, run.ID)); n != 7 {
		t.Errorf("%d events, want 7 (no tool step for refund)", n)
	}
}

// TestToolLoopHaltsOnUnknownOutcome: a crash between a tool request and its
// completion halts the loop on the next run, without running the tool.
func TestToolLoopHaltsOnUnknownOutcome(t *testing.T) {
	m := supportScript()
	k, store, run, runs := supportDesk(t, m, "crash")
	crashed := New(dropCompletion{store, "refund"}, m, WithTools(k.Tools()))
	if _, err := RunToolLoop[Decision](tctx, crashed, run, supportLoop); err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("crashed loop: %v", err)
	}
	if runs.Load() != 2 {
		t.Fatalf("%d tool runs before the crash, want 2", runs.Load())
	}
	for _, kk := range []*Kernel{k, New(store, m, WithTools(k.Tools()))} {
		_, err := RunToolLoop[Decision](tctx, kk, run, supportLoop)
		if e := wantKind(t, err, ErrUnknownOutcome); e.Tool != "refund" {
			t.Errorf("halt names tool %q, want refund", e.Tool)
		}
		if runs.Load() != 2 || m.calls.Load() != 1 {
			t.Errorf("after the halt: %d tool runs, %d model calls; want 2 and 1", runs.Load(), m.calls.Load())
		}
	}
	// The error says how to reconcile; once reconciled, the loop goes on.
	_, err := RunToolLoop[Decision](tctx, k, run, supportLoop)
	want := `ReconcileTool(ctx, run, ToolStep{Tool: "refund", Args: {"order": "A-17"}, StepKey: "support/call_onyWz"})`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("halt %v, want it to say %s", err, want)
	}
	_, err = k.ReconcileTool(tctx, run, ToolStep{Tool: "refund", Args: `{"order": "A-17"}`, StepKey: "support/call_onyWz"})
	wantKind(t, err, ErrToolFailed) // the refund fails again, now with a known outcome
	res, err := RunToolLoop[Decision](tctx, k, run, supportLoop)
	if err != nil {
		t.Fatalf("after reconciling: %v", err)
	}
	got := struct{ Turns, ToolRuns, ModelCalls int64 }{int64(res.Turns), runs.Load(), m.calls.Load()}
	if d := cmp.Diff(struct{ Turns, ToolRuns, ModelCalls int64 }{2, 3, 2}, got); d != "" {
		t.Errorf("after reconciling (-want +got):\n%s", d)
	}
}

type dropCompletion struct {
	ledger.Store
	tool string
}

func (s dropCompletion) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	if c, ok := p.(*ledger.ToolCompleted); ok && c.ToolName == s.tool {
		return ledger.Event{}, errors.New("simulated crash before tool_completed")
	}
	return s.Store.Append(ctx, runID, tenantID, p)
}

// TestToolLoopMiddleware: the kernel's middleware applies to every turn:
// the PII scrubber to the tool messages of turn 2, the budget to each
// model call.
func TestToolLoopMiddleware(t *testing.T) {
	m := supportScript()
	k, store, run, runs := supportDesk(t, m, "mw", WithMiddleware(DefaultMiddleware()...))
	if _, err := RunToolLoop[Decision](tctx, k, run, supportLoop); err != nil {
		t.Fatal(err)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	turn2 := events[7].Payload.(*ledger.ModelRequested)
	if c := turn2.Messages[3].Content; strings.Contains(c, "ann@example.com") || !strings.Contains(c, "[REDACTED_EMAIL]") {
		t.Errorf("turn-2 tool message logged as %q, want the e-mail scrubbed", c)
	}
	if c := m.reqs[1].Messages[3]; strings.Contains(c.Content, "ann@example.com") || c.ToolCallID != "call_v6Lac" {
		t.Errorf("turn-2 tool message sent as %+v, want it scrubbed and still answering its call", c)
	}
	// A budget spent by turn 1 stops turn 2 before the model is called.
	poor := Tenant{ID: "org_poor", Capabilities: liveTenant.Capabilities, BudgetUSD: 0.001}
	m2 := supportScript()
	k2, _ := newTestKernel(t, m2, WithMiddleware(DefaultMiddleware()...))
	supportTools(t, k2.Tools(), runs)
	_, err = RunToolLoop[Decision](tctx, k2, mustStart(t, k2, poor, "poor"), supportLoop)
	if !errors.Is(err, ErrBudgetExceeded) || m2.calls.Load() != 1 {
		t.Errorf("budget: %v after %d model calls, want ErrBudgetExceeded after 1", err, m2.calls.Load())
	}
}

func TestToolLoopStringOutput(t *testing.T) {
	m := &scriptedTurns{script: []llm.Response{
		{ToolCalls: []ledger.ToolCall{{ID: "c1", ToolName: "lookup_order", ArgumentsJSON: `{"order":"A-1"}`}}},
		{OutputJSON: `"It was delivered."`},
	}}
	k, _ := newTestKernel(t, m)
	var runs atomic.Int64
	supportTools(t, k.Tools(), &runs)
	var deltas []llm.Delta
	res, err := RunToolLoop[string](tctx, k, mustStart(t, k, liveTenant, "text"), ToolLoop{Model: "m", Prompt: "where is A-1?",
		OnDelta: func(d llm.Delta) error { deltas = append(deltas, d); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	wantDeltas := []llm.Delta{
		{ToolCalls: []llm.ToolCallDelta{{ID: "c1", ToolName: "lookup_order", ArgumentsJSON: `{"order":"A-1"}`}}, Usage: &llm.Usage{}},
		{Text: "It was delivered.", Usage: &llm.Usage{}},
	}
	if d := cmp.Diff(wantDeltas, deltas); d != "" {
		t.Errorf("streamed deltas: want one per turn, the call, then the text (-want +got):\n%s", d)
	}
	wantLast := ledger.ChatMessage{Role: "assistant", Content: "It was delivered."}
	if d := cmp.Diff(wantLast, res.Messages[len(res.Messages)-1]); d != "" || res.Output != "It was delivered." {
		t.Errorf("output %q, want the text unquoted; last message (-want +got):\n%s", res.Output, d)
	}
}

// BenchmarkToolLoopReplay measures replaying a whole tool loop from the
// log on a freshly started kernel (as after a restart): N turns of two
// parallel calls each, then the answer.
func BenchmarkToolLoopReplay(b *testing.B) {
	for _, turns := range []int{2, 8} {
		b.Run(fmt.Sprintf("turns=%d", turns), func(b *testing.B) {
			n := 0
			model := llm.ModelFunc(func(_ context.Context, req llm.Request) (llm.Response, error) {
				n++
				if n < turns {
					return llm.Response{ToolCalls: []ledger.ToolCall{
						{ID: fmt.Sprintf("call_%d_a", n), ToolName: "lookup_order", ArgumentsJSON: fmt.Sprintf(`{"order":"A-%d"}`, n)},
						{ID: fmt.Sprintf("call_%d_b", n), ToolName: "refund", ArgumentsJSON: fmt.Sprintf(`{"order":"A-%d"}`, n)},
					}}, nil
				}
				return llm.Response{OutputJSON: `{"approved":true,"reason":"done"}`}, nil
			})
			store := ledger.NewMemStore()
			var runs atomic.Int64
			tools := NewTools()
			supportTools(b, tools, &runs)
			k := New(store, model, WithTools(tools))
			run, err := k.StartRun(tctx, liveTenant, "bench")
			if err != nil {
				b.Fatal(err)
			}
			loop := ToolLoop{Model: "m", Prompt: "go", MaxTurns: turns}
			if _, err := RunToolLoop[Decision](tctx, k, run, loop); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r := New(store, nil, WithTools(tools))
				res, err := RunToolLoop[Decision](tctx, r, run, loop)
				if err != nil || !res.FromLog {
					b.Fatal(res, err)
				}
			}
		})
	}
}
