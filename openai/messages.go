package openai

import (
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	oai "github.com/openai/openai-go/v3"
)

// messages turns the kernel's conversation into Chat Completions
// messages: an assistant message carries its tool calls (and no content
// when it has none), a tool message the id of the call it answers. A tool
// message whose id answers no earlier call is refused, as the endpoint
// would refuse it.
func messages(msgs []ledger.ChatMessage) ([]oai.ChatCompletionMessageParamUnion, error) {
	out := make([]oai.ChatCompletionMessageParamUnion, 0, len(msgs))
	calls := map[string]bool{}
	for i, msg := range msgs {
		if len(msg.ToolCalls) > 0 && msg.Role != "assistant" {
			return nil, requestError(fmt.Sprintf("message %d has role %q and tool calls; only assistant messages carry tool calls", i, msg.Role))
		}
		var u oai.ChatCompletionMessageParamUnion
		switch msg.Role {
		case "system":
			u = oai.SystemMessage(msg.Content)
			if msg.Name != "" {
				u.OfSystem.Name = oai.String(msg.Name)
			}
		case "developer":
			u = oai.DeveloperMessage(msg.Content)
			if msg.Name != "" {
				u.OfDeveloper.Name = oai.String(msg.Name)
			}
		case "user":
			u = oai.UserMessage(msg.Content)
			if msg.Name != "" {
				u.OfUser.Name = oai.String(msg.Name)
			}
		case "assistant":
			a := &oai.ChatCompletionAssistantMessageParam{}
			if msg.Content != "" || len(msg.ToolCalls) == 0 {
				a.Content.OfString = oai.String(msg.Content)
			}
			if msg.Name != "" {
				a.Name = oai.String(msg.Name)
			}
			for j, c := range msg.ToolCalls {
				if c.ID == "" {
					return nil, requestError(fmt.Sprintf("message %d: tool call %d (%s) has no id, which Chat Completions needs to pair it with its tool message", i, j, c.ToolName))
				}
				calls[c.ID] = true
				a.ToolCalls = append(a.ToolCalls, oai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &oai.ChatCompletionMessageFunctionToolCallParam{
						ID:       c.ID,
						Function: oai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.ToolName, Arguments: c.ArgumentsJSON},
					},
				})
			}
			u = oai.ChatCompletionMessageParamUnion{OfAssistant: a}
		case "tool":
			switch {
			case msg.ToolCallID == "":
				return nil, requestError(fmt.Sprintf("message %d has role \"tool\" and no ToolCallID; a tool message answers one tool call of an earlier assistant message (artana.ToolMessage)", i))
			case !calls[msg.ToolCallID]:
				return nil, requestError(fmt.Sprintf("message %d answers tool call %q, which no earlier assistant message made", i, msg.ToolCallID))
			}
			u = oai.ToolMessage(msg.Content, msg.ToolCallID)
		default:
			return nil, requestError(fmt.Sprintf("message %d has role %q; use system, developer, user, assistant or tool", i, msg.Role))
		}
		out = append(out, u)
	}
	return out, nil
}

// toolChoice turns artana's tool choice into the request's.
func toolChoice(choice string) oai.ChatCompletionToolChoiceOptionUnionParam {
	switch choice {
	case llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired:
		return oai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: oai.String(choice)}
	}
	return oai.ChatCompletionToolChoiceOptionUnionParam{OfFunctionToolChoice: &oai.ChatCompletionNamedToolChoiceParam{
		Function: oai.ChatCompletionNamedToolChoiceFunctionParam{Name: choice},
	}}
}
