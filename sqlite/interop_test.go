package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/sqlite"
	"github.com/google/go-cmp/cmp"
)

// seedPython returns a command running the Python original's interpreter
// with script, or skips the test when ARTANA_SEED_DIR is not set up
// (failing instead when ARTANA_REQUIRE_SEED=1).
func seedPython(t *testing.T, script string, args ...string) *exec.Cmd {
	t.Helper()
	dir := os.Getenv("ARTANA_SEED_DIR")
	skip := func(why string) {
		if os.Getenv("ARTANA_REQUIRE_SEED") == "1" {
			t.Fatalf("%s, and ARTANA_REQUIRE_SEED=1", why)
		}
		t.Skipf("%s: set ARTANA_SEED_DIR to the Python original (a directory holding src/artana) to run this interoperability test; see README.md, section \"Interoperability tests\"", why)
	}
	if dir == "" {
		skip("ARTANA_SEED_DIR is not set")
	}
	if _, err := os.Stat(filepath.Join(dir, "src", "artana", "store", "sqlite.py")); err != nil {
		skip("ARTANA_SEED_DIR has no Python original (" + err.Error() + ")")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		skip("python3 is not on PATH")
	}
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "src")+string(os.PathListSeparator)+
		filepath.Join(dir, ".deps", "usr", "lib", "python3", "dist-packages"))
	return cmd
}

// readWithSeed reads every run of the ledger with the Python original's
// SQLiteStore, verifies it, appends one pause_requested event to appendRun,
// and prints what it read as JSON.
const readWithSeed = `
import asyncio, json, sqlite3, sys
from artana.store import SQLiteStore
from artana.events import EventType, PauseRequestedPayload

async def main(path, append_run):
    con = sqlite3.connect(path)
    run_ids = [r[0] for r in con.execute("SELECT DISTINCT run_id FROM kernel_events ORDER BY run_id")]
    con.close()
    store = SQLiteStore(path)
    out = {}
    for run_id in run_ids:
        events = await store.get_events_for_run(run_id)
        out[run_id] = {
            "verified": await store.verify_run_chain(run_id),
            "events": [{
                "event_id": e.event_id, "run_id": e.run_id, "tenant_id": e.tenant_id, "seq": e.seq,
                "event_type": e.event_type.value, "prev_event_hash": e.prev_event_hash,
                "event_hash": e.event_hash, "timestamp": e.timestamp.isoformat(),
                "payload": json.dumps(e.payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":")),
            } for e in events],
        }
    events = await store.get_events_for_run(append_run)
    await store.append_event(run_id=append_run, tenant_id=events[0].tenant_id,
                             event_type=EventType.PAUSE_REQUESTED,
                             payload=PauseRequestedPayload(reason="appended by Python \u00e9"))
    await store.close()
    json.dump(out, sys.stdout)

asyncio.run(main(sys.argv[1], sys.argv[2]))
`

// interopPayloads covers the nine event types, non-ASCII text and the
// floats Go and Python print differently.
func interopPayloads() []ledger.Payload {
	text := "Café 漢字 😀 👨\u200d👩\u200d👧 𝄞 \"q\" back\\slash\ttab\nnl\r\n ctrl\x1f DEL\x7f LS\u2028 BOM\ufeff e\u0301 <b>&amp;</b> / 'single'"
	ps := []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "fake-model", Prompt: text,
			Messages:     []ledger.ChatMessage{{Role: "system", Content: "sé"}, {Role: "user", Content: text}},
			AllowedTools: []string{"lookup", "tränslate"}, StepKey: new("step.ü")},
		&ledger.ModelCompleted{Model: "fake-model", OutputJSON: `{"text":"` + "é😀" + `"}`, PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01,
			ToolCalls: []ledger.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":"ü"}`}}},
		&ledger.ToolRequested{ToolName: "lookup", ArgumentsJSON: `{"q":"\u00fc"}`, IdempotencyKey: "k",
			ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion, StepKey: new("s")},
		&ledger.ToolCompleted{ToolName: "lookup", ResultJSON: `{"ok":true}`, Outcome: ledger.OutcomeSuccess,
			ReceivedIdempotencyKey: new("k"), EffectID: new("eff"), RequestID: new("0123")},
		&ledger.ToolCompleted{ToolName: "lookup", Outcome: ledger.OutcomeUnknown, ErrorMessage: new(text)},
		&ledger.PauseRequested{Reason: text, ContextJSON: new(`{"x":1}`), StepKey: new("p")},
		&ledger.ResumeRequested{HumanInputJSON: new(`{"ok":"ü"}`)},
		&ledger.ResumeRequested{},
		&ledger.WorkflowStepRequested{StepIndex: 0, StepName: "fetch 漢"},
		&ledger.WorkflowStepCompleted{StepIndex: 0, StepName: "fetch 漢", ResultJSON: `"done"`},
	}
	for _, c := range []float64{1e-05, 0.1 + 0.2, 123456789.125, 0.0, 1e-07, 2.5e-08, 1.0 / 3, 100.0, 1e16,
		12345678901234567890.0, 1e22, 5e-324, 0.000123, math.MaxFloat64, 1.5} {
		ps = append(ps, &ledger.ModelCompleted{Model: "m", OutputJSON: "{}", PromptTokens: 1, CostUSD: c})
	}
	return ps
}

func TestPythonReadsGoLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "go_written.db")
	clock := artanatest.SteppingClock(time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), 250*time.Millisecond+7*time.Microsecond)
	s := openT(t, path, sqlite.WithStoreOptions(ledger.WithEventClock(clock)))
	wrote := appendInteropRuns(t, s)
	cmd := seedPython(t, readWithSeed, path, "go_second")
	s.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	var got map[string]pyRun
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	if len(got) != len(wrote) {
		t.Fatalf("python read %d runs, Go wrote %d", len(got), len(wrote))
	}
	for runID, events := range wrote {
		checkPythonRead(t, runID, events, got[runID])
	}
	// The event Python appended continues the Go chain.
	s2 := openT(t, path, sqlite.ReadOnly())
	if err := s2.Verify(ctx, "go_second"); err != nil {
		t.Errorf("Verify after Python appended: %v", err)
	}
	events, err := s2.Events(ctx, "go_second", int64(len(wrote["go_second"])))
	if err != nil {
		t.Fatal(err)
	}
	var types []ledger.EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	if d := cmp.Diff([]ledger.EventType{ledger.EventPauseRequested}, types); d != "" {
		t.Errorf("the events after Go's, want the one Python appended (-want +got):\n%s", d)
	}
}

// appendInteropRuns appends interopPayloads to three runs of s, with run
// and tenant ids beyond ASCII among them, and returns the events by run.
func appendInteropRuns(t *testing.T, s *sqlite.Store) map[string][]ledger.Event {
	t.Helper()
	wrote := make(map[string][]ledger.Event)
	for _, run := range []struct{ id, tenant string }{
		{"go_run_ünïcødé_漢字_🚀", "tenant_東京"}, {"go run | plain", "org"}, {"go_second", "org"},
	} {
		for _, p := range interopPayloads() {
			e, err := s.Append(context.Background(), run.id, run.tenant, p)
			if err != nil {
				t.Fatal(err)
			}
			wrote[run.id] = append(wrote[run.id], e)
		}
	}
	return wrote
}

// pyRun is what the Python original read of a run and whether its
// verify_run_chain passed it.
type pyRun struct {
	Verified bool      `json:"verified"`
	Events   []pyEvent `json:"events"`
}

// pyEvent is an event as the Python original read it.
type pyEvent struct {
	EventID       string  `json:"event_id"`
	RunID         string  `json:"run_id"`
	TenantID      string  `json:"tenant_id"`
	Seq           int64   `json:"seq"`
	EventType     string  `json:"event_type"`
	PrevEventHash *string `json:"prev_event_hash"`
	EventHash     string  `json:"event_hash"`
	Timestamp     string  `json:"timestamp"`
	Payload       string  `json:"payload"`
}

// checkPythonRead checks that the Python original verified the run runID
// and read the events Go wrote to it, column by column.
func checkPythonRead(t *testing.T, runID string, events []ledger.Event, py pyRun) {
	t.Helper()
	if !py.Verified {
		t.Errorf("run %q: python verify_run_chain returned False", runID)
	}
	if len(py.Events) != len(events) {
		t.Fatalf("run %q: python read %d events, Go wrote %d", runID, len(py.Events), len(events))
	}
	for i, e := range events {
		p := py.Events[i]
		if (e.Seq == 1) != (p.PrevEventHash == nil) {
			t.Errorf("run %q seq %d: python prev_event_hash %v; want None exactly for seq 1", runID, e.Seq, p.PrevEventHash)
		}
		want := pyEvent{EventID: e.ID, RunID: e.RunID, TenantID: e.TenantID, Seq: e.Seq, EventType: string(e.Type),
			EventHash: e.Hash, Timestamp: isotime.Format(e.Timestamp), Payload: string(ledger.CanonicalForm.Encode(e.Payload))}
		if e.PrevHash != "" {
			want.PrevEventHash = &e.PrevHash
		}
		if d := cmp.Diff(want, p); d != "" {
			t.Errorf("run %q seq %d: python read what Go did not write (-Go wrote +python read):\n%s", runID, e.Seq, d)
		}
	}
}
