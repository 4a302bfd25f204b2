package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeModel is a scripted Model: CompleteFn answers each request.
type fakeModel struct {
	CompleteFn func(ctx context.Context, req llm.Request) (llm.Response, error)
	calls      atomic.Int64
	last       llm.Request
}

func (m *fakeModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	m.calls.Add(1)
	m.last = req
	return m.CompleteFn(ctx, req)
}

// replyWith returns a fake model that always answers output.
func replyWith(output string, calls ...ledger.ToolCall) *fakeModel {
	return &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: output, ToolCalls: calls,
			Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}}, nil
	}}
}

type Decision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

type TransferArgs struct {
	AccountID string `json:"account_id"`
	Amount    string `json:"amount"`
}

var (
	tctx       = context.Background()
	liveTenant = Tenant{ID: "org_live", Capabilities: []string{"decision:approve", "finance:write"}, BudgetUSD: 0.2}
)

func newTestKernel(t testing.TB, m llm.Model, opts ...Option) (*Kernel, *ledger.MemStore) {
	t.Helper()
	store := ledger.NewMemStore(ledger.WithEventClock(steppingClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Millisecond)),
		ledger.WithEventIDs(sequentialIDs()))
	k := New(store, m, opts...)
	t.Cleanup(func() { _ = k.Close() })
	return k, store
}

