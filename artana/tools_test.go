package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type echoArgs struct {
	Text string `json:"text"`
}

type echoResult struct {
	Echo string `json:"echo"`
	HTML string `json:"html"`
}

func newToolKernel(t *testing.T, fn ToolFunc[echoArgs, echoResult]) (*Kernel, *ledger.MemStore, Run) {
	t.Helper()
	k, store := newTestKernel(t, nil)
	if err := RegisterTool(k.Tools(), "echo", fn); err != nil {
		t.Fatal(err)
	}
	return k, store, mustStart(t, k, liveTenant, "r1")
}

func lastCompletion(t *testing.T, s ledger.Store, runID string) *ledger.ToolCompleted {
	t.Helper()
	events, err := s.Events(tctx, runID, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := events[len(events)-1].Payload.(*ledger.ToolCompleted)
	if !ok {
		t.Fatalf("last event is %s, want tool_completed", events[len(events)-1].Type)
	}
	return p
}

func TestToolSuccessAndExecutionContext(t *testing.T) {
	var seen *ToolExecution
	k, store, run := newToolKernel(t, func(ctx context.Context, a echoArgs) (echoResult, error) {
		x, ok := ToolExecutionFrom(ctx)
		if !ok {
			return echoResult{}, errors.New("no execution context")
		}
		seen = x
		x.SetEffectID("eff-1")
		return echoResult{Echo: a.Text, HTML: "<b>&</b>"}, nil
	})
	res, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: map[string]any{"text": "héllo"}})
	if err != nil {
		t.Fatal(err)
	}
	// Without a step key the idempotency key derives from the request's
	// seq (2).
	key := idempotencyKey("r1", "", 2)
	if diff := cmp.Diff(ToolResult{RunID: "r1", Seq: 3, Tool: "echo", ResultJSON: `{"echo":"héllo","html":"<b>&</b>"}`, IdempotencyKey: key}, res); diff != "" {
		t.Fatalf("result (-want +got):\n%s", diff)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantReq := &ledger.ToolRequested{ToolName: "echo", ArgumentsJSON: `{"text":"h\u00e9llo"}`, IdempotencyKey: key, ToolVersion: "1.0.0", SchemaVersion: "1"}
	if diff := cmp.Diff(wantReq, events[1].Payload); diff != "" {
		t.Fatalf("tool_requested (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&ToolExecution{RunID: "r1", Tenant: liveTenant, ToolName: "echo", IdempotencyKey: key,
		RequestEventID: events[1].ID, ToolVersion: "1.0.0", SchemaVersion: "1"}, seen, cmpopts.IgnoreUnexported(ToolExecution{})); diff != "" {
		t.Fatalf("execution (-want +got):\n%s", diff)
	}
	done := events[2].Payload.(*ledger.ToolCompleted)
	if diff := cmp.Diff(&ledger.ToolCompleted{ToolName: "echo", ResultJSON: res.ResultJSON, Outcome: ledger.OutcomeSuccess,
		ReceivedIdempotencyKey: new(key), EffectID: new("eff-1"), RequestID: new(events[1].ID)}, done); diff != "" {
		t.Fatalf("tool_completed (-want +got):\n%s", diff)
	}
	// Arguments given as JSON text match the same request.
	again, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: `{ "text" : "h\u00e9llo" }`})
	if err != nil || !again.FromLog || again.ResultJSON != res.ResultJSON {
		t.Fatal(again, err)
	}
	if _, ok := ToolExecutionFrom(tctx); ok {
		t.Fatal("execution context outside a tool")
	}
}

func TestToolOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		panics  bool
		outcome ledger.ToolOutcome
		kinds   []error
	}{
		{"transient", TransientToolError(errors.New("rate limited")), false, ledger.OutcomeTransientError, []error{ErrToolFailed}},
		{"permanent", fmt.Errorf("wrapped: %w", PermanentToolError(errors.New("account closed"))), false, ledger.OutcomePermanentError, []error{ErrToolFailed}},
		{"plain error is unknown", errors.New("connection reset"), false, ledger.OutcomeUnknown, []error{ErrToolFailed, ErrUnknownOutcome}},
		{"explicit unknown", &ToolError{Outcome: ledger.OutcomeUnknown, Err: errors.New("timeout")}, false, ledger.OutcomeUnknown, []error{ErrUnknownOutcome}},
		{"panic is unknown", nil, true, ledger.OutcomeUnknown, []error{ErrUnknownOutcome}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			k, store, run := newToolKernel(t, func(context.Context, echoArgs) (echoResult, error) {
				calls++
				if tc.panics {
					panic("boom")
				}
				return echoResult{}, tc.err
			})
			step := ToolStep{Tool: "echo", Args: echoArgs{"x"}, StepKey: "s"}
			_, err := k.StepTool(tctx, run, step)
			te := checkToolFailure(t, err, store, run.ID, tc.outcome, tc.panics, tc.kinds)
			// Failed outcomes replay as failures, without running the tool,
			// with an equal error.
			live := err
			n := len(eventTypes(t, store, run.ID))
			_, err = k.StepTool(tctx, run, step)
			wantKind(t, err, tc.kinds...)
			if err.Error() != live.Error() || calls != 1 || len(eventTypes(t, store, run.ID)) != n {
				t.Fatalf("replayed failure %v (live: %v), calls %d", err, live, calls)
			}
			var rte *ToolError
			if !errors.As(err, &rte) {
				t.Fatalf("replayed: %v holds no *ToolError", err)
			}
			if d := cmp.Diff(textOf(te), textOf(rte)); d != "" {
				t.Fatalf("the replayed *ToolError (-live +replayed):\n%s", d)
			}
			// Only an unknown outcome can be reconciled.
			_, err = k.ReconcileTool(tctx, run, step)
			if tc.outcome == ledger.OutcomeUnknown {
				wantKind(t, err, ErrUnknownOutcome) // the tool fails the same way again
				if calls != 2 {
					t.Fatalf("reconcile did not re-run the tool")
				}
			} else {
				wantKind(t, err, ErrToolFailed)
				if calls != 1 || len(eventTypes(t, store, run.ID)) != n {
					t.Fatal("reconcile of a transient/permanent failure ran the tool or logged")
				}
			}
		})
	}
}

// checkToolFailure checks the error of a tool step that failed live with
// outcome (panics: the tool panicked) and its tool_completed event: both
// name the tool, the outcome and the tool's message. It returns the
// error's *ToolError.
func checkToolFailure(t *testing.T, err error, store ledger.Store, runID string, outcome ledger.ToolOutcome, panics bool, kinds []error) *ToolError {
	t.Helper()
	e := wantKind(t, err, kinds...)
	wantE := *e // Op, Kind, Msg and Err are checked through the kinds and the ToolError below
	wantE.RunID, wantE.Seq, wantE.Tool, wantE.Outcome = "r1", 3, "echo", outcome
	if d := cmp.Diff(wantE, *e, cmpopts.EquateErrors()); d != "" {
		t.Fatalf("error (-want +got):\n%s", d)
	}
	done := lastCompletion(t, store, runID)
	if done.ErrorMessage == nil {
		t.Fatalf("completion %+v has no error message", done)
	}
	wantDone := *done // the request's id and key are checked elsewhere
	wantDone.ToolName, wantDone.Outcome, wantDone.ResultJSON, wantDone.EffectID = "echo", outcome, "", nil
	if d := cmp.Diff(&wantDone, done); d != "" {
		t.Fatalf("completion (-want +got):\n%s", d)
	}
	if panics && !strings.Contains(*done.ErrorMessage, "tool panicked: boom") {
		t.Fatalf("panic message %q", *done.ErrorMessage)
	}
	// The error holds the tool's outcome and message.
	var te *ToolError
	if !errors.As(err, &te) {
		t.Fatalf("%v holds no *ToolError", err)
	}
	if d := cmp.Diff(toolErrorText{outcome, *done.ErrorMessage}, textOf(te)); d != "" {
		t.Fatalf("the *ToolError (-want +got):\n%s", d)
	}
	return te
}

