package openai_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestStreamRecordThenReplayServerStopped records streamed calls against
// the recorded bodies (whole streams, an error event mid-stream, a
// connection dropped half-way), stops the server, and replays them from the
// cassette alone: the callback receives the identical delta sequence, and
// a failed stream the same deltas and then the same failure.
func TestStreamRecordThenReplayServerStopped(t *testing.T) {
	count := readWire(t, "openai-chat-stream.sse")
	half := bytes.Index(count, []byte(`"content":"3"`))
	half += bytes.Index(count[half:], []byte("\n\n")) + 2
	calls := []struct {
		name  string
		reply streamReply
		req   llm.Request
		fails bool
	}{
		{"text", streamReply{body: count}, llm.Request{Model: "gpt-3.5-turbo", Prompt: "count to 5"}, false},
		{"tool calls", streamReply{body: readWire(t, "openai-chat-stream-tool-calls.sse")},
			llm.Request{Model: "gpt-4o", Prompt: "secrets", Tools: []llm.ToolDefinition{secretTool}}, false},
		{"tool loop turn 2", streamReply{body: readWire(t, "openai-chat-stream-tool-loop-turn2.sse")},
			llm.Request{Model: "gpt-4o", Prompt: "turn 2", Tools: []llm.ToolDefinition{secretTool}}, false},
		{"ollama reasoning", streamReply{body: readWire(t, "ollama-chat-stream.sse")}, llm.Request{Model: "qwen3", Prompt: "count to 3"}, false},
		{"error event", streamReply{body: readWire(t, "openai-chat-stream-error-midstream.sse")}, llm.Request{Model: "gpt-4.1-nano", Prompt: "Count from 1 to 3"}, true},
		{"dropped", streamReply{body: count, cutAt: half, abort: true}, llm.Request{Model: "gpt-3.5-turbo", Prompt: "dropped"}, true},
	}
	replies := make([]streamReply, len(calls))
	for i, c := range calls {
		replies[i] = c.reply
	}
	srv := newSSEServer(t, replies...)
	m := newStreamModel(t, srv, openai.WithStrictTools(false))
	path := filepath.Join(t.TempDir(), "streams.cassette")

	run := func(model llm.StreamingModel) []streamResult {
		var out []streamResult
		for _, c := range calls {
			var r streamResult
			r.resp, r.err = model.Stream(context.Background(), c.req, collect(&r.deltas))
			if (r.err != nil) != c.fails {
				t.Fatalf("%s: err = %v, want failure: %v", c.name, r.err, c.fails)
			}
			out = append(out, r)
		}
		return out
	}
	rec, err := recorder.Open(path, m, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	live := run(rec)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if n := srv.requests(); n != len(calls) {
		t.Fatalf("%d live requests, want %d (no retry after a delivered delta)", n, len(calls))
	}

	rep, err := recorder.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	replayed := run(rep)
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		var opts []cmp.Option
		if c.name == "tool calls" {
			// The arguments are {"password": ...}, which recorder.ScrubSecrets
			// redacts, split over fragments or whole; every other field of
			// every delta is as live.
			opts = append(opts, cmpopts.IgnoreFields(llm.ToolCallDelta{}, "ArgumentsJSON"), cmpopts.IgnoreFields(ledger.ToolCall{}, "ArgumentsJSON"))
			for _, tc := range llm.JoinDeltas(replayed[i].deltas).ToolCalls {
				if tc.ArgumentsJSON != `{"password": "[REDACTED]"}` {
					t.Errorf("replayed arguments %s, want the scrubbed ones", tc.ArgumentsJSON)
				}
			}
		}
		checkReplayedStream(t, c.name, live[i], replayed[i], c.fails, opts...)
	}
}

// streamResult is what a streamed call delivered and returned.
type streamResult struct {
	deltas []llm.Delta
	resp   llm.Response
	err    error
}

