package recorder_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
)

// fakeModel is a scripted live model.
type fakeModel struct {
	CompleteFn func(ctx context.Context, req llm.Request) (llm.Response, error)
	calls      atomic.Int64
}

func (f *fakeModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	f.calls.Add(1)
	return f.CompleteFn(ctx, req)
}

// echoModel answers {"answer":"echo: <last message>"}, counting its calls
// so that identical requests get distinguishable answers.
func echoModel() *fakeModel {
	var mu sync.Mutex
	seen := map[string]int{}
	return &fakeModel{CompleteFn: func(_ context.Context, req llm.Request) (llm.Response, error) {
		last := req.Messages[len(req.Messages)-1].Content
		mu.Lock()
		seen[last]++
		n := seen[last]
		mu.Unlock()
		return llm.Response{
			OutputJSON: fmt.Sprintf(`{"answer":"echo %d: %s"}`, n, last),
			Usage:      llm.Usage{PromptTokens: int64(len(last)), CompletionTokens: 5, CostUSD: 0.001},
		}, nil
	}}
}

// disconnected fails the test if it is called.
func disconnected(t testing.TB) *fakeModel {
	return &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		t.Errorf("the live model was called in replay")
		return llm.Response{}, fmt.Errorf("disconnected")
	}}
}

func request(content string) llm.Request {
	return llm.Request{
		RunID: rand.Text(), Model: "fake-1", Prompt: content,
		Messages: []ledger.ChatMessage{{Role: "system", Content: "Be brief."}, {Role: "user", Content: content}},
	}
}

// fakeTB records failures instead of failing the real test. Methods it
// does not override are the real test's.
type fakeTB struct {
	testing.TB
	name string

	mu       sync.Mutex
	failed   bool
	skipped  bool
	errs     []string
	logs     []string
	cleanups []func()
}

func newFakeTB(t *testing.T, name string) *fakeTB { return &fakeTB{TB: t, name: name} }

func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Helper()      {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...) }
func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fail() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
}
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}
func (f *fakeTB) Skipped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.skipped
}

// skip marks the test skipped, as t.Skip does, without stopping the goroutine.
func (f *fakeTB) skip() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skipped = true
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// end runs the cleanups as the testing package does at the end of a test.
func (f *fakeTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

func (f *fakeTB) errors() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errs, "\n")
}

func (f *fakeTB) logged() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}
