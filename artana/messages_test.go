package artana

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/google/go-cmp/cmp"
)

// toolConversation is a conversation with every tool field: a named
// system message, an assistant turn with two parallel calls, and the two
// tool messages answering them.
func toolConversation() []ledger.ChatMessage {
	return []ledger.ChatMessage{
		{Role: "system", Content: "Support desk.", Name: "desk"},
		{Role: "user", Content: "Refund order A-17 ü"},
		{Role: "assistant", ToolCalls: []ledger.ToolCall{
			{ID: "call_1", ToolName: "lookup_order", ArgumentsJSON: `{"order": "A-17"}`},
			{ID: "call_2", ToolName: "refund", ArgumentsJSON: `{"order":"A-17"}`},
		}},
		{Role: "tool", Content: `{"status":"shipped"}`, ToolCallID: "call_1"},
		{Role: "tool", Content: `{"error":"déjà"}`, ToolCallID: "call_2"},
	}
}

// The canonical bytes below are what the newest Python artana's
// payload_to_canonical_json writes for the same payloads (pydantic models
// with tool_call_id, name and tool_calls, popped when None).
const (
	toolRequestedCanonical = `{"allowed_tools":["lookup_order","refund"],"kind":"model_requested","messages":[` +
		`{"content":"Support desk.","name":"desk","role":"system"},` +
		`{"content":"Refund order A-17 \u00fc","role":"user"},` +
		`{"content":"","role":"assistant","tool_calls":[{"function":{"arguments":"{\"order\": \"A-17\"}","name":"lookup_order"},"id":"call_1","type":"function"},{"function":{"arguments":"{\"order\":\"A-17\"}","name":"refund"},"id":"call_2","type":"function"}]},` +
		`{"content":"{\"status\":\"shipped\"}","role":"tool","tool_call_id":"call_1"},` +
		`{"content":"{\"error\":\"d\u00e9j\u00e0\"}","role":"tool","tool_call_id":"call_2"}],` +
		`"model":"gpt-4o","prompt":"Refund order A-17","step_key":"support.turn2"}`
	toolCompletedCanonical = `{"completion_tokens":53,"cost_usd":0.001,"kind":"model_completed","model":"gpt-4o","output_json":"","prompt_tokens":75,` +
		`"tool_calls":[{"arguments_json":"{\"order\": \"A-17\"}","tool_call_id":"call_1","tool_name":"lookup_order"},{"arguments_json":"{}","tool_name":"refund"}]}`
	// The newest Python artana's payload_json column: declaration order,
	// the absent fields as nulls.
	toolRequestedPythonColumn = `{"kind": "model_requested", "model": "gpt-4o", "prompt": "Refund order A-17", "messages": [` +
		`{"role": "system", "content": "Support desk.", "tool_call_id": null, "name": "desk", "tool_calls": null}, ` +
		`{"role": "user", "content": "Refund order A-17 \u00fc", "tool_call_id": null, "name": null, "tool_calls": null}, ` +
		`{"role": "assistant", "content": "", "tool_call_id": null, "name": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order\": \"A-17\"}"}}, {"id": "call_2", "type": "function", "function": {"name": "refund", "arguments": "{\"order\":\"A-17\"}"}}]}, ` +
		`{"role": "tool", "content": "{\"status\":\"shipped\"}", "tool_call_id": "call_1", "name": null, "tool_calls": null}, ` +
		`{"role": "tool", "content": "{\"error\":\"d\u00e9j\u00e0\"}", "tool_call_id": "call_2", "name": null, "tool_calls": null}], ` +
		`"allowed_tools": ["lookup_order", "refund"], "step_key": "support.turn2"}`
)

func toolPayloads() (*ledger.ModelRequested, *ledger.ModelCompleted) {
	return &ledger.ModelRequested{Model: "gpt-4o", Prompt: "Refund order A-17", Messages: toolConversation(),
			AllowedTools: []string{"lookup_order", "refund"}, StepKey: new("support.turn2")},
		&ledger.ModelCompleted{Model: "gpt-4o", PromptTokens: 75, CompletionTokens: 53, CostUSD: 0.001, ToolCalls: []ledger.ToolCall{
			{ToolName: "lookup_order", ArgumentsJSON: `{"order": "A-17"}`, ID: "call_1"},
			{ToolName: "refund", ArgumentsJSON: `{}`},
		}}
}

