package artana

import (
	"context"
	"errors"
	"testing"
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
	events, _ := store.Events(tctx, run.ID, 0)
	// The store shares payloads with the events it returns: edit the logged answer.
	events[2].Payload.(*ModelCompleted).OutputJSON = `{"approved":true,"reason":"over the limit"}`

	called := false
	fresh := New(store, ModelFunc(func(context.Context, ModelRequest) (ModelResponse, error) {
		called = true
		return ModelResponse{}, errors.New("must not be called")
	}))
	run2, err := fresh.LoadRun(tctx, liveTenant, run.ID)
	if err == nil {
		_, err = StepModel[Decision](tctx, fresh, run2, step)
	}
	var ce *ChainError
	if !errors.Is(err, ErrChainBroken) || !errors.As(err, &ce) || ce.Seq != 3 {
		t.Fatalf("step on a tampered run: err = %v; want ErrChainBroken at seq 3", err)
	}
	if called {
		t.Errorf("the model was called for a tampered run")
	}
	if after, _ := store.Events(tctx, run.ID, 0); len(after) != len(events) {
		t.Errorf("the run grew from %d to %d events", len(events), len(after))
	}
}
