package artana

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/google/go-cmp/cmp"
)

// What the kernel logs for Go values, by their types (see "Values in the
// log" in doc.go). The interop test checks the same against the Python
// original; these run without it.

type scoredOutput struct {
	Score float64 `json:"score"`
	Count int     `json:"count"`
	Extra any     `json:"extra"`
}

func TestStepModelLogsOutputByGoType(t *testing.T) {
	// The model writes 100 and 3.0; the Go types decide: 100.0 and 3.
	// Numbers in an interface field keep the kind the model wrote.
	k, _ := newTestKernel(t, replyWith(`{"score": 100, "count": 3, "extra": {"n": 3, "f": 2.50, "s": "a\u2028b"}}`))
	run := mustStart(t, k, liveTenant, "r1")
	res, err := StepModel[scoredOutput](tctx, k, run, ModelStep{Model: "m", Prompt: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"score\":100.0,\"count\":3,\"extra\":{\"f\":2.5,\"n\":3,\"s\":\"a\u2028b\"}}"; res.OutputJSON != want {
		t.Fatalf("logged %s, want %s", res.OutputJSON, want)
	}
	if res.Output.Extra.(map[string]any)["n"] != 3.0 {
		t.Fatalf("output %+v: an interface field holds what encoding/json decodes", res.Output)
	}
	again, err := StepModel[scoredOutput](tctx, k, run, ModelStep{Model: "m", Prompt: "p"})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	wantAgain := res
	wantAgain.FromLog = true
	if d := cmp.Diff(wantAgain, again); d != "" {
		t.Fatalf("replay: want the live result from the log (-want +got):\n%s", d)
	}
}

func TestStepModelRawAndAnyOutputs(t *testing.T) {
	answer := ` {"z": 1, "a": [1E2, "\u00e9"], "z": 2.0} `
	model := replyWith(answer)
	k, store := newTestKernel(t, model)
	run := mustStart(t, k, liveTenant, "r1")

	raw, err := StepModel[json.RawMessage](tctx, k, run, ModelStep{Model: "m", Prompt: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	if model.last.OutputSchema != nil {
		t.Errorf("schema %s sent for json.RawMessage; want none", model.last.OutputSchema)
	}
	if model.last.OutputName != "output" {
		t.Errorf("output name %q sent for json.RawMessage; want output", model.last.OutputName)
	}
	// Keys in the order written (a repeated key keeps its first place and
	// last value, as a Python dict), numbers by kind, strings raw.
	const logged = `{"z":2.0,"a":[100.0,"é"]}`
	type text struct{ Output, Logged string }
	if d := cmp.Diff(text{`{"z": 1, "a": [1E2, "\u00e9"], "z": 2.0}`, logged}, text{string(raw.Output), raw.OutputJSON}); d != "" {
		t.Fatalf("raw output (-want +got):\n%s", d)
	}

	anyRes, err := StepModel[any](tctx, k, run, ModelStep{Model: "m", Prompt: "any"})
	if err != nil {
		t.Fatal(err)
	}
	wantAny := anyRes // the run, seq and usage are the fake's
	wantAny.Output, wantAny.OutputJSON, wantAny.ToolCalls, wantAny.FromLog, wantAny.Drift = map[string]any{"z": 2.0, "a": []any{100.0, "é"}}, logged, nil, false, nil
	if d := cmp.Diff(wantAny, anyRes); d != "" {
		t.Fatalf("any output (-want +got):\n%s", d)
	}
	replayed, err := StepModel[any](tctx, k, run, ModelStep{Model: "m", Prompt: "any"})
	if err != nil {
		t.Fatal(err)
	}
	wantAny.FromLog = true
	if d := cmp.Diff(wantAny, replayed); d != "" {
		t.Fatalf("replayed (-want +got):\n%s", d)
	}

	// Not JSON: an *OutputError, nothing logged for the answer.
	before := len(eventTypes(t, store, "r1"))
	k2 := New(store, replyWith(`not json`))
	_, err = StepModel[json.RawMessage](tctx, k2, run, ModelStep{Model: "m", Prompt: "bad"})
	var oe *OutputError
	if !errors.Is(err, ErrInvalidOutput) || !errors.As(err, &oe) || oe.Raw != "not json" {
		t.Fatalf("invalid raw output: %v", err)
	}
	if got := eventTypes(t, store, "r1"); len(got) != before+1 || got[len(got)-1] != ledger.EventModelRequested {
		t.Fatalf("events %v after an invalid answer; want only the request added", got)
	}
}

type measureArgs struct {
	Big float64 `json:"big"`
	Cap float64 `json:"cap"`
	N   int     `json:"n"`
}

func TestToolArgumentsAndResultByGoType(t *testing.T) {
	k, store := newTestKernel(t, nil)
	run := mustStart(t, k, liveTenant, "r1")
	err := RegisterTool(k.Tools(), "measure", func(_ context.Context, a measureArgs) (map[string]any, error) {
		return map[string]any{"ratio": float64(a.N) / a.Cap, "n": a.N, "note": "<\u2028>"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := k.StepTool(tctx, run, ToolStep{Tool: "measure", Args: measureArgs{1e16, 100, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"n\":3,\"note\":\"<\u2028>\",\"ratio\":0.03}"; res.ResultJSON != want {
		t.Fatalf("result %s, want %s", res.ResultJSON, want)
	}
	events, err := store.Events(tctx, "r1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[1].Payload.(*ledger.ToolRequested).ArgumentsJSON; got != `{"big":1e+16,"cap":100.0,"n":3}` {
		t.Fatalf("arguments_json %s", got)
	}
	// The same arguments as the Python original's text match the request.
	again, err := k.StepTool(tctx, run, ToolStep{Tool: "measure", Args: `{"n": 3, "cap": 100.0, "big": 1e16}`})
	if err != nil || !again.FromLog {
		t.Fatalf("JSON text arguments: %+v, %v", again, err)
	}
	// Values that JSON cannot hold are refused before anything is logged.
	_, err = k.StepTool(tctx, run, ToolStep{Tool: "measure", Args: map[string]any{"big": make(chan int)}})
	if !errors.Is(err, ErrInvalidInput) || len(eventTypes(t, store, "r1")) != len(events) {
		t.Fatalf("unencodable arguments: %v", err)
	}
}

func TestToolSetsCompletionFields(t *testing.T) {
	fail := errors.New("provider said no")
	for _, tc := range []struct {
		name    string
		err     error
		outcome ledger.ToolOutcome
		message string
	}{
		{"success", nil, ledger.OutcomeSuccess, "note"},
		{"permanent", PermanentToolError(fail), ledger.OutcomePermanentError, "note"},
		{"unknown", fail, ledger.OutcomeUnknown, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, store, run := newToolKernel(t, func(ctx context.Context, a echoArgs) (echoResult, error) {
				x, _ := ToolExecutionFrom(ctx)
				x.SetReceivedIdempotencyKey("prov-key")
				x.SetRequestID(x.RequestEventID)
				x.SetEffectID("eff")
				x.SetErrorMessage("note")
				return echoResult{Echo: a.Text}, tc.err
			})
			_, _ = k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"x"}})
			c := lastCompletion(t, store, run.ID)
			events, err := store.Events(tctx, run.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := *c // the tool's name and result are checked elsewhere
			want.Outcome, want.ReceivedIdempotencyKey, want.RequestID = tc.outcome, new("prov-key"), &events[1].ID
			want.EffectID, want.ErrorMessage = new("eff"), &tc.message
			if d := cmp.Diff(&want, c); d != "" {
				t.Fatalf("completion (-want +got):\n%s", d)
			}
		})
	}
	// A request id that names no tool_requested event breaks the run's
	// later tool steps, as in the Python original.
	k, _, run := newToolKernel(t, func(ctx context.Context, a echoArgs) (echoResult, error) {
		x, _ := ToolExecutionFrom(ctx)
		x.SetRequestID("elsewhere")
		return echoResult{}, nil
	})
	if _, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"x"}}); err != nil {
		t.Fatal(err)
	}
	_, err := k.StepTool(tctx, run, ToolStep{Tool: "echo", Args: echoArgs{"y"}})
	if !errors.Is(err, ErrReplayMismatch) {
		t.Fatalf("a step after a completion naming no request: %v", err)
	}
}

func TestCodecsWriteAsPython(t *testing.T) {
	type note struct {
		Note  string  `json:"note"`
		Score float64 `json:"score"`
	}
	js, err := JSONCodec[note]().Marshal(note{"é\u2028", 100})
	if err != nil || js != `{"note":"\u00e9\u2028","score":100.0}` {
		t.Errorf("JSONCodec: %s, %v", js, err)
	}
	pc, err := PydanticCodec[note]().Marshal(note{"é\u2028", 1e-05})
	if err != nil || pc != "{\"note\":\"é\u2028\",\"score\":0.00001}" {
		t.Errorf("PydanticCodec: %s, %v", pc, err)
	}
	var back note
	if err := PydanticCodec[note]().Unmarshal(pc, &back); err != nil || back != (note{"é\u2028", 1e-05}) {
		t.Errorf("PydanticCodec round trip: %+v, %v", back, err)
	}
}
