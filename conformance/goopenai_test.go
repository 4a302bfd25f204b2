package conformance

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// goOpenAI returns a go-openai client that sends through httpClient.
func goOpenAI(httpClient *http.Client, baseURL string) *goopenai.Client {
	cfg := goopenai.DefaultConfig(fakeKey)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = httpClient // the one line: recorder.NewTransport(t, nil).Client()
	return goopenai.NewClientWithConfig(cfg)
}

func TestGoOpenAI(t *testing.T) {
	for _, sc := range []scenario{
		{name: "plain", responses: plainResponses, prompt: plainPrompt, run: goOpenAIPlain},
		{name: "structured", responses: structuredResponses, prompt: structuredPrompt, run: goOpenAIStructured},
		{name: "tool_call", responses: toolResponses, prompt: toolPrompt, run: goOpenAIToolCall},
		{name: "stream", responses: streamResponses, prompt: streamPrompt, run: goOpenAIStream},
	} {
		t.Run(sc.name, func(t *testing.T) { conform(t, sc) })
	}
}

// goOpenAIPlain is the plain scenario with go-openai: it asks for a plain chat completion.
func goOpenAIPlain(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	return goOpenAI(hc, base).CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
		Model:               "gpt-3.5-turbo",
		Messages:            []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: prompt}},
		MaxCompletionTokens: 50,
	})
}

// goOpenAIStructured is the structured scenario with go-openai: it asks for an answer in a JSON schema.
func goOpenAIStructured(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	return goOpenAI(hc, base).CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
		Model: "gpt-4o-2024-08-06",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleSystem, Content: "You are a student taking a math exam."},
			{Role: goopenai.ChatMessageRoleUser, Content: prompt},
		},
		ResponseFormat: &goopenai.ChatCompletionResponseFormat{
			Type:       goopenai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{Name: "math_schema", Schema: mathSchema, Strict: true},
		},
	})
}

// goOpenAIToolCall is the tool_call scenario with go-openai: it asks for parallel tool calls, answers them and asks again.
func goOpenAIToolCall(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	client := goOpenAI(hc, base)
	req := goopenai.ChatCompletionRequest{
		Model: "gpt-4o",
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleSystem, Content: "Use parallel tool calling."},
			{Role: goopenai.ChatMessageRoleUser, Content: prompt},
		},
		Tools: []goopenai.Tool{{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{
			Name:        "secret_retrieval_tool",
			Description: "A tool that requires a password to retrieve a secret.",
			Parameters:  secretToolParams,
		}}},
	}
	first, err := client.CreateChatCompletion(ctx, req)
	if err != nil {
		return nil, err
	}
	msg := first.Choices[0].Message
	req.Messages = append(req.Messages, msg)
	for _, call := range msg.ToolCalls {
		req.Messages = append(req.Messages, goopenai.ChatCompletionMessage{
			Role: goopenai.ChatMessageRoleTool, Content: secret(call.Function.Arguments), ToolCallID: call.ID,
		})
	}
	second, err := client.CreateChatCompletion(ctx, req)
	if err != nil {
		return nil, err
	}
	return []goopenai.ChatCompletionResponse{first, second}, nil
}

// goOpenAIStream is the stream scenario with go-openai: it streams a chat completion and collects its chunks.
func goOpenAIStream(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	stream, err := goOpenAI(hc, base).CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{
		Model:               "gpt-3.5-turbo",
		Messages:            []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: prompt}},
		StreamOptions:       &goopenai.StreamOptions{IncludeUsage: true},
		MaxCompletionTokens: 50,
		Stream:              true,
	})
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var chunks []goopenai.ChatCompletionStreamResponse
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return chunks, nil
		}
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, chunk)
	}
}
