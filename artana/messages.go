package artana

import (
	"slices"

	"github.com/artana-go/go-artana/artana/ledger"
)

// ToolMessage returns the tool message that answers call with content.
func ToolMessage(call ledger.ToolCall, content string) ledger.ChatMessage {
	return ledger.ChatMessage{Role: "tool", Content: content, ToolCallID: call.ID}
}

// equalMessages reports whether two conversations are the same, tool
// calls included.
func equalMessages(a, b []ledger.ChatMessage) bool {
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
