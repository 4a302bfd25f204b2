package artana

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/google/go-cmp/cmp"
)

var flowTenant = Tenant{ID: "org_flow", BudgetUSD: 1}

type reviewNote struct {
	Note  string  `json:"note"`
	Score float64 `json:"score"`
}

// A workflow pauses on the first kernel, is resumed by a second and
// completes on a third; each step's action runs exactly once.
func TestWorkflowPauseResumeAcrossKernels(t *testing.T) {
	runs := map[string]int{}
	flow := reviewFlow(runs)

	k1, store := newTestKernel(t, nil)
	res, err := RunWorkflow(tctx, k1, flowTenant, "wf", flow)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if res.Ticket == nil {
		t.Fatalf("first run: %+v, want a pause ticket", res)
	}
	ticket := *res.Ticket
	paused := WorkflowResult[string]{RunID: "wf", State: ledger.RunPaused, Ticket: &PauseTicket{RunID: "wf", TicketID: ticket.TicketID, Seq: 5, Reason: "needs human review"}}
	if diff := cmp.Diff(paused, res); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}

	k2 := New(store, nil)
	// Running again before the resume pauses on the same ticket and logs nothing.
	res, err = RunWorkflow(tctx, k2, flowTenant, "wf", flow)
	if err != nil {
		t.Fatalf("run while paused: %v", err)
	}
	if diff := cmp.Diff(paused, res); diff != "" {
		t.Fatalf("run while paused (-want +got):\n%s", diff)
	}
	if n := len(eventTypes(t, store, "wf")); n != 5 {
		t.Fatalf("run while paused: %d events, want 5 (nothing logged)", n)
	}
	if _, err := k2.Resume(tctx, Run{ID: "wf", Tenant: flowTenant}, reviewNote{"approved by Zoë", 1}); err != nil {
		t.Fatal(err)
	}

	k3 := New(store, nil)
	res, err = RunWorkflow(tctx, k3, flowTenant, "wf", flow)
	if err != nil {
		t.Fatalf("run after resume: %v", err)
	}
	complete := WorkflowResult[string]{RunID: "wf", State: ledger.RunComplete, Output: "approved by Zoë"}
	if diff := cmp.Diff(complete, res); diff != "" {
		t.Fatalf("run after resume (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"fetch": 1, "score": 1, "finish": 1}, runs); diff != "" {
		t.Fatalf("actions ran (-want +got):\n%s", diff)
	}
	want := []ledger.EventType{ledger.EventWorkflowStepRequested, ledger.EventWorkflowStepCompleted, ledger.EventWorkflowStepRequested, ledger.EventWorkflowStepCompleted,
		ledger.EventPauseRequested, ledger.EventResumeRequested, ledger.EventWorkflowStepRequested, ledger.EventWorkflowStepCompleted}
	if got := eventTypes(t, store, "wf"); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	// Once complete, running it again replays everything.
	res, err = RunWorkflow(tctx, New(store, nil), flowTenant, "wf", flow)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if diff := cmp.Diff(complete, res); diff != "" {
		t.Fatalf("replay (-want +got):\n%s", diff)
	}
	if runs["finish"] != 1 || len(eventTypes(t, store, "wf")) != len(want) {
		t.Fatalf("replay ran actions %v or logged events", runs)
	}
}

// reviewFlow is a workflow that fetches, scores, pauses for a human
// review and finishes with the review's note, counting in runs how often
// each step's action runs.
func reviewFlow(runs map[string]int) func(context.Context, *Workflow) (string, error) {
	return func(ctx context.Context, wf *Workflow) (string, error) {
		items, err := Step(ctx, wf, "fetch", func(context.Context) ([]int, error) {
			runs["fetch"]++
			return []int{1, 2, 3}, nil
		})
		if err != nil {
			return "", err
		}
		score, err := Step(ctx, wf, "score", func(context.Context) (float64, error) {
			runs["score"]++
			return float64(len(items)) / 4, nil
		})
		if err != nil {
			return "", err
		}
		input, err := wf.Pause(ctx, PauseStep{Reason: "needs human review", Context: reviewNote{"check", score}, StepKey: "review"})
		if err != nil {
			return "", err
		}
		var note reviewNote
		if err := json.Unmarshal(input, &note); err != nil {
			return "", err
		}
		return Step(ctx, wf, "finish", func(context.Context) (string, error) {
			runs["finish"]++
			return note.Note, nil
		})
	}
}