// storedEvents returns the events of run runID in s.
func storedEvents(t testing.TB, s ledger.Store, runID string) []ledger.Event {
	t.Helper()
	events, err := s.Events(tctx, runID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func eventTypes(t testing.TB, s ledger.Store, runID string) []ledger.EventType {
	t.Helper()
	events := storedEvents(t, s, runID)
	types := make([]ledger.EventType, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	return types
}

func mustStart(t testing.TB, k *Kernel, tenant Tenant, id string) Run {
	t.Helper()
	run, err := k.StartRun(tctx, tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func wantKind(t *testing.T, err error, kinds ...error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kinds)
	}
	for _, k := range kinds {
		if !errors.Is(err, k) {
			t.Fatalf("error %q does not match %v", err, k)
		}
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is not an *Error", err)
	}
	return e
}

func registerTransfer(t testing.TB, k *Kernel, fn ToolFunc[TransferArgs, json.RawMessage]) {
	t.Helper()
	if err := RegisterTool(k.Tools(), "submit_transfer", fn, WithCapability("finance:write"),
		WithDescription("Submit a transfer.")); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenFlow is the seed's examples/golden_example.py with a fake model.
func TestGoldenFlow(t *testing.T) {
	model := replyWith(`{"approved":true,"reason":"Balance check passed."}`)
	k, store := newTestKernel(t, model)
	g := &goldenFlow{k: k, store: store,
		tool: ToolStep{Tool: "submit_transfer", Args: TransferArgs{"acc_1", "10.00"}, StepKey: "transfer.acc_1.10.v1"}}
	registerTransfer(t, k, func(ctx context.Context, a TransferArgs) (json.RawMessage, error) {
		g.attempts++
		if g.attempts == 1 {
			return nil, errors.New("simulated network drop after request submission")
		}
		return json.RawMessage(`{"status":"submitted","account_id":"` + a.AccountID + `","amount":"` + a.Amount + `"}`), nil
	})

	g.run = mustStart(t, k, liveTenant, "")
	if len(g.run.ID) != 32 {
		t.Fatalf("kernel-issued run id %q is not 32 hex digits", g.run.ID)
	}
	g.modelSteps(t, model)
	g.unknownOutcome(t)
	g.reconcile(t)
	want := []ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested, ledger.EventModelCompleted, ledger.EventToolRequested,
		ledger.EventToolCompleted, ledger.EventToolCompleted}
	if d := cmp.Diff(want, eventTypes(t, store, g.run.ID)); d != "" {
		t.Fatalf("events, want no duplicates (-want +got):\n%s", d)
	}
	if err := ledger.VerifyChain(storedEvents(t, store, g.run.ID)); err != nil {
		t.Fatal(err)
	}
}

// goldenFlow is the state of TestGoldenFlow: the kernel, its store and
// run, the transfer step and the transfer tool's attempts so far.
type goldenFlow struct {
	k        *Kernel
	store    *ledger.MemStore
	run      Run
	tool     ToolStep
	attempts int
}

// modelSteps checks features 3 and 4: a live model call, then its
// deterministic replay.
func (g *goldenFlow) modelSteps(t *testing.T, model *fakeModel) {
	t.Helper()
	step := ModelStep{Model: "gpt-4o-mini", Prompt: "Approve this request and give a short reason.", StepKey: "decision.v1"}
	first, err := StepModel[Decision](tctx, g.k, g.run, step)
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := first // only the output, the seq and FromLog are checked here
	wantFirst.FromLog, wantFirst.Output, wantFirst.Seq = false, Decision{true, "Balance check passed."}, 3
	if d := cmp.Diff(wantFirst, first); d != "" {
		t.Fatalf("live step (-want +got):\n%s", d)
	}
	afterFirst := eventTypes(t, g.store, g.run.ID)

	second, err := StepModel[Decision](tctx, g.k, g.run, step)
	if err != nil {
		t.Fatal(err)
	}
	wantSecond := first
	wantSecond.FromLog = true
	if d := cmp.Diff(wantSecond, second); d != "" {
		t.Fatalf("replayed step: want the live result from the log (-want +got):\n%s", d)
	}
	if n := model.calls.Load(); n != 1 {
		t.Fatalf("the replay called the model: %d calls", n)
	}
	if d := cmp.Diff(afterFirst, eventTypes(t, g.store, g.run.ID)); d != "" {
		t.Fatalf("replay appended events (-before +after):\n%s", d)
	}
}

// unknownOutcome checks feature 5: the tool fails once with an unknown
// outcome, logged with its idempotency key.
func (g *goldenFlow) unknownOutcome(t *testing.T) {
	t.Helper()
	_, err := g.k.StepTool(tctx, g.run, g.tool)
	e := wantKind(t, err, ErrUnknownOutcome, ErrToolFailed)
	wantE := *e // Op, Kind, Msg and Err are checked through err's text
	wantE.RunID, wantE.Seq, wantE.Tool, wantE.Outcome = g.run.ID, 5, "submit_transfer", ledger.OutcomeUnknown
	if d := cmp.Diff(wantE, *e, cmpopts.EquateErrors()); d != "" {
		t.Fatalf("unknown outcome error (-want +got):\n%s", d)
	}
	if !strings.Contains(err.Error(), "simulated network drop") {
		t.Fatalf("unknown outcome error %q does not name the cause", err)
	}
	events := storedEvents(t, g.store, g.run.ID)
	key := g.key()
	wantTool := []ledger.Payload{
		&ledger.ToolRequested{ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"acc_1","amount":"10.00"}`, IdempotencyKey: key,
			ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion, StepKey: new("transfer.acc_1.10.v1")},
		&ledger.ToolCompleted{ToolName: "submit_transfer", Outcome: ledger.OutcomeUnknown, ReceivedIdempotencyKey: &key,
			RequestID: &events[3].ID, ErrorMessage: new("simulated network drop after request submission")},
	}
	if d := cmp.Diff(wantTool, []ledger.Payload{events[3].Payload, events[4].Payload}); d != "" {
		t.Fatalf("tool events (-want +got):\n%s", d)
	}
}

// key is the transfer step's idempotency key.
func (g *goldenFlow) key() string { return idempotencyKey(g.run.ID, "transfer.acc_1.10.v1", 0) }

// reconcile checks features 6 to 8: the step halts without running the
// tool again, ReconcileTool runs it with the same idempotency key, and the
// step (and a second reconcile) then answers the reconciled result from
// the log.
func (g *goldenFlow) reconcile(t *testing.T) {
	t.Helper()
	before := len(eventTypes(t, g.store, g.run.ID))
	_, err := g.k.StepTool(tctx, g.run, g.tool)
	wantKind(t, err, ErrUnknownOutcome)
	if g.attempts != 1 || len(eventTypes(t, g.store, g.run.ID)) != before {
		t.Fatalf("halted replay ran the tool (%d attempts) or appended events", g.attempts)
	}

	rec, err := g.k.ReconcileTool(tctx, g.run, g.tool)
	if err != nil {
		t.Fatal(err)
	}
	wantRec := ToolResult{RunID: g.run.ID, Seq: int64(before) + 1, Tool: "submit_transfer",
		ResultJSON: `{"status":"submitted","account_id":"acc_1","amount":"10.00"}`, IdempotencyKey: g.key()}
	if d := cmp.Diff(wantRec, rec); d != "" {
		t.Fatalf("reconcile (-want +got):\n%s", d)
	}
	if got := len(eventTypes(t, g.store, g.run.ID)); g.attempts != 2 || got != before+1 {
		t.Fatalf("reconcile: %d attempts (want 2), %d events (want %d)", g.attempts, got, before+1)
	}

	replayed, err := g.k.StepTool(tctx, g.run, g.tool)
	if err != nil {
		t.Fatal(err)
	}
	wantReplayed := rec
	wantReplayed.FromLog = true
	if d := cmp.Diff(wantReplayed, replayed); d != "" || g.attempts != 2 {
		t.Fatalf("post-reconcile replay, %d attempts (-reconciled, from the log +replayed):\n%s", g.attempts, d)
	}
	again, err := g.k.ReconcileTool(tctx, g.run, g.tool)
	if err != nil {
		t.Fatalf("second reconcile: %v", err)
	}
	if d := cmp.Diff(wantReplayed, again); d != "" || g.attempts != 2 {
		t.Fatalf("second reconcile, %d attempts (-reconciled, from the log +again):\n%s", g.attempts, d)
	}
}

func TestStartRun(t *testing.T) {
	k, _ := newTestKernel(t, nil, WithRunIDs(sequentialIDs()))
	run := mustStart(t, k, liveTenant, "")
	if d := cmp.Diff(Run{ID: "00000000000000000000000000000001", Tenant: liveTenant}, run); d != "" {
		t.Fatalf("run (-want +got):\n%s", d)
	}
	mustStart(t, k, liveTenant, "mine")
	_, err := k.StartRun(tctx, liveTenant, "mine")
	if e := wantKind(t, err, ledger.ErrRunExists); e.RunID != "mine" {
		t.Fatalf("error %+v", e)
	}
	_, err = k.StartRun(tctx, Tenant{}, "x")
	wantKind(t, err, ErrInvalidInput)

	// An id source that only repeats used ids gives up.
	k2 := New(k.Store(), nil, WithRunIDs(func() string { return "mine" }))
	_, err = k2.StartRun(tctx, liveTenant, "")
	wantKind(t, err, ledger.ErrRunExists)
}

func TestLoadRun(t *testing.T) {
	k, _ := newTestKernel(t, nil)
	_, err := k.LoadRun(tctx, liveTenant, "nope")
	wantKind(t, err, ErrRunNotFound)
	_, err = k.LoadRun(tctx, liveTenant, "")
	wantKind(t, err, ErrInvalidInput)
	mustStart(t, k, liveTenant, "r1")
	run, err := k.LoadRun(tctx, liveTenant, "r1")
	if err != nil || run.ID != "r1" {
		t.Fatal(run, err)
	}
	_, err = k.LoadRun(tctx, Tenant{ID: "other"}, "r1")
	wantKind(t, err, ledger.ErrTenantMismatch)

	// LoadOrStartRun starts a missing run and loads an existing one.
	for range 2 {
		if _, err := k.LoadOrStartRun(tctx, liveTenant, "r2"); err != nil {
			t.Fatal(err)
		}
	}
	if got := eventTypes(t, k.Store(), "r2"); len(got) != 1 {
		t.Fatalf("LoadOrStartRun twice: %v", got)
	}
	// Unknown runs leave no index behind.
	k.mu.Lock()
	_, kept := k.runs["nope"]
	k.mu.Unlock()
	if kept {
		t.Fatal("index kept for a run that does not exist")
	}
}

func TestStepsCheckTenantAndRun(t *testing.T) {
	k, _ := newTestKernel(t, replyWith(`{"approved":true,"reason":"ok"}`))
	registerTransfer(t, k, func(context.Context, TransferArgs) (json.RawMessage, error) { return json.RawMessage(`{}`), nil })
	mustStart(t, k, liveTenant, "r1")
	intruder := Run{ID: "r1", Tenant: Tenant{ID: "org_other", Capabilities: liveTenant.Capabilities}}
	_, err := StepModel[Decision](tctx, k, intruder, ModelStep{Model: "m", Prompt: "p"})
	wantKind(t, err, ledger.ErrTenantMismatch)
	_, err = k.StepTool(tctx, intruder, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"a", "1"}})
	wantKind(t, err, ledger.ErrTenantMismatch)
	_, err = k.ReconcileTool(tctx, intruder, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"a", "1"}})
	wantKind(t, err, ledger.ErrTenantMismatch)
	ghost := Run{ID: "ghost", Tenant: liveTenant}
	_, err = StepModel[Decision](tctx, k, ghost, ModelStep{Model: "m", Prompt: "p"})
	wantKind(t, err, ErrRunNotFound)
	_, err = k.StepTool(tctx, ghost, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"a", "1"}})
	wantKind(t, err, ErrRunNotFound)
}

func TestStepModelRequest(t *testing.T) {
	model := replyWith(`{"approved":false,"reason":"no"}`, ledger.ToolCall{ID: "c1", ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"a","amount":"1"}`})
	k, store := newTestKernel(t, model)
	registerTransfer(t, k, func(context.Context, TransferArgs) (json.RawMessage, error) { return nil, nil })
	if err := RegisterTool(k.Tools(), "lookup", func(context.Context, struct {
		Q string `json:"q" jsonschema:"the query"`
	}) (string, error) {
		return "", nil
	}); err != nil {
		t.Fatal(err)
	}
	run := mustStart(t, k, liveTenant, "r1")
	opts := llm.Options{Temperature: new(0.0)}
	res, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt", Prompt: "hello", StepKey: "s1", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	req := model.last
	wantReq := llm.Request{RunID: "r1", Model: "gpt", Prompt: "hello", Messages: []ledger.ChatMessage{{Role: "user", Content: "hello"}},
		OutputName: "Decision", Options: opts, StepKey: "s1",
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"approved":{"type":"boolean"},"reason":{"type":"string"}},"required":["approved","reason"],"additionalProperties":false}`),
		Tools: []llm.ToolDefinition{
			{Name: "submit_transfer", Description: "Submit a transfer.", Schema: req.Tools[0].Schema},
			{Name: "lookup", Schema: req.Tools[1].Schema},
		},
	}
	if d := cmp.Diff(wantReq, req, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("request (-want +got):\n%s", d)
	}
	if !strings.Contains(string(req.Tools[1].Schema), `"description":"the query"`) {
		t.Fatalf("lookup's schema %s lacks its field's description", req.Tools[1].Schema)
	}
	calls := []ledger.ToolCall{{ID: "c1", ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"a","amount":"1"}`}}
	wantRes := ModelResult[Decision]{RunID: "r1", Seq: 3, Output: Decision{false, "no"}, OutputJSON: `{"approved":false,"reason":"no"}`,
		Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}, ToolCalls: calls}
	if d := cmp.Diff(wantRes, res); d != "" {
		t.Fatalf("result (-want +got):\n%s", d)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	mr, mc := events[1].Payload.(*ledger.ModelRequested), events[2].Payload.(*ledger.ModelCompleted)
	wantMR := *mr // the messages and options are checked in the request above
	wantMR.Model, wantMR.Prompt, wantMR.AllowedTools, wantMR.StepKey = "gpt", "hello", []string{"submit_transfer", "lookup"}, new("s1")
	wantMC := ledger.ModelCompleted{Model: "gpt", OutputJSON: `{"approved":false,"reason":"no"}`, PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01, ToolCalls: calls}
	if d := cmp.Diff([]ledger.Payload{&wantMR, &wantMC}, []ledger.Payload{mr, mc}); d != "" {
		t.Fatalf("logged (-want +got):\n%s", d)
	}
	// The replayed tool calls carry what the log holds.
	again, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "gpt", Prompt: "hello", StepKey: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	wantRes.FromLog = true
	if d := cmp.Diff(wantRes, again); d != "" {
		t.Fatalf("replay (-want +got):\n%s", d)
	}
}

