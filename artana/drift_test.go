package artana

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/google/go-cmp/cmp"
)

// driftEvents returns the replayed_with_drift payloads of a run.
func driftEvents(t testing.TB, s ledger.Store, runID string) []*ledger.ReplayedWithDrift {
	t.Helper()
	events, err := s.Events(tctx, runID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ledger.ReplayedWithDrift
	for _, e := range events {
		if d, ok := e.Payload.(*ledger.ReplayedWithDrift); ok {
			out = append(out, d)
		}
	}
	return out
}

// recordDecision runs one model step with step key "decide" live and
// returns the kernel's store.
func recordDecision(t *testing.T) (*ledger.MemStore, Run, *fakeModel) {
	t.Helper()
	m := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, m)
	run := mustStart(t, k, liveTenant, "run-drift")
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt-4o", Prompt: "Approve?", StepKey: "decide"}); err != nil {
		t.Fatal(err)
	}
	return store, run, m
}

func TestReplayStrictUnchanged(t *testing.T) {
	store, run, _ := recordDecision(t)
	k := New(store, nil)
	_, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt-4o", Prompt: "Approve now?", StepKey: "decide"})
	if !errors.Is(err, ErrReplayMismatch) {
		t.Fatalf("strict drifted replay: %v, want ErrReplayMismatch", err)
	}
	if _, err := k.policyFor("sometimes"); err == nil {
		t.Error("unknown policy accepted")
	}
	_, err = StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt-4o", Prompt: "Approve?", StepKey: "decide", ReplayPolicy: "sometimes"})
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unknown policy: %v", err)
	}
	if len(driftEvents(t, store, run.ID)) != 0 {
		t.Error("strict logged a drift event")
	}
}

