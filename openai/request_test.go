package openai_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func TestRequestErrorsSendNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		req  llm.Request
		opts []openai.Option
		want string
	}{
		"no model":        {llm.Request{Prompt: "hi"}, nil, "names no model"},
		"tool role":       {llm.Request{Model: "m", Messages: []ledger.ChatMessage{{Role: "tool", Content: "42"}}}, nil, `role "tool"`},
		"unknown role":    {llm.Request{Model: "m", Messages: []ledger.ChatMessage{{Role: "wizard", Content: "x"}}}, nil, `role "wizard"`},
		"bad schema":      {llm.Request{Model: "m", Prompt: "x", OutputName: "Out", OutputSchema: json.RawMessage(`{"type":`)}, nil, "output schema of Out"},
		"tool schema":     {llm.Request{Model: "m", Prompt: "x", Tools: []llm.ToolDefinition{{Name: "t", Schema: json.RawMessage(`[1]`)}}}, nil, `tool "t"`},
		"unnamed tool":    {llm.Request{Model: "m", Prompt: "x", Tools: []llm.ToolDefinition{{Schema: json.RawMessage(`{}`)}}}, nil, "no name"},
		"strict map tool": {llm.Request{Model: "m", Prompt: "x", Tools: []llm.ToolDefinition{{Name: "t", Schema: json.RawMessage(`{"type":"object","additionalProperties":{"type":"string"}}`)}}}, []openai.Option{openai.WithStrictTools(true)}, "WithStrictTools"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, reply{status: 200, file: "openai-chat-basic.json"})
			_, err := newModel(t, srv, &sleeps{}, tc.opts...).Complete(context.Background(), tc.req)
			me := wantClass(t, err, llm.ClassPermanent)
			if !strings.Contains(me.Message, tc.want) || !strings.Contains(me.Message, "cannot build the request") {
				t.Errorf("message %q, want it to contain %q", me.Message, tc.want)
			}
			if n := srv.requests(); n != 0 {
				t.Errorf("%d requests sent for a request that cannot be built", n)
			}
		})
	}
}

