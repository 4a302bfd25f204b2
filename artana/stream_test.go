package artana

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
)

// streamingFake is a StreamingModel that delivers deltas, then answers
// resp (or fails with err).
type streamingFake struct {
	deltas []llm.Delta
	resp   llm.Response
	err    error
	calls  int
}

func (m *streamingFake) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	return m.Stream(ctx, req, func(llm.Delta) error { return nil })
}

func (m *streamingFake) Stream(_ context.Context, _ llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	m.calls++
	for _, d := range m.deltas {
		if err := yield(d); err != nil {
			return llm.Response{}, err
		}
	}
	if m.err != nil {
		return llm.Response{}, m.err
	}
	return m.resp, nil
}

var streamedDecision = []llm.Delta{
	{Text: `{"approved":tr`},
	{Text: `ue,"reason":"ok"}`},
	{Usage: &llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}},
}

// TestStreamedStepLogsWhatUnstreamedLogs: a streamed step and an unstreamed
// step with the same answer append byte-identical events.
func TestStreamedStepLogsWhatUnstreamedLogs(t *testing.T) {
	answer := `{"approved":true,"reason":"ok"}`
	step := ModelStep{Model: "m", Prompt: "decide", StepKey: "s1"}

	plain, plainStore := newTestKernel(t, replyWith(answer))
	run := mustStart(t, plain, liveTenant, "run-1")
	if _, err := StepModel[Decision](tctx, plain, run, step); err != nil {
		t.Fatal(err)
	}

	sm := &streamingFake{deltas: streamedDecision,
		resp: llm.Response{OutputJSON: answer, Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}}}
	streamed, streamedStore := newTestKernel(t, sm)
	run2 := mustStart(t, streamed, liveTenant, "run-1")
	var got []llm.Delta
	step.OnDelta = func(d llm.Delta) error { got = append(got, d); return nil }
	res, err := StepModel[Decision](tctx, streamed, run2, step)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, streamedDecision) {
		t.Errorf("deltas = %+v, want %+v", got, streamedDecision)
	}
	if !res.Output.Approved || res.FromLog {
		t.Errorf("result = %+v", res)
	}

	a, err := plainStore.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := streamedStore.Events(tctx, run2.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 || len(a) != len(b) {
		t.Fatalf("unstreamed logged %d events, streamed %d; want 3 each", len(a), len(b))
	}
	for i := range a {
		pa, pb := ledger.CanonicalForm.Encode(a[i].Payload), ledger.CanonicalForm.Encode(b[i].Payload)
		if string(pa) != string(pb) || a[i].Hash != b[i].Hash || a[i].ID != b[i].ID || !a[i].Timestamp.Equal(b[i].Timestamp) {
			t.Errorf("event %d differs:\nunstreamed %s %s\nstreamed   %s %s", i+1, a[i].Hash, pa, b[i].Hash, pb)
		}
	}

	// Replayed from the log, the callback receives the logged output as one
	// delta, and nothing is appended.
	got = nil
	again, err := StepModel[Decision](tctx, streamed, run2, step)
	if err != nil || !again.FromLog {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	want := []llm.Delta{{Text: answer, Usage: &llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replayed deltas = %+v, want %+v", got, want)
	}
	if sm.calls != 1 {
		t.Errorf("model called %d times, want 1", sm.calls)
	}
	if c, err := streamedStore.Events(tctx, run2.ID, 0); err != nil || len(c) != 3 {
		t.Errorf("replay appended: %d events, %v", len(c), err)
	}
}

// TestStreamNonStreamingModel: a model that cannot stream delivers its
// answer as one delta.
func TestStreamNonStreamingModel(t *testing.T) {
	calls := []ledger.ToolCall{{ID: "call_1", ToolName: "lookup", ArgumentsJSON: `{"q":"x"}`}}
	k, _ := newTestKernel(t, replyWith("", calls...))
	run := mustStart(t, k, liveTenant, "one-chunk")
	var got []llm.Delta
	_, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p",
		OnDelta: func(d llm.Delta) error { got = append(got, d); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Delta{{ToolCalls: []llm.ToolCallDelta{{Index: 0, ID: "call_1", ToolName: "lookup", ArgumentsJSON: `{"q":"x"}`}},
		Usage: &llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deltas = %+v, want %+v", got, want)
	}
}

// TestStreamFailures: a callback error or a stream that breaks off leaves
// the request logged and nothing completed.
func TestStreamFailures(t *testing.T) {
	stop := errors.New("client went away")
	sm := &streamingFake{deltas: streamedDecision, resp: llm.Response{OutputJSON: `{"approved":true,"reason":"ok"}`}}
	k, store := newTestKernel(t, sm)
	run := mustStart(t, k, liveTenant, "fail")
	n := 0
	_, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p",
		OnDelta: func(llm.Delta) error {
			if n++; n == 2 {
				return stop
			}
			return nil
		}})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's error", err)
	}
	if got := eventTypes(t, store, run.ID); len(got) != 2 || got[1] != ledger.EventModelRequested {
		t.Errorf("events = %v, want run_started, model_requested", got)
	}

	broken := &llm.Error{Class: llm.ClassTransient, Message: "stream broke off", Partial: streamedDecision[:2]}
	sm2 := &streamingFake{deltas: streamedDecision[:2], err: broken}
	k2, store2 := newTestKernel(t, sm2)
	run2 := mustStart(t, k2, liveTenant, "broken")
	_, err = StepModel[Decision](tctx, k2, run2, ModelStep{Model: "m", Prompt: "p", OnDelta: func(llm.Delta) error { return nil }})
	me, ok := errors.AsType[*llm.Error](err)
	if !ok || !errors.Is(err, llm.ErrTransient) || len(me.Partial) != 2 {
		t.Fatalf("err = %v, want the transient *llm.Error with 2 partial deltas", err)
	}
	if j := llm.JoinDeltas(me.Partial); j.Text != `{"approved":true,"reason":"ok"}` {
		t.Errorf("joined partial = %q", j.Text)
	}
	if got := eventTypes(t, store2, run2.ID); len(got) != 2 {
		t.Errorf("events = %v, want run_started, model_requested", got)
	}

	// Replay from the log with a callback that refuses: the error, nothing appended.
	k3, store3 := newTestKernel(t, replyWith(`{"approved":false,"reason":"no"}`))
	run3 := mustStart(t, k3, liveTenant, "replay-refused")
	step := ModelStep{Model: "m", Prompt: "p"}
	if _, err := StepModel[Decision](tctx, k3, run3, step); err != nil {
		t.Fatal(err)
	}
	step.OnDelta = func(llm.Delta) error { return stop }
	if _, err := StepModel[Decision](tctx, k3, run3, step); !errors.Is(err, stop) {
		t.Errorf("replay with refusing callback: err = %v", err)
	}
	if got := eventTypes(t, store3, run3.ID); len(got) != 3 {
		t.Errorf("events = %v", got)
	}
}

func TestJoinDeltas(t *testing.T) {
	deltas := []llm.Delta{
		{Reasoning: "hm"},
		{Text: "a", ToolCalls: []llm.ToolCallDelta{{Index: 1, ID: "c2", ToolName: "g", ArgumentsJSON: `{"b"`}}},
		{ToolCalls: []llm.ToolCallDelta{{Index: 0, ID: "c1", ToolName: "f", ArgumentsJSON: `{}`}, {Index: 1, ArgumentsJSON: `:1}`}}},
		{Text: "b", Reasoning: "m"},
		{Usage: &llm.Usage{PromptTokens: 1}},
	}
	got := llm.JoinDeltas(deltas)
	want := llm.Delta{Text: "ab", Reasoning: "hmm", Usage: &llm.Usage{PromptTokens: 1}, ToolCalls: []llm.ToolCallDelta{
		{Index: 0, ID: "c1", ToolName: "f", ArgumentsJSON: `{}`},
		{Index: 1, ID: "c2", ToolName: "g", ArgumentsJSON: `{"b":1}`},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JoinDeltas = %+v\nwant %+v", got, want)
	}
	if (llm.Delta{}).IsZero() != true || want.IsZero() {
		t.Error("IsZero")
	}
	if d := (llm.Response{OutputJSON: `"1, 2"`}).Delta(); d.Text != "1, 2" {
		t.Errorf("the Delta of a text answer: %q", d.Text)
	}
	c1, c4 := deltas[1].Clone(), deltas[4].Clone()
	c1.ToolCalls[0].ID = "x"
	c4.Usage.PromptTokens = 9
	if deltas[1].ToolCalls[0].ID != "c2" || deltas[4].Usage.PromptTokens != 1 {
		t.Error("Delta.Clone shares memory")
	}
}