func TestReplayAllowPromptDrift(t *testing.T) {
	store, run, m := recordDecision(t)
	k := New(store, nil, WithReplayPolicy(ReplayAllowPromptDrift))
	step := ModelStep{Model: "gpt-4o", Prompt: "Approve, please?", StepKey: "decide"}
	res, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatal(err)
	}
	wantRes := res // the drift is checked below
	wantRes.FromLog, wantRes.Output, wantRes.Seq, wantRes.RunID = true, Decision{true, "ok"}, 3, run.ID
	if d := cmp.Diff(wantRes, res); d != "" || m.calls.Load() != 1 {
		t.Fatalf("result, %d model calls (want 1) (-want +got):\n%s", m.calls.Load(), d)
	}
	want := &Drift{Fields: []string{"prompt", "messages"}, Policy: ReplayAllowPromptDrift, SourceSeq: 2, Seq: 4}
	if diff := cmp.Diff(want, res.Drift); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	events := storedEvents(t, store, run.ID)
	wantTypes := []ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested, ledger.EventModelCompleted, ledger.EventReplayedWithDrift}
	if d := cmp.Diff(wantTypes, eventTypes(t, store, run.ID)); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
	wantCanon := `{"drift_fields":["prompt","messages"],"fork_run_id":null,"kind":"replayed_with_drift","model":"gpt-4o","replay_policy":"allow_prompt_drift","source_model_requested_event_id":"` + events[1].ID + `","source_model_terminal_seq":3,"step_key":"decide"}`
	if got := string(ledger.CanonicalForm.Encode(events[3].Payload)); got != wantCanon {
		t.Errorf("drift event\n got %s\nwant %s", got, wantCanon)
	}
	var v ledger.ChainVerifier
	for i := range events {
		if err := v.Next(&events[i]); err != nil {
			t.Fatal(err)
		}
	}

	// Stable: replayed again (on a new kernel too), nothing is appended.
	for _, kk := range []*Kernel{k, New(store, nil, WithReplayPolicy(ReplayAllowPromptDrift))} {
		again, err := StepModel[Decision](tctx, kk, run, step)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(res, again); d != "" {
			t.Fatalf("again: want the drifted result (-want +got):\n%s", d)
		}
		if n := len(eventTypes(t, store, run.ID)); n != 4 {
			t.Fatalf("replaying the drifted run again appended: %d events", n)
		}
	}
	// The original request still replays exactly, without drift.
	orig, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt-4o", Prompt: "Approve?", StepKey: "decide"})
	if err != nil {
		t.Fatal(err)
	}
	wantOrig := res
	wantOrig.Drift = nil
	if d := cmp.Diff(wantOrig, orig); d != "" {
		t.Errorf("original (-want +got):\n%s", d)
	}
	// A different model or different tools is still a mismatch.
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt-5", Prompt: "Approve?", StepKey: "decide"}); !errors.Is(err, ErrReplayMismatch) || !strings.Contains(err.Error(), `model "gpt-4o", now "gpt-5"`) {
		t.Errorf("other model: %v", err)
	}
	if err := RegisterTool(k.Tools(), "lookup_order", func(_ context.Context, a orderArgs) (string, error) { return "", nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := StepModel[Decision](tctx, k, run, step); !errors.Is(err, ErrReplayMismatch) || !strings.Contains(err.Error(), `offered tools [], now ["lookup_order"]`) {
		t.Errorf("other tools: %v", err)
	}
}

func TestReplayForkOnDrift(t *testing.T) {
	store, run, m := recordDecision(t)
	parent := storedEvents(t, store, run.ID)
	m2 := replyWith(`{"approved":false,"reason":"forked"}`)
	k := New(store, m2, WithReplayPolicy(ReplayForkOnDrift))
	step := ModelStep{Model: "gpt-4o", Prompt: "Approve, please?", StepKey: "decide"}
	res, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatal(err)
	}
	req := &ledger.ModelRequested{Model: "gpt-4o", Prompt: "Approve, please?", Messages: []ledger.ChatMessage{{Role: "user", Content: "Approve, please?"}},
		AllowedTools: []string{}, StepKey: new("decide")}
	forkID := ledger.ForkRunID(run.ID, parent[1].PrevHash, req)
	if !strings.HasPrefix(forkID, "run-drift::fork::") || len(forkID) != len("run-drift::fork::")+16 {
		t.Fatalf("fork id %q", forkID)
	}
	if p, ok := ledger.ForkParent(forkID); !ok || p != run.ID {
		t.Errorf("ForkParent(%q) = %q, %v", forkID, p, ok)
	}
	wantRes := res // the drift is checked below
	wantRes.FromLog, wantRes.RunID, wantRes.Output = false, forkID, Decision{false, "forked"}
	if d := cmp.Diff(wantRes, res); d != "" || m2.calls.Load() != 1 || m.calls.Load() != 1 {
		t.Fatalf("result, model calls %d and %d (want 1 and 1) (-want +got):\n%s", m.calls.Load(), m2.calls.Load(), d)
	}
	want := &Drift{Fields: []string{"prompt", "messages"}, Policy: ReplayForkOnDrift, SourceSeq: 2, Seq: 4, ParentRunID: run.ID, ForkRunID: forkID}
	if diff := cmp.Diff(want, res.Drift); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	// The parent is untouched but for the drift event naming the fork.
	after := storedEvents(t, store, run.ID)
	if len(after) != 4 {
		t.Fatalf("parent: %d events, want 4", len(after))
	}
	if diff := cmp.Diff(parent, after[:3]); diff != "" {
		t.Fatalf("parent changed (-before +after):\n%s", diff)
	}
	d := after[3].Payload.(*ledger.ReplayedWithDrift)
	wantD := *d // StepKey, Model and DriftFields are not checked here
	wantD.Policy, wantD.ForkRunID, wantD.SourceTerminalSeq, wantD.SourceRequestedEventID = string(ReplayForkOnDrift), &forkID, new(int64(3)), parent[1].ID
	if diff := cmp.Diff(&wantD, d); diff != "" {
		t.Errorf("drift event (-want +got):\n%s", diff)
	}
	// The fork: the parent's prefix, payload for payload, then the live step.
	fork := storedEvents(t, store, forkID)
	if got := eventTypes(t, store, forkID); !cmp.Equal(got, []ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested, ledger.EventModelCompleted}) {
		t.Fatalf("fork events %v", got)
	}
	if string(ledger.CanonicalForm.Encode(fork[0].Payload)) != string(ledger.CanonicalForm.Encode(parent[0].Payload)) {
		t.Error("fork prefix differs from the parent")
	}
	if err := ledger.CheckFork(tctx, store, forkID); err != nil {
		t.Errorf("CheckFork: %v", err)
	}

	// Stable: the drifted run replays again, from the fork, appending nothing.
	replayer := New(store, nil, WithReplayPolicy(ReplayForkOnDrift))
	again, err := StepModel[Decision](tctx, replayer, run, step)
	if err != nil {
		t.Fatalf("again: %v", err)
	}
	wantAgain := res
	wantAgain.FromLog = true
	if d := cmp.Diff(wantAgain, again); d != "" {
		t.Fatalf("again: want the forked result from the log (-want +got):\n%s", d)
	}
	if len(eventTypes(t, store, run.ID)) != 4 || len(eventTypes(t, store, forkID)) != 3 {
		t.Error("replaying the forked run again appended events")
	}
}

