package artana

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// tracingMiddleware records what it sees, under its name.
type tracingMiddleware struct {
	name string
	log  *[]string
}

func (m tracingMiddleware) PrepareModel(_ context.Context, inv ModelCall) (ModelCall, error) {
	tools := make([]string, len(inv.Tools))
	for i, d := range inv.Tools {
		tools[i] = d.Name
	}
	*m.log = append(*m.log, m.name+" prepare "+inv.Prompt+" "+strings.Join(tools, ","))
	return inv, nil
}

func (m tracingMiddleware) BeforeModel(context.Context, ModelCall) error {
	*m.log = append(*m.log, m.name+" before")
	return nil
}

func (m tracingMiddleware) AfterModel(_ context.Context, _ ModelCall, u llm.Usage) error {
	*m.log = append(*m.log, m.name+" after")
	return nil
}

func middlewareNames(m []Middleware) []string {
	names := make([]string, len(m))
	for i, mw := range m {
		names[i] = reflect.TypeOf(mw).String()
		if t, ok := mw.(tracingMiddleware); ok {
			names[i] = t.name
		}
	}
	return names
}

func TestWithMiddlewareRefusesNoHook(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "struct {} implements none of") {
			t.Fatalf("WithMiddleware(struct{}{}) panicked with %v, want a panic naming the type", r)
		}
	}()
	WithMiddleware(struct{}{})
}

func TestOrderMiddleware(t *testing.T) {
	var log []string
	a, b := tracingMiddleware{"a", &log}, tracingMiddleware{"b", &log}
	given := []Middleware{a, &CapabilityGuard{}, Quota{}, b, PIIScrubber{}}
	got := middlewareNames(orderMiddleware(given))
	want := []string{"artana.PIIScrubber", "artana.Quota", "*artana.CapabilityGuard", "a", "b"}
	if !slices.Equal(got, want) {
		t.Fatalf("orderMiddleware = %v, want %v", got, want)
	}
	if middlewareNames(given)[0] != "a" {
		t.Fatal("orderMiddleware modified its argument")
	}
	if got := middlewareNames(DefaultMiddleware()); !slices.Equal(got, []string{"artana.PIIScrubber", "artana.Quota", "artana.CapabilityGuard"}) {
		t.Fatalf("DefaultMiddleware = %v", got)
	}
}

// A middleware given before the scrubber still runs after it, and every
// hook runs in chain order.
func TestMiddlewareRunOrder(t *testing.T) {
	var log []string
	k, _ := newTestKernel(t, replyWith(`{"approved":true,"reason":"ok"}`),
		WithMiddleware(tracingMiddleware{"first", &log}, CapabilityGuard{}, PIIScrubber{}, tracingMiddleware{"second", &log}))
	run := mustStart(t, k, liveTenant, "r")
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "mail a@b.com"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"first prepare mail [REDACTED_EMAIL] ", "second prepare mail [REDACTED_EMAIL] ",
		"first before", "second before", "first after", "second after"}
	if !slices.Equal(log, want) {
		t.Fatalf("hooks ran as\n%q\nwant\n%q", log, want)
	}
}

// The scrubbed text is what model_requested logs and what the model gets.
func TestPIIScrubberLogsAndSendsScrubbedText(t *testing.T) {
	m := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, m, WithMiddleware(PIIScrubber{}))
	run := mustStart(t, k, liveTenant, "r")
	step := ModelStep{Model: "m", Messages: []ledger.ChatMessage{
		{Role: "system", Content: "Support desk. Escalate to boss@corp.example.org."},
		{Role: "user", Content: "I am jane@example.com, call 555-123-4567, SSN 123-45-6789"},
	}}
	if _, err := StepModel[Decision](tctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	wantPrompt := "I am [REDACTED_EMAIL], call [REDACTED_PHONE], SSN [REDACTED_SSN]"
	wantMessages := []ledger.ChatMessage{
		{Role: "system", Content: "Support desk. Escalate to [REDACTED_EMAIL]."},
		{Role: "user", Content: wantPrompt},
	}
	if m.last.Prompt != wantPrompt || !equalMessages(m.last.Messages, wantMessages) {
		t.Fatalf("model received prompt %q messages %q", m.last.Prompt, m.last.Messages)
	}
	events, err := store.Events(tctx, "r", 0)
	if err != nil {
		t.Fatal(err)
	}
	req := events[1].Payload.(*ledger.ModelRequested)
	if req.Prompt != wantPrompt || !equalMessages(req.Messages, wantMessages) {
		t.Fatalf("model_requested logged prompt %q messages %q", req.Prompt, req.Messages)
	}
	for _, e := range events {
		if s := string(ledger.ColumnForm.Encode(e.Payload)); strings.Contains(s, "jane@") || strings.Contains(s, "4567") {
			t.Fatalf("seq %d logs personal data: %s", e.Seq, s)
		}
	}
	// The same raw step replays: it is scrubbed the same way before matching.
	res, err := StepModel[Decision](tctx, k, run, step)
	if err != nil || !res.FromLog || m.calls.Load() != 1 {
		t.Fatalf("replay: %+v, %v, %d model calls", res, err, m.calls.Load())
	}
}

