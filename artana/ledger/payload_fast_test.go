package ledger

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var fastSamples = []struct {
	typ  EventType
	data string
}{
	{EventRunStarted, `{"kind": "run_started"}`},
	{EventRunStarted, `{}`},
	{EventModelRequested, `{"kind": "model_requested", "model": "m", "prompt": "Caf\u00e9 \ud83d\ude00", "messages": [{"role": "user", "content": "x\n\"y\""}], "allowed_tools": ["a", "b"], "step_key": null}`},
	{EventModelRequested, `{"allowed_tools":[],"kind":"model_requested","messages":[{"content":"c","role":"system"}],"model":"m","prompt":"p","step_key":"k"}`},
	{EventModelCompleted, `{"kind": "model_completed", "model": "m", "output_json": "{}", "prompt_tokens": 12, "completion_tokens": 6, "cost_usd": 1e-05, "tool_calls": [{"tool_name": "t", "arguments_json": "{\"q\":1}"}]}`},
	{EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":0,"completion_tokens":0,"cost_usd":1e400}`},
	{EventToolRequested, `{"tool_name":"t","arguments_json":"{}","idempotency_key":"k"}`},
	{EventToolCompleted, `{"kind": "tool_completed", "tool_name": "t", "result_json": "", "outcome": "unknown_outcome", "received_idempotency_key": "k", "effect_id": null, "request_id": "r", "error_message": "boom"}`},
	{EventPauseRequested, `{"kind": "pause_requested", "reason": "r", "context_json": "{\"a\": 1}", "step_key": "s"}`},
	{EventResumeRequested, `{"kind": "resume_requested", "human_input_json": null}`},
	{EventWorkflowStepRequested, `{"kind": "workflow_step_requested", "step_index": 0, "step_name": "fetch"}`},
	{EventWorkflowStepCompleted, `{"kind": "workflow_step_completed", "step_index": 3, "step_name": "s", "result_json": "\"done\""}`},
	{EventReplayedWithDrift, `{"kind": "replayed_with_drift", "step_key": "decide", "model": "m", "drift_fields": ["prompt", "messages"], "source_model_requested_event_id": "0a", "source_model_terminal_seq": 3, "replay_policy": "allow_prompt_drift", "fork_run_id": null}`},
	{EventReplayedWithDrift, `{"drift_fields":[],"fork_run_id":"r::fork::0123456789abcdef","kind":"replayed_with_drift","model":"m","replay_policy":"fork_on_drift","source_model_requested_event_id":"0a","source_model_terminal_seq":null,"step_key":null}`},
	{EventReplayedWithDrift, `{"model": "m", "source_model_requested_event_id": "0a", "replay_policy": "strict"}`},
}

func TestDecodeFastTakesTheCommonShapes(t *testing.T) {
	for _, s := range fastSamples {
		if !decodeFast(newPayload(s.typ), []byte(s.data)) {
			t.Errorf("decodeFast(%s, %s) fell back to the general path", s.typ, s.data)
		}
	}
}

// FuzzDecodeFast checks that the fast path and the general path agree:
// whenever the fast path accepts an input, the general path decodes it to
// the same payload.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastSamples {
		f.Add(string(s.typ), []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		p := newPayload(EventType(typ))
		if p == nil || !decodeFast(p, data) {
			return
		}
		slow, err := decodeGeneral(EventType(typ), data)
		if err != nil {
			t.Fatalf("fast path accepted %s, general path says %v", data, err)
		}
		if a, b := CanonicalForm.Encode(p), CanonicalForm.Encode(slow); string(a) != string(b) {
			t.Fatalf("paths disagree on %s:\nfast    %s\ngeneral %s", data, a, b)
		}
	})
}

