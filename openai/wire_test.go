package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// One test per recorded body in testdata/wire/ (see PROVENANCE.md there).

func TestWireBasic(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-basic.json"})
	m := newModel(t, srv, &sleeps{})
	resp, err := m.Complete(context.Background(), llm.Request{
		Model:    "gpt-3.5-turbo",
		Prompt:   "Hello, how are you?",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "Hello, how are you?"}},
		Options:  llm.Options{MaxTokens: ptr[int64](50), Temperature: ptr(0.0)},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	checkRequest(t, srv, 0, "openai-chat-basic.request.json")
	want := llm.Response{
		// Without an output schema the text comes back as a JSON string.
		OutputJSON: `"Hello! I'm just a computer program, so I don't have feelings, but I'm here to help you. How can I assist you today?"`,
		Usage:      llm.Usage{PromptTokens: 13, CompletionTokens: 31, CostUSD: 13*0.50e-6 + 31*1.50e-6},
	}
	if diff := cmp.Diff(want, resp, floatApprox); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if got := srv.authAt(0); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want the bearer key", got)
	}
}

var floatApprox = cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(a)) })

const mathSchema = `{"type":"object","properties":{"final_answer":{"type":"string","additionalProperties":false}},"additionalProperties":false,"required":["final_answer"]}`

