package artanatest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/artanatest"
)

func eventsText(t *testing.T, s ledger.Store, runID string, opts ...artanatest.GoldenOption) string {
	t.Helper()
	evs, err := s.Events(context.Background(), runID, 0)
	if err != nil {
		t.Fatal(err)
	}
	text, err := artanatest.EventsText(evs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

func TestNewKernelLogIsByteStable(t *testing.T) {
	logs := make([]string, 2)
	for i := range logs {
		var runs atomic.Int64
		model := artanatest.NewFakeModel(t, artanatest.Reply{Output: verdict{"refund"}, Usage: llm.Usage{PromptTokens: 9, CostUSD: 0.001}})
		k := artanatest.NewKernel(t, model, artana.WithTools(refundTools(t, &runs)))
		if _, err := triage(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		run, err := k.StartRun(t.Context(), tenant, "")
		if err != nil {
			t.Fatal(err)
		}
		if run.ID != "run-1" {
			t.Errorf("kernel-issued run id = %q, want run-1", run.ID)
		}
		logs[i] = eventsText(t, k.Store(), "ticket-1")
	}
	if logs[0] != logs[1] {
		t.Fatalf("two identical runs logged different bytes:\n%s\n%s", logs[0], logs[1])
	}
	if !strings.Contains(logs[0], `"timestamp":"2025-01-01T00:00:00+00:00"`) || !strings.Contains(logs[0], `"id":"00000000000000000000000000000001"`) {
		t.Errorf("log does not start at the deterministic clock and ids:\n%s", logs[0])
	}
}

func TestNewKernelClosesAtCleanup(t *testing.T) {
	var store ledger.Store
	t.Run("sub", func(t *testing.T) {
		k := artanatest.NewKernel(t, nil)
		store = k.Store()
	})
	if _, err := store.Runs(context.Background()); !errors.Is(err, ledger.ErrClosed) {
		t.Fatalf("store after the test: %v, want ErrClosed", err)
	}
}

// closeFails is a store whose Close fails.
type closeFails struct{ ledger.Store }

func (closeFails) Close() error { return errors.New("disk gone") }

func TestNewKernelWithStoreReportsCloseError(t *testing.T) {
	fails(t, func(tb testing.TB) {
		artanatest.NewKernelWithStore(tb, closeFails{ledger.NewMemStore()}, nil)
	}, "close kernel: disk gone")
	passes(t, func(tb testing.TB) {
		s := ledger.NewMemStore(artanatest.Deterministic()...)
		k := artanatest.NewKernelWithStore(tb, s, nil, artana.WithRunIDs(func() string { return "mine" }))
		if run, err := k.StartRun(tb.Context(), tenant, ""); err != nil || run.ID != "mine" {
			tb.Errorf("StartRun = %q, %v; want the caller's run id source to win", run.ID, err)
		}
	})
}

func TestRunIDs(t *testing.T) {
	next := artanatest.RunIDs()
	if d := cmp.Diff([]string{"run-1", "run-2"}, []string{next(), next()}); d != "" {
		t.Fatalf("RunIDs (-want +got):\n%s", d)
	}
	if a := artanatest.RunIDs()(); a != "run-1" {
		t.Fatalf("a new source starts at %q", a)
	}
}

func TestFakeModelQueueThenFn(t *testing.T) {
	ctx := context.Background()
	boom := &llm.Error{Class: llm.ClassTransient, Message: "rate limited"}
	m := artanatest.NewFakeModel(t,
		artanatest.Reply{Output: verdict{"a"}, Usage: llm.Usage{PromptTokens: 3}, ToolCalls: []ledger.ToolCall{{ToolName: "refund", ArgumentsJSON: `{}`}}},
		artanatest.Reply{OutputJSON: `{"label":"raw"}`, Output: verdict{"ignored"}},
		artanatest.Reply{Err: boom},
	)
	m.CompleteFn = func(ctx context.Context, req llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `{"label":"fn:` + req.Prompt + `"}`}, nil
	}
	var got []string
	for i := range 4 {
		resp, err := m.Complete(ctx, llm.Request{Model: "m", Prompt: fmt.Sprint(i)})
		if err != nil {
			got = append(got, "err:"+err.Error())
			if !errors.Is(err, llm.ErrTransient) {
				t.Errorf("scripted error lost its class: %v", err)
			}
			continue
		}
		got = append(got, resp.OutputJSON)
		if i == 0 && (resp.Usage.PromptTokens != 3 || len(resp.ToolCalls) != 1) {
			t.Errorf("reply 1: usage %+v, tool calls %+v", resp.Usage, resp.ToolCalls)
		}
	}
	want := []string{`{"label":"a"}`, `{"label":"raw"}`, "err:" + boom.Error(), `{"label":"fn:3"}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("replies = %q, want %q", got, want)
	}
	var prompts []string
	for _, r := range m.Requests() {
		prompts = append(prompts, r.Prompt)
	}
	if d := cmp.Diff([]string{"0", "1", "2", "3"}, prompts); d != "" || m.Calls() != 4 {
		t.Errorf("%d calls (want 4); the prompts sent (-want +got):\n%s", m.Calls(), d)
	}
}

func TestFakeModelUnexpectedCallFails(t *testing.T) {
	f := fails(t, func(tb testing.TB) {
		m := artanatest.NewFakeModel(tb)
		_, err := m.Complete(context.Background(), llm.Request{Model: "gpt-x", Prompt: "Classify: lost parcel", StepKey: "s1",
			Tools: []llm.ToolDefinition{{Name: "refund"}}})
		if !errors.Is(err, artanatest.ErrUnexpectedCall) {
			tb.Errorf("err = %v, want ErrUnexpectedCall", err)
		}
	}, "call #1", "unexpected model call", `"prompt": "Classify: lost parcel"`, `"step_key": "s1"`, `"refund"`)
	if f.fatal {
		t.Error("an unexpected call must not stop the goroutine: the model may run outside the test goroutine")
	}
	// The zero value has no test to fail: it only returns the error.
	var m artanatest.FakeModel
	if _, err := m.Complete(context.Background(), llm.Request{}); !errors.Is(err, artanatest.ErrUnexpectedCall) {
		t.Errorf("zero FakeModel: %v", err)
	}
}

func TestFakeModelUnusedRepliesFail(t *testing.T) {
	fails(t, func(tb testing.TB) {
		m := artanatest.NewFakeModel(tb, artanatest.Reply{OutputJSON: "{}"})
		m.Enqueue(artanatest.Reply{OutputJSON: "{}"}, artanatest.Reply{OutputJSON: "{}"})
		_, _ = m.Complete(context.Background(), llm.Request{})
	}, "2 scripted replies never used after 1 call(s)")
	fails(t, func(tb testing.TB) {
		m := artanatest.NewFakeModel(tb, artanatest.Reply{Output: func() {}})
		if _, err := m.Complete(context.Background(), llm.Request{}); err != nil {
			tb.Errorf("%v", err)
		}
	}, "encode Reply.Output func()")
}

func TestFakeModelConcurrent(t *testing.T) {
	const n = 32
	replies := make([]artanatest.Reply, n)
	for i := range replies {
		replies[i] = artanatest.Reply{OutputJSON: fmt.Sprintf(`{"n":%d}`, i)}
	}
	m := artanatest.NewFakeModel(t, replies...)
	var wg sync.WaitGroup
	seen := make([]string, n)
	for i := range n {
		wg.Go(func() {
			resp, err := m.Complete(context.Background(), llm.Request{})
			if err != nil {
				t.Error(err)
			}
			seen[i] = resp.OutputJSON
		})
	}
	wg.Wait()
	unique := map[string]bool{}
	for _, s := range seen {
		unique[s] = true
	}
	if len(unique) != n || m.Calls() != n {
		t.Fatalf("%d distinct replies and %d calls, want %d each", len(unique), m.Calls(), n)
	}
}

func TestNewKernelMiddleware(t *testing.T) {
	k := artanatest.NewKernel(t, artanatest.NewFakeModel(t, artanatest.Reply{Output: verdict{"ok"}}))
	ctx := t.Context()
	// The quota refuses a tenant without a budget.
	broke, err := k.StartRun(ctx, artana.Tenant{ID: "broke"}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = artana.StepModel[verdict](ctx, k, broke, artana.ModelStep{Model: "m", Prompt: "hi"})
	if !errors.Is(err, artana.ErrInvalidInput) || !strings.Contains(err.Error(), "Quota") {
		t.Errorf("step of a tenant without budget: %v, want the quota's refusal", err)
	}
	// No scrubber the test did not ask for: the prompt is sent and
	// logged as written, digits of identifiers included.
	run, err := k.StartRun(ctx, tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "Refund order 112-7654321-1234567 (#4155550123), mail jane@example.com"
	if _, err := artana.StepModel[verdict](ctx, k, run, artana.ModelStep{Model: "m", Prompt: prompt}); err != nil {
		t.Fatal(err)
	}
	if log := eventsText(t, k.Store(), run.ID); !strings.Contains(log, prompt) {
		t.Errorf("the test kernel changed the prompt:\n%s", log)
	}
}

// TestScrubberNamedInErrors: a scrubber the test asks for redacts before
// the request is logged and sent, and a failing step says how many spans
// it redacted.
func TestScrubberNamedInErrors(t *testing.T) {
	miss := artanatest.Reply{Err: errors.New("no recorded interaction matches the request")}
	m := artanatest.NewFakeModel(t, miss, miss)
	k := artanatest.NewKernel(t, m, artana.WithMiddleware(artana.PIIScrubber{}))
	ctx := t.Context()
	run, err := k.StartRun(ctx, tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = artana.StepModel[verdict](ctx, k, run, artana.ModelStep{Model: "m", Prompt: "call 415-555-0123 or mail jane@example.com"})
	if err == nil || !strings.Contains(err.Error(), "middleware (a PIIScrubber) redacted 4 spans of the prompt and messages before the request was logged and sent") {
		t.Fatalf("step error: %v, want the count of redactions (2 in the prompt, 2 in its message)", err)
	}
	if log := eventsText(t, k.Store(), run.ID); strings.Contains(log, "jane@example.com") {
		t.Errorf("the scrubber did not redact the logged prompt:\n%s", log)
	}

	// Nothing redacted, nothing said.
	_, err = artana.StepModel[verdict](ctx, k, run, artana.ModelStep{Model: "m", Prompt: "plain text", StepKey: "2"})
	if err == nil || strings.Contains(err.Error(), "redacted") {
		t.Fatalf("step error without redactions: %v", err)
	}
}
