package artana

import (
	"slices"

	"github.com/artana-go/go-artana/artana/ledger"
)

// ChatMessage is one message of a model request or of a conversation, as
// ledger.ChatMessage logs it: role, content, and the OpenAI tool-call
// fields (ToolCallID on a tool message, ToolCalls on an assistant message).
type ChatMessage = ledger.ChatMessage

// ToolCall is a tool call a model asked for (ledger.ToolCall): in a
// llm.Response, in a ModelResult and, as logged, in
// ledger.ModelCompleted.ToolCalls. ID is the provider's call id.
type ToolCall = ledger.ToolCall

// ToolMessage returns the tool message that answers call with content.
func ToolMessage(call ToolCall, content string) ChatMessage {
	return ChatMessage{Role: "tool", Content: content, ToolCallID: call.ID}
}

// equalMessages reports whether two conversations are the same, tool
// calls included.
func equalMessages(a, b []ChatMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Role != y.Role || x.Content != y.Content || x.ToolCallID != y.ToolCallID || x.Name != y.Name ||
			!slices.Equal(x.ToolCalls, y.ToolCalls) {
			return false
		}
	}
	return true
}