func TestWorkflowStepNameMismatch(t *testing.T) {
	k, _ := newTestKernel(t, nil)
	one := func(name string) func(context.Context, *Workflow) (int, error) {
		return func(ctx context.Context, wf *Workflow) (int, error) {
			return Step(ctx, wf, name, func(context.Context) (int, error) { return 1, nil })
		}
	}
	if _, err := RunWorkflow(tctx, k, flowTenant, "wf", one("a")); err != nil {
		t.Fatal(err)
	}
	_, err := RunWorkflow(tctx, k, flowTenant, "wf", one("b"))
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 2 || !strings.Contains(e.Msg, `step 0 "b": the log has step "a"`) {
		t.Fatalf("error %q", e)
	}

	// A step requested but not completed (its action failed) must keep its name too.
	boom := errors.New("boom")
	calls := 0
	failing := func(ctx context.Context, wf *Workflow) (int, error) {
		return Step(ctx, wf, "flaky", func(context.Context) (int, error) {
			calls++
			if calls == 1 {
				return 0, boom
			}
			return 7, nil
		})
	}
	_, err = RunWorkflow(tctx, k, flowTenant, "wf2", failing)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the action's", err)
	}
	_, err = RunWorkflow(tctx, k, flowTenant, "wf2", one("other"))
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 1 || !strings.Contains(e.Msg, `request for step "flaky"`) {
		t.Fatalf("error %q", e)
	}
	// The failed action runs again; its request is not logged twice.
	res, err := RunWorkflow(tctx, k, flowTenant, "wf2", failing)
	if err != nil || res.Output != 7 || calls != 2 {
		t.Fatalf("%+v %v calls=%d", res, err, calls)
	}
	if got := eventTypes(t, k.Store(), "wf2"); !slices.Equal(got, []ledger.EventType{ledger.EventWorkflowStepRequested, ledger.EventWorkflowStepCompleted}) {
		t.Fatalf("events %v", got)
	}
}

func TestWorkflowSerde(t *testing.T) {
	k, store := newTestKernel(t, nil)
	flow := func(ctx context.Context, wf *Workflow) (map[string]any, error) {
		return Step(ctx, wf, "json", func(context.Context) (map[string]any, error) {
			return map[string]any{"b": 2.5, "a": "ü", "c": []any{1, nil, true}}, nil
		})
	}
	if _, err := RunWorkflow(tctx, k, flowTenant, "wf", flow); err != nil {
		t.Fatal(err)
	}
	events, err := store.Events(tctx, "wf", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[1].Payload.(*ledger.WorkflowStepCompleted).ResultJSON; got != `{"a":"\u00fc","b":2.5,"c":[1,null,true]}` {
		t.Fatalf("result_json %s, want the seed's json_step_serde bytes", got)
	}
	res, err := RunWorkflow(tctx, k, flowTenant, "wf", flow)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]any{"a": "ü", "b": 2.5, "c": []any{1.0, nil, true}}, res.Output); d != "" {
		t.Fatalf("replayed output, as JSON decodes it (-want +got):\n%s", d)
	}

	// A custom serde stores and loads its own form.
	upper := Codec[string]{
		Marshal:   func(v string) (string, error) { return `"` + strings.ToUpper(v) + `"`, nil },
		Unmarshal: func(s string, v *string) error { return json.Unmarshal([]byte(s), v) },
	}
	custom := func(ctx context.Context, wf *Workflow) (string, error) {
		return StepWith(ctx, wf, "custom", upper, func(context.Context) (string, error) { return "quiet", nil })
	}
	if res, err := RunWorkflow(tctx, k, flowTenant, "wf3", custom); err != nil || res.Output != "quiet" {
		t.Fatalf("%+v %v", res, err)
	}
	if res, err := RunWorkflow(tctx, k, flowTenant, "wf3", custom); err != nil || res.Output != "QUIET" {
		t.Fatalf("replay through the custom serde: %+v %v", res, err)
	}

	// A result that does not encode is an error and nothing is logged.
	bad := Codec[string]{Marshal: func(string) (string, error) { return "", errors.New("no") }}
	_, err = RunWorkflow(tctx, k, flowTenant, "wf4", func(ctx context.Context, wf *Workflow) (string, error) {
		return StepWith(ctx, wf, "bad", bad, func(context.Context) (string, error) { return "x", nil })
	})
	wantKind(t, err, ErrInvalidInput)
	if got := eventTypes(t, store, "wf4"); len(got) != 1 {
		t.Fatalf("events %v", got)
	}
	// A logged result that does not decode into the step's type.
	_, err = RunWorkflow(tctx, k, flowTenant, "wf", func(ctx context.Context, wf *Workflow) (int, error) {
		return Step(ctx, wf, "json", func(context.Context) (int, error) { return 0, nil })
	})
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 2 {
		t.Fatalf("error %q", e)
	}
}

