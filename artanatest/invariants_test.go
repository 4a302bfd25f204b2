package artanatest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/google/go-cmp/cmp"
)

// triageKernel returns a kernel whose model answers "refund" once, and
// the counter of the refund tool's executions.
func triageKernel(tb testing.TB) (*artana.Kernel, *artanatest.FakeModel, *atomic.Int64) {
	tb.Helper()
	runs := new(atomic.Int64)
	model := artanatest.NewFakeModel(tb, artanatest.Reply{Output: verdict{"refund"}})
	return artanatest.NewKernel(tb, model, artana.WithTools(refundTools(tb, runs))), model, runs
}

func TestAssertReplays(t *testing.T) {
	passes(t, func(tb testing.TB) {
		k, model, runs := triageKernel(tb)
		got := artanatest.AssertReplays(tb, k, triage)
		type outcome struct {
			Label            string
			ModelCalls, Runs int64
		}
		if d := cmp.Diff(outcome{"refund", 1, 1}, outcome{got.Label, int64(model.Calls()), runs.Load()}); d != "" {
			tb.Errorf("want the refund decided once, its tool run once (-want +got):\n%s", d)
		}
	})
}

func TestAssertReplaysFailsOnNewEvents(t *testing.T) {
	// A second pass that starts a new run instead of opening its own.
	f := fails(t, func(tb testing.TB) {
		k := artanatest.NewKernel(tb, nil)
		artanatest.AssertReplays(tb, k, func(ctx context.Context, k *artana.Kernel) (string, error) {
			_, err := k.StartRun(ctx, tenant, "")
			return "ok", err
		})
	}, "the second pass appended 1 event(s)", "run_started")
	if !f.fatal {
		t.Error("a failed replay must stop the test")
	}
}

func TestAssertReplaysFailsOnModelCall(t *testing.T) {
	// An agent whose prompt changes between passes asks the model again.
	fails(t, func(tb testing.TB) {
		pass := 0
		model := artanatest.NewFakeModel(tb, artanatest.Reply{Output: verdict{"a"}})
		k := artanatest.NewKernel(tb, model)
		artanatest.AssertReplays(tb, k, func(ctx context.Context, k *artana.Kernel) (verdict, error) {
			pass++
			run, err := k.LoadOrStartRun(ctx, tenant, "r")
			if err != nil {
				return verdict{}, err
			}
			prompt := strings.Repeat("again ", pass)
			res, err := artana.StepModel[verdict](ctx, k, run, artana.ModelStep{Model: "m", Prompt: prompt})
			return res.Output, err
		})
	}, "the second pass called the model 1 time(s)", `"prompt": "again again "`, "model_requested", "second pass:")
}

func TestAssertReplaysFailsOnToolRun(t *testing.T) {
	// An agent whose tool arguments change between passes runs the tool
	// again.
	fails(t, func(tb testing.TB) {
		k, _, runs := triageKernel(tb)
		pass := 0
		artanatest.AssertReplays(tb, k, func(ctx context.Context, k *artana.Kernel) (string, error) {
			pass++
			run, err := k.LoadOrStartRun(ctx, tenant, "r")
			if err != nil {
				return "", err
			}
			_, err = k.StepTool(ctx, run, artana.ToolStep{Tool: "refund", Args: map[string]any{"order": fmt.Sprint("A-", pass), "cents": 100}})
			return "ok", err
		})
		if runs.Load() != 1 {
			tb.Errorf("the tool ran %d times; the replay's guard must not run it", runs.Load())
		}
	}, "the second pass ran 1 tool(s)", `refund {"cents":100,"order":"A-2"}`)
}

func TestAssertReplaysFailsOnOtherOutput(t *testing.T) {
	fails(t, func(tb testing.TB) {
		k, _, _ := triageKernel(tb)
		pass := 0
		artanatest.AssertReplays(tb, k, func(ctx context.Context, k *artana.Kernel) (map[string]any, error) {
			pass++
			v, err := triage(ctx, k)
			return map[string]any{"label": v.Label, "pass": pass}, err
		})
	}, "returned another output (-first +second)", "int(1)", "int(2)")
}

func TestAssertReplaysCompareOptions(t *testing.T) {
	type withHidden struct {
		Label  string
		hidden int
	}
	agent := func(ctx context.Context, k *artana.Kernel) (withHidden, error) {
		v, err := triage(ctx, k)
		return withHidden{v.Label, 1}, err
	}
	fails(t, func(tb testing.TB) {
		k, _, _ := triageKernel(tb)
		artanatest.AssertReplays(tb, k, agent)
	}, "cannot compare the outputs", "CompareOptions")
	passes(t, func(tb testing.TB) {
		k, _, _ := triageKernel(tb)
		artanatest.AssertReplays(tb, k, agent, artanatest.CompareOptions(cmp.AllowUnexported(withHidden{})))
	})
}

