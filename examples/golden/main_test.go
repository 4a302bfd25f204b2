package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/examples/internal/command"
	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
)

const committed = "testdata/cassettes/TestGolden.cassette"

// TestMain runs the example's main instead of the tests when the test
// binary is started by TestExitStatus.
func TestMain(m *testing.M) { exampletest.Main(m, main) }

var goldenLines = []string{
	"=== Feature 1 - Enforced Policy + Middleware Order ===",
	"policy_mode: enforced",
	"middleware_order: [PIIScrubber Quota CapabilityGuard]",
	"tenant_without_budget_refused: true",
	"=== Feature 2 - Kernel-Issued Run ===",
	"tenant_id: org_live",
	"=== Feature 3 - Model Call ===",
	"from_log: false",
	`output: {"approved":true,`,
	"event_types: [run_started model_requested model_completed]",
	"=== Feature 4 - Model Step Answered From the Log ===",
	"from_log: true",
	"output_matches_live: true",
	"event_count_unchanged: true",
	"model_calls: 1",
	"=== Feature 5 - Unknown Tool Outcome Recorded ===",
	"tool outcome unknown",
	"tool_attempts: 1",
	"latest_tool_outcome: unknown_outcome",
	"tool_requested_count: 1",
	"=== Feature 6 - Halt Before Reconciliation ===",
	"tool_attempts: 1",
	"event_count: 5",
	"tool_requested_unchanged: true",
	"=== Feature 7 - Tool Reconciliation ===",
	`reconciled_result: {"account_id":"acc_1","amount":"10.00","status":"submitted"}`,
	"tool_attempts: 2",
	"new_event_appended: true",
	"same_idempotency_key: true",
	"latest_tool_outcome: success",
	"=== Feature 8 - Reconciled Tool Step Answered From the Log ===",
	"result_matches_reconcile: true",
	"tool_attempts: 2",
	"from_log: true",
	"seq: 6",
	"event_count_unchanged: true",
	"hash_chain_verified: true",
	"All golden features validated.",
}

// TestGolden runs the example on the model of recorder.New: the committed
// cassette, replayed; or, with the record switch, the live endpoint,
// recorded into that cassette (against the local stand-in server with
// -args -standin):
//
//	OPENAI_API_KEY=sk-... go test ./examples/golden -run '^TestGolden$' -artana.record='^TestGolden$'
func TestGolden(t *testing.T) {
	model, answeredBy := exampletest.Model(t, decisionAnswer)
	out := exampletest.MustProve(t, func(ctx context.Context, model llm.Model, answeredBy string, stdout io.Writer) error {
		return prove(ctx, model, t.TempDir(), answeredBy, stdout)
	}, model, answeredBy)
	exampletest.WantInOrder(t, out, goldenLines...)
}

// TestRecordWithoutKey: recording without OPENAI_API_KEY fails before any
// network call, naming the key, and leaves the cassette.
func TestRecordWithoutKey(t *testing.T) { exampletest.RecordWithoutKey(t, "TestGolden", committed) }

func TestReplayCommittedCassette(t *testing.T) {
	stdout, stderr := exampletest.MustRun(t, run, "-cassette", committed)
	exampletest.WantInOrder(t, stdout, goldenLines...)
	exampletest.WantInOrder(t, stdout, "answered_by: the cassette "+committed+" (replay, no network)")
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestExitStatus runs main itself, as go run does: status 0 when every
// feature is proven, 1 with the reason on stderr otherwise.
func TestExitStatus(t *testing.T) {
	exampletest.ExitStatus(t, "All golden features validated.",
		exampletest.ExitCase{Name: "bad flag", Args: []string{"-frobnicate"}, Code: 1, WantStderr: "flag provided but not defined: -frobnicate"},
		exampletest.ExitCase{Name: "record command", Args: []string{"-record"}, Code: 1, WantStderr: "record a new cassette with:\n\t" + command.RecordCommand("golden", "TestGolden")})
}

// TestDeps checks that the command compiles neither an LLM SDK nor SQLite:
// what keeps the first run on a fresh machine short.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, heavy := range []string{"github.com/openai/openai-go/v3", "modernc.org/sqlite", "github.com/artana-go/go-artana/openai", "github.com/artana-go/go-artana/sqlite"} {
		if slices.Contains(strings.Fields(string(out)), heavy) {
			t.Errorf("go run ./examples/golden compiles %s", heavy)
		}
	}
}

// decisionAnswer answers the golden example's one model call.
func decisionAnswer(req standin.Request) (standin.Answer, error) {
	switch {
	case req.Model != modelName:
		return standin.Answer{}, fmt.Errorf("model %q, want %q", req.Model, modelName)
	case req.ResponseFormat.Type != "json_schema" || req.ResponseFormat.JSONSchema.Name != "Decision":
		return standin.Answer{}, fmt.Errorf("response_format %+v, want the json_schema Decision", req.ResponseFormat)
	case len(req.Tools) != 1 || req.Tools[0].Function.Name != toolName:
		return standin.Answer{}, fmt.Errorf("tools %+v, want %s only", req.Tools, toolName)
	}
	return standin.Answer{Content: `{"approved":true,"reason":"The request is within policy limits and the account is in good standing."}`}, nil
}