func TestWorkflowErrors(t *testing.T) {
	k, store := newTestKernel(t, nil, WithRunIDs(func() string { return "issued" }))
	noop := func(ctx context.Context, wf *Workflow) (bool, error) {
		return Step(ctx, wf, "s", func(context.Context) (bool, error) { return wf.Resuming(), nil })
	}
	res, err := RunWorkflow(tctx, k, flowTenant, "", noop)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(WorkflowResult[bool]{RunID: "issued", State: ledger.RunComplete}, res); d != "" {
		t.Fatalf("workflow with a kernel-issued run id (-want +got):\n%s", d)
	}
	if got := eventTypes(t, store, "issued"); got[0] != ledger.EventWorkflowStepRequested {
		t.Fatalf("a workflow logs no run_started: %v", got)
	}
	_, err = RunWorkflow(tctx, k, Tenant{ID: "other"}, "issued", noop)
	wantKind(t, err, ledger.ErrTenantMismatch)
	_, err = RunWorkflow(tctx, k, Tenant{}, "x", noop)
	wantKind(t, err, ErrInvalidInput)

	// Pausing before the run has any event fails as in the seed.
	_, err = RunWorkflow(tctx, k, flowTenant, "fresh", func(ctx context.Context, wf *Workflow) (int, error) {
		_, err := wf.Pause(ctx, PauseStep{Reason: "r"})
		return 0, err
	})
	wantKind(t, err, ErrRunNotFound)
	// An unencodable pause context logs nothing.
	_, err = RunWorkflow(tctx, k, flowTenant, "issued", func(ctx context.Context, wf *Workflow) (int, error) {
		_, err := wf.Pause(ctx, PauseStep{Reason: "r", Context: func() {}})
		return 0, err
	})
	wantKind(t, err, ErrInvalidInput)

	// A pause without step key pauses every time, as the seed's.
	pauses := 0
	unnamed := func(ctx context.Context, wf *Workflow) (int, error) {
		if _, err := Step(ctx, wf, "s", func(context.Context) (bool, error) { return true, nil }); err != nil {
			return 0, err
		}
		_, err := wf.Pause(ctx, PauseStep{Reason: "again"})
		pauses++
		return 0, err
	}
	for i := range 2 {
		res, err := RunWorkflow(tctx, k, flowTenant, "issued", unnamed)
		if err != nil {
			t.Fatal(err)
		}
		want := WorkflowResult[int]{RunID: "issued", State: ledger.RunPaused,
			Ticket: &PauseTicket{RunID: "issued", TicketID: ticketID(res.Ticket), Seq: int64(3 + i), Reason: "again"}} // the id is checked in TestPauseResume
		if d := cmp.Diff(want, res); d != "" {
			t.Fatalf("pause %d (-want +got):\n%s", i, d)
		}
	}
	// A pause error returned from inside a step's action pauses the workflow.
	res2, err := RunWorkflow(tctx, k, flowTenant, "nested", func(ctx context.Context, wf *Workflow) (int, error) {
		return Step(ctx, wf, "s2", func(ctx context.Context) (int, error) {
			_, err := Step(ctx, wf, "s", func(context.Context) (bool, error) { return true, nil })
			if err != nil {
				return 0, err
			}
			_, err = wf.Pause(ctx, PauseStep{Reason: "inside", StepKey: "in"})
			return 0, err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want2 := WorkflowResult[int]{RunID: "nested", State: ledger.RunPaused,
		Ticket: &PauseTicket{RunID: "nested", TicketID: ticketID(res2.Ticket), Seq: 4, Reason: "inside"}}
	if d := cmp.Diff(want2, res2); d != "" {
		t.Fatalf("a pause inside a step (-want +got):\n%s", d)
	}
}

// ticketID returns the id of t, "" without a ticket.
func ticketID(t *PauseTicket) string {
	if t == nil {
		return ""
	}
	return t.TicketID
}

func TestPauseResume(t *testing.T) {
	k, store := newTestKernel(t, nil)
	tenant := Tenant{ID: "org_pause", BudgetUSD: 1}
	run := mustStart(t, k, tenant, "pause_run")
	ticket, err := k.Pause(tctx, run, PauseStep{Reason: "approval needed",
		Context: json.RawMessage(`{"note":"amount > limit","score":0.5}`), StepKey: "approve"})
	if err != nil {
		t.Fatal(err)
	}
	wantTicket := PauseTicket{RunID: "pause_run", TicketID: ticket.TicketID, Seq: 2, Reason: "approval needed"} // the id is checked against the log below
	if d := cmp.Diff(wantTicket, ticket); d != "" || ticket.TicketID == "" {
		t.Fatalf("ticket %+v (-want +got):\n%s", ticket, d)
	}
	if _, err := k.Resume(tctx, run, json.RawMessage(`{"note":"ok","score":1.0}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Pause(tctx, run, PauseStep{Reason: "second pause"}); err != nil {
		t.Fatal(err)
	}
	e, err := k.Resume(tctx, run, nil)
	if err != nil {
		t.Fatal(err)
	}
	type logged struct {
		Seq  int64
		Type ledger.EventType
	}
	if d := cmp.Diff(logged{5, ledger.EventResumeRequested}, logged{e.Seq, e.Type}); d != "" {
		t.Fatalf("resume (-want +got):\n%s", d)
	}
	// The payloads are the seed's, byte for byte (testdata/seed_rows/pause_resume.jsonl).
	want := []string{
		`{"kind": "run_started"}`,
		`{"kind": "pause_requested", "reason": "approval needed", "context_json": "{\"note\":\"amount > limit\",\"score\":0.5}", "step_key": "approve"}`,
		`{"kind": "resume_requested", "human_input_json": "{\"note\":\"ok\",\"score\":1.0}"}`,
		`{"kind": "pause_requested", "reason": "second pause", "context_json": null, "step_key": null}`,
		`{"kind": "resume_requested", "human_input_json": null}`,
	}
	events, err := store.Events(tctx, "pause_run", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, string(ledger.ColumnForm.Encode(e.Payload)))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("pause_run payloads (-want +got):\n%s", d)
	}
	if len(events) > 1 && events[1].ID != ticket.TicketID {
		t.Errorf("ticket id %q, the pause_requested event's id is %q", ticket.TicketID, events[1].ID)
	}

	// Errors: unknown run, other tenant, bad JSON; nothing is logged.
	_, err = k.Pause(tctx, Run{ID: "nope", Tenant: tenant}, PauseStep{Reason: "r"})
	wantKind(t, err, ErrRunNotFound)
	_, err = k.Resume(tctx, Run{ID: "nope", Tenant: tenant}, nil)
	wantKind(t, err, ErrRunNotFound)
	_, err = k.Pause(tctx, Run{ID: "pause_run", Tenant: Tenant{ID: "x"}}, PauseStep{Reason: "r"})
	wantKind(t, err, ledger.ErrTenantMismatch)
	_, err = k.Pause(tctx, run, PauseStep{Reason: "r", Context: json.RawMessage(`{`)})
	wantKind(t, err, ErrInvalidInput)
	_, err = k.Resume(tctx, run, make(chan int))
	wantKind(t, err, ErrInvalidInput)
	if n := len(eventTypes(t, store, "pause_run")); n != 5 {
		t.Fatalf("%d events after refused calls, want 5", n)
	}
	var pe error = &PausedError{Ticket: ticket}
	if !errors.Is(pe, ErrPaused) || !strings.Contains(pe.Error(), "call Resume") {
		t.Fatal(pe)
	}
}
