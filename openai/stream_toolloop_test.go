package openai_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
)

// TestStreamToolLoopWire streams the recorded two-turn exchange
// openai-chat-stream-tool-loop-turn{1,2}: the tool calls assembled from
// turn 1's fragments go back in turn 2's request, which equals the
// recorded one field by field, and turn 2 streams the final answer.
func TestStreamToolLoopWire(t *testing.T) {
	srv := newSSEServer(t, streamReply{body: readWire(t, "openai-chat-stream-tool-calls.sse")},
		streamReply{body: readWire(t, "openai-chat-stream-tool-loop-turn2.sse")})
	m := newStreamModel(t, srv, openai.WithStrictTools(false))
	ctx := context.Background()
	conv := []ledger.ChatMessage{
		{Role: "system", Content: "Use parallel tool calling."},
		{Role: "user", Content: "Please retrieve the secrets associated with each of these passwords: mellon,radiance"},
	}
	var d1 []llm.Delta
	turn1, err := m.Stream(ctx, llm.Request{Model: "gpt-4o", Messages: conv, Tools: []llm.ToolDefinition{secretTool}}, collect(&d1))
	if err != nil {
		t.Fatalf("turn 1: %v", err)
	}
	if len(turn1.ToolCalls) != 2 || turn1.OutputJSON != "" {
		t.Fatalf("turn 1 = %+v, want two tool calls and no output", turn1)
	}
	secrets := map[string]string{`{"password": "mellon"}`: "Welcome to Moria!", `{"password": "radiance"}`: "Life before Death"}
	conv = append(conv, ledger.ChatMessage{Role: "assistant", ToolCalls: turn1.ToolCalls})
	for _, c := range turn1.ToolCalls {
		conv = append(conv, artana.ToolMessage(c, secrets[c.ArgumentsJSON]))
	}
	var d2 []llm.Delta
	turn2, err := m.Stream(ctx, llm.Request{Model: "gpt-4o", Messages: conv, Tools: []llm.ToolDefinition{secretTool}}, collect(&d2))
	if err != nil {
		t.Fatalf("turn 2: %v", err)
	}
	want := decodeJSON(t, readWire(t, "openai-chat-stream-tool-loop-turn2.request.json"))
	// The recording client (Mirascope's streaming path) sent the
	// tool-calling assistant message with "content": null; openai-go
	// leaves the absent content out, which Chat Completions reads the same.
	asst := want["messages"].([]any)[2].(map[string]any)
	if c, ok := asst["content"]; !ok || c != nil {
		t.Fatalf("the recorded assistant message has no null content to leave out (%v); update the test", asst)
	}
	delete(asst, "content")
	if diff := cmp.Diff(want, srv.sent(1)); diff != "" {
		t.Errorf("turn-2 request differs from openai-chat-stream-tool-loop-turn2.request.json (-recorded +sent):\n%s", diff)
	}
	text := llm.JoinDeltas(d2).Text
	if text == "" || turn2.OutputJSON != mustJSONString(t, text) || len(turn2.ToolCalls) != 0 {
		t.Errorf("turn 2 = %+v, streamed text %q", turn2, text)
	}
}

func mustJSONString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