func BenchmarkDecodePayload(b *testing.B) {
	data := []byte(fastSamples[4].data)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodePayload(EventModelCompleted, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeGeneral(EventModelCompleted, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzDecodeFastReuse checks that decoding into a payload that already
// holds another event gives what decoding into a new one gives, and leaves
// its input as it was.
func FuzzDecodeFastReuse(f *testing.F) {
	for i, s := range fastSamples {
		f.Add(string(s.typ), []byte(fastSamples[(i+1)%len(fastSamples)].data), []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, first, data []byte) {
		fresh := newPayload(EventType(typ))
		if fresh == nil {
			return
		}
		reused := newPayload(EventType(typ))
		var arena []byte
		decodeFastReuse(reused, first, &arena)
		input := string(data)
		ok := decodeFastReuse(reused, data, &arena)
		if want := decodeFast(fresh, data); ok != want {
			t.Fatalf("reused decode ok=%v, fresh decode ok=%v", ok, want)
		}
		if string(data) != input {
			t.Fatalf("decoding changed its input")
		}
		if !ok {
			return
		}
		for _, canonical := range []bool{true, false} {
			if got, want := appendPayload(nil, reused, canonical), appendPayload(nil, fresh, canonical); string(got) != string(want) {
				t.Fatalf("reused decode encodes to %s, fresh decode to %s", got, want)
			}
		}
	})
}

func TestReplayedWithDriftPayloadBytes(t *testing.T) {
	p := &ReplayedWithDrift{StepKey: new("decide"), Model: "gpt-4o", DriftFields: []string{"prompt", "messages"},
		SourceRequestedEventID: "00000000000000000000000000000002", SourceTerminalSeq: new(int64(3)),
		Policy: "allow_prompt_drift"}
	wantCanon := `{"drift_fields":["prompt","messages"],"fork_run_id":null,"kind":"replayed_with_drift","model":"gpt-4o","replay_policy":"allow_prompt_drift","source_model_requested_event_id":"00000000000000000000000000000002","source_model_terminal_seq":3,"step_key":"decide"}`
	wantColumn := `{"kind": "replayed_with_drift", "step_key": "decide", "model": "gpt-4o", "drift_fields": ["prompt", "messages"], "source_model_requested_event_id": "00000000000000000000000000000002", "source_model_terminal_seq": 3, "replay_policy": "allow_prompt_drift", "fork_run_id": null}`
	if got := string(CanonicalForm.Encode(p)); got != wantCanon {
		t.Errorf("canonical\n got %s\nwant %s", got, wantCanon)
	}
	if got := string(ColumnForm.Encode(p)); got != wantColumn {
		t.Errorf("column\n got %s\nwant %s", got, wantColumn)
	}
	for _, text := range []string{wantCanon, wantColumn} {
		back, err := DecodePayload(EventReplayedWithDrift, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Payload(p), back); diff != "" {
			t.Errorf("decoded (-want +got):\n%s", diff)
		}
		g, err := decodeGeneral(EventReplayedWithDrift, []byte(text))
		if err != nil || !cmp.Equal(Payload(p), g) {
			t.Errorf("general decoder: %v %+v", err, g)
		}
	}
	// Defaults, nulls and the fork form.
	fork := &ReplayedWithDrift{Model: "m", SourceRequestedEventID: "x", Policy: "fork_on_drift", ForkRunID: new("r::fork::0123456789abcdef")}
	back, err := DecodePayload(EventReplayedWithDrift, []byte(`{"kind":"replayed_with_drift","model":"m","source_model_requested_event_id":"x","replay_policy":"fork_on_drift","fork_run_id":"r::fork::0123456789abcdef"}`))
	if err != nil {
		t.Fatal(err)
	}
	fork.DriftFields = []string{}
	if diff := cmp.Diff(Payload(fork), back); diff != "" {
		t.Errorf("decoded with defaults (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`{"kind":"replayed_with_drift","model":"m","source_model_requested_event_id":"x","replay_policy":"sometimes"}`,
		`{"kind":"replayed_with_drift","model":"m","replay_policy":"strict"}`,
		`{"kind":"replayed_with_drift","model":"m","source_model_requested_event_id":"x","replay_policy":"strict","source_model_terminal_seq":"3"}`,
	} {
		if _, err := DecodePayload(EventReplayedWithDrift, []byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
	// A stored text with an extra key is caught by PayloadForm.Check.
	e := Event{RunID: "r", Seq: 4, Payload: p}
	if err := ColumnForm.Check(&e, []byte(wantColumn)); err != nil {
		t.Error(err)
	}
	extra := strings.Replace(wantColumn, `"fork_run_id": null`, `"fork_run_id": null, "note": 1`, 1)
	if err := ColumnForm.Check(&e, []byte(extra)); err == nil || !strings.Contains(err.Error(), `"note"`) {
		t.Errorf("extra key: %v", err)
	}
}
