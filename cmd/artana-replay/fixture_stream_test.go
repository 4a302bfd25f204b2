package main

import (
	"context"
	"sync"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/recorder"
)

// streamingModel is a live model that streams deltas, then answers resp
// or fails with err.
type streamingModel struct {
	deltas []llm.Delta
	resp   llm.Response
	err    error
}

func (m *streamingModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	return m.Stream(ctx, req, func(llm.Delta) error { return nil })
}

func (m *streamingModel) Stream(_ context.Context, _ llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	for _, d := range m.deltas {
		if err := yield(d); err != nil {
			return llm.Response{}, err
		}
	}
	return m.resp, m.err
}

// writeStreams records an interactions cassette with an unstreamed call,
// a streamed one and a stream that failed mid-way, with a clock that
// advances 10ms a reading.
func writeStreams(path string) error {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(10 * time.Millisecond)
		return now
	}
	usage := llm.Usage{PromptTokens: 14, CompletionTokens: 5, CostUSD: 0.001}
	live := &streamingModel{
		deltas: []llm.Delta{{Text: "1, "}, {Text: "2, "}, {Text: "3"}, {Usage: &usage}},
		resp:   llm.Response{OutputJSON: `"1, 2, 3"`, Usage: usage},
	}
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record), recorder.WithClock(clock))
	if err != nil {
		return err
	}
	ctx := context.Background()
	req := llm.Request{Model: "gpt-4o-mini", Prompt: "Count to 3", StepKey: "count"}
	if _, err := rec.Complete(ctx, req); err != nil {
		return err
	}
	req.StepKey = "count-streamed"
	if _, err := rec.Stream(ctx, req, func(llm.Delta) error { return nil }); err != nil {
		return err
	}
	live.deltas, live.err = live.deltas[:2], &llm.Error{Class: llm.ClassTransient, StatusCode: 200,
		Message: "the stream reported server_error: The server had an error while processing your request."}
	req.StepKey = "count-broken"
	_, _ = rec.Stream(ctx, req, func(llm.Delta) error { return nil })
	return rec.Close()
}
