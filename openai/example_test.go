package openai_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
)

// An endpoint that answers like OpenAI does, so the example runs offline.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",
			"choices":[{"index":0,"message":{"role":"assistant","content":"{\"label\":\"bug\"}","refusal":null},"finish_reason":"stop"}],
			"usage":{"prompt_tokens":1000,"completion_tokens":10,"total_tokens":1010,"prompt_tokens_details":{"cached_tokens":400}}}`)
	}))
}

func Example() {
	srv := exampleServer()
	defer srv.Close()

	// For OpenAI itself, openai.New() alone reads OPENAI_API_KEY; for
	// Ollama, vLLM or a proxy, point it at the server's /v1/ base URL.
	m, err := openai.New(openai.WithBaseURL(srv.URL+"/v1/"), openai.WithAPIKey("sk-example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := m.Complete(context.Background(), llm.Request{
		Model:        "gpt-4o-mini",
		Messages:     []ledger.ChatMessage{{Role: "user", Content: "Triage: the app crashes on start"}},
		OutputName:   "Triage",
		OutputSchema: []byte(`{"type":"object","properties":{"label":{"type":"string"}}}`),
	})
	var me *llm.Error
	if errors.As(err, &me) {
		fmt.Println("failed:", me.Class)
		return
	}
	fmt.Println(resp.OutputJSON)
	fmt.Printf("prompt %d (cached %d), completion %d, cost $%.6f\n",
		resp.Usage.PromptTokens, resp.Usage.CachedPromptTokens, resp.Usage.CompletionTokens, resp.Usage.CostUSD)
	// Output:
	// {"label":"bug"}
	// prompt 1000 (cached 400), completion 10, cost $0.000126
}