func TestAssertReplaysFirstPassError(t *testing.T) {
	f := fails(t, func(tb testing.TB) {
		artanatest.AssertReplays(tb, artanatest.NewKernel(tb, nil), func(ctx context.Context, k *artana.Kernel) (int, error) {
			return 0, errors.New("no luck")
		})
	}, "first pass: no luck")
	if !f.fatal {
		t.Error("a failed first pass must stop the test")
	}
}

// prefixMiddleware rewrites every prompt, so that a replay without it
// does not find the logged request.
type prefixMiddleware struct{}

func (prefixMiddleware) PrepareModel(_ context.Context, inv artana.ModelCall) (artana.ModelCall, error) {
	inv.Prompt = "[policy] " + inv.Prompt
	return inv, nil
}
func (prefixMiddleware) BeforeModel(context.Context, artana.ModelCall) error { return nil }
func (prefixMiddleware) AfterModel(context.Context, artana.ModelCall, llm.Usage) error {
	return nil
}

func TestAssertReplaysKernelOptions(t *testing.T) {
	newK := func(tb testing.TB) *artana.Kernel {
		runs := new(atomic.Int64)
		model := artanatest.NewFakeModel(tb, artanatest.Reply{Output: verdict{"refund"}})
		return artanatest.NewKernel(tb, model, artana.WithTools(refundTools(tb, runs)), artana.WithMiddleware(prefixMiddleware{}))
	}
	fails(t, func(tb testing.TB) {
		artanatest.AssertReplays(tb, newK(tb), triage)
	}, "called the model", `"prompt": "Classify: I was charged twice"`)
	passes(t, func(tb testing.TB) {
		artanatest.AssertReplays(tb, newK(tb), triage, artanatest.ReplayKernelOptions(artana.WithMiddleware(prefixMiddleware{})))
	})
}

func TestAssertNoNewEvents(t *testing.T) {
	passes(t, func(tb testing.TB) {
		k, _, _ := triageKernel(tb)
		if _, err := triage(tb.Context(), k); err != nil {
			tb.Fatal(err)
		}
		artanatest.AssertNoNewEvents(tb, k.Store(), "ticket-1", func(ctx context.Context) error {
			_, err := triage(ctx, k)
			return err
		})
		// Events of other runs do not count when a run is named.
		artanatest.AssertNoNewEvents(tb, k.Store(), "ticket-1", func(ctx context.Context) error {
			_, err := k.StartRun(ctx, tenant, "other")
			return err
		})
	})
	fails(t, func(tb testing.TB) {
		k, _, _ := triageKernel(tb)
		artanatest.AssertNoNewEvents(tb, k.Store(), "ticket-1", func(ctx context.Context) error {
			_, err := triage(ctx, k)
			return err
		})
	}, `5 event(s) appended to run "ticket-1"`, `run "ticket-1" seq 1 run_started`, "seq 5 tool_completed")
	fails(t, func(tb testing.TB) {
		k := artanatest.NewKernel(tb, nil)
		artanatest.AssertNoNewEvents(tb, k.Store(), "", func(ctx context.Context) error {
			if _, err := k.StartRun(ctx, tenant, "a"); err != nil {
				return err
			}
			_, err := k.StartRun(ctx, tenant, "a")
			return err
		})
	}, "1 event(s) appended to the store", `run "a" seq 1`, "AssertNoNewEvents: artana: start run", "already exists")
}

// tampered is a store whose reads return a changed payload at seq 2.
type tampered struct{ ledger.Store }

func (s tampered) Events(ctx context.Context, runID string, after int64) ([]ledger.Event, error) {
	evs, err := s.Store.Events(ctx, runID, after)
	for i := range evs {
		if evs[i].Seq == 2 {
			p := *evs[i].Payload.(*ledger.ModelRequested)
			p.Prompt = "Refund everything"
			evs[i].Payload = &p
		}
	}
	return evs, err
}