// loopOutcome is a tool loop's result with the tool runs and model calls
// counted so far.
type loopOutcome struct {
	Result               ToolLoopResult[Decision]
	ToolRuns, ModelCalls int64
}

func TestToolLoopReplayPolicies(t *testing.T) {
	m := supportScript()
	k, store, run, runs := supportDesk(t, m, "ticket-9")
	live, err := RunToolLoop[Decision](tctx, k, run, supportLoop)
	if err != nil {
		t.Fatal(err)
	}
	ld := loopDrift{k: k, store: store, run: run, live: live, n: len(eventTypes(t, store, run.ID)), runs: runs}
	drifted := supportLoop
	drifted.Messages = []ledger.ChatMessage{{Role: "system", Content: "Support desk. Be kind."}, {Role: "user", Content: "Refund order A-17."}}

	// Strict: the changed system prompt is a new request, which a kernel
	// without a model cannot answer.
	replayer := New(store, nil, WithTools(k.Tools()))
	if _, err := RunToolLoop[Decision](tctx, replayer, run, drifted); !errors.Is(err, ErrReplayMismatch) {
		t.Fatalf("strict: %v", err)
	}
	drifted.ReplayPolicy = ReplayAllowPromptDrift
	ld.allowDrift(t, drifted, m)
	drifted.Messages[0].Content = "Support desk. Be brief."
	drifted.ReplayPolicy = ReplayForkOnDrift
	ld.forkOnDrift(t, drifted)
}

// loopDrift is the state of TestToolLoopReplayPolicies: the live loop,
// its run, the number of events it logged, and the tool runs so far.
type loopDrift struct {
	k     *Kernel
	store *ledger.MemStore
	run   Run
	live  ToolLoopResult[Decision]
	n     int
	runs  *atomic.Int64
}

// allowDrift checks that the drifted loop replays both turns from the log
// (m answered the live loop), each drift logged once, however often the
// loop replays.
func (ld *loopDrift) allowDrift(t *testing.T, drifted ToolLoop, m *scriptedTurns) {
	t.Helper()
	replayer := New(ld.store, nil, WithTools(ld.k.Tools()))
	n := ld.n
	for i := range 2 {
		res, err := RunToolLoop[Decision](tctx, replayer, ld.run, drifted)
		if err != nil {
			t.Fatalf("allow drift (%d): %v", i, err)
		}
		want := loopOutcome{Result: ld.live, ToolRuns: 2, ModelCalls: 2}
		want.Result.FromLog = true
		want.Result.Messages = append(slices.Clone(drifted.Messages), ld.live.Messages[2:]...)
		want.Result.Drifts = []Drift{
			{Fields: []string{"messages"}, Policy: ReplayAllowPromptDrift, SourceSeq: 2, Seq: int64(n) + 1},
			{Fields: []string{"messages"}, Policy: ReplayAllowPromptDrift, SourceSeq: 8, Seq: int64(n) + 2},
		}
		got := loopOutcome{Result: res, ToolRuns: ld.runs.Load(), ModelCalls: m.calls.Load()}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("allow drift (%d) (-want +got):\n%s", i, d)
		}
		if got := len(eventTypes(t, ld.store, ld.run.ID)); got != n+2 {
			t.Fatalf("allow drift (%d): %d events, want %d", i, got, n+2)
		}
	}
	var stepKeys []string
	for _, d := range driftEvents(t, ld.store, ld.run.ID) {
		stepKeys = append(stepKeys, *d.StepKey)
	}
	if d := cmp.Diff([]string{"support/turn-1", "support/turn-2"}, stepKeys); d != "" {
		t.Errorf("drift events' step keys (-want +got):\n%s", d)
	}
}

