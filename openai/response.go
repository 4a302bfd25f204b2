package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/llm"
	oai "github.com/openai/openai-go/v3"
)

// response turns a Chat Completions answer into the kernel's response.
func (m *Model) response(req llm.Request, cc *oai.ChatCompletion) (llm.Response, error) {
	if cc == nil || len(cc.Choices) == 0 {
		return llm.Response{}, badOutput("the answer has no choices")
	}
	choice := cc.Choices[0]
	msg := choice.Message

	if msg.Refusal != "" {
		return llm.Response{}, &llm.Error{
			Class:   llm.ClassRefusal,
			Message: "the model refused: " + m.scrub.scrub(msg.Refusal),
		}
	}
	switch choice.FinishReason {
	case "length":
		return llm.Response{}, &llm.Error{
			Class: llm.ClassTruncated,
			Message: fmt.Sprintf("the output hit the token limit after %d completion tokens (finish_reason \"length\"); raise ModelOptions.MaxTokens or ask for a shorter answer",
				cc.Usage.CompletionTokens),
		}
	case "content_filter":
		return llm.Response{}, &llm.Error{
			Class:   llm.ClassRefusal,
			Message: "the provider's content filter withheld the output (finish_reason \"content_filter\")",
		}
	}

	var out llm.Response
	for i, tc := range msg.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			return llm.Response{}, badOutput(fmt.Sprintf("tool call %d has type %q; only function tools are offered", i, tc.Type))
		}
		if tc.Function.Name == "" {
			return llm.Response{}, badOutput(fmt.Sprintf("tool call %d names no function", i))
		}
		args := tc.Function.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		out.ToolCalls = append(out.ToolCalls, artana.ToolCall{ID: tc.ID, ToolName: tc.Function.Name, ArgumentsJSON: args})
	}

	content := msg.Content
	switch {
	case strings.TrimSpace(content) == "" && len(out.ToolCalls) > 0:
		// A tool-calling turn: no output yet.
	case len(out.ToolCalls) > 0 && structuredOutput(req.OutputSchema) && !json.Valid([]byte(strings.TrimSpace(content))):
		// A tool-calling turn with a remark ("Let me look that up."):
		// the remark is not the structured output, and is not kept.
	case structuredOutput(req.OutputSchema):
		content = strings.TrimSpace(content)
		if content == "" {
			return llm.Response{}, badOutput("the answer has neither content nor tool calls")
		}
		if !json.Valid([]byte(content)) {
			return llm.Response{}, badOutput(fmt.Sprintf("the content is not the JSON document the output schema asks for: %.80q", content))
		}
		out.OutputJSON = content
	default:
		b, err := json.Marshal(content)
		if err != nil {
			return llm.Response{}, badOutput("the content cannot be encoded as a JSON string")
		}
		out.OutputJSON = string(b)
	}

	out.Usage = llm.Usage{
		PromptTokens:       cc.Usage.PromptTokens,
		CompletionTokens:   cc.Usage.CompletionTokens,
		CachedPromptTokens: cc.Usage.PromptTokensDetails.CachedTokens,
	}
	price, known := lookupPrice(m.prices, req.Model, cc.Model)
	if !known && m.cfg.failOnUnknownCost && (out.Usage.PromptTokens > 0 || out.Usage.CompletionTokens > 0) {
		return llm.Response{}, &llm.Error{
			Class: llm.ClassPermanent,
			Message: fmt.Sprintf("the cost of model %q (served as %q) is unknown; add its price with openai.WithPrices or turn off openai.WithFailOnUnknownCost",
				req.Model, cc.Model),
		}
	}
	out.Usage.CostUSD = price.Cost(out.Usage.PromptTokens, out.Usage.CachedPromptTokens, out.Usage.CompletionTokens)
	return out, nil
}

func badOutput(msg string) *llm.Error {
	return &llm.Error{Class: llm.ClassPermanent, Message: "unusable answer: " + msg, Err: errBadOutput}
}