// A tool_requested without completion (a crash while the tool ran) is
// logged as unknown_outcome and halts; ReconcileTool re-runs it with the
// logged idempotency key.
func TestPendingToolRequest(t *testing.T) {
	var keys []string
	k, store, run := newToolKernel(t, func(ctx context.Context, a echoArgs) (echoResult, error) {
		x, _ := ToolExecutionFrom(ctx)
		keys = append(keys, x.IdempotencyKey)
		return echoResult{Echo: a.Text}, nil
	})
	crashed, err := store.Append(tctx, run.ID, run.Tenant.ID, &ledger.ToolRequested{ToolName: "echo", ArgumentsJSON: `{"text":"x"}`,
		IdempotencyKey: "key-from-the-crashed-process", ToolVersion: "1.0.0", SchemaVersion: "1", StepKey: new("s")})
	if err != nil {
		t.Fatal(err)
	}
	step := ToolStep{Tool: "echo", Args: echoArgs{"x"}, StepKey: "s"}
	_, err = k.StepTool(tctx, run, step)
	if e := wantKind(t, err, ErrUnknownOutcome); e.Seq != crashed.Seq {
		t.Fatalf("error %v", err)
	}
	done := lastCompletion(t, store, run.ID)
	want := *done // only the outcome and what names the crashed request are checked here
	want.Outcome, want.RequestID, want.ReceivedIdempotencyKey = ledger.OutcomeUnknown, &crashed.ID, new("key-from-the-crashed-process")
	if d := cmp.Diff(&want, done); d != "" {
		t.Fatalf("completion (-want +got):\n%s", d)
	}
	if len(keys) != 0 {
		t.Fatal("the tool ran before reconciliation")
	}
	_, err = k.StepTool(tctx, run, step)
	wantKind(t, err, ErrUnknownOutcome)
	res, err := k.ReconcileTool(tctx, run, step)
	if err != nil || res.ResultJSON != `{"echo":"x","html":""}` || fmt.Sprint(keys) != "[key-from-the-crashed-process]" {
		t.Fatal(res, err, keys)
	}
	res2, err := k.StepTool(tctx, run, step)
	if err != nil || !res2.FromLog || res2.Seq != res.Seq {
		t.Fatal(res2, err)
	}

	// ReconcileTool on a pending request logs unknown_outcome itself first.
	if _, err := store.Append(tctx, run.ID, run.Tenant.ID, &ledger.ToolRequested{ToolName: "echo", ArgumentsJSON: `{"text":"y"}`,
		IdempotencyKey: "k2", ToolVersion: "1.0.0", SchemaVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.ReconcileTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"y"}}); err != nil {
		t.Fatal(err)
	}
	types := eventTypes(t, store, run.ID)
	if got := fmt.Sprint(types[len(types)-3:]); got != "[tool_requested tool_completed tool_completed]" {
		t.Fatalf("events end with %s", got)
	}
}

func TestToolAccessChecks(t *testing.T) {
	calls := 0
	k, store := newTestKernel(t, nil)
	registerTransfer(t, k, func(context.Context, TransferArgs) (json.RawMessage, error) {
		calls++
		return json.RawMessage(`{"ok":true}`), nil
	})
	poor := Tenant{ID: "org_poor"}
	run := mustStart(t, k, poor, "r1")
	_, err := k.StepTool(tctx, run, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"a", "1"}})
	if e := wantKind(t, err, ErrCapabilityDenied); !strings.Contains(e.Msg, `"finance:write"`) {
		t.Fatalf("error %v", err)
	}
	_, err = k.ReconcileTool(tctx, run, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"a", "1"}})
	wantKind(t, err, ErrCapabilityDenied)
	_, err = k.StepTool(tctx, run, ToolStep{Tool: "nope", Args: TransferArgs{"a", "1"}})
	wantKind(t, err, ErrToolNotFound)

	rich := mustStart(t, k, liveTenant, "r2")
	for _, args := range []any{
		nil,
		`[1,2]`,
		`{"account_id":"a"}`,            // missing amount
		`{"account_id":"a","amount":1}`, // wrong type
		`{"account_id":"a","amount":"1","memo":"hi"}`, // unknown field
		`{not json`,
		func() {},
	} {
		_, err = k.StepTool(tctx, rich, ToolStep{Tool: "submit_transfer", Args: args})
		wantKind(t, err, ErrInvalidInput)
	}
	_, err = k.ReconcileTool(tctx, rich, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"a", "1"}})
	wantKind(t, err, ErrToolRequestNotFound)
	if calls != 0 || len(eventTypes(t, store, "r1")) != 1 || len(eventTypes(t, store, "r2")) != 1 {
		t.Fatal("refused steps ran the tool or logged events")
	}
}