func TestStepModelInputs(t *testing.T) {
	model := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, model)
	run := mustStart(t, k, liveTenant, "r1")
	for _, tc := range []struct {
		name       string
		step       ModelStep
		wantPrompt string
	}{
		{"messages derive the prompt from the last user message",
			ModelStep{Model: "m", Messages: []ledger.ChatMessage{{Role: "system", Content: "be brief"}, {Role: "user", Content: "q1"}, {Role: "assistant", Content: "a1"}, {Role: "user", Content: "q2"}}}, "q2"},
		{"messages without a user message join into the prompt",
			ModelStep{Model: "m", Messages: []ledger.ChatMessage{{Role: "system", Content: "be brief"}, {Role: "assistant", Content: "a1"}}}, "system: be brief\nassistant: a1"},
		{"prompt and messages both kept",
			ModelStep{Model: "m", Prompt: "logged", Messages: []ledger.ChatMessage{{Role: "user", Content: "sent"}}}, "logged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := StepModel[Decision](tctx, k, run, tc.step)
			if err != nil || res.FromLog {
				t.Fatal(res, err)
			}
			events, err := store.Events(tctx, run.ID, res.Seq-2)
			if err != nil {
				t.Fatal(err)
			}
			type prompts struct{ Logged, Sent string }
			got := prompts{events[0].Payload.(*ledger.ModelRequested).Prompt, model.last.Prompt}
			if d := cmp.Diff(prompts{tc.wantPrompt, tc.wantPrompt}, got); d != "" {
				t.Fatalf("prompt (-want +got):\n%s", d)
			}
		})
	}
	for _, bad := range []ModelStep{{Prompt: "p"}, {Model: "m"}} {
		_, err := StepModel[Decision](tctx, k, run, bad)
		wantKind(t, err, ErrInvalidInput)
	}
	// Unsupported output types fail before anything happens.
	_, err := StepModel[chan int](tctx, k, run, ModelStep{Model: "m", Prompt: "p"})
	wantKind(t, err, ErrInvalidInput)
}