// forkOnDrift checks that the drifted loop goes on live in a fork of the
// run (after allowDrift logged two drifts), and that replaying it again
// runs and appends nothing.
func (ld *loopDrift) forkOnDrift(t *testing.T, drifted ToolLoop) {
	t.Helper()
	m2 := supportScript()
	forker := New(ld.store, m2, WithTools(ld.k.Tools()))
	res, err := RunToolLoop[Decision](tctx, forker, ld.run, drifted)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.RunID, ld.run.ID+"::fork::") {
		t.Fatalf("fork: the loop ran in %q", res.RunID)
	}
	want := loopOutcome{Result: ld.live, ToolRuns: 4, ModelCalls: 2}
	want.Result.RunID = res.RunID
	want.Result.Messages = append(slices.Clone(drifted.Messages), ld.live.Messages[2:]...)
	want.Result.Drifts = []Drift{{Fields: []string{"messages"}, Policy: ReplayForkOnDrift, SourceSeq: 2, Seq: int64(ld.n) + 3, ParentRunID: ld.run.ID, ForkRunID: res.RunID}}
	if d := cmp.Diff(want, loopOutcome{Result: res, ToolRuns: ld.runs.Load(), ModelCalls: m2.calls.Load()}); d != "" {
		t.Fatalf("fork (-want +got):\n%s", d)
	}
	if got := eventTypes(t, ld.store, res.RunID); len(got) != ld.n {
		t.Errorf("fork events %v", got)
	}
	if err := ledger.CheckFork(tctx, ld.store, res.RunID); err != nil {
		t.Error(err)
	}
	parentLen := len(eventTypes(t, ld.store, ld.run.ID))
	again, err := RunToolLoop[Decision](tctx, New(ld.store, nil, WithTools(ld.k.Tools())), ld.run, drifted)
	if err != nil {
		t.Fatalf("fork again: %v", err)
	}
	wantAgain := res
	wantAgain.FromLog = true
	if d := cmp.Diff(wantAgain, again); d != "" || ld.runs.Load() != 4 {
		t.Fatalf("fork again, %d tool runs (want 4): want the forked result from the log (-want +got):\n%s", ld.runs.Load(), d)
	}
	if len(eventTypes(t, ld.store, ld.run.ID)) != parentLen || len(eventTypes(t, ld.store, res.RunID)) != ld.n {
		t.Error("replaying the forked loop appended events")
	}
}

// toolOutcome is a tool step's result with the tool runs counted so far.
type toolOutcome struct {
	Result   ToolResult
	ToolRuns int64
}

