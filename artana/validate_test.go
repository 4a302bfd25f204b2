package artana_test

import (
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
)

// TestValidateNamesTheListElement checks that invalid UTF-8 in a list
// element is reported with the element's index.
func TestValidateNamesTheListElement(t *testing.T) {
	bad := "\xff"
	for _, c := range []struct {
		p    artana.Payload
		want string
	}{
		{&artana.ModelRequested{Model: "m", Messages: []artana.ChatMessage{{Role: "user", Content: "ok"}, {Role: "user", Content: bad}}},
			"messages[1].content is not valid UTF-8"},
		{&artana.ModelRequested{Model: "m", Messages: []artana.ChatMessage{{Role: "assistant",
			ToolCalls: []artana.ToolCall{{ToolName: "t", ArgumentsJSON: "{}"}, {ToolName: "t", ArgumentsJSON: bad}}}}},
			"messages[0].tool_calls[1].function.arguments is not valid UTF-8"},
		{&artana.ModelRequested{Model: "m", AllowedTools: []string{"a", "b", bad}}, "allowed_tools[2] is not valid UTF-8"},
		{&artana.ModelCompleted{Model: "m", ToolCalls: []artana.ToolCall{{ToolName: bad}}}, "tool_calls[0].tool_name is not valid UTF-8"},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate() = %v, want %q", err, c.want)
		}
	}
}

func TestValidateAllocatesNothing(t *testing.T) {
	p := &artana.ModelRequested{Model: "m", Prompt: "p", AllowedTools: []string{"a"},
		Messages: []artana.ChatMessage{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}}}
	if n := testing.AllocsPerRun(100, func() { _ = p.Validate() }); n != 0 {
		t.Errorf("Validate allocates %v times", n)
	}
}