// Model steps match on model, prompt, messages and step key.
func TestModelReplayMatching(t *testing.T) {
	model := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, model)
	run := mustStart(t, k, liveTenant, "r1")
	base := ModelStep{Model: "m", Prompt: "p", Messages: []ledger.ChatMessage{{Role: "user", Content: "p"}}, StepKey: "k"}
	variants := []ModelStep{
		base,
		{Model: "m2", Prompt: "p", Messages: base.Messages, StepKey: "k"},
		{Model: "m", Prompt: "p2", Messages: base.Messages, StepKey: "k"},
		{Model: "m", Prompt: "p", Messages: []ledger.ChatMessage{{Role: "user", Content: "other"}}, StepKey: "k"},
		{Model: "m", Prompt: "p", Messages: base.Messages, StepKey: "k2"},
		{Model: "m", Prompt: "p", Messages: base.Messages},
	}
	for i, v := range variants {
		res, err := StepModel[Decision](tctx, k, run, v)
		if err != nil || res.FromLog {
			t.Fatalf("variant %d: %+v %v, want a live step", i, res, err)
		}
	}
	n := len(eventTypes(t, store, run.ID))
	for i, v := range variants {
		v.Options.Seed = new(int64(7)) // sampling options are not matched
		res, err := StepModel[Decision](tctx, k, run, v)
		if err != nil || !res.FromLog {
			t.Fatalf("variant %d again: %+v %v, want a replay", i, res, err)
		}
	}
	if got := len(eventTypes(t, store, run.ID)); got != n || model.calls.Load() != int64(len(variants)) {
		t.Fatalf("replays appended events (%d -> %d) or called the model (%d)", n, got, model.calls.Load())
	}
}