func TestToolDrift(t *testing.T) {
	var runs atomic.Int64
	register := func(version string) *Tools {
		tools := NewTools()
		if err := RegisterTool(tools, "lookup_order", func(_ context.Context, a orderArgs) (map[string]string, error) {
			runs.Add(1)
			return map[string]string{"order": a.Order, "version": version}, nil
		}, WithVersions(version, "")); err != nil {
			t.Fatal(err)
		}
		return tools
	}
	k, store := newTestKernel(t, nil, WithTools(register("1.0.0")))
	run := mustStart(t, k, liveTenant, "tools-drift")
	step := ToolStep{Tool: "lookup_order", Args: orderArgs{Order: "A-1"}, StepKey: "lookup"}
	live, err := k.StepTool(tctx, run, step)
	if err != nil {
		t.Fatal(err)
	}
	v2 := New(store, nil, WithTools(register("2.0.0")))
	_, err = v2.StepTool(tctx, run, step)
	if !errors.Is(err, ErrReplayMismatch) || !strings.Contains(err.Error(), `tool_version logged "1.0.0", now "2.0.0"`) {
		t.Fatalf("strict: %v", err)
	}
	step.ReplayPolicy = ReplayAllowPromptDrift
	for range 2 {
		r, err := v2.StepTool(tctx, run, step)
		if err != nil {
			t.Fatal(err)
		}
		want := toolOutcome{Result: live, ToolRuns: 1}
		want.Result.FromLog = true
		want.Result.Drift = &Drift{Fields: []string{"tool_version"}, Policy: ReplayAllowPromptDrift, SourceSeq: 2, Seq: 4}
		if d := cmp.Diff(want, toolOutcome{Result: r, ToolRuns: runs.Load()}); d != "" {
			t.Fatalf("allow (-want +got):\n%s", d)
		}
	}
	ds := driftEvents(t, store, run.ID)
	if len(ds) != 1 {
		t.Fatalf("%d drift events, want 1", len(ds))
	}
	wantD := *ds[0] // only the tool and the source seq are checked here
	wantD.Model, wantD.SourceTerminalSeq = "lookup_order", &live.Seq
	if diff := cmp.Diff(&wantD, ds[0]); diff != "" {
		t.Fatalf("drift event (-want +got):\n%s", diff)
	}
	step.ReplayPolicy = ReplayForkOnDrift
	r, err := v2.StepTool(tctx, run, step)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.RunID, run.ID+"::fork::") {
		t.Fatalf("fork: the step ran in %q", r.RunID)
	}
	want := toolOutcome{Result: live, ToolRuns: 2}
	want.Result.RunID, want.Result.ResultJSON = r.RunID, `{"order":"A-1","version":"2.0.0"}`
	want.Result.IdempotencyKey = idempotencyKey(r.RunID, "lookup", 0)
	want.Result.Drift = &Drift{Fields: []string{"tool_version"}, Policy: ReplayForkOnDrift, SourceSeq: 2, Seq: 5, ParentRunID: run.ID, ForkRunID: r.RunID}
	if d := cmp.Diff(want, toolOutcome{Result: r, ToolRuns: runs.Load()}); d != "" {
		t.Fatalf("fork (-want +got):\n%s", d)
	}
	if err := ledger.CheckFork(tctx, store, r.RunID); err != nil {
		t.Error(err)
	}
	again, err := New(store, nil, WithTools(register("2.0.0"))).StepTool(tctx, run, step)
	if err != nil {
		t.Fatalf("fork again: %v", err)
	}
	wantAgain := r
	wantAgain.FromLog = true
	if d := cmp.Diff(wantAgain, again); d != "" || runs.Load() != 2 {
		t.Fatalf("fork again, %d tool runs (want 2): want the forked result from the log (-want +got):\n%s", runs.Load(), d)
	}
}

func TestForkErrors(t *testing.T) {
	store, run, _ := recordDecision(t)
	parent := storedEvents(t, store, run.ID)
	step := ModelStep{Model: "gpt-4o", Prompt: "Approve, please?", StepKey: "decide", ReplayPolicy: ReplayForkOnDrift}
	req := &ledger.ModelRequested{Model: "gpt-4o", Prompt: "Approve, please?", Messages: []ledger.ChatMessage{{Role: "user", Content: "Approve, please?"}},
		AllowedTools: []string{}, StepKey: new("decide")}
	forkID := ledger.ForkRunID(run.ID, parent[1].PrevHash, req)

	// A run that already holds the fork's id but not the parent's prefix.
	if _, err := store.Append(tctx, forkID, liveTenant.ID, &ledger.PauseRequested{Reason: "squatter"}); err != nil {
		t.Fatal(err)
	}
	k := New(store, replyWith(`{"approved":false,"reason":"x"}`))
	_, err := StepModel[Decision](tctx, k, run, step)
	if !errors.Is(err, ErrReplayMismatch) || !strings.Contains(err.Error(), "the fork exists but its event differs from seq 1") {
		t.Fatalf("squatted fork: %v", err)
	}
	if n := len(driftEvents(t, store, run.ID)); n != 0 {
		t.Errorf("a failed fork logged %d drift events", n)
	}

	// CheckFork names what is wrong.
	for _, c := range []struct{ id, want string }{
		{run.ID, "is no fork"},
		{forkID, "holds no replayed_with_drift event naming it"},
	} {
		if err := ledger.CheckFork(tctx, store, c.id); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckFork(%q) = %v, want %q", c.id, err, c.want)
		}
	}
	// A tool step with an unknown policy.
	if _, err := k.StepTool(tctx, run, ToolStep{Tool: "nope", Args: map[string]int{}, ReplayPolicy: "sometimes"}); err == nil {
		t.Error("unknown tool policy accepted")
	}
}