func TestRequestFields(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-json-schema.json"})
	m := newModel(t, srv, &sleeps{})
	_, err := m.Complete(context.Background(), llm.Request{
		Model: "o4-mini",
		Messages: []ledger.ChatMessage{
			{Role: "developer", Content: "d"}, {Role: "user", Content: "u"}, {Role: "assistant", Content: "a"}, {Role: "user", Content: "u2"},
		},
		OutputName:   "triage.Decision v2",
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"label":{"type":"string"},"note":{"type":"string"}},"required":["label"]}`),
		Tools:        []llm.ToolDefinition{{Name: "lookup"}},
		Options:      llm.Options{Temperature: ptr(0.7), MaxTokens: ptr[int64](100), Seed: ptr[int64](7), ReasoningEffort: "low"},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	got, _ := json.Marshal(srv.sent(0))
	want := `{"max_completion_tokens":100,"messages":[{"content":"d","role":"developer"},{"content":"u","role":"user"},{"content":"a","role":"assistant"},{"content":"u2","role":"user"}],` +
		`"model":"o4-mini","reasoning_effort":"low",` +
		`"response_format":{"json_schema":{"name":"triage_Decision_v2","schema":{"additionalProperties":false,"properties":{"label":{"type":"string"},"note":{"type":["string","null"]}},"required":["label","note"],"type":"object"},"strict":true},"type":"json_schema"},` +
		`"seed":7,"temperature":0.7,"tools":[{"function":{"name":"lookup","parameters":{"properties":{},"type":"object"}},"type":"function"}]}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestNonStrictOutput(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-json-schema.json"})
	for _, tc := range []struct {
		opts   []openai.Option
		schema string
	}{
		{[]openai.Option{openai.WithStrictOutput(false)}, `{"type":"object"}`},
		// A map cannot be strict: sent as it is, strict false.
		{nil, `{"type":"object","additionalProperties":{"type":"number"}}`},
	} {
		m := newModel(t, srv, &sleeps{}, tc.opts...)
		if _, err := m.Complete(context.Background(), llm.Request{Model: "gpt-4o", Prompt: "x", OutputSchema: json.RawMessage(tc.schema)}); err != nil {
			t.Fatal(err)
		}
		js := srv.sent(srv.requests() - 1)["response_format"].(map[string]any)["json_schema"].(map[string]any)
		got, _ := json.Marshal(js["schema"])
		if js["strict"] != false || js["name"] != "output" || !jsonEqual(t, string(got), tc.schema) {
			t.Errorf("json_schema = %v, want name output, strict false, schema %s", js, tc.schema)
		}
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	return cmp.Equal(decodeJSON(t, []byte(a)), decodeJSON(t, []byte(b)))
}

func TestOwnClient(t *testing.T) {
	srv := newServer(t, reply{status: 500, body: `{"error":{"message":"x"}}`}, reply{status: 200, file: "openai-chat-basic.json"})
	// A client that would retry 5 times on its own: the Model turns that off.
	client := oai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey(testKey), option.WithMaxRetries(5))
	m, err := openai.New(openai.WithClient(client), openai.WithRetries(0, time.Millisecond, time.Millisecond),
		openai.WithRequestOptions(option.WithHeader("X-Title", "artana")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Complete(context.Background(), hello)
	wantClass(t, err, llm.ClassTransient)
	if n := srv.requests(); n != 1 {
		t.Errorf("%d requests; the client's own retries must be off", n)
	}
}

func TestEnvironment(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-basic.json"})
	t.Setenv("OPENAI_API_KEY", testKey)
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
	m, err := openai.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Complete(context.Background(), hello); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got := srv.authAt(0); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want the key from OPENAI_API_KEY", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, opt := range map[string]openai.Option{
		"negative retries": openai.WithRetries(-1, time.Second, time.Second),
		"zero backoff":     openai.WithRetries(1, 0, time.Second),
		"negative timeout": openai.WithAttemptTimeout(-time.Second),
		"nil sleep":        openai.WithSleep(nil),
		"nil jitter":       openai.WithJitter(nil),
	} {
		if m, err := openai.New(opt); err == nil || m != nil || !strings.HasPrefix(err.Error(), "openai.New: ") {
			t.Errorf("%s: New = %v, %v; want an error naming openai.New", name, m, err)
		}
	}
}

func TestDefaultPricesDated(t *testing.T) {
	if _, err := time.Parse(time.DateOnly, openai.PricesAsOf); err != nil {
		t.Errorf("PricesAsOf %q is not a date: %v", openai.PricesAsOf, err)
	}
	p := openai.DefaultPrices()
	for name, price := range p {
		if price.Prompt <= 0 || price.Completion <= 0 || price.CachedPrompt <= 0 || price.CachedPrompt > price.Prompt {
			t.Errorf("%s: implausible price %+v", name, price)
		}
	}
	p["gpt-4o"] = openai.Price{}
	if openai.DefaultPrices()["gpt-4o"].Prompt == 0 {
		t.Error("DefaultPrices returned shared state: an edit leaked into the next call")
	}
	if got := (openai.Price{Prompt: 2, CachedPrompt: 1, Completion: 3}).Cost(10, 4, 5); got != 6*2+4*1+5*3 {
		t.Errorf("Cost = %v, want 31", got)
	}
}

func TestPriceLookupByServedModel(t *testing.T) {
	// OpenRouter-style name requested; the served snapshot finds gpt-4o.
	srv := newServer(t, reply{status: 200, file: "openai-chat-json-schema.json"})
	m := newModel(t, srv, &sleeps{}, openai.WithFailOnUnknownCost(true))
	resp, err := m.Complete(context.Background(), llm.Request{Model: "openai/gpt-4o", Prompt: "x"})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if resp.Usage.CostUSD <= 0 {
		t.Errorf("cost = %v, want gpt-4o's price applied", resp.Usage.CostUSD)
	}
}