func TestModelReplayChangedToolsIsMismatch(t *testing.T) {
	k, _ := newTestKernel(t, replyWith(`{"approved":true,"reason":"ok"}`))
	run := mustStart(t, k, liveTenant, "r1")
	step := ModelStep{Model: "m", Prompt: "p", StepKey: "k"}
	if _, err := StepModel[Decision](tctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	registerTransfer(t, k, func(context.Context, TransferArgs) (json.RawMessage, error) { return nil, nil })
	_, err := StepModel[Decision](tctx, k, run, step)
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 2 || !strings.Contains(err.Error(), `now ["submit_transfer"]`) {
		t.Fatalf("error %v", err)
	}
	// A tenant without the capability is not offered the new tool, so the
	// same request replays for it.
	k2 := New(k.Store(), nil, WithTools(k.Tools()))
	poor := Tenant{ID: liveTenant.ID}
	res, err := StepModel[Decision](tctx, k2, Run{ID: run.ID, Tenant: poor}, step)
	if err != nil || !res.FromLog {
		t.Fatal(res, err)
	}
}

func TestStrictOutputDecoding(t *testing.T) {
	for _, tc := range []struct{ name, output, want string }{
		{"unknown field", `{"approved":true,"reason":"ok","extra":1}`, "extra"},
		{"missing field", `{"approved":true}`, "reason"},
		{"wrong type", `{"approved":"yes","reason":"ok"}`, "approved"},
		{"not JSON", `Sure! {"approved":true}`, "not a JSON document"},
		{"trailing data", `{"approved":true,"reason":"ok"} {}`, "not a JSON document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			model := replyWith(tc.output)
			k, store := newTestKernel(t, model)
			run := mustStart(t, k, liveTenant, "r1")
			step := ModelStep{Model: "m", Prompt: "p"}
			_, err := StepModel[Decision](tctx, k, run, step)
			wantKind(t, err, ErrInvalidOutput)
			var oe *OutputError
			if !errors.As(err, &oe) || oe.Raw != tc.output || !strings.Contains(oe.Err.Error(), tc.want) {
				t.Fatalf("error %v: want an *OutputError keeping the raw output and naming %q", err, tc.want)
			}
			// Nothing is completed; the next step calls the model again
			// without logging a second request.
			model.CompleteFn = replyWith(`{"approved":true,"reason":"ok"}`).CompleteFn
			res, err := StepModel[Decision](tctx, k, run, step)
			if err != nil || res.FromLog || model.calls.Load() != 2 {
				t.Fatal(res, err)
			}
			want := []ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested, ledger.EventModelCompleted}
			if got := eventTypes(t, store, run.ID); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("events %v, want %v", got, want)
			}
		})
	}
}

