package regression_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/artana-go/go-artana/examples/regression"
	"github.com/artana-go/go-artana/openai"
)

// server is a local OpenAI-compatible Chat Completions endpoint that
// answers the agent's first turn with testdata/server/turn1.json (two
// parallel tool calls) and its second with turn2.json (the answer). It
// checks that the second request carries the assistant message with both
// calls and, in call order, one tool message answering each; otherwise it
// answers 400 as Chat Completions does.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any // the request bodies, in order
}

func startServer(t testing.TB) *server {
	t.Helper()
	turn1, err1 := os.ReadFile(filepath.Join("testdata", "server", "turn1.json"))
	turn2, err2 := os.ReadFile(filepath.Join("testdata", "server", "turn2.json"))
	if err1 != nil || err2 != nil {
		t.Fatalf("read the server's answers: %v %v", err1, err2)
	}
	var first struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					ID string `json:"id"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(turn1, &first); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range first.Choices[0].Message.ToolCalls {
		ids = append(ids, c.ID)
	}
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" || json.Unmarshal(raw, &body) != nil {
			badRequest(w, fmt.Sprintf("unexpected request %s %s", r.Method, r.URL.Path))
			return
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.mu.Unlock()
		msgs, _ := body["messages"].([]any)
		last, _ := msgs[len(msgs)-1].(map[string]any)
		w.Header().Set("Content-Type", "application/json")
		if last["role"] != "tool" {
			w.Write(turn1)
			return
		}
		if err := checkToolMessages(msgs, ids); err != nil {
			badRequest(w, err.Error())
			return
		}
		w.Write(turn2)
	}))
	t.Cleanup(s.Close)
	return s
}

// checkToolMessages checks that the conversation ends with the assistant
// message calling ids, then one tool message per id, in order.
func checkToolMessages(msgs []any, ids []string) error {
	n := len(msgs) - len(ids) - 1
	if n < 0 {
		return fmt.Errorf("%d messages, too few for %d tool calls", len(msgs), len(ids))
	}
	asst, _ := msgs[n].(map[string]any)
	calls, _ := asst["tool_calls"].([]any)
	var got []string
	for _, c := range calls {
		m, _ := c.(map[string]any)
		id, _ := m["id"].(string)
		got = append(got, id)
	}
	if asst["role"] != "assistant" || !slices.Equal(got, ids) {
		return fmt.Errorf("messages[%d] must be the assistant message with tool calls %v, got %v", n, ids, asst)
	}
	for i, id := range ids {
		m, _ := msgs[n+1+i].(map[string]any)
		if m["role"] != "tool" || m["tool_call_id"] != id {
			return fmt.Errorf("messages[%d] must be the tool message answering %s, got %v", n+1+i, id, m)
		}
	}
	return nil
}

func badRequest(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": "messages", "code": nil}})
	w.Write(b)
}

func (s *server) requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bodies)
}

// model is the openai model talking to s.
func (s *server) model(t testing.TB) *openai.Model {
	t.Helper()
	m, err := openai.New(openai.WithBaseURL(s.URL+"/v1/"), openai.WithAPIKey("local-test-key"), openai.WithRetries(0, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// shop is the order system the tools call when they run: order A-17 was
// delivered and already refunded.
type shop struct {
	mu    sync.Mutex
	calls []string
}

func (s *shop) LookupOrder(_ context.Context, id string) (regression.Order, error) {
	s.record("lookup_order " + id)
	if id != "A-17" {
		return regression.Order{}, fmt.Errorf("order %s: %w", id, regression.ErrNoOrder)
	}
	return regression.Order{ID: id, Status: "delivered", TotalCents: 4999}, nil
}

func (s *shop) Refund(_ context.Context, id string) (regression.Refund, error) {
	s.record("refund " + id)
	if id != "A-17" {
		return regression.Refund{}, fmt.Errorf("order %s: %w", id, regression.ErrNoOrder)
	}
	return regression.Refund{}, fmt.Errorf("order %s: %w on 2025-01-03", id, regression.ErrAlreadyRefunded)
}

func (s *shop) record(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}
