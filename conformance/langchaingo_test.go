package conformance

import (
	"context"
	"net/http"
	"testing"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

// langchain returns langchaingo's OpenAI LLM, sending through httpClient.
func langchain(httpClient *http.Client, baseURL, model string, opts ...openai.Option) (*openai.LLM, error) {
	return openai.New(append([]openai.Option{
		openai.WithHTTPClient(httpClient), // the one line: recorder.NewTransport(t, nil).Client()
		openai.WithBaseURL(baseURL),
		openai.WithToken(fakeKey),
		openai.WithModel(model),
	}, opts...)...)
}

func TestLangChainGo(t *testing.T) {
	for _, sc := range []scenario{
		{name: "plain", responses: plainResponses, prompt: plainPrompt, run: langchainPlain},
		{name: "structured", responses: structuredResponses, prompt: structuredPrompt, run: langchainStructured},
		{name: "tool_call", responses: toolResponses, prompt: toolPrompt, run: langchainToolCall},
		{name: "stream", responses: streamResponses, prompt: streamPrompt, run: langchainStream},
	} {
		sc.hidesErrors = true
		t.Run(sc.name, func(t *testing.T) { conform(t, sc) })
	}
}

// langchainPlain is the plain scenario with langchaingo: it asks for a plain chat completion.
func langchainPlain(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	llm, err := langchain(hc, base, "gpt-3.5-turbo")
	if err != nil {
		return nil, err
	}
	return llm.GenerateContent(ctx, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, prompt)},
		llms.WithMaxTokens(50), llms.WithTemperature(0))
}

// langchainStructured is the structured scenario with langchaingo: it asks for an answer in a JSON schema.
func langchainStructured(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	llm, err := langchain(hc, base, "gpt-4o-2024-08-06", openai.WithResponseFormat(&openai.ResponseFormat{
		Type: "json_schema",
		JSONSchema: &openai.ResponseFormatJSONSchema{Name: "math_schema", Strict: true, Schema: &openai.ResponseFormatJSONSchemaProperty{
			Type:                 "object",
			Properties:           map[string]*openai.ResponseFormatJSONSchemaProperty{"final_answer": {Type: "string"}},
			AdditionalProperties: false,
			Required:             []string{"final_answer"},
		}},
	}))
	if err != nil {
		return nil, err
	}
	return llm.GenerateContent(ctx, []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "You are a student taking a math exam."),
		llms.TextParts(llms.ChatMessageTypeHuman, prompt),
	})
}

// langchainToolCall is the tool_call scenario with langchaingo: it asks for parallel tool calls, answers them and asks again.
func langchainToolCall(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	llm, err := langchain(hc, base, "gpt-4o")
	if err != nil {
		return nil, err
	}
	tools := llms.WithTools([]llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{
		Name:        "secret_retrieval_tool",
		Description: "A tool that requires a password to retrieve a secret.",
		Parameters:  secretToolParams,
	}}})
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "Use parallel tool calling."),
		llms.TextParts(llms.ChatMessageTypeHuman, prompt),
	}
	first, err := llm.GenerateContent(ctx, msgs, tools)
	if err != nil {
		return nil, err
	}
	calls := llms.MessageContent{Role: llms.ChatMessageTypeAI}
	var answers []llms.MessageContent
	for _, call := range first.Choices[0].ToolCalls {
		calls.Parts = append(calls.Parts, call)
		answers = append(answers, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
			llms.ToolCallResponse{ToolCallID: call.ID, Name: call.FunctionCall.Name, Content: secret(call.FunctionCall.Arguments)},
		}})
	}
	msgs = append(append(msgs, calls), answers...)
	second, err := llm.GenerateContent(ctx, msgs, tools)
	if err != nil {
		return nil, err
	}
	return []*llms.ContentResponse{first, second}, nil
}

// langchainStream is the stream scenario with langchaingo: it streams a chat completion and collects its chunks.
func langchainStream(ctx context.Context, hc *http.Client, base, prompt string) (any, error) {
	llm, err := langchain(hc, base, "gpt-3.5-turbo")
	if err != nil {
		return nil, err
	}
	var chunks []string
	resp, err := llm.GenerateContent(ctx, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, prompt)},
		llms.WithMaxTokens(50), llms.WithTemperature(0),
		llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
			chunks = append(chunks, string(chunk))
			return nil
		}))
	if err != nil {
		return nil, err
	}
	return struct {
		Chunks []string
		Resp   *llms.ContentResponse
	}{chunks, resp}, nil
}
