package recorder_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/recorder"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

type orderArgs struct {
	Order string `json:"order"`
}

// shop is a tool backend; a nil *shop is no backend at all.
type shop struct {
	status string
	note   string // if set, the message refund sets on its execution
	calls  int
}

func (s *shop) tools(t testing.TB) *artana.Tools {
	t.Helper()
	tools := artana.NewTools()
	require.NoError(t, artana.RegisterTool(tools, "lookup_order", func(ctx context.Context, a orderArgs) (map[string]string, error) {
		s.calls++ // a nil backend panics here
		if x, ok := artana.ToolExecutionFrom(ctx); ok {
			x.SetEffectID("lk-" + a.Order)
			x.SetReceivedIdempotencyKey("shop-" + a.Order)
			x.SetErrorMessage("served from cache")
		}
		return map[string]string{"order": a.Order, "status": s.status}, nil
	}))
	require.NoError(t, artana.RegisterTool(tools, "refund", func(ctx context.Context, a orderArgs) (string, error) {
		s.calls++
		if x, ok := artana.ToolExecutionFrom(ctx); ok && s.note != "" {
			x.SetErrorMessage(s.note)
		}
		return "", artana.PermanentToolError(fmt.Errorf("order %s was already refunded", a.Order))
	}))
	return tools
}

// loopModel asks for both tools in parallel, then answers.
func loopModel() *fakeModel {
	return &fakeModel{CompleteFn: func(_ context.Context, req llm.Request) (llm.Response, error) {
		if req.Messages[len(req.Messages)-1].Role != "tool" {
			return llm.Response{ToolCalls: []ledger.ToolCall{
				{ID: "call_a", ToolName: "lookup_order", ArgumentsJSON: `{"order":"A-17"}`},
				{ID: "call_b", ToolName: "refund", ArgumentsJSON: `{"order":"A-17"}`},
			}}, nil
		}
		return llm.Response{OutputJSON: `{"label":"done"}`}, nil
	}}
}

func runLoop(k *artana.Kernel) (artana.ToolLoopResult[verdict], error) {
	run, err := k.LoadOrStartRun(ctx, artana.Tenant{ID: "acme"}, "ticket-1")
	if err != nil {
		return artana.ToolLoopResult[verdict]{}, err
	}
	return artana.RunToolLoop[verdict](ctx, k, run, artana.ToolLoop{Model: "fake-1", Prompt: "refund A-17", StepKey: "support"})
}

func recordLoop(t *testing.T) (string, []ledger.Event) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "loop.cassette")
	rec, err := recorder.Open(path, loopModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	backend := &shop{status: "delivered"}
	store := deterministicStore()
	k := artana.New(store, rec, artana.WithTools(rec.Tools(backend.tools(t))))
	_, err = runLoop(k)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	require.Equal(t, 2, backend.calls)
	return path, runEvents(t, store, "ticket-1")
}