func quotaModel(cost float64) *fakeModel {
	return &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `{"approved":true,"reason":"ok"}`, Usage: llm.Usage{CostUSD: cost}}, nil
	}}
}

func quotaStep(i int) ModelStep {
	return ModelStep{Model: "m", Prompt: "p", StepKey: "s" + string(rune('0'+i))}
}

// With a budget of four calls, the fifth is refused before the model is
// called, also by a fresh kernel on the same store: what was spent is
// read from the run's model_completed events.
func TestQuotaRefusesAfterRestart(t *testing.T) {
	tenant := Tenant{ID: "org", BudgetUSD: 1}
	m := quotaModel(0.25)
	k1, store := newTestKernel(t, m, WithMiddleware(Quota{}))
	run := mustStart(t, k1, tenant, "r")
	for i := range 2 {
		if _, err := StepModel[Decision](tctx, k1, run, quotaStep(i)); err != nil {
			t.Fatal(i, err)
		}
	}
	k2 := New(store, m, WithMiddleware(Quota{}))
	for i := 2; i < 4; i++ {
		if _, err := StepModel[Decision](tctx, k2, run, quotaStep(i)); err != nil {
			t.Fatal(i, err)
		}
	}
	k3 := New(store, m, WithMiddleware(Quota{}))
	_, err := StepModel[Decision](tctx, k3, run, quotaStep(4))
	e := wantKind(t, err, ErrBudgetExceeded)
	if !strings.Contains(e.Error(), "limit=1.000000, spent=1.000000") || e.RunID != "r" {
		t.Fatalf("error %q", e)
	}
	if m.calls.Load() != 4 {
		t.Fatalf("model called %d times, want 4", m.calls.Load())
	}
	// Steps already paid for still replay.
	if res, err := StepModel[Decision](tctx, k3, run, quotaStep(1)); err != nil || !res.FromLog {
		t.Fatalf("replay after exhaustion: %+v %v", res, err)
	}
}

// A call that takes the run over its budget fails after it is logged.
func TestQuotaFailsAfterExceedingCall(t *testing.T) {
	tenant := Tenant{ID: "org", BudgetUSD: 0.3}
	m := quotaModel(0.25)
	k, store := newTestKernel(t, m, WithMiddleware(Quota{}))
	run := mustStart(t, k, tenant, "r")
	if _, err := StepModel[Decision](tctx, k, run, quotaStep(0)); err != nil {
		t.Fatal(err)
	}
	_, err := StepModel[Decision](tctx, k, run, quotaStep(1))
	if e := wantKind(t, err, ErrBudgetExceeded); e.Seq != 5 || !strings.Contains(e.Error(), "exceeded budget: limit=0.300000, spent=0.500000") {
		t.Fatalf("error %q", e)
	}
	if got := eventTypes(t, store, "r"); len(got) != 5 || got[4] != ledger.EventModelCompleted {
		t.Fatalf("events %v: the exceeding call must be logged", got)
	}
	_, err = StepModel[Decision](tctx, k, run, quotaStep(2))
	if e := wantKind(t, err, ErrBudgetExceeded); !strings.Contains(e.Error(), "exhausted") || m.calls.Load() != 2 {
		t.Fatalf("error %q after %d calls", e, m.calls.Load())
	}
}

