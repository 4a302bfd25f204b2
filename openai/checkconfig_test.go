package openai_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
)

// TestCheckConfig: what the Model lacks is named before any network call.
func TestCheckConfig(t *testing.T) {
	for _, tc := range []struct {
		name, key, base string
		opts            []openai.Option
		wantErr         string
	}{
		{name: "nothing set", wantErr: "OPENAI_API_KEY is not set: the live model calls OpenAI's API"},
		{name: "key", key: "sk-test"},
		{name: "WithAPIKey", opts: []openai.Option{openai.WithAPIKey("sk-test")}},
		{name: "local endpoint without key", base: "http://localhost:11434/v1/"},
		{name: "WithBaseURL without key", opts: []openai.Option{openai.WithBaseURL("http://localhost:8000/v1/")}},
		{name: "base URL without scheme", key: "sk-test", base: "localhost:11434", wantErr: `OPENAI_BASE_URL="localhost:11434" is not an http(s) URL`},
		{name: "WithBaseURL bad", opts: []openai.Option{openai.WithBaseURL("ftp://x")}, wantErr: `openai.WithBaseURL="ftp://x" is not an http(s) URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", tc.key)
			t.Setenv("OPENAI_BASE_URL", tc.base)
			m, err := openai.New(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = m.CheckConfig()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckConfig() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckConfig() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestCompleteWithoutKey: Complete says the key is missing, sends nothing
// and fails permanently (no retry).
func TestCompleteWithoutKey(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	m, err := openai.New(openai.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Complete(context.Background(), llm.Request{Model: "gpt-4o-mini", Prompt: "hi",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "hi"}}})
	var me *llm.Error
	if !errors.As(err, &me) || me.Class != llm.ClassPermanent || !strings.Contains(err.Error(), "OPENAI_API_KEY is not set") {
		t.Fatalf("Complete without a key: %v, want a permanent ModelError naming OPENAI_API_KEY", err)
	}
	if calls != 0 {
		t.Errorf("the endpoint was called %d times", calls)
	}
}