func TestToolFieldsCanonicalBytes(t *testing.T) {
	req, done := toolPayloads()
	if got := string(ledger.CanonicalForm.Encode(req)); got != toolRequestedCanonical {
		t.Errorf("model_requested canonical:\n got %s\nwant %s", got, toolRequestedCanonical)
	}
	if got := string(ledger.CanonicalForm.Encode(done)); got != toolCompletedCanonical {
		t.Errorf("model_completed canonical:\n got %s\nwant %s", got, toolCompletedCanonical)
	}
	// Without tool fields, messages and records are written as the Python
	// original writes them: role and content, tool_name and arguments_json.
	plain := &ledger.ModelRequested{Model: "m", Prompt: "p", Messages: []ledger.ChatMessage{{Role: "user", Content: "p"}}}
	if got, want := string(ledger.CanonicalForm.Encode(plain)), `{"allowed_tools":[],"kind":"model_requested","messages":[{"content":"p","role":"user"}],"model":"m","prompt":"p","step_key":null}`; got != want {
		t.Errorf("plain model_requested:\n got %s\nwant %s", got, want)
	}
	if got, want := string(ledger.ColumnForm.Encode(plain)), `{"kind": "model_requested", "model": "m", "prompt": "p", "messages": [{"role": "user", "content": "p"}], "allowed_tools": [], "step_key": null}`; got != want {
		t.Errorf("plain column:\n got %s\nwant %s", got, want)
	}
	plainDone := &ledger.ModelCompleted{Model: "m", ToolCalls: []ledger.ToolCall{{ToolName: "t", ArgumentsJSON: "{}"}}}
	if got, want := string(ledger.CanonicalForm.Encode(plainDone)), `{"completion_tokens":0,"cost_usd":0.0,"kind":"model_completed","model":"m","output_json":"","prompt_tokens":0,"tool_calls":[{"arguments_json":"{}","tool_name":"t"}]}`; got != want {
		t.Errorf("plain model_completed:\n got %s\nwant %s", got, want)
	}
}

func TestToolFieldsDecode(t *testing.T) {
	req, done := toolPayloads()
	for _, tc := range []struct {
		name string
		typ  ledger.EventType
		data string
		want ledger.Payload
	}{
		{"canonical request", ledger.EventModelRequested, toolRequestedCanonical, req},
		{"Go column request", ledger.EventModelRequested, string(ledger.ColumnForm.Encode(req)), req},
		{"Python column request, nulls", ledger.EventModelRequested, toolRequestedPythonColumn, req},
		{"canonical completion", ledger.EventModelCompleted, toolCompletedCanonical, done},
		{"Go column completion", ledger.EventModelCompleted, string(ledger.ColumnForm.Encode(done)), done},
		{"completion, null id", ledger.EventModelCompleted, strings.Replace(toolCompletedCanonical, `"arguments_json":"{}"`, `"arguments_json":"{}","tool_call_id":null`, 1), done},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.DecodePayload(tc.typ, []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			if c := string(ledger.CanonicalForm.Encode(got)); c != string(ledger.CanonicalForm.Encode(tc.want)) {
				t.Errorf("re-encoded %s", c)
			}
		})
	}
	for _, bad := range []string{
		`{"model":"m","prompt":"p","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"custom","function":{"name":"t","arguments":"{}"}}]}]}`,
		`{"model":"m","prompt":"p","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function"}]}]}`,
		`{"model":"m","prompt":"p","messages":[{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"t","arguments":"{}"}}]}]}`,
		`{"model":"m","prompt":"p","messages":[{"role":"tool","content":"","tool_call_id":7}]}`,
		`{"model":"m","prompt":"p","messages":[{"role":"assistant","content":"","tool_calls":{}}]}`,
	} {
		if p, err := ledger.DecodePayload(ledger.EventModelRequested, []byte(bad)); err == nil {
			t.Errorf("DecodePayload(%s) = %+v, want an error", bad, p)
		}
	}
}