func TestQuotaNeedsBudget(t *testing.T) {
	m := quotaModel(0.25)
	k, store := newTestKernel(t, m, WithMiddleware(Quota{}))
	run := mustStart(t, k, Tenant{ID: "org"}, "r")
	_, err := StepModel[Decision](tctx, k, run, quotaStep(0))
	if e := wantKind(t, err, ErrInvalidInput); e.Op != "quota" || !strings.Contains(e.Msg, "Quota middleware needs a budget") {
		t.Fatalf("error %q", e)
	}
	if got := eventTypes(t, store, "r"); len(got) != 1 || m.calls.Load() != 0 {
		t.Fatalf("events %v, %d calls: nothing may be logged or called", got, m.calls.Load())
	}
}

// Only the tools the tenant may use reach the model and the middleware
// after the guard.
func TestCapabilityGuardFiltersTools(t *testing.T) {
	var log []string
	m := replyWith(`{"approved":true,"reason":"ok"}`)
	k, store := newTestKernel(t, m, WithMiddleware(tracingMiddleware{"after", &log}, CapabilityGuard{}))
	for _, tool := range []struct{ name, capability string }{{"lookup", ""}, {"submit_transfer", "finance:write"}, {"audit", "audit:read"}} {
		if err := RegisterTool(k.Tools(), tool.name, func(context.Context, TransferArgs) (string, error) { return "", nil },
			WithCapability(tool.capability)); err != nil {
			t.Fatal(err)
		}
	}
	tenant := Tenant{ID: "org", Capabilities: []string{"audit:read"}}
	run := mustStart(t, k, tenant, "r")
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.last.Tools {
		got = append(got, d.Name)
	}
	if want := []string{"lookup", "audit"}; !slices.Equal(got, want) {
		t.Fatalf("model offered %v, want %v", got, want)
	}
	if log[0] != "after prepare p lookup,audit" {
		t.Fatalf("middleware after the guard saw %q", log[0])
	}
	events, err := store.Events(tctx, "r", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[1].Payload.(*ledger.ModelRequested).AllowedTools; !slices.Equal(got, []string{"lookup", "audit"}) {
		t.Fatalf("allowed_tools logged %v", got)
	}
}

func TestNewEnforced(t *testing.T) {
	store := ledger.NewMemStore()
	var log []string
	extra := tracingMiddleware{"extra", &log}
	for _, c := range []struct {
		mw   []Middleware
		want []string
	}{
		{nil, []string{"artana.PIIScrubber", "artana.Quota", "artana.CapabilityGuard"}},
		{[]Middleware{extra, &Quota{}}, []string{"artana.PIIScrubber", "*artana.Quota", "artana.CapabilityGuard", "extra"}},
		{DefaultMiddleware(), []string{"artana.PIIScrubber", "artana.Quota", "artana.CapabilityGuard"}},
	} {
		k := NewEnforced(store, nil, WithMiddleware(c.mw...))
		if diff := cmp.Diff(c.want, middlewareNames(k.middleware)); diff != "" {
			t.Errorf("NewEnforced(WithMiddleware(%v)) chain (-want +got):\n%s", middlewareNames(c.mw), diff)
		}
	}
	k := NewEnforced(store, replyWith(`{"approved":true,"reason":"ok"}`))
	// Enforced kernels require complete tenants everywhere.
	_, err := k.StartRun(tctx, Tenant{ID: "org"}, "r")
	wantKind(t, err, ErrInvalidInput)
	run, err := k.StartRun(tctx, Tenant{ID: "org", BudgetUSD: 1}, "r")
	if err != nil {
		t.Fatal(err)
	}
	_, err = StepModel[Decision](tctx, k, Run{ID: "r", Tenant: Tenant{ID: "org"}}, ModelStep{Model: "m", Prompt: "p"})
	wantKind(t, err, ErrInvalidInput)
	if _, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "m", Prompt: "p"}); err != nil {
		t.Fatal(err)
	}
}