func TestAssertChainValid(t *testing.T) {
	var store ledger.Store
	passes(t, func(tb testing.TB) {
		k, _, _ := triageKernel(tb)
		if _, err := triage(tb.Context(), k); err != nil {
			tb.Fatal(err)
		}
		artanatest.AssertChainValid(tb, k.Store(), "ticket-1")
		store = ledger.NewMemStore()
		for _, e := range mustEvents(tb, k.Store(), "ticket-1") {
			if _, err := store.Append(tb.Context(), e.RunID, e.TenantID, e.Payload); err != nil {
				tb.Fatal(err)
			}
		}
	})
	fails(t, func(tb testing.TB) {
		artanatest.AssertChainValid(tb, tampered{store}, "ticket-1")
	}, `run "ticket-1" seq 2: hash mismatch`)
	fails(t, func(tb testing.TB) {
		artanatest.AssertChainValid(tb, store, "ticket-2")
	}, `run "ticket-2" has no events`)
	closed := ledger.NewMemStore()
	_ = closed.Close()
	fails(t, func(tb testing.TB) {
		artanatest.AssertChainValid(tb, closed, "ticket-1")
	}, `read run "ticket-1"`, "closed")
}

func mustEvents(tb testing.TB, s ledger.Store, runID string) []ledger.Event {
	tb.Helper()
	evs, err := s.Events(tb.Context(), runID, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

var refundStep = artana.ToolStep{Tool: "refund", Args: refundArgs{"A-9", 900}, StepKey: "refund-9"}

func TestAssertHaltsOnUnknownOutcome(t *testing.T) {
	passes(t, func(tb testing.TB) {
		runs := new(atomic.Int64)
		k := artanatest.NewKernel(tb, nil, artana.WithTools(refundTools(tb, runs)))
		run, err := k.StartRun(tb.Context(), tenant, "r")
		if err != nil {
			tb.Fatal(err)
		}
		res := artanatest.AssertHaltsOnUnknownOutcome(tb, k, run, refundStep, func() int { return int(runs.Load()) })
		if res.ResultJSON != `{"refund_id":"R-2"}` {
			tb.Errorf("reconciled result %s, want the second execution's", res.ResultJSON)
		}
		evs := mustEvents(tb, k.Store(), "r")
		var outcomes []string
		for _, e := range evs {
			if c, ok := e.Payload.(*ledger.ToolCompleted); ok {
				outcomes = append(outcomes, string(c.Outcome))
			}
		}
		if strings.Join(outcomes, ",") != "unknown_outcome,success" {
			tb.Errorf("tool outcomes logged: %v", outcomes)
		}
	})
}

// forgetful is a broken store: it loses tool requests that have no
// completion yet, so a kernel on it cannot know the tool already ran.
type forgetful struct{ ledger.Store }

func (s forgetful) Events(ctx context.Context, runID string, after int64) ([]ledger.Event, error) {
	evs, err := s.Store.Events(ctx, runID, after)
	if err != nil || len(evs) == 0 {
		return evs, err
	}
	if _, ok := evs[len(evs)-1].Payload.(*ledger.ToolRequested); ok {
		evs = evs[:len(evs)-1]
	}
	return evs, nil
}

func TestAssertHaltsOnUnknownOutcomeFails(t *testing.T) {
	// On a store that loses the pending request, the tool runs again.
	f := fails(t, func(tb testing.TB) {
		runs := new(atomic.Int64)
		k := artanatest.NewKernelWithStore(tb, forgetful{ledger.NewMemStore()}, nil, artana.WithTools(refundTools(tb, runs)))
		run, err := k.StartRun(tb.Context(), tenant, "r")
		if err != nil {
			tb.Fatal(err)
		}
		artanatest.AssertHaltsOnUnknownOutcome(tb, k, run, refundStep, func() int { return int(runs.Load()) })
	}, "after the interruption", "the tool ran again")
	if !f.fatal {
		t.Error("a step that does not halt must stop the test")
	}

	// A step already in the run cannot be interrupted.
	fails(t, func(tb testing.TB) {
		k, _, runs := triageKernel(tb)
		if _, err := triage(tb.Context(), k); err != nil {
			tb.Fatal(err)
		}
		run := artana.Run{ID: "ticket-1", Tenant: tenant}
		step := artana.ToolStep{Tool: "refund", Args: refundArgs{"A-1", 500}, StepKey: "refund"}
		artanatest.AssertHaltsOnUnknownOutcome(tb, k, run, step, func() int { return int(runs.Load()) })
	}, "pass a tool step that is not yet in the run")

	// A counter that does not count is reported, not trusted.
	fails(t, func(tb testing.TB) {
		k := artanatest.NewKernel(tb, nil, artana.WithTools(refundTools(tb, new(atomic.Int64))))
		run, err := k.StartRun(tb.Context(), tenant, "r")
		if err != nil {
			tb.Fatal(err)
		}
		artanatest.AssertHaltsOnUnknownOutcome(tb, k, run, refundStep, func() int { return 0 })
	}, "the tool ran 0 time(s) in the interrupted step, want 1")
}