func TestCheckForkTampered(t *testing.T) {
	store, run, _ := recordDecision(t)
	k := New(store, replyWith(`{"approved":false,"reason":"forked"}`), WithReplayPolicy(ReplayForkOnDrift))
	res, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt-4o", Prompt: "Approve, please?", StepKey: "decide"})
	if err != nil {
		t.Fatal(err)
	}
	// A second fork id whose hash does not recompute: the parent names it,
	// its prefix is right, its request is not the one hashed.
	bogus := run.ID + "::fork::0000000000000000"
	if _, err := store.Append(tctx, bogus, liveTenant.ID, &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	events := storedEvents(t, store, res.RunID)
	if _, err := store.Append(tctx, bogus, liveTenant.ID, events[1].Payload); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(tctx, run.ID, liveTenant.ID, &ledger.ReplayedWithDrift{Model: "gpt-4o", SourceRequestedEventID: events[1].ID,
		Policy: string(ReplayForkOnDrift), ForkRunID: &bogus}); err != nil {
		t.Fatal(err)
	}
	if err := ledger.CheckFork(tctx, store, bogus); err == nil || !strings.Contains(err.Error(), "is no event of") {
		t.Errorf("CheckFork(bogus source) = %v", err)
	}
	parent := storedEvents(t, store, run.ID)
	if _, err := store.Append(tctx, run.ID, liveTenant.ID, &ledger.ReplayedWithDrift{Model: "gpt-4o", SourceRequestedEventID: parent[1].ID,
		Policy: string(ReplayForkOnDrift), ForkRunID: &bogus}); err != nil {
		t.Fatal(err)
	}
	err = ledger.CheckFork(tctx, store, bogus)
	if err == nil || !strings.Contains(err.Error(), "hash to") {
		t.Errorf("CheckFork(bogus hash) = %v", err)
	}
}

func TestDriftFromPendingRequest(t *testing.T) {
	k, store := newTestKernel(t, replyWith(`{"approved":true,"reason":"live"}`))
	// Requests logged without their completion (the process died).
	pending := func(id string) Run {
		run := mustStart(t, k, liveTenant, id)
		if _, err := store.Append(tctx, run.ID, liveTenant.ID, &ledger.ModelRequested{Model: "gpt-4o", Prompt: "Approve?",
			Messages: []ledger.ChatMessage{{Role: "user", Content: "Approve?"}}, AllowedTools: []string{}, StepKey: new("decide")}); err != nil {
			t.Fatal(err)
		}
		return run
	}
	step := ModelStep{Model: "gpt-4o", Prompt: "Approve, please?", StepKey: "decide", ReplayPolicy: ReplayAllowPromptDrift}
	// Allow prompt drift has no answer to reuse: the step runs live.
	run := pending("pending-allow")
	res, err := StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatal(err)
	}
	want := ModelResult[Decision]{RunID: run.ID, Seq: 4, Output: Decision{true, "live"}, OutputJSON: `{"approved":true,"reason":"live"}`,
		Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}}
	if d := cmp.Diff(want, res); d != "" {
		t.Fatalf("allow drift from a pending request (-want +got):\n%s", d)
	}
	if ds := driftEvents(t, store, run.ID); len(ds) != 0 {
		t.Fatalf("allow drift from a pending request logged drift events %+v", ds)
	}
	// Fork on drift forks, with no completion to name.
	run = pending("pending-fork")
	step.ReplayPolicy = ReplayForkOnDrift
	res, err = StepModel[Decision](tctx, k, run, step)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.RunID, run.ID+"::fork::") {
		t.Fatalf("fork from a pending request: the step ran in %q", res.RunID)
	}
	want.RunID, want.Seq = res.RunID, 3
	want.Drift = &Drift{Fields: []string{"prompt", "messages"}, Policy: ReplayForkOnDrift, SourceSeq: 2, Seq: 3, ParentRunID: run.ID, ForkRunID: res.RunID}
	if d := cmp.Diff(want, res); d != "" {
		t.Fatalf("fork from a pending request (-want +got):\n%s", d)
	}
	ds := driftEvents(t, store, run.ID)
	if len(ds) != 1 {
		t.Fatalf("%d drift events, want 1", len(ds))
	}
	wantD := *ds[0] // only the source seq and the fork are checked here
	wantD.SourceTerminalSeq, wantD.ForkRunID = nil, &res.RunID
	if diff := cmp.Diff(&wantD, ds[0]); diff != "" {
		t.Fatalf("drift event (-want +got):\n%s", diff)
	}
	if err := ledger.CheckFork(tctx, store, res.RunID); err != nil {
		t.Error(err)
	}
}