func TestToolStepMatching(t *testing.T) {
	calls := 0
	k, _, run := newToolKernel(t, func(_ context.Context, a echoArgs) (echoResult, error) {
		calls++
		return echoResult{Echo: a.Text}, nil
	})
	steps := []ToolStep{
		{Tool: "echo", Args: echoArgs{"a"}},
		{Tool: "echo", Args: echoArgs{"b"}},
		{Tool: "echo", Args: echoArgs{"a"}, StepKey: "k1"},
		{Tool: "echo", Args: echoArgs{"a"}, StepKey: "k2"},
	}
	for _, s := range steps {
		if res, err := k.StepTool(tctx, run, s); err != nil || res.FromLog {
			t.Fatal(res, err)
		}
	}
	for _, s := range steps {
		if res, err := k.StepTool(tctx, run, s); err != nil || !res.FromLog {
			t.Fatal(res, err)
		}
	}
	if calls != len(steps) {
		t.Fatalf("tool ran %d times, want %d", calls, len(steps))
	}
}

func TestToolLogConsistency(t *testing.T) {
	req := func(seq int64, id string) ledger.Event {
		return ledger.Event{ID: id, RunID: "r", TenantID: "org_live", Seq: seq, Type: ledger.EventToolRequested,
			Payload: &ledger.ToolRequested{ToolName: "echo", ArgumentsJSON: `{"text":"` + id + `"}`, IdempotencyKey: id, ToolVersion: "1.0.0", SchemaVersion: "1"}}
	}
	done := func(seq int64, requestID *string, tool string) ledger.Event {
		return ledger.Event{ID: fmt.Sprint("d", seq), RunID: "r", TenantID: "org_live", Seq: seq, Type: ledger.EventToolCompleted,
			Payload: &ledger.ToolCompleted{ToolName: tool, ResultJSON: `{"legacy":true}`, Outcome: ledger.OutcomeSuccess, RequestID: requestID}}
	}
	start := ledger.Event{ID: "s", RunID: "r", TenantID: "org_live", Seq: 1, Type: ledger.EventRunStarted, Payload: &ledger.RunStarted{}}
	newK := func(events ...ledger.Event) *Kernel {
		k := New(&sliceStore{events: sealChain(events...)}, nil)
		if err := RegisterTool(k.Tools(), "echo", func(context.Context, echoArgs) (echoResult, error) {
			return echoResult{}, errors.New("must not run")
		}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	run := Run{ID: "r", Tenant: liveTenant}

	// Legacy completions (no request_id) pair with requests in order.
	k := newK(start, req(2, "a"), req(3, "b"), done(4, nil, "echo"), done(5, nil, "echo"))
	for _, text := range []string{"a", "b"} {
		res, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{text}})
		if err != nil || !res.FromLog || res.ResultJSON != `{"legacy":true}` {
			t.Fatal(text, res, err)
		}
	}
	// A completion naming an unknown request breaks every tool step.
	k = newK(start, req(2, "a"), done(3, new("zzz"), "echo"))
	_, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"a"}})
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 3 {
		t.Fatal(err)
	}
	// More legacy completions than requests.
	k = newK(start, done(2, nil, "echo"))
	_, err = k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"a"}})
	wantKind(t, err, ErrReplayMismatch)
	// A completion for another tool than the request.
	k = newK(start, req(2, "a"), done(3, new("a"), "other"))
	_, err = k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"a"}})
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 3 {
		t.Fatal(err)
	}
}

