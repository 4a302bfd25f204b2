// Package standin is a local OpenAI-compatible Chat Completions server
// against which the examples record their cassettes when no real endpoint
// is at hand.
package standin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Request is the part of a Chat Completions request the stand-in
// reads.
type Request struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Strict bool            `json:"strict"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// Answer is what the stand-in answers.
type Answer struct {
	Content   string // the assistant message's content
	ToolCalls []ToolCall
}

// ToolCall is a tool call in an Answer.
type ToolCall struct{ Name, Arguments string }

// Server is a local OpenAI-compatible Chat Completions server for
// recording the example's cassette without a real endpoint. Its answers
// have the shape of OpenAI's (see openai/testdata/wire); token counts are
// estimated from the size of the request. Ids carry "standin" so that a
// cassette recorded against it says so.
type Server struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  int
	errors []string
}

// Start starts a stand-in answering with answer and points
// OPENAI_API_KEY and OPENAI_BASE_URL at it for the rest of the test.
func Start(t testing.TB, answer func(Request) (Answer, error)) *Server {
	t.Helper()
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, status := s.serve(r, answer)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() {
		for _, e := range s.errors {
			t.Errorf("stand-in: %s", e)
		}
	})
	t.Setenv("OPENAI_API_KEY", "sk-standin-not-a-real-key")
	t.Setenv("OPENAI_BASE_URL", s.srv.URL+"/v1/")
	return s
}

func (s *Server) serve(r *http.Request, answer func(Request) (Answer, error)) ([]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	fail := func(status int, format string, args ...any) ([]byte, int) {
		msg := fmt.Sprintf(format, args...)
		s.errors = append(s.errors, msg)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{
			"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
		return b, status
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		return fail(http.StatusNotFound, "unexpected %s %s", r.Method, r.URL.Path)
	}
	if r.Header.Get("Authorization") != "Bearer sk-standin-not-a-real-key" {
		return fail(http.StatusUnauthorized, "missing or wrong bearer token")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return fail(http.StatusBadRequest, "request body: %v", err)
	}
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return fail(http.StatusBadRequest, "request body: %v", err)
	}
	a, err := answer(req)
	if err != nil {
		// An answer refused on purpose: the caller sees a 400, as from
		// OpenAI, and the test is not failed here.
		b, _ := json.Marshal(map[string]any{"error": map[string]any{
			"message": err.Error(), "type": "invalid_request_error", "param": nil, "code": nil}})
		return b, http.StatusBadRequest
	}

	// About four bytes of request JSON per prompt token.
	prompt := len(raw) / 4
	completion := len(a.Content)/4 + 1
	msg := map[string]any{"role": "assistant", "content": a.Content, "refusal": nil, "annotations": []any{}}
	finish := "stop"
	if len(a.ToolCalls) > 0 {
		calls := make([]map[string]any, len(a.ToolCalls))
		for i, tc := range a.ToolCalls {
			calls[i] = map[string]any{"id": fmt.Sprintf("call_standin_%d_%d", s.calls, i+1), "type": "function",
				"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}
			completion += len(tc.Arguments)/4 + 4
		}
		msg["tool_calls"] = calls
		finish = "tool_calls"
	}
	b, _ := json.Marshal(map[string]any{
		"id":      fmt.Sprintf("chatcmpl-standin%04d", s.calls),
		"object":  "chat.completion",
		"created": 1755695203 + s.calls,
		"model":   req.Model + "-2024-07-18",
		"choices": []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage": map[string]any{
			"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
			"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
			"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
		},
		"service_tier":       "default",
		"system_fingerprint": "fp_standin",
	})
	return b, http.StatusOK
}

// Calls returns the number of requests served.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