func TestTenantValidate(t *testing.T) {
	for _, c := range []struct {
		tenant Tenant
		msg    string
	}{
		{Tenant{BudgetUSD: 1}, "tenant has no id"},
		{Tenant{ID: "a"}, "budget 0"},
		{Tenant{ID: "a", BudgetUSD: -1}, "budget -1"},
		{Tenant{ID: "a", BudgetUSD: math.NaN()}, "budget NaN"},
	} {
		err := c.tenant.Validate()
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v.Validate() = %v, want %q", c.tenant, err, c.msg)
		}
	}
	if err := (Tenant{ID: "a", BudgetUSD: 0.01}).Validate(); err != nil {
		t.Fatal(err)
	}
	// Permissive kernels take tenants without a budget, but not with a
	// negative one.
	k, _ := newTestKernel(t, nil)
	if _, err := k.StartRun(tctx, Tenant{ID: "a"}, "r"); err != nil {
		t.Fatal(err)
	}
	_, err := k.StartRun(tctx, Tenant{ID: "a", BudgetUSD: -1}, "r2")
	e := wantKind(t, err, ErrInvalidInput)
	want := *e // the message is checked in TestErrorMessages
	want.Op, want.RunID, want.Seq = "start run", "r2", 0
	if d := cmp.Diff(want, *e, cmpopts.EquateErrors()); d != "" {
		t.Fatalf("error (-want +got):\n%s", d)
	}
	_, err = k.LoadRun(tctx, Tenant{ID: "a", BudgetUSD: math.NaN()}, "r")
	wantKind(t, err, ErrInvalidInput)
}

type TransferDecision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

// The seed's examples/01_durable_chat_replay.py: the first call is live,
// the second replays; one model call, no tool call.
func TestChatDurableReplay(t *testing.T) {
	m := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `{"approved":true,"reason":"Balance check passed."}`,
			Usage:     llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01},
			ToolCalls: []ledger.ToolCall{{ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"acc_1","amount":"10"}`}}}, nil
	}}
	k, store := newTestKernel(t, m, WithMiddleware(PIIScrubber{}, Quota{}, CapabilityGuard{}))
	toolCalls := 0
	if err := RegisterTool(k.Tools(), "submit_transfer", func(context.Context, TransferArgs) (string, error) {
		toolCalls++
		return "", nil
	}, WithCapability("finance:write")); err != nil {
		t.Fatal(err)
	}
	tenant := Tenant{ID: "org_demo", Capabilities: []string{"finance:write"}, BudgetUSD: 1}
	step := ModelStep{Model: "gpt-4o-mini", Prompt: "Transfer 10 from acc_1. My email is user@example.com"}
	first, err := Chat[TransferDecision](tctx, k, tenant, "example_run_1", step)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Chat[TransferDecision](tctx, k, tenant, "example_run_1", step)
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := first // the usage is the fake model's
	wantFirst.RunID, wantFirst.Seq, wantFirst.Output, wantFirst.FromLog = "example_run_1", 3, TransferDecision{true, "Balance check passed."}, false
	wantFirst.OutputJSON = `{"approved":true,"reason":"Balance check passed."}`
	wantFirst.ToolCalls = []ledger.ToolCall{{ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"acc_1","amount":"10"}`}}
	wantSecond := wantFirst
	wantSecond.FromLog = true
	if d := cmp.Diff([]ModelResult[TransferDecision]{wantFirst, wantSecond}, []ModelResult[TransferDecision]{first, second}); d != "" {
		t.Fatalf("the live and the replayed chat (-want +got):\n%s", d)
	}
	if m.calls.Load() != 1 || toolCalls != 0 {
		t.Fatalf("%d model calls (want 1), %d tool calls (want 0)", m.calls.Load(), toolCalls)
	}
	if got, want := eventTypes(t, store, "example_run_1"), []ledger.EventType{ledger.EventRunStarted, ledger.EventModelRequested, ledger.EventModelCompleted}; !slices.Equal(got, want) {
		t.Fatalf("event types %v, want %v", got, want)
	}
	// Another tenant cannot chat on the run; an empty run id is refused.
	_, err = Chat[TransferDecision](tctx, k, Tenant{ID: "intruder", BudgetUSD: 1}, "example_run_1", step)
	wantKind(t, err, ledger.ErrTenantMismatch)
	_, err = Chat[TransferDecision](tctx, k, tenant, "", step)
	wantKind(t, err, ErrInvalidInput)
}

func TestPIIScrubberKeepIdentifiers(t *testing.T) {
	inv, err := PIIScrubber{KeepIdentifiers: true}.PrepareModel(context.Background(), ModelCall{
		Prompt: "Refund order 112-7654321-1234567, call 415-555-0123", Messages: []ledger.ChatMessage{{Role: "user", Content: "#4155550123"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := ModelCall{Prompt: "Refund order 112-7654321-1234567, call [REDACTED_PHONE]", Messages: []ledger.ChatMessage{{Role: "user", Content: "#4155550123"}}}
	if d := cmp.Diff(want, inv); d != "" {
		t.Errorf("PIIScrubber{KeepIdentifiers: true} (-want +got):\n%s", d)
	}
}