func TestRegisterTool(t *testing.T) {
	reg := NewTools()
	ok := func(context.Context, echoArgs) (string, error) { return "", nil }
	if err := RegisterTool(reg, "echo", ok, WithVersions("2.0.0", "3")); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"duplicate":   RegisterTool(reg, "echo", ok),
		"bad name":    RegisterTool(reg, "no spaces", ok),
		"empty name":  RegisterTool(reg, "", ok),
		"nil func":    RegisterTool[echoArgs, string](reg, "nilfn", nil),
		"bad argtype": RegisterTool(reg, "chan", func(context.Context, chan int) (string, error) { return "", nil }),
	} {
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err %v, want ErrInvalidInput", name, err)
		}
	}
	if defs := reg.Definitions(); len(defs) != 1 || string(defs[0].Schema) !=
		`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}` {
		t.Fatalf("definitions %+v", defs)
	}
	// Versions are logged with each request.
	k, store := newTestKernel(t, nil, WithTools(reg))
	run := mustStart(t, k, liveTenant, "r1")
	res, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"x"}})
	if err != nil || res.ResultJSON != `""` {
		t.Fatal(res, err)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := events[1].Payload.(*ledger.ToolRequested)
	want := *p // the tool, arguments and keys are checked elsewhere
	want.ToolVersion, want.SchemaVersion = "2.0.0", "3"
	if d := cmp.Diff(&want, p); d != "" {
		t.Fatalf("request (-want +got):\n%s", d)
	}
}

func TestToolResultEncoding(t *testing.T) {
	k, _ := newTestKernel(t, nil)
	if err := RegisterTool(k.Tools(), "raw", func(context.Context, echoArgs) (json.RawMessage, error) {
		return json.RawMessage(`not json`), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := RegisterTool(k.Tools(), "unencodable", func(context.Context, echoArgs) (func(), error) {
		return func() {}, nil
	}); err != nil {
		t.Fatal(err)
	}
	run := mustStart(t, k, liveTenant, "r1")
	for _, tool := range []string{"raw", "unencodable"} {
		_, err := k.StepTool(tctx, run, ToolStep{Tool: tool, Args: echoArgs{"x"}})
		if e := wantKind(t, err, ErrToolFailed); e.Outcome != ledger.OutcomePermanentError {
			t.Fatalf("%s: %v", tool, err)
		}
	}
}

// The idempotency keys of a ledger written by the Python original
// (HASH_RECIPE.md, example 4).
func TestIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		run, stepKey string
		seq          int64
		want         string
	}{
		{"run_tool_unknown_reconcile", "transfer.acc_1.10.v1", 99, "932409b9374cbdeb5a61e2e587aab9bf061b9ee04e7125d3282465e54acabb34"},
		{"run_tool_unknown_reconcile", "", 2, "ddde8f86528fe78aaf1afc3cf92e12df9fa836d470a53efd4357d371214f178f"},
	} {
		if got := idempotencyKey(tc.run, tc.stepKey, tc.seq); got != tc.want {
			t.Errorf("idempotencyKey(%q, %q, %d) = %s, want %s", tc.run, tc.stepKey, tc.seq, got, tc.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	e := &Error{Op: "step tool", Tool: "submit_transfer", RunID: "r1", Seq: 5, Kind: ErrUnknownOutcome,
		Msg: "call ReconcileTool", Err: errors.New("network drop")}
	want := `artana: step tool "submit_transfer": run "r1" seq 5: tool outcome unknown: call ReconcileTool: network drop`
	if e.Error() != want {
		t.Fatalf("got  %s\nwant %s", e.Error(), want)
	}
	oe := &OutputError{Type: "main.Decision", Raw: strings.Repeat("x", 300), Err: errors.New("bad")}
	if s := oe.Error(); !strings.HasPrefix(s, "output does not fit main.Decision: bad (raw output: xxx") || len(s) > 260 {
		t.Fatalf("output error %q", s)
	}
	if (&ToolError{Outcome: ledger.OutcomeUnknown}).Error() != "unknown_outcome" {
		t.Fatal("ToolError without cause")
	}
}

// toolErrorText is a *ToolError with its cause as text, to compare.
type toolErrorText struct {
	Outcome ledger.ToolOutcome
	Err     string
}

func textOf(te *ToolError) toolErrorText {
	if te.Err == nil {
		return toolErrorText{Outcome: te.Outcome}
	}
	return toolErrorText{te.Outcome, te.Err.Error()}
}