// TestToolCallIDsSurviveTheLog: a replayed model step returns the tool
// calls with the ids the live step returned.
func TestToolCallIDsSurviveTheLog(t *testing.T) {
	calls := []ledger.ToolCall{
		{ID: "call_aee0f2ec", ToolName: "lookup", ArgumentsJSON: `{"q":"x"}`},
		{ID: "call_b1", ToolName: "lookup", ArgumentsJSON: `{"q":"y"}`},
	}
	k, store := newTestKernel(t, replyWith("", calls...))
	run := mustStart(t, k, liveTenant, "ids")
	step := ModelStep{Model: "m", Prompt: "look both up"}
	live, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatal(err)
	}
	restarted := New(store, nil)
	replayed, err := StepModel[Decision](tctx, restarted, run, step)
	if err != nil || !replayed.FromLog {
		t.Fatalf("replay: %+v, %v", replayed, err)
	}
	if diff := cmp.Diff(live.ToolCalls, replayed.ToolCalls); diff != "" || len(replayed.ToolCalls) != 2 {
		t.Errorf("replayed tool calls differ (-live +replayed):\n%s", diff)
	}
}

// TestToolMessagesReplay: a step whose conversation holds tool messages is
// logged with them and replays; a change in a call id is another request.
func TestToolMessagesReplay(t *testing.T) {
	m := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, m)
	run := mustStart(t, k, liveTenant, "conv")
	step := ModelStep{Model: "m", Messages: toolConversation(), StepKey: "turn2"}
	if _, err := StepModel[Decision](tctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(toolConversation(), m.last.Messages); diff != "" {
		t.Errorf("model received (-want +got):\n%s", diff)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(toolConversation(), events[1].Payload.(*ledger.ModelRequested).Messages); diff != "" {
		t.Errorf("logged messages (-want +got):\n%s", diff)
	}
	res, err := StepModel[Decision](tctx, New(store, nil), run, step)
	if err != nil || !res.FromLog {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	changed := toolConversation()
	changed[2].ToolCalls[1].ID, changed[4].ToolCallID = "call_9", "call_9"
	if _, err := StepModel[Decision](tctx, New(store, nil), run, ModelStep{Model: "m", Messages: changed, StepKey: "turn2"}); !errors.Is(err, ErrReplayMismatch) {
		t.Errorf("changed call id: err = %v, want ErrReplayMismatch (no logged result)", err)
	}
}

func TestBadConversationsAreRefused(t *testing.T) {
	conv := toolConversation
	for _, tc := range []struct {
		name  string
		msgs  func() []ledger.ChatMessage
		index int
		id    string
		text  string
	}{
		{"tool message answering no call", func() []ledger.ChatMessage {
			c := conv()
			c[4].ToolCallID = "call_7"
			return c
		}, 4, "call_7", `answers tool call "call_7", which no assistant message before it made`},
		{"call id reused in one message", func() []ledger.ChatMessage {
			c := conv()
			c[2].ToolCalls[1].ID = "call_1"
			return c
		}, 2, "call_1", `tool call id "call_1" is already used by this message`},
		{"call id reused in a later turn", func() []ledger.ChatMessage {
			c := append(conv(), ledger.ChatMessage{Role: "assistant", ToolCalls: []ledger.ToolCall{{ID: "call_2", ToolName: "refund", ArgumentsJSON: "{}"}}},
				ledger.ChatMessage{Role: "tool", Content: "{}", ToolCallID: "call_2"})
			return c
		}, 5, "call_2", `tool call id "call_2" is already used by message 2`},
		{"call answered twice", func() []ledger.ChatMessage {
			c := conv()
			c[4].ToolCallID = "call_1"
			return c
		}, 4, "call_1", `tool call "call_1" is already answered by message 3`},
		{"tool message without id", func() []ledger.ChatMessage {
			c := conv()
			c[3].ToolCallID = ""
			return c
		}, 3, "", "a tool message needs the ToolCallID"},
		{"call left unanswered", func() []ledger.ChatMessage {
			c := conv()
			return append(c[:4], ledger.ChatMessage{Role: "user", Content: "and?"})
		}, 2, "call_2", `tool call "call_2" has no tool message answering it before message 4`},
		{"call left unanswered at the end", func() []ledger.ChatMessage { return conv()[:3] }, 2, "call_1", "in the conversation"},
		{"tool calls on a user message", func() []ledger.ChatMessage {
			c := conv()
			c[1].ToolCalls = []ledger.ToolCall{{ID: "x", ToolName: "t"}}
			return c
		}, 1, "", `only assistant messages carry tool calls`},
		{"call without id", func() []ledger.ChatMessage {
			c := conv()
			c[2].ToolCalls[0].ID = ""
			return c
		}, 2, "", "has no id"},
		{"tool call id on a user message", func() []ledger.ChatMessage {
			c := conv()
			c[1].ToolCallID = "call_1"
			return c
		}, 1, "call_1", "only tool messages carry a ToolCallID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := replyWith(`{"approved":true,"reason":"ok"}`)
			k, store := newTestKernel(t, m)
			run := mustStart(t, k, liveTenant, "bad")
			_, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Messages: tc.msgs()})
			wantKind(t, err, ErrInvalidInput)
			var me *ledger.MessageError
			if !errors.As(err, &me) {
				t.Fatalf("error %v holds no *ledger.MessageError", err)
			}
			type where struct {
				Index      int
				ToolCallID string
			}
			if d := cmp.Diff(where{tc.index, tc.id}, where{me.Index, me.ToolCallID}); d != "" {
				t.Fatalf("error %v names the wrong message (-want +got):\n%s", err, d)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %v does not say %q", err, tc.text)
			}
			if !strings.Contains(err.Error(), "message ") || !strings.Contains(err.Error(), "nothing logged") {
				t.Errorf("error %q does not name the message or say that nothing was logged", err)
			}
			if n := len(eventTypes(t, store, run.ID)); n != 1 || m.calls.Load() != 0 {
				t.Errorf("%d events, %d model calls after a refused conversation; want only run_started and no call", n, m.calls.Load())
			}
		})
	}
}

