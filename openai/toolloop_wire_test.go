package openai_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
)

// TestWireToolLoop replays the recorded two-turn exchange
// openai-chat-tool-loop-turn{1,2}: the model asks for two parallel calls,
// then gets the assistant message with both calls and the two tool
// messages, and answers. The turn-2 request the model sends is compared
// field by field with the recorded one.
func TestWireToolLoop(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-tool-loop-turn1.json"},
		reply{status: 200, file: "openai-chat-tool-loop-turn2.json"})
	m := newModel(t, srv, &sleeps{}, openai.WithStrictTools(false))
	conv := []ledger.ChatMessage{
		{Role: "system", Content: "Use parallel tool calling."},
		{Role: "user", Content: "Please retrieve the secrets associated with each of these passwords: mellon,radiance"},
	}
	turn1, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Messages: conv, Tools: []llm.ToolDefinition{secretTool}})
	if err != nil {
		t.Fatalf("turn 1: %v", err)
	}
	checkRequest(t, srv, 0, "openai-chat-tool-loop-turn1.request.json")
	secrets := map[string]string{`{"password": "mellon"}`: "Welcome to Moria!", `{"password": "radiance"}`: "Life before Death"}
	conv = append(conv, ledger.ChatMessage{Role: "assistant", ToolCalls: turn1.ToolCalls})
	for _, c := range turn1.ToolCalls {
		conv = append(conv, artana.ToolMessage(c, secrets[c.ArgumentsJSON]))
	}
	// The answer is text (a Go string): its schema asks for no
	// response_format, and the text comes back as a JSON string.
	turn2, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Messages: conv, Tools: []llm.ToolDefinition{secretTool},
		OutputSchema: json.RawMessage(`{"type":"string"}`)})
	if err != nil {
		t.Fatalf("turn 2: %v", err)
	}

	want := decodeJSON(t, readWire(t, "openai-chat-tool-loop-turn2.request.json"))
	// The recording client (Mirascope) echoed the response's
	// "annotations": [] into the assistant message; Chat Completions
	// ignores it on input and openai-go sends none.
	asst := want["messages"].([]any)[2].(map[string]any)
	if _, ok := asst["annotations"]; !ok {
		t.Fatal("the recorded assistant message has no annotations to leave out; update the test")
	}
	delete(asst, "annotations")
	if diff := cmp.Diff(want, srv.sent(1)); diff != "" {
		t.Errorf("turn-2 request differs from openai-chat-tool-loop-turn2.request.json (-recorded +sent):\n%s", diff)
	}
	sent := srv.sent(1)["messages"].([]any)
	for i, c := range turn1.ToolCalls {
		got := sent[3+i].(map[string]any)
		if got["role"] != "tool" || got["tool_call_id"] != c.ID {
			t.Errorf("tool message %d = %v, want role tool answering %s", i, got, c.ID)
		}
	}
	if !strings.HasPrefix(turn2.OutputJSON, `"The secrets`) || !strings.Contains(turn2.OutputJSON, "Welcome to Moria!") || len(turn2.ToolCalls) != 0 {
		t.Errorf("turn 2 = %+v, want the final answer", turn2)
	}
}

// TestWireToolCallsWithRemark: a tool-calling answer that also says
// something is a tool-calling turn, also when a structured output is asked
// for; the remark is not the output.
func TestWireToolCallsWithRemark(t *testing.T) {
	body := string(readWire(t, "openai-chat-tool-loop-turn1.json"))
	withRemark := strings.Replace(body, `"content": null,`, `"content": "Let me look both up.",`, 1)
	if withRemark == body {
		t.Fatal("the fixture has no null content to replace")
	}
	srv := newServer(t, reply{status: 200, body: withRemark})
	m := newModel(t, srv, &sleeps{})
	resp, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Prompt: "x",
		Tools: []llm.ToolDefinition{secretTool}, OutputName: "Answer", OutputSchema: json.RawMessage(mathSchema)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.OutputJSON != "" || len(resp.ToolCalls) != 2 {
		t.Errorf("response %+v, want the two calls and no output", resp)
	}
}

