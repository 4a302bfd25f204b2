package recorder_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/recorder"
)

// Record a session with a live model once, then replay it offline. In a
// test, recorder.New(t, live) does the same with the cassette named after
// the test, and -artana.record chooses the mode.
func Example() {
	dir, err := os.MkdirTemp("", "recorder-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "triage.cassette")
	ctx := context.Background()

	live := llm.ModelFunc(func(_ context.Context, req llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `{"label":"refund"}`, Usage: llm.Usage{PromptTokens: 9, CompletionTokens: 4}}, nil
	})
	req := llm.Request{
		Model:    "gpt-4o-mini",
		Prompt:   "Classify: I want my money back",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "Classify: I want my money back"}},
	}

	// Record.
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	if err != nil {
		panic(err)
	}
	if _, err := rec.Complete(ctx, req); err != nil {
		panic(err)
	}
	if err := rec.Close(); err != nil { // writes the cassette
		panic(err)
	}

	// Replay, with no live model at all.
	rec, err = recorder.Open(path, nil)
	if err != nil {
		panic(err)
	}
	// A request the cassette does not hold is a miss, with a field diff.
	changed := req
	changed.Messages = []ledger.ChatMessage{{Role: "user", Content: "Classify: I want a refund"}}
	_, err = rec.Complete(ctx, changed)
	var miss *recorder.MissError
	if errors.As(err, &miss) {
		fmt.Printf("miss against line %d:\n%s", miss.Nearest, miss.Diff)
	}
	resp, err := rec.Complete(ctx, req)
	fmt.Println("replayed:", resp.OutputJSON, err)
	fmt.Println("close:", rec.Close())
	// Output:
	// miss against line 2:
	// 	Messages[0].Content:
	// 		-"Classify: I want my money back"
	// 		+"Classify: I want a refund"
	// replayed: {"label":"refund"} <nil>
	// close: <nil>
}