// checkReplayedStream checks that the call name replayed (r) as it went
// live (l): the same deltas and response (compared with opts) and, for a
// call that fails, the same error carrying the delivered deltas.
func checkReplayedStream(t *testing.T, name string, l, r streamResult, fails bool, opts ...cmp.Option) {
	t.Helper()
	if len(l.deltas) == 0 {
		t.Errorf("%s: no deltas live", name)
	}
	if diff := cmp.Diff(l.deltas, r.deltas, opts...); diff != "" {
		t.Errorf("%s: replayed deltas differ (-live +replayed):\n%s", name, diff)
	}
	if diff := cmp.Diff(l.resp, r.resp, opts...); diff != "" {
		t.Errorf("%s: replayed response differs (-live +replayed):\n%s", name, diff)
	}
	if !fails {
		return
	}
	lm, _ := errors.AsType[*llm.Error](l.err)
	rm, ok := errors.AsType[*llm.Error](r.err)
	if !ok || lm == nil {
		t.Fatalf("%s: live err = %v, replayed %v; want a *ModelError each", name, l.err, r.err)
	}
	// Both carry the delivered deltas and read the same; the live one
	// keeps its cause (a *StreamError), the replayed one its text in
	// Message.
	want := llm.Error{Class: llm.ClassTransient, StatusCode: lm.StatusCode, Partial: l.deltas}
	for _, got := range []*llm.Error{lm, rm} {
		if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(llm.Error{}, "Message", "Err")); diff != "" {
			t.Errorf("%s: err = %v (-want +got):\n%s", name, got, diff)
		}
	}
	if rm.Error() != lm.Error() {
		t.Errorf("%s: replayed err = %v, want the live %v", name, rm, lm)
	}
}

// TestStreamKernelBadStream: a step streamed from an endpoint whose stream
// cannot be read fails with the *StreamError naming the line, and nothing
// is logged as completed; through the recorder, the step replays with the
// same deltas as when it was recorded.
func TestStreamKernelBadStream(t *testing.T) {
	body := readWire(t, "openai-chat-stream-tool-calls.sse")
	bad := append(bytes.Clone(body[:bytes.Index(body, []byte("\n\n"))+2]), "event: surprise\ndata: {}\n\n"...)
	srv := newSSEServer(t, streamReply{body: bad}, streamReply{body: body})
	m := newStreamModel(t, srv, openai.WithStrictTools(false))
	path := filepath.Join(t.TempDir(), "kernel.cassette")
	rec, err := recorder.Open(path, m, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Secret string `json:"secret"`
	}
	store := ledger.NewMemStore()
	k := artana.New(store, rec)
	ctx := context.Background()
	run, err := k.StartRun(ctx, artana.Tenant{ID: "t", BudgetUSD: 1}, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []llm.Delta
	step := artana.ModelStep{Model: "gpt-4o", Prompt: "secrets", OnDelta: collect(&got)}
	_, err = artana.StepModel[answer](ctx, k, run, step)
	if !errors.Is(err, openai.ErrUnknownEvent) {
		t.Fatalf("err = %v, want ErrUnknownEvent", err)
	}
	if se, ok := errors.AsType[*openai.StreamError](err); !ok {
		t.Errorf("err = %v holds no *StreamError", err)
	} else if d := cmp.Diff(openai.StreamError{Line: 3, Text: "surprise", Kind: openai.ErrUnknownEvent}, *se, cmpopts.EquateErrors()); d != "" {
		t.Errorf("err = %v, want the event at line 3 named (-want +got):\n%s", err, d)
	}
	events, err := store.Events(ctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []ledger.EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	if d := cmp.Diff([]ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested}, types); d != "" {
		t.Fatalf("logged: want run_started, model_requested and nothing completed (-want +got):\n%s", d)
	}
	got = nil
	res, err := artana.StepModel[answer](ctx, k, run, step) // the next step calls the model again
	if err != nil || len(res.ToolCalls) != 2 || len(got) == 0 {
		t.Fatalf("second attempt: %+v, %v, %d deltas", res, err, len(got))
	}
	liveDeltas := got
	k.Close()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	// A new run replayed from the cassette, with the server stopped.
	rep, err := recorder.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	k2 := artana.New(ledger.NewMemStore(), rep)
	run2, _ := k2.StartRun(ctx, artana.Tenant{ID: "t", BudgetUSD: 1}, "run-2")
	got = nil
	if _, err := artana.StepModel[answer](ctx, k2, run2, step); !errors.Is(err, llm.ErrPermanent) {
		t.Errorf("replayed first attempt: %v, want the recorded permanent failure", err)
	}
	got = nil
	if res, err := artana.StepModel[answer](ctx, k2, run2, step); err != nil || len(res.ToolCalls) != 2 {
		t.Fatalf("replayed: %+v, %v", res, err)
	}
	ignoreArgs := cmpopts.IgnoreFields(llm.ToolCallDelta{}, "ArgumentsJSON") // scrubbed: {"password": ...}
	if diff := cmp.Diff(liveDeltas, got, ignoreArgs); diff != "" || len(got) != len(liveDeltas) {
		t.Errorf("replayed step deltas (-live +replayed):\n%s", diff)
	}
	k2.Close()
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
}