func TestReplayedOutputMustFitType(t *testing.T) {
	k, _ := newTestKernel(t, replyWith(`{"approved":true,"reason":"ok"}`))
	run := mustStart(t, k, liveTenant, "r1")
	step := ModelStep{Model: "m", Prompt: "p"}
	if _, err := StepModel[Decision](tctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	type Other struct {
		Score int `json:"score"`
	}
	_, err := StepModel[Other](tctx, k, run, step)
	if e := wantKind(t, err, ErrReplayMismatch, ErrInvalidOutput); e.Seq != 3 {
		t.Fatalf("error %v", err)
	}
}

func TestModelErrors(t *testing.T) {
	model := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{}, &llm.Error{Class: llm.ClassTransient, StatusCode: 429, Message: "slow down"}
	}}
	k, store := newTestKernel(t, model)
	run := mustStart(t, k, liveTenant, "r1")
	_, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p"})
	wantKind(t, err, llm.ErrTransient)
	if got := eventTypes(t, store, run.ID); len(got) != 2 {
		t.Fatalf("events %v: want the request logged and no completion", got)
	}
	// Negative cost is refused by the log; nothing is completed.
	model.CompleteFn = func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `{"approved":true,"reason":"ok"}`, Usage: llm.Usage{CostUSD: -1}}, nil
	}
	_, err = StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p"})
	wantKind(t, err, ledger.ErrInvalidPayload)
	// A kernel without a model can only replay.
	k2 := New(store, nil)
	_, err = StepModel[Decision](tctx, k2, run, ModelStep{Model: "m", Prompt: "new"})
	wantKind(t, err, ErrReplayMismatch)
}

