package artanatest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana"
)

// fakeTB records the failures of a helper under test. Name, TempDir,
// Context, Helper and logging go to the real test. FailNow ends the
// goroutine, as testing does, so the helper must run in check.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	failed   bool
	fatal    bool
	cleanups []func()
}

func (f *fakeTB) Errorf(format string, args ...any) { f.record(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Error(args ...any)                 { f.record(fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); f.FailNow() }
func (f *fakeTB) Fatal(args ...any)                 { f.Error(args...); f.FailNow() }

func (f *fakeTB) Fail() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
}

func (f *fakeTB) FailNow() {
	f.mu.Lock()
	f.failed, f.fatal = true, true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) record(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, msg)
	f.failed = true
}

// report returns every failure message, joined.
func (f *fakeTB) report() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errs, "\n")
}

// check runs fn with a fakeTB on its own goroutine, then the cleanups fn
// registered, and returns the fakeTB.
func check(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			f.mu.Lock()
			cs := f.cleanups
			f.mu.Unlock()
			for i := len(cs) - 1; i >= 0; i-- {
				cs[i]()
			}
		}()
		fn(f)
	}()
	<-done
	return f
}

// passes fails t if the helper run by fn failed.
func passes(t *testing.T, fn func(tb testing.TB)) {
	t.Helper()
	if f := check(t, fn); f.Failed() {
		t.Fatalf("the helper failed on a good case:\n%s", f.report())
	}
}

// fails fails t unless the helper run by fn failed with a message
// containing every one of want; it returns the fakeTB.
func fails(t *testing.T, fn func(tb testing.TB), want ...string) *fakeTB {
	t.Helper()
	f := check(t, fn)
	if !f.Failed() {
		t.Fatalf("the helper passed a case that breaks its invariant")
	}
	msg := f.report()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("failure message lacks %q:\n%s", w, msg)
		}
	}
	return f
}

func TestFakeTBStopsOnFatal(t *testing.T) {
	reached := false
	f := check(t, func(tb testing.TB) {
		tb.Fatalf("stop %d", 1)
		reached = true
	})
	if reached || !f.fatal || f.report() != "stop 1" {
		t.Fatalf("Fatalf: reached=%v fatal=%v report=%q", reached, f.fatal, f.report())
	}
	f = check(t, func(tb testing.TB) { tb.Errorf("go on") })
	if !f.Failed() || f.fatal {
		t.Fatalf("Errorf: failed=%v fatal=%v", f.Failed(), f.fatal)
	}
}

// The agent of the tests: a model step on a ticket, then, for a refund, a
// tool step.

type verdict struct {
	Label string `json:"label"`
}

type refundArgs struct {
	Order string `json:"order"`
	Cents int    `json:"cents"`
}

var tenant = artana.Tenant{ID: "acme", BudgetUSD: 1}

func triage(ctx context.Context, k *artana.Kernel) (verdict, error) {
	run, err := k.LoadOrStartRun(ctx, tenant, "ticket-1")
	if err != nil {
		return verdict{}, err
	}
	res, err := artana.StepModel[verdict](ctx, k, run, artana.ModelStep{
		Model: "fake-1", Prompt: "Classify: I was charged twice", StepKey: "classify"})
	if err != nil {
		return verdict{}, err
	}
	if res.Output.Label == "refund" {
		_, err = k.StepTool(ctx, run, artana.ToolStep{Tool: "refund", Args: refundArgs{"A-1", 500}, StepKey: "refund"})
	}
	return res.Output, err
}

// refundTools registers the refund tool, counting its executions.
func refundTools(t testing.TB, runs *atomic.Int64) *artana.Tools {
	t.Helper()
	tools := artana.NewTools()
	err := artana.RegisterTool(tools, "refund", func(ctx context.Context, a refundArgs) (json.RawMessage, error) {
		n := runs.Add(1)
		return json.RawMessage(fmt.Sprintf(`{"refund_id":"R-%d"}`, n)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tools
}
