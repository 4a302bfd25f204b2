package artana

import (
	"errors"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/google/go-cmp/cmp"
)

// TestToolCallsOnlyTurn: a turn in which the model only asks for tool calls
// yields the zero output, is logged with an empty output_json, and replays.
func TestToolCallsOnlyTurn(t *testing.T) {
	calls := []ledger.ToolCall{{ID: "call_1", ToolName: "lookup", ArgumentsJSON: `{"q":"x"}`}}
	m := replyWith("", calls...)
	k, store := newTestKernel(t, m)
	run := mustStart(t, k, liveTenant, "tools-only")
	step := ModelStep{Model: "m", Prompt: "look it up"}
	live, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatalf("live tool-calls-only turn: %v", err)
	}
	want := ModelResult[Decision]{RunID: run.ID, Seq: 3, Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}, ToolCalls: calls}
	if d := cmp.Diff(want, live); d != "" {
		t.Errorf("live: want the zero output, empty output JSON and the lookup call (-want +got):\n%s", d)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantLogged := &ledger.ModelCompleted{Model: "m", PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01, ToolCalls: calls}
	if d := cmp.Diff(ledger.Payload(wantLogged), events[len(events)-1].Payload); d != "" {
		t.Errorf("logged: want model_completed with empty output_json and one tool call (-want +got):\n%s", d)
	}
	replayed, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	wantReplayed := live
	wantReplayed.FromLog = true
	if d := cmp.Diff(wantReplayed, replayed); d != "" {
		t.Errorf("replay: want the live result from the log (-want +got):\n%s", d)
	}

	// No output and no tool calls is still an invalid output.
	k2, _ := newTestKernel(t, replyWith(""))
	run2 := mustStart(t, k2, liveTenant, "nothing")
	if _, err := StepModel[Decision](tctx, k2, run2, step); !errors.Is(err, ErrInvalidOutput) {
		t.Errorf("empty output without tool calls: err = %v, want ErrInvalidOutput", err)
	}
}
