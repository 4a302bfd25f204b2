package openai_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
	"github.com/google/go-cmp/cmp"
)

// TestRecordThenReplayServerStopped records a session against the local
// server (a tool-calling turn, a structured answer, a rate-limit error),
// stops the server, and replays the session from the cassette alone.
func TestRecordThenReplayServerStopped(t *testing.T) {
	srv := newServer(t,
		reply{status: 200, file: "ollama-chat-tool-calls.json"},
		reply{status: 200, file: "openai-chat-json-schema.json"},
		reply{status: 429, file: "openai-error-429.json", header: map[string]string{"Retry-After": "1"}},
	)
	m := newModel(t, srv, &sleeps{}, openai.WithRetries(0, time.Millisecond, time.Millisecond))
	reqs := []llm.Request{
		{Model: "qwen3", Prompt: "Roll the dice 3 times", Tools: []llm.ToolDefinition{{Name: "dice_roll", Description: "Rolls a die"}}},
		{Model: "gpt-4o-2024-08-06", Prompt: "Solve 2 + 2", OutputName: "math_schema", OutputSchema: json.RawMessage(mathSchema)},
		{Model: "gpt-5-nano", Prompt: "too long"},
	}
	path := filepath.Join(t.TempDir(), "session.cassette")

	type result struct {
		resp llm.Response
		err  error
	}
	run := func(model llm.Model) []result {
		var out []result
		for _, req := range reqs {
			resp, err := model.Complete(context.Background(), req)
			out = append(out, result{resp, err})
		}
		return out
	}

	rec, err := recorder.Open(path, m, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	live := run(rec)
	if err := rec.Close(); err != nil {
		t.Fatalf("close recorder: %v", err)
	}
	srv.Close()
	if n := srv.requests(); n != 3 {
		t.Fatalf("%d live requests, want 3", n)
	}

	rep, err := recorder.Open(path, nil, recorder.WithMode(recorder.Replay))
	if err != nil {
		t.Fatal(err)
	}
	replayed := run(rep)
	if err := rep.Close(); err != nil {
		t.Fatalf("replay: %v", err)
	}
	for i := range reqs {
		if diff := cmp.Diff(live[i].resp, replayed[i].resp); diff != "" {
			t.Errorf("request %d: replayed response differs (-live +replayed):\n%s", i, diff)
		}
		if (live[i].err == nil) != (replayed[i].err == nil) {
			t.Errorf("request %d: live error %v, replayed %v", i, live[i].err, replayed[i].err)
		}
	}
	if n := len(replayed[0].resp.ToolCalls); n != 3 {
		t.Errorf("replayed %d tool calls, want the 3 recorded", n)
	}
	if got := replayed[1].resp.OutputJSON; got != `{"final_answer":"4"}` {
		t.Errorf("replayed output %s, want the recorded one", got)
	}
	me := wantClass(t, replayed[2].err, llm.ClassTransient)
	checkModelError(t, me, 429, time.Second)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testKey) {
		t.Error("the cassette contains the API key")
	}
}