// TestToolsRecordThenReplay: tool executions are recorded next to the
// model's interactions and replayed without a tool backend; the replayed
// run logs exactly what the recorded one logged.
func TestToolsRecordThenReplay(t *testing.T) {
	path, recorded := recordLoop(t)
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, want := range []string{`"type":"tool"`, `"tool":"lookup_order"`, `"effect_id":"lk-A-17"`, `"received_idempotency_key":"shop-A-17"`, `"error_message":"served from cache"`,
		`"error_message":"order A-17 was already refunded","latency"`, `"outcome":"permanent_error"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("cassette lacks %s:\n%s", want, text)
		}
	}

	rec, err := recorder.Open(path, nil)
	require.NoError(t, err)
	var none *shop // no backend: calling a tool would panic
	store := deterministicStore()
	k := artana.New(store, rec, artana.WithTools(rec.Tools(none.tools(t))))
	res, err := runLoop(k)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	if res.Output.Label != "done" || res.FromLog {
		t.Errorf("replayed loop %+v", res)
	}
	if diff := cmp.Diff(recorded, runEvents(t, store, "ticket-1")); diff != "" {
		t.Errorf("the replayed run logged other events (-recorded +replayed):\n%s", diff)
	}
}

// TestToolsCheckReportsDiff: with CheckTools the tools run live too; a
// differing result is reported, and the run logs the recording, not what
// the live tool returned or set on its execution.
func TestToolsCheckReportsDiff(t *testing.T) {
	path, recorded := recordLoop(t)
	rec, err := recorder.Open(path, nil, recorder.CheckTools())
	require.NoError(t, err)
	backend := &shop{status: "lost", note: "refund service says no"}
	store := deterministicStore()
	k := artana.New(store, rec, artana.WithTools(rec.Tools(backend.tools(t))))
	_, err = runLoop(k)
	require.NoError(t, err)
	if backend.calls != 2 {
		t.Errorf("CheckTools ran the tools %d times, want 2", backend.calls)
	}
	if diff := cmp.Diff(recorded, runEvents(t, store, "ticket-1")); diff != "" {
		t.Errorf("the checked run logged other events than the recorded one (-recorded +checked):\n%s", diff)
	}
	err = rec.Close()
	var de *recorder.ToolDiffError
	if !errors.As(err, &de) || len(de.Diffs) != 2 {
		t.Fatalf("Close = %v, want a *ToolDiffError with two executions", err)
	}
	for _, want := range []string{`tool lookup_order {"order":"A-17"}`, `Result[status]`, `-"delivered"`, `+"lost"`,
		`tool refund {"order":"A-17"}`, `-"order A-17 was already refunded"`, `+"refund service says no"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("diff %q lacks %q", err, want)
		}
	}
}

func TestToolsReplayMiss(t *testing.T) {
	path, _ := recordLoop(t)
	rec2, err := recorder.Open(path, nil, recorder.AllowUnused())
	require.NoError(t, err)
	var none *shop
	k := artana.New(deterministicStore(), rec2, artana.WithTools(rec2.Tools(none.tools(t))))
	run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, "other")
	require.NoError(t, err)
	_, err = k.StepTool(ctx, run, artana.ToolStep{Tool: "lookup_order", Args: orderArgs{"B-2"}})
	var te *artana.ToolError
	if !errors.Is(err, artana.ErrToolFailed) || !errors.As(err, &te) || !strings.Contains(err.Error(), `no recorded execution of tool "lookup_order" with arguments {"order":"B-2"}`) ||
		!strings.Contains(err.Error(), `arguments[order]`) {
		t.Errorf("miss: %v", err)
	}
}

