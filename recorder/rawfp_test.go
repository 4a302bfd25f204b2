package recorder

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/cassettes"
)

// TestReplayMatchesNonCanonicalRequestText checks that an interaction
// whose request text is not in canonical form (a resealed hand edit: other
// key order, spaces, an empty field the writer leaves out) still matches
// the request it decodes to, in recorded order.
func TestReplayMatchesNonCanonicalRequestText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edited.cassette")
	bodies := []string{
		`{"latency": "1ms", "request": {"prompt": "a", "model": "m", "messages": [{"role": "user", "content": "a"}], "options": {}, "output_name": ""}, "response": {"output_json": "{\"n\":1}", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "cost_usd": 0}}}`,
		`{"latency":"1ms","request":{"messages":[{"content":"b","role":"user"}],"model":"m","options":{},"prompt":"b"},"response":{"output_json":"{\"n\":2}","usage":{"completion_tokens":1,"cost_usd":0,"prompt_tokens":1}}}`,
	}
	var recs []cassettes.Record
	for _, b := range bodies {
		recs = append(recs, cassettes.Record{Type: recordType, Body: []byte(b)})
	}
	if err := cassettes.WriteFile(context.Background(), path, header(), recs); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, content := range []string{"a", "b"} {
		resp, err := r.Complete(context.Background(), llm.Request{Model: "m", Prompt: content,
			Messages: []ledger.ChatMessage{{Role: "user", Content: content}}})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if want := []string{`{"n":1}`, `{"n":2}`}[i]; resp.OutputJSON != want {
			t.Errorf("call %d: output %s, want %s", i, resp.OutputJSON, want)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