type recordingMiddleware struct {
	log     *[]string
	prepare func(ModelCall) (ModelCall, error)
	before  error
}

func (m recordingMiddleware) PrepareModel(_ context.Context, inv ModelCall) (ModelCall, error) {
	*m.log = append(*m.log, fmt.Sprintf("prepare spent=%v tools=%d", inv.SpentUSD, len(inv.Tools)))
	if m.prepare != nil {
		return m.prepare(inv)
	}
	return inv, nil
}

func (m recordingMiddleware) BeforeModel(context.Context, ModelCall) error {
	*m.log = append(*m.log, "before")
	return m.before
}

func (m recordingMiddleware) AfterModel(_ context.Context, inv ModelCall, u llm.Usage) error {
	*m.log = append(*m.log, fmt.Sprintf("after cost=%v", u.CostUSD))
	return nil
}

func TestMiddleware(t *testing.T) {
	var log []string
	redact := recordingMiddleware{log: &log, prepare: func(inv ModelCall) (ModelCall, error) {
		inv.Prompt = strings.ReplaceAll(inv.Prompt, "user@example.com", "[REDACTED_EMAIL]")
		for i := range inv.Messages {
			inv.Messages[i].Content = strings.ReplaceAll(inv.Messages[i].Content, "user@example.com", "[REDACTED_EMAIL]")
		}
		return inv, nil
	}}
	model := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, model, WithMiddleware(redact))
	run := mustStart(t, k, liveTenant, "r1")
	step := ModelStep{Model: "m", Prompt: "Mail user@example.com"}
	for range 2 {
		if _, err := StepModel[Decision](tctx, k, run, step); err != nil {
			t.Fatal(err)
		}
	}
	want := "prepare spent=0 tools=0|before|after cost=0.01|prepare spent=0.01 tools=0"
	if got := strings.Join(log, "|"); got != want {
		t.Fatalf("hooks ran %s, want %s", got, want)
	}
	events, err := store.Events(tctx, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	type prompts struct{ Logged, Sent string }
	got := prompts{events[1].Payload.(*ledger.ModelRequested).Prompt, model.last.Messages[0].Content}
	if d := cmp.Diff(prompts{"Mail [REDACTED_EMAIL]", "Mail [REDACTED_EMAIL]"}, got); d != "" {
		t.Fatalf("the scrubbed prompt (-want +got):\n%s", d)
	}
	// A refusing BeforeModel stops the call.
	stop := errors.New("budget exhausted")
	k2 := New(store, model, WithMiddleware(recordingMiddleware{log: &log, before: stop}))
	_, err = StepModel[Decision](tctx, k2, run, ModelStep{Model: "m", Prompt: "new"})
	if !errors.Is(err, stop) || model.calls.Load() != 1 {
		t.Fatalf("err %v, model calls %d", err, model.calls.Load())
	}
	// A middleware that offers a tool the tenant may not use is overruled.
	registerTransfer(t, k, func(context.Context, TransferArgs) (json.RawMessage, error) { return nil, nil })
	poor := Tenant{ID: liveTenant.ID}
	_, err = StepModel[Decision](tctx, k, Run{ID: run.ID, Tenant: poor}, ModelStep{Model: "m", Prompt: "scoped"})
	if err != nil || len(model.last.Tools) != 0 {
		t.Fatalf("tools offered to a tenant without the capability: %+v, %v", model.last.Tools, err)
	}
}