func TestBadToolRecords(t *testing.T) {
	hdr := cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"recorder": "1"}}
	for _, tc := range []struct{ name, body, want string }{
		{"unknown outcome", `{"arguments_json":"{}","latency":"1s","outcome":"maybe","tool":"refund"}`, `unknown outcome "maybe"`},
		{"no tool", `{"arguments_json":"{}","latency":"1s","outcome":"success","result_json":"{}","tool":""}`, "names no tool"},
		{"result not JSON", `{"arguments_json":"{}","latency":"1s","outcome":"success","result_json":"{oops","tool":"t"}`, `result_json "{oops" is not JSON`},
		{"latency", `{"arguments_json":"{}","latency":"soon","outcome":"success","result_json":"{}","tool":"t"}`, `bad tool record latency "soon"`},
		{"unknown field", `{"arguments_json":"{}","latency":"1s","outcome":"success","result_json":"{}","tool":"t","extra":1}`, `unknown field "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.cassette")
			require.NoError(t, cassettes.WriteFile(ctx, path, hdr, []cassettes.Record{{Type: "tool", Body: []byte(tc.body)}}))
			_, err := recorder.Open(path, nil)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, path+":2: ")
		})
	}
}

// TestToolsMissFailsTheTest: with New, a tool call the cassette does not
// hold fails the test even if the agent carries on.
func TestToolsMissFailsTheTest(t *testing.T) {
	path, _ := recordLoop(t)
	dir := filepath.Dir(path)
	require.NoError(t, os.Rename(path, filepath.Join(dir, "TestAgent.cassette")))
	ft := newFakeTB(t, "TestAgent")
	rec := recorder.New(ft, nil, recorder.WithDir(dir), recorder.AllowUnused())
	var none *shop
	k := artana.New(deterministicStore(), rec, artana.WithTools(rec.Tools(none.tools(t))))
	run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, "r")
	require.NoError(t, err)
	_, _ = k.StepTool(ctx, run, artana.ToolStep{Tool: "refund", Args: orderArgs{"Z-9"}}) // the agent ignores the failure
	ft.end()
	for _, want := range []string{"1 request(s) had no recorded interaction", `no recorded execution of tool "refund" with arguments {"order":"Z-9"}`} {
		if !strings.Contains(ft.errors(), want) {
			t.Errorf("test errors lack %q:\n%s", want, ft.errors())
		}
	}
}

// TestToolsRecordMissing: a call the cassette lacks runs and is appended;
// the recorded ones replay without running.
func TestToolsRecordMissing(t *testing.T) {
	path, _ := recordLoop(t)
	rec, err := recorder.Open(path, loopModel(), recorder.WithMode(recorder.RecordMissing), recorder.AllowUnused())
	require.NoError(t, err)
	backend := &shop{status: "delivered"}
	k := artana.New(deterministicStore(), rec, artana.WithTools(rec.Tools(backend.tools(t))))
	run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, "r")
	require.NoError(t, err)
	for _, order := range []string{"A-17", "B-2"} {
		_, err := k.StepTool(ctx, run, artana.ToolStep{Tool: "lookup_order", Args: orderArgs{order}})
		require.NoError(t, err)
	}
	require.NoError(t, rec.Close())
	if backend.calls != 1 {
		t.Errorf("the tools ran %d times, want once (B-2; A-17 is recorded)", backend.calls)
	}
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	if n := strings.Count(string(text), `"type":"tool"`); n != 3 || !strings.Contains(string(text), `{\"order\":\"B-2\"}`) {
		t.Errorf("%d tool records after the append, want 3 with B-2:\n%s", n, text)
	}
}

// TestToolsPanicReplaysAsLogged: a tool that sets its effect id and then
// panics is logged as the kernel logs a panic (unknown outcome, no effect
// id), recorded, and replayed to the same events.
func TestToolsPanicReplaysAsLogged(t *testing.T) {
	tools := func() *artana.Tools {
		tools := artana.NewTools()
		require.NoError(t, artana.RegisterTool(tools, "charge", func(ctx context.Context, a orderArgs) (string, error) {
			if x, ok := artana.ToolExecutionFrom(ctx); ok {
				x.SetEffectID("ch-1")
			}
			panic("card reader on fire")
		}))
		return tools
	}
	step := func(k *artana.Kernel) {
		run, err := k.LoadOrStartRun(ctx, artana.Tenant{ID: "acme"}, "r")
		require.NoError(t, err)
		_, err = k.StepTool(ctx, run, artana.ToolStep{Tool: "charge", Args: orderArgs{"A-1"}})
		require.ErrorIs(t, err, artana.ErrUnknownOutcome)
	}
	plain := deterministicStore()
	step(artana.New(plain, nil, artana.WithTools(tools())))

	path := filepath.Join(t.TempDir(), "panic.cassette")
	rec, err := recorder.Open(path, loopModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	recorded := deterministicStore()
	step(artana.New(recorded, rec, artana.WithTools(rec.Tools(tools()))))
	require.NoError(t, rec.Close())

	rec, err = recorder.Open(path, nil)
	require.NoError(t, err)
	replayed := deterministicStore()
	step(artana.New(replayed, rec, artana.WithTools(rec.Tools(tools()))))
	require.NoError(t, rec.Close())
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(text), `"error_message":"tool panicked: card reader on fire"`)

	want := runEvents(t, plain, "r")
	c := want[len(want)-1].Payload.(*ledger.ToolCompleted)
	wantC := *c // the tool, keys and message are the kernel's
	wantC.Outcome, wantC.EffectID, wantC.ResultJSON = ledger.OutcomeUnknown, nil, ""
	if d := cmp.Diff(&wantC, c); d != "" {
		t.Fatalf("the kernel logged after a panic: want unknown outcome and no effect id (-want +got):\n%s", d)
	}
	if diff := cmp.Diff(want, runEvents(t, recorded, "r")); diff != "" {
		t.Errorf("recorded run differs from the run without recorder (-plain +recorded):\n%s", diff)
	}
	if diff := cmp.Diff(want, runEvents(t, replayed, "r")); diff != "" {
		t.Errorf("replayed run differs (-plain +replayed):\n%s", diff)
	}
}