func TestWireJSONSchema(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-json-schema.json"})
	m := newModel(t, srv, &sleeps{})
	resp, err := m.Complete(context.Background(), llm.Request{
		Model: "gpt-4o-2024-08-06",
		Messages: []ledger.ChatMessage{
			{Role: "system", Content: "You are a student taking a math exam."},
			{Role: "user", Content: "Solve 2 + 2"},
		},
		OutputName:   "math_schema",
		OutputSchema: json.RawMessage(mathSchema),
		Options:      llm.Options{Temperature: ptr(0.0)},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	checkRequest(t, srv, 0, "openai-chat-json-schema.request.json")
	want := llm.Response{
		OutputJSON: `{"final_answer":"4"}`,
		Usage:      llm.Usage{PromptTokens: 53, CompletionTokens: 6, CostUSD: 53*2.50e-6 + 6*10e-6},
	}
	if diff := cmp.Diff(want, resp, floatApprox); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestWireToolCall(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-tool-call.json"})
	m := newModel(t, srv, &sleeps{}, openai.WithStrictTools(true))
	resp, err := m.Complete(context.Background(), llm.Request{
		Model: "gpt-4o-2024-08-06",
		Messages: []ledger.ChatMessage{
			{Role: "system", Content: "You are a helpful assistant"},
			{Role: "user", Content: "What is the age of Bob Odenkirk, a famous comedy screenwriter and an actor."},
		},
		Tools: []llm.ToolDefinition{{
			Name:        "search",
			Description: "Search by the web search engine",
			Schema:      json.RawMessage(`{"type":"object","properties":{"search_engine":{"type":"string","enum":["google","duckduckgo","bing"]},"search_query":{"type":"string"}},"required":["search_engine","search_query"],"additionalProperties":false}`),
		}},
		Options: llm.Options{Temperature: ptr(0.0)},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	checkRequest(t, srv, 0, "openai-chat-tool-call.request.json")
	want := llm.Response{
		ToolCalls: []ledger.ToolCall{{
			ID:            "call_ZK1sabbcL4sfbbcqmN9YALA7",
			ToolName:      "search",
			ArgumentsJSON: `{"search_engine":"google","search_query":"Bob Odenkirk age"}`,
		}},
		Usage: llm.Usage{PromptTokens: 85, CompletionTokens: 23, CostUSD: 85*2.50e-6 + 23*10e-6},
	}
	if diff := cmp.Diff(want, resp, floatApprox); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

var secretTool = llm.ToolDefinition{
	Name:        "secret_retrieval_tool",
	Description: "A tool that requires a password to retrieve a secret.",
	Schema:      json.RawMessage(`{"properties":{"password":{"title":"Password","type":"string"}},"required":["password"],"additionalProperties":false,"type":"object"}`),
}

func TestWireParallelToolCalls(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-tool-calls-parallel.json"})
	m := newModel(t, srv, &sleeps{}, openai.WithStrictTools(false))
	resp, err := m.Complete(context.Background(), llm.Request{
		Model: "gpt-4o",
		Messages: []ledger.ChatMessage{
			{Role: "system", Content: "Use parallel tool calling."},
			{Role: "user", Content: "Please retrieve the secrets associated with each of these passwords: mellon,radiance"},
		},
		Tools: []llm.ToolDefinition{secretTool},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	checkRequest(t, srv, 0, "openai-chat-tool-calls-parallel.request.json")
	want := []ledger.ToolCall{
		{ID: "call_v6LacIrChvs6ITVpIZqy5tFc", ToolName: "secret_retrieval_tool", ArgumentsJSON: `{"password": "mellon"}`},
		{ID: "call_onyWzk4mLTGKzW9cthmf4Llq", ToolName: "secret_retrieval_tool", ArgumentsJSON: `{"password": "radiance"}`},
	}
	if diff := cmp.Diff(want, resp.ToolCalls); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	if resp.OutputJSON != "" {
		t.Errorf("OutputJSON = %q, want empty for a tool-calling turn", resp.OutputJSON)
	}
	wantUsage := resp.Usage // the cost is checked with the prices
	wantUsage.PromptTokens, wantUsage.CompletionTokens = 75, 53
	if diff := cmp.Diff(wantUsage, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

func TestWireCachedTokens(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-cached-tokens.json"})
	m := newModel(t, srv, &sleeps{})
	resp, err := m.Complete(context.Background(), llm.Request{
		Model:    "gpt-4o",
		Messages: []ledger.ChatMessage{{Role: "system", Content: "long system prompt"}, {Role: "user", Content: "breakfast?"}},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := llm.Usage{
		PromptTokens:       3663,
		CompletionTokens:   117,
		CachedPromptTokens: 3584,
		// Cached tokens cost half of gpt-4o's prompt price.
		CostUSD: (3663-3584)*2.50e-6 + 3584*1.25e-6 + 117*10e-6,
	}
	if diff := cmp.Diff(want, resp.Usage, floatApprox); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(resp.OutputJSON, `"\"Ah, the most important meal`) {
		t.Errorf("OutputJSON = %.60q..., want the content as a JSON string", resp.OutputJSON)
	}
}

func TestWireFinishLength(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-finish-length.json"})
	m := newModel(t, srv, &sleeps{}, openai.WithLegacyMaxTokens())
	_, err := m.Complete(context.Background(), llm.Request{
		Model:    "gpt-4o",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "List all U.S. states."}},
		Options:  llm.Options{MaxTokens: ptr[int64](50)},
	})
	checkRequest(t, srv, 0, "openai-chat-finish-length.request.json")
	me := wantClass(t, err, llm.ClassTruncated)
	if !errors.Is(err, llm.ErrTruncated) || !errors.Is(err, llm.ErrPermanent) {
		t.Errorf("errors.Is(err, ErrModelTruncated/ErrModelPermanent) = false for %v", err)
	}
	if !strings.Contains(me.Message, "50 completion tokens") || !strings.Contains(me.Message, "MaxTokens") {
		t.Errorf("message %q should give the token count and the fix", me.Message)
	}
	if n := srv.requests(); n != 1 {
		t.Errorf("%d requests, want 1: truncation is not retried", n)
	}
}

func TestWireRefusal(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-refusal.json"})
	m := newModel(t, srv, &sleeps{})
	_, err := m.Complete(context.Background(), llm.Request{
		Model:        "gpt-4o",
		Prompt:       "something the model refuses",
		OutputName:   "Answer",
		OutputSchema: json.RawMessage(mathSchema),
	})
	me := wantClass(t, err, llm.ClassRefusal)
	if !errors.Is(err, llm.ErrRefusal) {
		t.Errorf("errors.Is(err, ErrModelRefusal) = false for %v", err)
	}
	if !strings.Contains(me.Message, "I'm very sorry, but I can't assist with that request.") {
		t.Errorf("message %q should quote the refusal", me.Message)
	}
	// The prompt alone became one user message, and the schema went out strict.
	sent := srv.sent(0)
	if diff := cmp.Diff([]any{map[string]any{"role": "user", "content": "something the model refuses"}}, sent["messages"]); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	rf := sent["response_format"].(map[string]any)["json_schema"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"name": "Answer", "strict": true}, rf, cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "schema" })); diff != "" {
		t.Errorf("json_schema (-want +got):\n%s", diff)
	}
}

func TestWireError400(t *testing.T) {
	srv := newServer(t, reply{status: 400, file: "openai-error-400.json"})
	sl := &sleeps{}
	m := newModel(t, srv, sl)
	_, err := m.Complete(context.Background(), llm.Request{
		Model:    "gpt-5-mini",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "What is 4200 + 42?"}},
		Options:  llm.Options{MaxTokens: ptr[int64](500), Seed: ptr[int64](42)},
	})
	// ModelOptions has no stop sequences, so the recorded "stop" is not sent.
	checkRequest(t, srv, 0, "openai-error-400.request.json", "stop")
	me := wantClass(t, err, llm.ClassPermanent)
	checkModelError(t, me, 400, 0, "unsupported_parameter", "'stop'")
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v holds no *openai.APIError", err)
	}
	wantAPI := *apiErr // the message and code are checked above
	wantAPI.Param, wantAPI.Type = "stop", "invalid_request_error"
	if diff := cmp.Diff(wantAPI, *apiErr); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
	if n := srv.requests(); n != 1 || len(sl.got()) != 0 {
		t.Errorf("%d requests, %d sleeps; a 400 must not be retried", n, len(sl.got()))
	}
}

func TestWireError401(t *testing.T) {
	srv := newServer(t, reply{status: 401, file: "openai-error-401.json"})
	m := newModel(t, srv, &sleeps{})
	_, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Prompt: "hi"})
	me := wantClass(t, err, llm.ClassPermanent)
	checkModelError(t, me, 401, 0, "invalid_api_key", "OPENAI_API_KEY")
	if n := srv.requests(); n != 1 {
		t.Errorf("%d requests, want 1: a 401 is never retried", n)
	}
}

func TestWireError429(t *testing.T) {
	srv := newServer(t, reply{status: 429, file: "openai-error-429.json", header: map[string]string{"Retry-After": "7"}})
	sl := &sleeps{}
	m := newModel(t, srv, sl, openai.WithRetries(2, 0.25e9, 2e9))
	_, err := m.Complete(context.Background(), llm.Request{Model: "gpt-5-nano", Prompt: "a very long prompt"})
	me := wantClass(t, err, llm.ClassTransient)
	checkModelError(t, me, 429, 7*time.Second, "rate_limit_exceeded", "gave up after 3 attempts")
	if n := srv.requests(); n != 3 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
	}
	if diff := cmp.Diff([]any{7e9, 7e9}, durations(sl.got())); diff != "" {
		t.Errorf("waits (-want +got), Retry-After must be honoured:\n%s", diff)
	}
}

func TestWireOllamaToolCalls(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "ollama-chat-tool-calls.json"})
	req := llm.Request{
		Model: "qwen3",
		Messages: []ledger.ChatMessage{
			{Role: "system", Content: "You must call the dice_roll tool exactly 3 times when asked to roll dice 3 times."},
			{Role: "user", Content: "Roll the dice 3 times"},
		},
		Tools: []llm.ToolDefinition{{
			Name:        "dice_roll",
			Description: "Rolls a single six-sided die and returns the result",
			// As recorded: the client put "strict" inside the schema.
			Schema: json.RawMessage(`{"type":"object","properties":{},"required":[],"additionalProperties":false,"strict":true}`),
		}},
	}
	m := newModel(t, srv, &sleeps{})
	resp, err := m.Complete(context.Background(), req)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	// A non-streaming request needs no "stream": false.
	checkRequest(t, srv, 0, "ollama-chat-tool-calls.request.json", "stream")
	want := llm.Response{
		ToolCalls: []ledger.ToolCall{
			{ID: "call_2qwy5kxj", ToolName: "dice_roll", ArgumentsJSON: "{}"},
			{ID: "call_bpkrefyu", ToolName: "dice_roll", ArgumentsJSON: "{}"},
			{ID: "call_7t3hvz5k", ToolName: "dice_roll", ArgumentsJSON: "{}"},
		},
		// qwen3 has no price: cost 0.
		Usage: llm.Usage{PromptTokens: 152, CompletionTokens: 134},
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}

	t.Run("fail on unknown cost", func(t *testing.T) {
		m := newModel(t, srv, &sleeps{}, openai.WithFailOnUnknownCost(true))
		_, err := m.Complete(context.Background(), req)
		me := wantClass(t, err, llm.ClassPermanent)
		if !strings.Contains(me.Message, `"qwen3"`) || !strings.Contains(me.Message, "WithPrices") {
			t.Errorf("message %q should name the model and the fix", me.Message)
		}
	})
	t.Run("priced by option", func(t *testing.T) {
		m := newModel(t, srv, &sleeps{}, openai.WithFailOnUnknownCost(true),
			openai.WithPrices(map[string]openai.Price{"qwen3": {Prompt: 1e-7, Completion: 2e-7}}))
		resp, err := m.Complete(context.Background(), req)
		if err != nil {
			t.Fatalf("Complete: %v", err)
		}
		if want := 152*1e-7 + 134*2e-7; math.Abs(resp.Usage.CostUSD-want) > 1e-15 {
			t.Errorf("cost = %v, want %v", resp.Usage.CostUSD, want)
		}
	})
}

// wantClass fails unless err is a *llm.Error of the class.
// checkModelError checks me's HTTP status and Retry-After, and that its
// message says each of says.
func checkModelError(t *testing.T, me *llm.Error, status int, retryAfter time.Duration, says ...string) {
	t.Helper()
	type outline struct {
		StatusCode int
		RetryAfter time.Duration
	}
	if diff := cmp.Diff(outline{status, retryAfter}, outline{me.StatusCode, me.RetryAfter}); diff != "" {
		t.Errorf("error %v (-want +got):\n%s", me, diff)
	}
	for _, s := range says {
		if !strings.Contains(me.Message, s) {
			t.Errorf("error %v does not say %q", me, s)
		}
	}
}

func wantClass(t *testing.T, err error, class llm.ErrorClass) *llm.Error {
	t.Helper()
	var me *llm.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want a *llm.Error of class %s", err, err, class)
	}
	if me.Class != class || llm.ClassOf(err) != class {
		t.Fatalf("class = %s, want %s (err: %v)", me.Class, class, err)
	}
	return me
}

func durations[T ~int64](ds []T) []any {
	out := make([]any, len(ds))
	for i, d := range ds {
		out[i] = float64(d)
	}
	return out
}
