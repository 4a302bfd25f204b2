package conformance

import (
	"context"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// openaiGo returns an openai-go client that sends through httpClient.
func openaiGo(httpClient *http.Client, baseURL string) openai.Client {
	return openai.NewClient(
		option.WithHTTPClient(httpClient), // the one line: recorder.NewTransport(t, nil).Client()
		option.WithBaseURL(baseURL+"/"),
		option.WithAPIKey(fakeKey),
		option.WithHeader("api-key", fakeKey),
		option.WithMaxRetries(0),
	)
}

func TestOpenAIGo(t *testing.T) {
	for _, sc := range []scenario{
		{name: "plain", responses: plainResponses, prompt: plainPrompt, run: openaiGoPlain},
		{name: "structured", responses: structuredResponses, prompt: structuredPrompt, run: openaiGoStructured},
		{name: "tool_call", responses: toolResponses, prompt: toolPrompt, run: openaiGoToolCall},
		{name: "stream", responses: streamResponses, prompt: streamPrompt, run: openaiGoStream},
	} {
		t.Run(sc.name, func(t *testing.T) { conform(t, sc) })
	}
}

// openaiGoPlain is the plain scenario with openai-go: it asks for a plain chat completion.
func openaiGoPlain(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	client := openaiGo(hc, base)
	return client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:               "gpt-3.5-turbo",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		MaxCompletionTokens: openai.Int(50),
		Temperature:         openai.Float(0),
	})
}

// openaiGoStructured is the structured scenario with openai-go: it asks for an answer in a JSON schema.
func openaiGoStructured(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	client := openaiGo(hc, base)
	return client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o-2024-08-06",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are a student taking a math exam."),
			openai.UserMessage(prompt),
		},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
				Name: "math_schema", Strict: openai.Bool(true), Schema: schemaMap(mathSchema),
			}},
		},
	})
}

// openaiGoToolCall is the tool_call scenario with openai-go: it asks for parallel tool calls, answers them and asks again.
func openaiGoToolCall(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	client := openaiGo(hc, base)
	params := openai.ChatCompletionNewParams{
		Model: "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Use parallel tool calling."),
			openai.UserMessage(prompt),
		},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        "secret_retrieval_tool",
			Description: openai.String("A tool that requires a password to retrieve a secret."),
			Parameters:  schemaMap(secretToolParams),
		})},
	}
	first, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		return nil, err
	}
	params.Messages = append(params.Messages, first.Choices[0].Message.ToParam())
	for _, call := range first.Choices[0].Message.ToolCalls {
		params.Messages = append(params.Messages, openai.ToolMessage(secret(call.Function.Arguments), call.ID))
	}
	second, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		return nil, err
	}
	return []*openai.ChatCompletion{first, second}, nil
}

// openaiGoStream is the stream scenario with openai-go: it streams a chat completion and collects its chunks.
func openaiGoStream(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	client := openaiGo(hc, base)
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:               "gpt-3.5-turbo",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		StreamOptions:       openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		MaxCompletionTokens: openai.Int(50),
		Temperature:         openai.Float(0),
	})
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	var chunks []openai.ChatCompletionChunk
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks = append(chunks, stream.Current())
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return struct {
		Chunks []openai.ChatCompletionChunk
		Whole  openai.ChatCompletion
	}{chunks, acc.ChatCompletion}, nil
}
