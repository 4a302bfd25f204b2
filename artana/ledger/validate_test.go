package ledger_test

import (
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
)

// TestValidateNamesTheListElement checks that invalid UTF-8 in a list
// element is reported with the element's index.
func TestValidateNamesTheListElement(t *testing.T) {
	bad := "\xff"
	for _, c := range []struct {
		p    ledger.Payload
		want string
	}{
		{&ledger.ModelRequested{Model: "m", Messages: []ledger.ChatMessage{{Role: "user", Content: "ok"}, {Role: "user", Content: bad}}},
			"messages[1].content is not valid UTF-8"},
		{&ledger.ModelRequested{Model: "m", Messages: []ledger.ChatMessage{{Role: "assistant",
			ToolCalls: []ledger.ToolCall{{ToolName: "t", ArgumentsJSON: "{}"}, {ToolName: "t", ArgumentsJSON: bad}}}}},
			"messages[0].tool_calls[1].function.arguments is not valid UTF-8"},
		{&ledger.ModelRequested{Model: "m", AllowedTools: []string{"a", "b", bad}}, "allowed_tools[2] is not valid UTF-8"},
		{&ledger.ModelCompleted{Model: "m", ToolCalls: []ledger.ToolCall{{ToolName: bad}}}, "tool_calls[0].tool_name is not valid UTF-8"},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate() = %v, want %q", err, c.want)
		}
	}
}

func TestValidateAllocatesNothing(t *testing.T) {
	p := &ledger.ModelRequested{Model: "m", Prompt: "p", AllowedTools: []string{"a"},
		Messages: []ledger.ChatMessage{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}}}
	if n := testing.AllocsPerRun(100, func() { _ = p.Validate() }); n != 0 {
		t.Errorf("Validate allocates %v times", n)
	}
}
