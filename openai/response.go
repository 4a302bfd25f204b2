package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	oai "github.com/openai/openai-go/v3"
)

// response turns a Chat Completions answer into the kernel's response.
func (m *Model) response(req llm.Request, cc *oai.ChatCompletion) (llm.Response, error) {
	if cc == nil || len(cc.Choices) == 0 {
		return llm.Response{}, badOutput("the answer has no choices")
	}
	choice := cc.Choices[0]
	if err := m.withheld(choice, cc.Usage.CompletionTokens); err != nil {
		return llm.Response{}, err
	}
	var out llm.Response
	var err error
	if out.ToolCalls, err = toolCalls(choice.Message.ToolCalls); err != nil {
		return llm.Response{}, err
	}
	if out.OutputJSON, err = outputJSON(req, choice.Message.Content, len(out.ToolCalls) > 0); err != nil {
		return llm.Response{}, err
	}
	if out.Usage, err = m.usage(req, cc); err != nil {
		return llm.Response{}, err
	}
	return out, nil
}

// withheld returns the error of an answer without a usable output: a
// refusal, a truncated output (after completionTokens tokens) or one the
// provider's content filter withheld; nil for any other.
func (m *Model) withheld(choice oai.ChatCompletionChoice, completionTokens int64) error {
	if choice.Message.Refusal != "" {
		return &llm.Error{
			Class:   llm.ClassRefusal,
			Message: "the model refused: " + m.scrub.scrub(choice.Message.Refusal),
		}
	}
	switch choice.FinishReason {
	case "length":
		return &llm.Error{
			Class: llm.ClassTruncated,
			Message: fmt.Sprintf("the output hit the token limit after %d completion tokens (finish_reason \"length\"); raise ModelOptions.MaxTokens or ask for a shorter answer",
				completionTokens),
		}
	case "content_filter":
		return &llm.Error{
			Class:   llm.ClassRefusal,
			Message: "the provider's content filter withheld the output (finish_reason \"content_filter\")",
		}
	}
	return nil
}

// toolCalls returns the answer's function calls, empty arguments as {}.
func toolCalls(calls []oai.ChatCompletionMessageToolCallUnion) ([]ledger.ToolCall, error) {
	var out []ledger.ToolCall
	for i, tc := range calls {
		if tc.Type != "" && tc.Type != "function" {
			return nil, badOutput(fmt.Sprintf("tool call %d has type %q; only function tools are offered", i, tc.Type))
		}
		if tc.Function.Name == "" {
			return nil, badOutput(fmt.Sprintf("tool call %d names no function", i))
		}
		args := tc.Function.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		out = append(out, ledger.ToolCall{ID: tc.ID, ToolName: tc.Function.Name, ArgumentsJSON: args})
	}
	return out, nil
}

// outputJSON returns the output of an answer with content: the JSON
// document itself when req asks for structured output, else the text as a
// JSON string; "" for a tool-calling turn (hasCalls) without an output.
func outputJSON(req llm.Request, content string, hasCalls bool) (string, error) {
	switch {
	case strings.TrimSpace(content) == "" && hasCalls:
		// A tool-calling turn: no output yet.
		return "", nil
	case hasCalls && structuredOutput(req.OutputSchema) && !json.Valid([]byte(strings.TrimSpace(content))):
		// A tool-calling turn with a remark ("Let me look that up."):
		// the remark is not the structured output, and is not kept.
		return "", nil
	case structuredOutput(req.OutputSchema):
		content = strings.TrimSpace(content)
		if content == "" {
			return "", badOutput("the answer has neither content nor tool calls")
		}
		if !json.Valid([]byte(content)) {
			return "", badOutput(fmt.Sprintf("the content is not the JSON document the output schema asks for: %.80q", content))
		}
		return content, nil
	default:
		b, err := json.Marshal(content)
		if err != nil {
			return "", badOutput("the content cannot be encoded as a JSON string")
		}
		return string(b), nil
	}
}

// usage returns the answer's token counts and their cost at the model's
// price; an unknown price fails when WithFailOnUnknownCost is on.
func (m *Model) usage(req llm.Request, cc *oai.ChatCompletion) (llm.Usage, error) {
	u := llm.Usage{
		PromptTokens:       cc.Usage.PromptTokens,
		CompletionTokens:   cc.Usage.CompletionTokens,
		CachedPromptTokens: cc.Usage.PromptTokensDetails.CachedTokens,
	}
	price, known := lookupPrice(m.prices, req.Model, cc.Model)
	if !known && m.cfg.failOnUnknownCost && (u.PromptTokens > 0 || u.CompletionTokens > 0) {
		return llm.Usage{}, &llm.Error{
			Class: llm.ClassPermanent,
			Message: fmt.Sprintf("the cost of model %q (served as %q) is unknown; add its price with openai.WithPrices or turn off openai.WithFailOnUnknownCost",
				req.Model, cc.Model),
		}
	}
	u.CostUSD = price.Cost(u.PromptTokens, u.CachedPromptTokens, u.CompletionTokens)
	return u, nil
}

func badOutput(msg string) *llm.Error {
	return &llm.Error{Class: llm.ClassPermanent, Message: "unusable answer: " + msg, Err: errBadOutput}
}
