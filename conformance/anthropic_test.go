package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// anthropicClient returns an anthropic-sdk-go client that sends through
// httpClient. baseURL is the server's URL with "/v1", which the SDK adds.
func anthropicClient(httpClient *http.Client, baseURL string) anthropic.Client {
	return anthropic.NewClient(
		option.WithHTTPClient(httpClient), // the one line: recorder.NewTransport(t, nil).Client()
		option.WithBaseURL(strings.TrimSuffix(baseURL, "/v1")+"/"),
		option.WithAPIKey(fakeKey),
		option.WithMaxRetries(0),
	)
}

// secretTool is the tool of the Anthropic tool loop.
func secretTool() anthropic.ToolUnionParam {
	var schema struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	if err := json.Unmarshal(secretToolParams, &schema); err != nil {
		panic(err)
	}
	tool := anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
		Properties: schema.Properties, Required: schema.Required,
		ExtraFields: map[string]any{"additionalProperties": false},
	}, "secret_retrieval_tool")
	tool.OfTool.Description = anthropic.String("A tool that requires a password to retrieve a secret.")
	return tool
}

// toolLoop runs the two-turn tool exchange, streamed or not, and returns
// the two answers as the client parsed them.
func toolLoop(ctx context.Context, client anthropic.Client, prompt string, stream bool) (any, error) {
	params := anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-0",
		MaxTokens: 16000,
		System:    []anthropic.TextBlockParam{{Text: "Use parallel tool calling."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
		Tools:     []anthropic.ToolUnionParam{secretTool()},
	}
	call := func() (*anthropic.Message, error) {
		if !stream {
			return client.Messages.New(ctx, params)
		}
		s := client.Messages.NewStreaming(ctx, params)
		defer s.Close()
		var msg anthropic.Message
		for s.Next() {
			if err := msg.Accumulate(s.Current()); err != nil {
				return nil, err
			}
		}
		return &msg, s.Err()
	}
	first, err := call()
	if err != nil {
		return nil, err
	}
	params.Messages = append(params.Messages, first.ToParam())
	var results []anthropic.ContentBlockParamUnion
	for _, block := range first.Content {
		if block.Type == "tool_use" {
			results = append(results, anthropic.NewToolResultBlock(block.ID, secret(string(block.Input)), false))
		}
	}
	params.Messages = append(params.Messages, anthropic.NewUserMessage(results...))
	second, err := call()
	if err != nil {
		return nil, err
	}
	return []*anthropic.Message{first, second}, nil
}

// TestAnthropicSDK has no structured-output scenario: the wire fixtures
// hold no Anthropic structured-output exchange to serve.
func TestAnthropicSDK(t *testing.T) {
	for _, sc := range []scenario{
		{name: "plain", responses: []string{"anthropic-messages-tool-loop-turn2.json"}, prompt: "Say where mellon and radiance lead",
			run: func(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
				client := anthropicClient(hc, base)
				return client.Messages.New(ctx, anthropic.MessageNewParams{
					Model: "claude-sonnet-4-0", MaxTokens: 1024,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
				})
			}},
		{name: "tool_call", responses: []string{"anthropic-messages-tool-loop-turn1.json", "anthropic-messages-tool-loop-turn2.json"}, prompt: toolPrompt,
			run: func(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
				return toolLoop(ctx, anthropicClient(hc, base), prompt, false)
			}},
		{name: "stream", responses: []string{"anthropic-messages-stream-tool-loop-turn1.sse", "anthropic-messages-stream-tool-loop-turn2.sse"}, prompt: toolPrompt,
			run: func(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
				return toolLoop(ctx, anthropicClient(hc, base), prompt, true)
			}},
	} {
		t.Run(sc.name, func(t *testing.T) { conform(t, sc) })
	}
}
