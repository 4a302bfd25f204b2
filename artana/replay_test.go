package artana

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
)

var benchLengths = []int{100, 10_000, 100_000}

// benchRun returns a kernel and a run of n events whose first model step
// (prompt "target", seq 2 and 3) is the one benchmarks replay: the worst
// case for a backward rescan.
func benchRun(b *testing.B, n int) (*Kernel, *ledger.MemStore, Run) {
	b.Helper()
	store := ledger.NewMemStore()
	model := replyWith(`{"approved":true,"reason":"ok"}`)
	k := New(store, model)
	run, err := k.StartRun(tctx, liveTenant, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "target"}); err != nil {
		b.Fatal(err)
	}
	for i := 3; i < n; i += 2 {
		p := "filler " + strconv.Itoa(i)
		if _, err := store.Append(tctx, run.ID, run.Tenant.ID, &ledger.ModelRequested{Model: "m", Prompt: p,
			Messages: []ledger.ChatMessage{{Role: "user", Content: p}}, AllowedTools: []string{}}); err != nil {
			b.Fatal(err)
		}
		if _, err := store.Append(tctx, run.ID, run.Tenant.ID, &ledger.ModelCompleted{Model: "m",
			OutputJSON: `{"approved":true,"reason":"ok"}`}); err != nil {
			b.Fatal(err)
		}
	}
	// The first step indexes the run once, outside the timed loop.
	if res, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "target"}); err != nil || !res.FromLog {
		b.Fatal(res, err)
	}
	return k, store, run
}

// BenchmarkReplayModelStep replays one model step of a run of n events.
func BenchmarkReplayModelStep(b *testing.B) {
	for _, n := range benchLengths {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			k, _, run := benchRun(b, n)
			runtime.GC()
			step := ModelStep{Model: "m", Prompt: "target"}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := StepModel[Decision](tctx, k, run, step)
				if err != nil || !res.FromLog {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// BenchmarkLiveModelStep runs a new model step (logging model_requested
// and model_completed) on a run of n events. The run is rebuilt once it
// has grown by 10%, so every step runs at about n events.
func BenchmarkLiveModelStep(b *testing.B) {
	for _, n := range benchLengths {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			k, _, run := benchRun(b, n)
			runtime.GC()
			grown, limit := 0, n/10+100
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if grown >= limit {
					b.StopTimer()
					k, _, run = benchRun(b, n)
					grown = 0
					runtime.GC() // do not charge the rebuild's garbage to the steps
					b.StartTimer()
				}
				i++
				res, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "live " + strconv.Itoa(i)})
				if err != nil || res.FromLog {
					b.Fatal(res, err)
				}
				grown += 2
			}
		})
	}
}

// BenchmarkNaiveReplayModelStep is the seed's way, for comparison: reload
// the whole run and scan it backwards for the request on every step.
func BenchmarkNaiveReplayModelStep(b *testing.B) {
	for _, n := range benchLengths {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			_, store, run := benchRun(b, n)
			msgs := []ledger.ChatMessage{{Role: "user", Content: "target"}}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c, err := naiveFindModelCompleted(tctx, store, run.ID, "m", "target", msgs, nil)
				if err != nil || c == nil {
					b.Fatal(c, err)
				}
			}
		})
	}
}

// naiveFindModelCompleted is the seed's find_matching_model_cycle over a
// freshly loaded run.
func naiveFindModelCompleted(ctx context.Context, s ledger.Store, runID, model, prompt string, msgs []ledger.ChatMessage, stepKey *string) (*ledger.ModelCompleted, error) {
	events, err := s.Events(ctx, runID, 0)
	if err != nil {
		return nil, err
	}
	for i := len(events) - 1; i >= 0; i-- {
		p, ok := events[i].Payload.(*ledger.ModelRequested)
		if !ok || p.Model != model || p.Prompt != prompt || !equalMessages(p.Messages, msgs) || !equalStepKeys(p.StepKey, stepKey) {
			continue
		}
		for _, e := range events[i+1:] {
			switch c := e.Payload.(type) {
			case *ledger.ModelRequested:
				return nil, nil
			case *ledger.ModelCompleted:
				return c, nil
			}
		}
		return nil, nil
	}
	return nil, nil
}

// The index answers like the naive rescan, on a run with repeated and
// interleaved requests.
func TestIndexAgreesWithRescan(t *testing.T) {
	store := ledger.NewMemStore()
	tenant := liveTenant.ID
	appendP := func(p ledger.Payload) {
		if _, err := store.Append(tctx, "r", tenant, p); err != nil {
			t.Fatal(err)
		}
	}
	appendP(&ledger.RunStarted{})
	prompts := []string{"a", "b", "a", "c", "b", "a"}
	for i, p := range prompts {
		appendP(&ledger.ModelRequested{Model: "m", Prompt: p, Messages: []ledger.ChatMessage{{Role: "user", Content: p}}, AllowedTools: []string{}})
		if i%3 != 2 { // every third request stays without completion
			appendP(&ledger.ModelCompleted{Model: "m", OutputJSON: fmt.Sprintf(`{"approved":true,"reason":"%d"}`, i)})
		}
	}
	x := newRunIndex("r")
	if err := x.sync(tctx, store); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c", "d"} {
		msgs := []ledger.ChatMessage{{Role: "user", Content: p}}
		want, _ := naiveFindModelCompleted(tctx, store, "r", "m", p, msgs, nil)
		var got *ledger.ModelCompleted
		if m := x.findModel("m", p, msgs, nil); m != nil {
			got = m.completed
		}
		if got != want && (got == nil || want == nil || got.OutputJSON != want.OutputJSON) {
			t.Errorf("prompt %s: index %+v, rescan %+v", p, got, want)
		}
	}
}

// BenchmarkMemStoreAppendPair is the store's share of a live model step:
// the two appends alone, on a run of n events (rebuilt like
// BenchmarkLiveModelStep), to separate the kernel's cost from the store's.
func BenchmarkMemStoreAppendPair(b *testing.B) {
	for _, n := range benchLengths {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			_, store, run := benchRun(b, n)
			runtime.GC()
			grown, limit := 0, n/10+100
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if grown >= limit {
					b.StopTimer()
					_, store, run = benchRun(b, n)
					grown = 0
					runtime.GC()
					b.StartTimer()
				}
				p := "live " + strconv.Itoa(i)
				if _, err := store.Append(tctx, run.ID, run.Tenant.ID, &ledger.ModelRequested{Model: "m", Prompt: p,
					Messages: []ledger.ChatMessage{{Role: "user", Content: p}}, AllowedTools: []string{}}); err != nil {
					b.Fatal(err)
				}
				if _, err := store.Append(tctx, run.ID, run.Tenant.ID, &ledger.ModelCompleted{Model: "m",
					OutputJSON: `{"approved":true,"reason":"ok"}`, PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}); err != nil {
					b.Fatal(err)
				}
				grown += 2
			}
		})
	}
}