func TestModelStepToolSubset(t *testing.T) {
	m := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, m)
	for _, name := range []string{"a", "b", "c"} {
		if err := RegisterTool(k.Tools(), name, func(_ context.Context, a echoArgs) (echoResult, error) { return echoResult{}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	run := mustStart(t, k, liveTenant, "subset")
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p", Tools: []string{"c", "a"}}); err != nil {
		t.Fatal(err)
	}
	if got := toolNames(m.last.Tools); !cmp.Equal(got, []string{"c", "a"}) {
		t.Errorf("offered %v, want [c a]", got)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[1].Payload.(*ledger.ModelRequested).AllowedTools; !cmp.Equal(got, []string{"c", "a"}) {
		t.Errorf("logged allowed_tools %v, want [c a]", got)
	}
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "q", Tools: []string{}}); err != nil || len(m.last.Tools) != 0 {
		t.Errorf("an empty subset offered %v (err %v), want none", toolNames(m.last.Tools), err)
	}
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "r"}); err != nil || len(m.last.Tools) != 3 {
		t.Errorf("no subset offered %v (err %v), want all three", toolNames(m.last.Tools), err)
	}

	n := len(eventTypes(t, store, run.ID))
	_, err = StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "s", Tools: []string{"a", "nope"}})
	wantKind(t, err, ErrToolNotFound)
	_, err = StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "s", Tools: []string{"a", "a"}})
	wantKind(t, err, ErrInvalidInput)
	_, err = StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "s", Tools: []string{"a"},
		Options: llm.Options{ToolChoice: "b"}})
	if e := wantKind(t, err, ErrInvalidInput); !strings.Contains(e.Msg, `tool choice "b" names no tool offered`) {
		t.Errorf("named tool choice outside the subset: %v", err)
	}
	if got := len(eventTypes(t, store, run.ID)); got != n {
		t.Errorf("refused steps logged %d events", got-n)
	}
	for _, c := range []string{llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired, "a"} {
		if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "choice " + c, Tools: []string{"a"},
			Options: llm.Options{ToolChoice: c, ParallelToolCalls: new(false)}}); err != nil {
			t.Errorf("tool choice %q: %v", c, err)
		} else if d := cmp.Diff(llm.Options{ToolChoice: c, ParallelToolCalls: new(false)}, m.last.Options); d != "" {
			t.Errorf("tool choice %q: the options the model received (-want +got):\n%s", c, d)
		}
	}
}

func toolNames(defs []llm.ToolDefinition) []string {
	names := []string{}
	for _, d := range defs {
		names = append(names, d.Name)
	}
	return names
}
