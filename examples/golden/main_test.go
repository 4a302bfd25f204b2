package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/artana"
	"github.com/artana-go/artana/examples/internal/standin"
	"github.com/artana-go/artana/recorder"
	"github.com/artana-go/artana/sqlite"
)

var standinFlag = flag.Bool("standin", false, "rewrite testdata/golden.cassette by recording against the local stand-in server")

const committed = "testdata/golden.cassette"

// TestMain runs the example's main instead of the tests when the test
// binary is started by TestExitStatus.
func TestMain(m *testing.M) {
	if os.Getenv("ARTANA_GOLDEN_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// wantInOrder fails unless every line of want appears in out, in order.
func wantInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (after the lines before it); output:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

var goldenLines = []string{
	"=== Feature 1 - Enforced Policy + Middleware Order ===",
	"policy_mode: enforced",
	"middleware_order: [PIIScrubber Quota CapabilityGuard]",
	"kernel_without_middleware_refused: true",
	"=== Feature 2 - Kernel-Issued Run ===",
	"tenant_id: org_live",
	"=== Feature 3 - Live Model Call ===",
	"replayed: false",
	`output: {"approved":true,`,
	"event_types: [run_started model_requested model_completed]",
	"=== Feature 4 - Deterministic Model Replay ===",
	"replayed: true",
	"output_matches_live: true",
	"event_count_unchanged: true",
	"model_calls: 1",
	"=== Feature 5 - Unknown Tool Outcome Recorded ===",
	"tool outcome unknown",
	"tool_attempts: 1",
	"latest_tool_outcome: unknown_outcome",
	"tool_requested_count: 1",
	"=== Feature 6 - Replay Halt Before Reconciliation ===",
	"tool_attempts: 1",
	"event_count: 5",
	"tool_requested_unchanged: true",
	"=== Feature 7 - Tool Reconciliation ===",
	`reconciled_result: {"account_id":"acc_1","amount":"10.00","status":"submitted"}`,
	"tool_attempts: 2",
	"new_event_appended: true",
	"same_idempotency_key: true",
	"latest_tool_outcome: success",
	"=== Feature 8 - Post-Reconcile Tool Replay ===",
	"result_matches_reconcile: true",
	"tool_attempts: 2",
	"replayed: true",
	"seq: 6",
	"event_count_unchanged: true",
	"hash_chain_verified: true",
	"All golden features validated.",
}

func TestReplayCommittedCassette(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-cassette", committed}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s", err, stdout.String())
	}
	wantInOrder(t, stdout.String(), goldenLines...)
	wantInOrder(t, stdout.String(), "answered_by: the cassette "+committed+" (replay, no network)")
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// TestExitStatus runs main itself, as go run does: status 0 when every
// feature is proven, 1 with the reason on stderr otherwise.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"replay, default cassette", nil, 0, "All golden features validated.", ""},
		{"no cassette", []string{"-cassette", filepath.Join(t.TempDir(), "missing.cassette")}, 1, "",
			"cassette does not exist"},
		{"bad flag", []string{"-frobnicate"}, 1, "", "flag provided but not defined: -frobnicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "ARTANA_GOLDEN_RUN_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stdout:\n%s\nstderr:\n%s\nwant stdout %q, stderr %q", stdout.String(), stderr.String(), tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

func TestRecordWithoutKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	path := filepath.Join(t.TempDir(), "golden.cassette")
	err := run(context.Background(), []string{"-record", "-cassette", path}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "needs OPENAI_API_KEY") {
		t.Fatalf("run -record without a key: %v, want an error naming OPENAI_API_KEY", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cassette was written: %v", err)
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

// TestRecordThenReplay records through the example's own -record path
// against the stand-in, then replays the new cassette offline.
func TestRecordThenReplay(t *testing.T) {
	s := standin.Start(t, decisionAnswer)
	dir := t.TempDir()
	path := filepath.Join(dir, "golden.cassette")
	db := filepath.Join(dir, "golden.db")
	var live bytes.Buffer
	if err := run(context.Background(), []string{"-record", "-cassette", path, "-db", db}, &live, &bytes.Buffer{}); err != nil {
		t.Fatalf("run -record: %v\n%s", err, live.String())
	}
	wantInOrder(t, live.String(), goldenLines...)
	wantInOrder(t, live.String(), "answered_by: the live endpoint (recording into "+path+")")
	if s.Calls() != 1 {
		t.Errorf("the endpoint was called %d times, want 1 (the replay must not call it)", s.Calls())
	}

	// The kept ledger holds the run, and its chain verifies.
	store, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := store.Runs(context.Background())
	if err != nil || len(runs) != 1 {
		t.Fatalf("ledger runs %v, %v; want one", runs, err)
	}
	events, err := store.Events(context.Background(), runs[0].RunID, 0)
	if err != nil || len(events) != 6 || artana.VerifyChain(events) != nil {
		t.Errorf("ledger holds %d events (%v), chain %v; want 6 verified", len(events), err, artana.VerifyChain(events))
	}
	store.Close()

	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/unreachable/")
	var replay bytes.Buffer
	if err := run(context.Background(), []string{"-cassette", path}, &replay, &bytes.Buffer{}); err != nil {
		t.Fatalf("replay of the new cassette: %v\n%s", err, replay.String())
	}
	wantInOrder(t, replay.String(), goldenLines...)
	wantInOrder(t, replay.String(), "The request is within policy limits")
	if s.Calls() != 1 {
		t.Errorf("replay called the endpoint (%d calls)", s.Calls())
	}
}

// TestFailedRecordingKeepsCassette: a recording whose run fails leaves
// the cassette as it was.
func TestFailedRecordingKeepsCassette(t *testing.T) {
	standin.Start(t, func(standin.Request) (standin.Answer, error) {
		return standin.Answer{}, errors.New("the stand-in refuses this request")
	})
	before, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "golden.cassette")
	if err := os.WriteFile(path, before, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"-record", "-cassette", path}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "the stand-in refuses this request") || !strings.Contains(err.Error(), "is unchanged") {
		t.Fatalf("run -record against a refusing endpoint: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(after, before) {
		t.Errorf("the cassette changed (%v)", err)
	}
	if _, err := os.Stat(path + ".recording"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial recording was left behind: %v", err)
	}
}

// TestStaleCassette: a cassette that does not hold the example's request
// fails the run, saying what differs and how to re-record.
func TestStaleCassette(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stale.cassette")
	rec, err := recorder.Open(path, artana.ModelFunc(func(context.Context, artana.ModelRequest) (artana.ModelResponse, error) {
		return artana.ModelResponse{OutputJSON: `{"approved":false,"reason":"no"}`}, nil
	}), recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Complete(context.Background(), artana.ModelRequest{Model: modelName, Prompt: "Approve? (an older prompt)",
		Messages: []artana.ChatMessage{{Role: "user", Content: "Approve? (an older prompt)"}}}); err != nil {
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
	req := func(id, tool, key string) artana.Event {
		return artana.Event{ID: id, Type: artana.EventToolRequested,
			Payload: &artana.ToolRequested{ToolName: tool, StepKey: artana.Ptr(key)}}
	}
	done := func(reqID string, o artana.ToolOutcome) artana.Event {
		return artana.Event{Type: artana.EventToolCompleted,
			Payload: &artana.ToolCompleted{Outcome: o, RequestID: artana.Ptr(reqID)}}
	}
	events := []artana.Event{
		req("a", toolName, toolStepKey),
		done("a", artana.OutcomeUnknown),
		req("b", toolName, "other.step"),
		req("c", "other_tool", toolStepKey),
		done("a", artana.OutcomeSuccess),
		done("b", artana.OutcomePermanentError),
		done("c", artana.OutcomeTransientError),
	}
	if n := countToolRequests(events, toolName, toolStepKey); n != 1 {
		t.Errorf("countToolRequests = %d, want 1", n)
	}
	c, id := latestToolCompletion(events, toolName, toolStepKey)
	if c == nil || c.Outcome != artana.OutcomeSuccess || id != "a" {
		t.Errorf("latestToolCompletion = %+v, %q; want the success of request a", c, id)
	}
	if c, _ := latestToolCompletion(events[:2], toolName, toolStepKey); c == nil || c.Outcome != artana.OutcomeUnknown {
		t.Errorf("latestToolCompletion before reconcile = %+v, want unknown_outcome", c)
	}
	if c, id := latestToolCompletion(events, "missing", toolStepKey); c != nil || id != "" {
		t.Errorf("latestToolCompletion of an absent tool = %+v, %q", c, id)
	}
	if err := invariant("F", false, "x=%d", 1); err == nil || err.Error() != "F: invariant failed: x=1" {
		t.Errorf("invariant(false) = %v", err)
	}
	if err := invariant("F", true, "x"); err != nil {
		t.Errorf("invariant(true) = %v", err)
	}
}

// TestRecordAgainstStandIn rewrites the committed cassette through the
// example's -record path against the local stand-in server. It runs only
// when asked:
//
//	go test ./examples/golden -run TestRecordAgainstStandIn -args -standin
func TestRecordAgainstStandIn(t *testing.T) {
	if !*standinFlag {
		t.Skip("rewrites testdata/golden.cassette; run with -args -standin")
	}
	standin.Start(t, decisionAnswer)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-record", "-cassette", committed}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("recorded %s:\n%s", committed, out.String())
}
