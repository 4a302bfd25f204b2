package artana

import (
	"errors"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/google/go-cmp/cmp"
)

// TestToolCallsOnlyTurn: a turn in which the model only asks for tool calls
// yields the zero output, is logged with an empty output_json, and replays.
func TestToolCallsOnlyTurn(t *testing.T) {
	calls := []ToolCall{{ID: "call_1", ToolName: "lookup", ArgumentsJSON: `{"q":"x"}`}}
	m := replyWith("", calls...)
	k, store := newTestKernel(t, m)
	run := mustStart(t, k, liveTenant, "tools-only")
	step := ModelStep{Model: "m", Prompt: "look it up"}
	live, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatalf("live tool-calls-only turn: %v", err)
	}
	if live.Output != (Decision{}) || live.OutputJSON != "" || len(live.ToolCalls) != 1 || live.ToolCalls[0].ToolName != "lookup" {
		t.Errorf("live = %+v; want the zero output, empty output JSON and the lookup call", live)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := events[len(events)-1].Payload.(*ledger.ModelCompleted); !ok || c.OutputJSON != "" || len(c.ToolCalls) != 1 {
		t.Errorf("logged %+v; want model_completed with empty output_json and one tool call", events[len(events)-1].Payload)
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
	if _, err := StepModel[Decision](tctx, k2, run2, step); !errors.Is(err, ErrOutputInvalid) {
		t.Errorf("empty output without tool calls: err = %v, want ErrOutputInvalid", err)
	}
}