func TestTwoKernelsShareAStore(t *testing.T) {
	model := replyWith(`{"approved":true,"reason":"ok"}`)
	k1, store := newTestKernel(t, model)
	k2 := New(store, model)
	run := mustStart(t, k1, liveTenant, "r1")
	if _, err := StepModel[Decision](tctx, k2, run, ModelStep{Model: "m", Prompt: "a"}); err != nil {
		t.Fatal(err)
	}
	// k1 indexed the run before k2's step, and must see it now.
	res, err := StepModel[Decision](tctx, k1, run, ModelStep{Model: "m", Prompt: "a"})
	if err != nil || !res.FromLog {
		t.Fatalf("k1 did not see k2's step: %+v %v", res, err)
	}
	// Interleaved appends: k1's index catches up when its own append does
	// not follow the last event it saw.
	if _, err := StepModel[Decision](tctx, k1, run, ModelStep{Model: "m", Prompt: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := StepModel[Decision](tctx, k2, run, ModelStep{Model: "m", Prompt: "c"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c"} {
		for _, k := range []*Kernel{k1, k2} {
			res, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: p})
			if err != nil || !res.FromLog {
				t.Fatalf("prompt %s: %+v %v", p, res, err)
			}
		}
	}
	if model.calls.Load() != 3 {
		t.Fatalf("model called %d times, want 3", model.calls.Load())
	}
	if _, err := k2.StartRun(tctx, liveTenant, "r1"); !errors.Is(err, ledger.ErrRunExists) {
		t.Fatalf("k2 started a run k1 created: %v", err)
	}
}

func TestMixedTenantRunIsCorrupt(t *testing.T) {
	store := &sliceStore{}
	store.events = sealChain(
		ledger.Event{ID: "1", RunID: "r", TenantID: "a", Seq: 1, Type: ledger.EventRunStarted, Payload: &ledger.RunStarted{}},
		ledger.Event{ID: "2", RunID: "r", TenantID: "b", Seq: 2, Type: ledger.EventRunStarted, Payload: &ledger.RunStarted{}},
	)
	k := New(store, nil)
	_, err := k.LoadRun(tctx, Tenant{ID: "a"}, "r")
	if e := wantKind(t, err, ErrReplayMismatch); e.Seq != 2 {
		t.Fatalf("error %v", err)
	}
}

func TestClose(t *testing.T) {
	k, _ := newTestKernel(t, nil)
	run := mustStart(t, k, liveTenant, "r1")
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := k.LoadRun(tctx, liveTenant, run.ID)
	wantKind(t, err, ledger.ErrClosed)
}

// sealChain sets the previous hash and hash of events built by hand, run by
// run in order, so that a test log passes the kernel's chain check.
func sealChain(events ...ledger.Event) []ledger.Event {
	last := map[string]string{}
	for i := range events {
		e := &events[i]
		e.PrevHash = last[e.RunID]
		e.Hash = e.ComputeHash()
		last[e.RunID] = e.Hash
	}
	return events
}

// sliceStore is a Store holding events as given, so tests can load logs
// written elsewhere (the Python original) or broken on purpose.
type sliceStore struct {
	events []ledger.Event
	opts   ledger.StoreOptions
	closed bool
}

func (s *sliceStore) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	if s.opts.Now == nil {
		s.opts = ledger.NewStoreOptions()
	}
	var last *ledger.Event
	for i := range s.events {
		if s.events[i].RunID == runID {
			last = &s.events[i]
		}
	}
	e, err := s.opts.NextEvent(last, runID, tenantID, p)
	if err != nil {
		return ledger.Event{}, err
	}
	s.events = append(s.events, e)
	return e, nil
}

func (s *sliceStore) Events(ctx context.Context, runID string, afterSeq int64) ([]ledger.Event, error) {
	var out []ledger.Event
	for _, e := range s.events {
		if e.RunID == runID && e.Seq > afterSeq {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *sliceStore) Runs(ctx context.Context) ([]ledger.RunInfo, error) { return nil, nil }
func (s *sliceStore) Close() error                                       { s.closed = true; return nil }