// TestRecordThenReplay records against the stand-in, keeping the event
// log, then replays the new cassette through the command offline.
func TestRecordThenReplay(t *testing.T) {
	s := standin.Start(t, decisionAnswer)
	dir := t.TempDir()
	path := filepath.Join(dir, "golden.cassette")
	runs := filepath.Join(dir, "runs")
	live, err := openai.New()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := prove(t.Context(), rec, runs, command.AnsweredBy(path, true), &out); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	exampletest.WantInOrder(t, out.String(), goldenLines...)
	exampletest.WantInOrder(t, out.String(), "answered_by: the live endpoint (recording into "+path+")")
	if s.Calls() != 1 {
		t.Errorf("the endpoint was called %d times, want 1 (the replay must not call it)", s.Calls())
	}

	// The kept log holds the run, and its chain verifies.
	store, err := cassettes.OpenStore(runs)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := store.Runs(context.Background())
	if err != nil || len(infos) != 1 {
		t.Fatalf("runs %v, %v; want one", infos, err)
	}
	events, err := store.Events(context.Background(), infos[0].RunID, 0)
	if err != nil || len(events) != 6 || ledger.VerifyChain(events) != nil {
		t.Errorf("the log holds %d events (%v), chain %v; want 6 verified", len(events), err, ledger.VerifyChain(events))
	}
	store.Close()

	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/unreachable/")
	replay, _ := exampletest.MustRun(t, run, "-cassette", path)
	exampletest.WantInOrder(t, replay, goldenLines...)
	exampletest.WantInOrder(t, replay, "The request is within policy limits")
	if s.Calls() != 1 {
		t.Errorf("replay called the endpoint (%d calls)", s.Calls())
	}
}

// TestStaleCassette: a cassette that does not hold the example's request
// fails the run, saying what differs and how to re-record.
func TestStaleCassette(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stale.cassette")
	rec, err := recorder.Open(path, llm.ModelFunc(func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `{"approved":false,"reason":"no"}`}, nil
	}), recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Complete(context.Background(), llm.Request{Model: modelName, Prompt: "Approve? (an older prompt)",
		Messages: []ledger.ChatMessage{{Role: "user", Content: "Approve? (an older prompt)"}}}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err = run(context.Background(), []string{"-cassette", path}, &stdout, &bytes.Buffer{})
	if !errors.Is(err, recorder.ErrNoMatch) {
		t.Fatalf("run with a stale cassette: %v, want ErrNoMatch", err)
	}
	if strings.Contains(stdout.String(), "All golden features validated.") {
		t.Errorf("a failed run claims success:\n%s", stdout.String())
	}
}

func TestArgs(t *testing.T) {
	err := run(context.Background(), []string{"-cassette", committed, "extra"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `unexpected arguments ["extra"]`) {
		t.Errorf("run with an extra argument: %v", err)
	}
}

// TestInvariantSensors checks the functions the invariants of features 5
// to 7 read the log with, on a log that holds other tools and step keys.
func TestInvariantSensors(t *testing.T) {
	req := func(id, tool, key string) ledger.Event {
		return ledger.Event{ID: id, Type: ledger.EventToolRequested,
			Payload: &ledger.ToolRequested{ToolName: tool, StepKey: new(key)}}
	}
	done := func(reqID string, o ledger.ToolOutcome) ledger.Event {
		return ledger.Event{Type: ledger.EventToolCompleted,
			Payload: &ledger.ToolCompleted{Outcome: o, RequestID: new(reqID)}}
	}
	events := []ledger.Event{
		req("a", toolName, toolStepKey),
		done("a", ledger.OutcomeUnknown),
		req("b", toolName, "other.step"),
		req("c", "other_tool", toolStepKey),
		done("a", ledger.OutcomeSuccess),
		done("b", ledger.OutcomePermanentError),
		done("c", ledger.OutcomeTransientError),
	}
	if n := countToolRequests(events, toolName, toolStepKey); n != 1 {
		t.Errorf("countToolRequests = %d, want 1", n)
	}
	type completion struct {
		Outcome   ledger.ToolOutcome // "" for none
		RequestID string
	}
	latest := func(events []ledger.Event, tool string) completion {
		c, id := latestToolCompletion(events, tool, toolStepKey)
		if c == nil {
			return completion{RequestID: id}
		}
		return completion{c.Outcome, id}
	}
	if d := cmp.Diff(completion{ledger.OutcomeSuccess, "a"}, latest(events, toolName)); d != "" {
		t.Errorf("latestToolCompletion, want the success of request a (-want +got):\n%s", d)
	}
	if d := cmp.Diff(completion{ledger.OutcomeUnknown, "a"}, latest(events[:2], toolName)); d != "" {
		t.Errorf("latestToolCompletion before reconcile, want unknown_outcome (-want +got):\n%s", d)
	}
	if d := cmp.Diff(completion{}, latest(events, "missing")); d != "" {
		t.Errorf("latestToolCompletion of an absent tool, want none (-want +got):\n%s", d)
	}
	if err := invariant("F", false, "x=%d", 1); err == nil || err.Error() != "F: invariant failed: x=1" {
		t.Errorf("invariant(false) = %v", err)
	}
	if err := invariant("F", true, "x"); err != nil {
		t.Errorf("invariant(true) = %v", err)
	}
}
