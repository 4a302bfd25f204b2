package artana

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
)

// TestTamperedRunIsRefused: a run whose log was changed after it was
// written is neither replayed nor extended, as with the seed, whose events
// re-check their hash when they are loaded.
func TestTamperedRunIsRefused(t *testing.T) {
	k, store := newTestKernel(t, replyWith(`{"approved":false,"reason":"over the limit"}`))
	run := mustStart(t, k, liveTenant, "tampered")
	step := ModelStep{Model: "m", Prompt: "approve?"}
	if _, err := StepModel[Decision](tctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The store shares payloads with the events it returns: edit the logged answer.
	events[2].Payload.(*ledger.ModelCompleted).OutputJSON = `{"approved":true,"reason":"over the limit"}`

	called := false
	fresh := New(store, llm.ModelFunc(func(context.Context, llm.Request) (llm.Response, error) {
		called = true
		return llm.Response{}, errors.New("must not be called")
	}))
	run2, err := fresh.LoadRun(tctx, liveTenant, run.ID)
	if err == nil {
		_, err = StepModel[Decision](tctx, fresh, run2, step)
	}
	var ce *ledger.ChainError
	if !errors.Is(err, ledger.ErrChainBroken) || !errors.As(err, &ce) || ce.Seq != 3 {
		t.Fatalf("step on a tampered run: err = %v; want ErrChainBroken at seq 3", err)
	}
	if called {
		t.Errorf("the model was called for a tampered run")
	}
	if after, err := store.Events(tctx, run.ID, 0); err != nil || len(after) != len(events) {
		t.Errorf("the run grew from %d to %d events (%v)", len(events), len(after), err)
	}
}

// TestReconcileRefusesArgumentsThatNoLongerFit: when the logged arguments
// of an unknown outcome no longer decode into the tool's argument type
// (a field was renamed), ReconcileTool runs nothing and logs nothing,
// rather than turning the unknown outcome into a permanent failure.
func TestReconcileRefusesArgumentsThatNoLongerFit(t *testing.T) {
	oldArgs := `{"txt":"x"}` // the field was called txt when the request was logged
	store := &sliceStore{events: sealChain(
		ledger.Event{ID: "s", RunID: "r", TenantID: liveTenant.ID, Seq: 1, Type: ledger.EventRunStarted, Payload: &ledger.RunStarted{}},
		ledger.Event{ID: "q", RunID: "r", TenantID: liveTenant.ID, Seq: 2, Type: ledger.EventToolRequested,
			Payload: &ledger.ToolRequested{ToolName: "echo", ArgumentsJSON: oldArgs, IdempotencyKey: "k", ToolVersion: "1.0.0", SchemaVersion: "1"}},
		ledger.Event{ID: "u", RunID: "r", TenantID: liveTenant.ID, Seq: 3, Type: ledger.EventToolCompleted,
			Payload: &ledger.ToolCompleted{ToolName: "echo", Outcome: ledger.OutcomeUnknown, RequestID: new("q")}},
	)}
	k := New(store, nil)
	ran := 0
	if err := RegisterTool(k.Tools(), "echo", func(context.Context, echoArgs) (echoResult, error) {
		ran++
		return echoResult{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := k.ReconcileTool(tctx, Run{ID: "r", Tenant: liveTenant}, ToolStep{Tool: "echo", Args: json.RawMessage(oldArgs)})
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ReconcileTool with arguments that no longer fit: err = %v, want ErrInvalidInput", err)
	}
	if ran != 0 || len(store.events) != 3 {
		t.Errorf("the tool ran %d times and the run has %d events; want 0 and 3", ran, len(store.events))
	}
}

// TestReplayMissWithoutModelSaysWhatChanged: a step that misses the log on
// a kernel without a model names the request and the nearest logged one.
func TestReplayMissWithoutModelSaysWhatChanged(t *testing.T) {
	k, store := newTestKernel(t, replyWith(`{"approved":true,"reason":"ok"}`))
	run := mustStart(t, k, liveTenant, "miss")
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "approve order A-17?", StepKey: "decide"}); err != nil {
		t.Fatal(err)
	}
	offline := New(store, nil)
	_, err := StepModel[Decision](tctx, offline, run, ModelStep{Model: "m", Prompt: "approve order A-18?", StepKey: "decide"})
	if !errors.Is(err, ErrReplayMismatch) {
		t.Fatalf("err = %v, want ErrReplayMismatch", err)
	}
	for _, want := range []string{`prompt "approve order A-18?"`, `latest logged request (seq 2)`, `prompt "approve order A-17?"`, `step key "decide"`, "live (or recording) model"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestModelErrorNamesTheLoggedRequest: when the model fails after the
// request was logged, the error carries that request's seq.
func TestModelErrorNamesTheLoggedRequest(t *testing.T) {
	failing := llm.ModelFunc(func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{}, &llm.Error{Class: llm.ClassTransient, StatusCode: 503, Message: "overloaded"}
	})
	k, _ := newTestKernel(t, failing)
	run := mustStart(t, k, liveTenant, "flaky")
	_, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p"})
	var e *Error
	if !errors.As(err, &e) || e.Seq != 2 || !errors.Is(err, llm.ErrTransient) {
		t.Fatalf("err = %v; want a transient model error at seq 2 (the model_requested)", err)
	}
	if !strings.Contains(err.Error(), "the next step calls the model again") {
		t.Errorf("error %q does not say what happens next", err)
	}
}