func TestWireToolChoice(t *testing.T) {
	for _, tc := range []struct {
		choice   string
		parallel *bool
		want     map[string]any
	}{
		{llm.ToolChoiceAuto, nil, map[string]any{"tool_choice": "auto"}},
		{llm.ToolChoiceNone, nil, map[string]any{"tool_choice": "none"}},
		{llm.ToolChoiceRequired, ptr(false), map[string]any{"tool_choice": "required", "parallel_tool_calls": false}},
		{"secret_retrieval_tool", ptr(true), map[string]any{
			"tool_choice":         map[string]any{"type": "function", "function": map[string]any{"name": "secret_retrieval_tool"}},
			"parallel_tool_calls": true,
		}},
		{"", nil, map[string]any{}},
	} {
		t.Run(tc.choice, func(t *testing.T) {
			srv := newServer(t, reply{status: 200, file: "openai-chat-tool-loop-turn1.json"})
			m := newModel(t, srv, &sleeps{})
			_, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Prompt: "x",
				Tools: []llm.ToolDefinition{secretTool}, Options: llm.Options{ToolChoice: tc.choice, ParallelToolCalls: tc.parallel}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, k := range []string{"tool_choice", "parallel_tool_calls"} {
				if v, ok := srv.sent(0)[k]; ok {
					got[k] = v
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToolMessagesRefused(t *testing.T) {
	call := ledger.ToolCall{ID: "call_1", ToolName: "t", ArgumentsJSON: "{}"}
	for name, tc := range map[string]struct {
		msgs []ledger.ChatMessage
		want string
	}{
		"tool message without id": {[]ledger.ChatMessage{{Role: "user", Content: "x"}, {Role: "tool", Content: "42"}}, `message 1 has role "tool" and no ToolCallID`},
		"answers no call": {[]ledger.ChatMessage{{Role: "user", Content: "x"}, {Role: "assistant", ToolCalls: []ledger.ToolCall{call}},
			{Role: "tool", Content: "42", ToolCallID: "call_2"}}, `message 2 answers tool call "call_2", which no earlier assistant message made`},
		"call without id":              {[]ledger.ChatMessage{{Role: "assistant", ToolCalls: []ledger.ToolCall{{ToolName: "t"}}}}, "message 0: tool call 0 (t) has no id"},
		"tool calls on a user message": {[]ledger.ChatMessage{{Role: "user", ToolCalls: []ledger.ToolCall{call}}}, `message 0 has role "user" and tool calls`},
		"unknown role":                 {[]ledger.ChatMessage{{Role: "user", Content: "x"}, {Role: "function", Content: "42"}}, `message 1 has role "function"; use system, developer, user, assistant or tool`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t)
			m := newModel(t, srv, &sleeps{})
			_, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Messages: tc.msgs})
			me := wantClass(t, err, llm.ClassPermanent)
			if !strings.Contains(me.Message, tc.want) {
				t.Errorf("message %q, want it to contain %q", me.Message, tc.want)
			}
			if n := srv.requests(); n != 0 {
				t.Errorf("%d requests sent; a refused conversation sends none", n)
			}
		})
	}
}

// TestWireMessageNames: a message's Name is sent as its "name", for every
// role that has one; an assistant message with tool calls and no content
// sends no content.
func TestWireMessageNames(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-tool-loop-turn2.json"})
	m := newModel(t, srv, &sleeps{})
	call := ledger.ToolCall{ID: "call_1", ToolName: "t", ArgumentsJSON: "{}"}
	_, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Messages: []ledger.ChatMessage{
		{Role: "system", Content: "s", Name: "ops"},
		{Role: "developer", Content: "d", Name: "dev"},
		{Role: "user", Content: "u", Name: "jane"},
		{Role: "assistant", Name: "bot", ToolCalls: []ledger.ToolCall{call}},
		artana.ToolMessage(call, "42"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"role": "system", "content": "s", "name": "ops"},
		map[string]any{"role": "developer", "content": "d", "name": "dev"},
		map[string]any{"role": "user", "content": "u", "name": "jane"},
		map[string]any{"role": "assistant", "name": "bot", "tool_calls": []any{map[string]any{
			"id": "call_1", "type": "function", "function": map[string]any{"name": "t", "arguments": "{}"}}}},
		map[string]any{"role": "tool", "content": "42", "tool_call_id": "call_1"},
	}
	if diff := cmp.Diff(want, srv.sent(0)["messages"]); diff != "" {
		t.Errorf("messages sent (-want +got):\n%s", diff)
	}
}
