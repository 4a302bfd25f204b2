package artanatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
)

// ErrUnexpectedCall is returned by a FakeModel called when it has no reply
// left and no CompleteFn.
var ErrUnexpectedCall = errors.New("unexpected model call")

// A Reply is one canned answer of a FakeModel.
type Reply struct {
	// Output is the structured output as a Go value, encoded with
	// encoding/json. OutputJSON, if not empty, is used instead, verbatim.
	Output     any
	OutputJSON string
	Usage      llm.Usage
	ToolCalls  []ledger.ToolCall
	// Err, if not nil, is returned instead of a response, e.g. an
	// *llm.Error to script a transient failure.
	Err error
	// Deltas, if set, are what a streamed call (Stream) delivers, in
	// order, before it returns the response (or Err: a stream that breaks
	// off). Without Deltas, a streamed call delivers the response as one
	// delta (llm.Response.Delta).
	Deltas []llm.Delta
}

// FakeModel is a scripted llm.Model. Each call takes the next queued
// Reply; once the queue is empty, it calls CompleteFn. A call with neither
// fails the test, showing the request, and returns ErrUnexpectedCall.
//
// The zero value, or a struct literal with CompleteFn, is ready to use but
// has no test to fail: an unexpected call only returns the error. Build it
// with NewFakeModel to fail the test on an unexpected call and on replies
// still queued when the test ends. A FakeModel is safe for concurrent use.
type FakeModel struct {
	// CompleteFn answers the calls the queue does not.
	CompleteFn func(ctx context.Context, req llm.Request) (llm.Response, error)

	t        testing.TB
	mu       sync.Mutex
	queue    []Reply
	requests []llm.Request
}

var _ llm.StreamingModel = (*FakeModel)(nil)

// NewFakeModel returns a FakeModel for the test t that answers with
// replies, in order. The test fails if the model is called once they are
// used up (unless CompleteFn is set) or if some are left unused when it
// ends.
func NewFakeModel(t testing.TB, replies ...Reply) *FakeModel {
	t.Helper()
	m := &FakeModel{t: t, queue: slices.Clone(replies)}
	t.Cleanup(func() {
		m.mu.Lock()
		left := len(m.queue)
		m.mu.Unlock()
		if left > 0 && !t.Failed() {
			t.Errorf("artanatest: FakeModel: %d scripted repl%s never used after %d call(s); the agent made fewer model calls than scripted",
				left, plural(left, "y", "ies"), m.Calls())
		}
	})
	return m
}

// Enqueue appends replies to the queue.
func (m *FakeModel) Enqueue(replies ...Reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue = append(m.queue, replies...)
}

// Calls returns how many times Complete was called.
func (m *FakeModel) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests)
}

// Requests returns the requests Complete and Stream received, in call order.
func (m *FakeModel) Requests() []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

// Complete answers req with the next queued reply, or with CompleteFn.
func (m *FakeModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	r, fn, n, err := m.next(req)
	switch {
	case r != nil:
		return r.response(n)
	case err != nil:
		return llm.Response{}, err
	}
	return fn(ctx, req)
}

// next takes the reply for req: the next queued one (r), else CompleteFn
// as it was at the call (fn, with r and err nil), else the
// unexpected-call error. n is the call's number.
func (m *FakeModel) next(req llm.Request) (r *Reply, fn func(context.Context, llm.Request) (llm.Response, error), n int, err error) {
	m.mu.Lock()
	m.requests = append(m.requests, req)
	n = len(m.requests)
	if len(m.queue) > 0 {
		r = &m.queue[0]
		m.queue = m.queue[1:]
	}
	fn = m.CompleteFn
	m.mu.Unlock()

	if r != nil || fn != nil {
		return r, fn, n, nil
	}
	err = fmt.Errorf("artanatest: FakeModel: call #%d: %w: no scripted reply left and no CompleteFn; request:\n%s",
		n, ErrUnexpectedCall, DescribeRequest(req))
	if m.t != nil {
		m.t.Errorf("%v", err)
	}
	return nil, nil, n, err
}

func (r *Reply) response(call int) (llm.Response, error) {
	if r.Err != nil {
		return llm.Response{}, r.Err
	}
	out := r.OutputJSON
	if out == "" && r.Output != nil {
		b, err := json.Marshal(r.Output)
		if err != nil {
			return llm.Response{}, fmt.Errorf("artanatest: FakeModel: call #%d: encode Reply.Output %T: %w", call, r.Output, err)
		}
		out = string(b)
	}
	return llm.Response{OutputJSON: out, Usage: r.Usage, ToolCalls: slices.Clone(r.ToolCalls)}, nil
}

// DescribeRequest returns a model request as indented JSON for failure
// messages: model, step key, prompt, messages, output name and the names of
// the tools offered. The output schema and run id are left out.
func DescribeRequest(req llm.Request) string {
	tools := make([]string, len(req.Tools))
	for i, d := range req.Tools {
		tools[i] = d.Name
	}
	b, err := json.MarshalIndent(struct {
		Model      string               `json:"model"`
		StepKey    string               `json:"step_key,omitempty"`
		Prompt     string               `json:"prompt"`
		Messages   []ledger.ChatMessage `json:"messages"`
		OutputName string               `json:"output_name,omitempty"`
		Tools      []string             `json:"tools,omitempty"`
	}{req.Model, req.StepKey, req.Prompt, req.Messages, req.OutputName, tools}, "\t", "  ")
	if err != nil {
		return fmt.Sprintf("\t%+v", req)
	}
	return "\t" + string(b)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
