package artanatest_test

import (
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artanatest"
)

func TestAssertDriftedOnly(t *testing.T) {
	store := artanatest.NewStore(t)
	tenant := artana.Tenant{ID: "org", BudgetUSD: 1}
	type answer struct {
		OK bool `json:"ok"`
	}
	k := artanatest.NewKernelWithStore(t, store, artanatest.NewFakeModel(t, artanatest.Reply{OutputJSON: `{"ok":true}`}))
	run, err := k.StartRun(t.Context(), tenant, "r")
	if err != nil {
		t.Fatal(err)
	}
	step := artana.ModelStep{Model: "m", Messages: []ledger.ChatMessage{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Ok?"}}, StepKey: "ask"}
	if _, err := artana.StepModel[answer](t.Context(), k, run, step); err != nil {
		t.Fatal(err)
	}
	// Nothing drifted yet.
	f := check(t, func(tb testing.TB) { artanatest.AssertDriftedOnly(tb, store, "r", "messages") })
	if !strings.Contains(f.report(), "the replay did not drift") {
		t.Errorf("no drift: %q", f.report())
	}
	// The system prompt changes: only messages drift.
	step.Messages[0].Content = "Be very brief."
	step.ReplayPolicy = artana.ReplayAllowPromptDrift
	replayer := artanatest.NewKernelWithStore(t, store, nil)
	if _, err := artana.StepModel[answer](t.Context(), replayer, run, step); err != nil {
		t.Fatal(err)
	}
	passes(t, func(tb testing.TB) { artanatest.AssertDriftedOnly(tb, store, "r", "messages") })
	// The user prompt changes too: prompt drifts, which the test does not expect.
	step.Messages[1].Content = "Is it ok?"
	if _, err := artana.StepModel[answer](t.Context(), replayer, run, step); err != nil {
		t.Fatal(err)
	}
	f = check(t, func(tb testing.TB) { artanatest.AssertDriftedOnly(tb, store, "r", "messages") })
	if !strings.Contains(f.report(), `seq 5: step "ask" (m) drifted in prompt, which the test does not expect (expected only messages)`) {
		t.Errorf("unexpected field: %q", f.report())
	}
	for _, c := range []struct {
		run    string
		fields []string
		want   string
	}{
		{"r", nil, "no fields given"},
		{"nope", []string{"prompt"}, `run "nope" has no events`},
	} {
		f := check(t, func(tb testing.TB) { artanatest.AssertDriftedOnly(tb, store, c.run, c.fields...) })
		if !strings.Contains(f.report(), c.want) {
			t.Errorf("%v: %q, want %q", c, f.report(), c.want)
		}
	}
}
