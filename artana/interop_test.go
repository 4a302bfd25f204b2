package artana

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/isotime"
)

// The flow of testdata/interop_flow.py, written in Go with the types a Go
// author would use. The Python original runs it with pydantic models of the
// same fields.

type interopScored struct {
	Score float64 `json:"score"`
	Text  string  `json:"text"`
}

type interopMeasureArgs struct {
	Big float64 `json:"big"`
	Cap float64 `json:"cap"`
	N   int     `json:"n"`
}

type interopMeasured struct {
	Ratio float64 `json:"ratio"`
	Label string  `json:"label"`
	N     int     `json:"n"`
}

type interopNote struct {
	Note  string  `json:"note"`
	Score float64 `json:"score"`
}

type interopReview struct {
	Amount float64 `json:"amount"`
	Memo   string  `json:"memo"`
}

type interopApproval struct {
	ApprovedAmount float64 `json:"approved_amount"`
	By             string  `json:"by"`
}

const (
	interopRun    = "interop_run"
	interopText   = "line\u2028sep\u2029end <b>&amp;</b> caf\u00e9 \u2713 del\x7f tab\t"
	interopPrompt = "Score this:\u2028" + interopText
	// The second answer as a provider sends it: escapes and spaces, which
	// the log does not keep.
	interopRawAnswer = `{ "score": 1e-05, "text": "again \u2029" }`
)

var interopTenant = Tenant{ID: "org_interop", BudgetUSD: 1}

// interopModel answers as the Python flow's fake model does, but as JSON
// text, the way a provider answers: 100 without ".0", escaped U+2028.
func interopModel() *fakeModel {
	return &fakeModel{CompleteFn: func(_ context.Context, req llm.Request) (llm.Response, error) {
		if req.Prompt == interopPrompt {
			text, _ := json.Marshal(interopText) // escapes U+2028, U+2029 and <>&
			return llm.Response{
				OutputJSON: `{"score": 100, "text": ` + string(text) + `}`,
				Usage:      llm.Usage{PromptTokens: 7, CompletionTokens: 3, CostUSD: 1e-05},
				ToolCalls:  []ledger.ToolCall{{ToolName: "measure", ArgumentsJSON: `{"big": 1e16, "cap": 100.0, "n": 3}`}},
			}, nil
		}
		return llm.Response{OutputJSON: interopRawAnswer, Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 2}}, nil
	}}
}

// registerMeasure registers the flow's tool; it sets every completion
// field a Python tool can set. With live false it fails the test if run.
func registerMeasure(t *testing.T, k *Kernel, live bool) {
	t.Helper()
	err := RegisterTool(k.Tools(), "measure", func(ctx context.Context, a interopMeasureArgs) (interopMeasured, error) {
		if !live {
			t.Error("replay ran the tool")
		}
		if a != (interopMeasureArgs{1e16, 100, 3}) {
			t.Errorf("tool arguments %+v", a)
		}
		x, _ := ToolExecutionFrom(ctx)
		x.SetReceivedIdempotencyKey("provider:" + x.IdempotencyKey[:12])
		x.SetEffectID("eff_measure_1")
		x.SetRequestID(x.RequestEventID)
		x.SetErrorMessage("rounded to 2 digits")
		return interopMeasured{Ratio: float64(a.N) / a.Cap, Label: interopText, N: a.N}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runInteropFlow runs the flow on k: live the first time, from the log
// (nothing may run, nothing is appended) otherwise.
func runInteropFlow(t *testing.T, k *Kernel, live bool) {
	t.Helper()
	var run Run
	var err error
	if live {
		run, err = k.StartRun(tctx, interopTenant, interopRun)
	} else {
		run, err = k.LoadRun(tctx, interopTenant, interopRun)
	}
	if err != nil {
		t.Fatal(err)
	}
	interopSteps(t, k, run, live)
	interopWorkflow(t, k, run, live)
}

// interopSteps takes (live) or replays the interop run's model and tool
// steps, and checks what they return and log.
func interopSteps(t *testing.T, k *Kernel, run Run, live bool) {
	t.Helper()
	first, err := StepModel[interopScored](tctx, k, run, ModelStep{Model: "fake-model", Prompt: interopPrompt, StepKey: "score.v1"})
	if err != nil {
		t.Fatalf("first model step: %v", err)
	}
	type answered struct {
		Output  interopScored
		FromLog bool
	}
	if d := cmp.Diff(answered{interopScored{100, interopText}, !live}, answered{first.Output, first.FromLog}); d != "" {
		t.Fatalf("first model step (-want +got):\n%s", d)
	}
	second, err := StepModel[json.RawMessage](tctx, k, run, ModelStep{Model: "fake-model", Prompt: "again", StepKey: "raw.v1"})
	if err != nil || second.FromLog == live {
		t.Fatalf("second model step: %+v, %v", second, err)
	}
	if want := "{\"score\":0.00001,\"text\":\"again \u2029\"}"; second.OutputJSON != want {
		t.Errorf("raw output logged as %s, want %s", second.OutputJSON, want)
	}
	if live && !bytes.Equal(second.Output, bytes.TrimSpace([]byte(interopRawAnswer))) {
		t.Errorf("raw output %s, want the model's bytes %s", second.Output, interopRawAnswer)
	}
	measured, err := k.StepTool(tctx, run, ToolStep{Tool: "measure", Args: interopMeasureArgs{1e16, 100, 3}, StepKey: "measure.v1"})
	if err != nil || measured.FromLog == live {
		t.Fatalf("tool step: %+v, %v", measured, err)
	}
	if want := "{\"ratio\":0.03,\"label\":\"" + interopLabelJSON + "\",\"n\":3}"; measured.ResultJSON != want {
		t.Errorf("tool result %s, want %s", measured.ResultJSON, want)
	}
}

// interopWorkflow runs (live: up to its pause, then resumes it) or
// replays the interop run's workflow: two steps and a pause.
func interopWorkflow(t *testing.T, k *Kernel, run Run, live bool) {
	t.Helper()
	mustNotRun := func() {
		if !live {
			t.Error("replay ran a workflow step")
		}
	}
	res, err := RunWorkflow(tctx, k, interopTenant, interopRun, func(ctx context.Context, wf *Workflow) (interopNote, error) {
		totals, err := Step(ctx, wf, "totals", func(context.Context) (map[string]any, error) {
			mustNotRun()
			return map[string]any{"total": 100.0, "tiny": 1e-05, "big": 1e16, "count": 3, "text": interopText}, nil
		})
		if err != nil {
			return interopNote{}, err
		}
		if totals["total"] != 100.0 || totals["tiny"] != 1e-05 {
			t.Errorf("totals %v", totals)
		}
		note, err := StepWith(ctx, wf, "note", PydanticCodec[interopNote](), func(context.Context) (interopNote, error) {
			mustNotRun()
			return interopNote{Note: interopText, Score: 100}, nil
		})
		if err != nil {
			return note, err
		}
		input, err := wf.Pause(ctx, PauseStep{Reason: "needs review", Context: interopReview{100, interopText}, StepKey: "review"})
		if err != nil {
			return note, err
		}
		if want := "{\"approved_amount\":100.0,\"by\":\"Zoë \u2029\"}"; string(input) != want {
			t.Errorf("human input %s, want %s", input, want)
		}
		return note, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if live {
		if res.State != ledger.RunPaused {
			t.Fatalf("workflow %+v, want paused", res)
		}
		if _, err := k.Resume(tctx, run, interopApproval{100, "Zoë \u2029"}); err != nil {
			t.Fatal(err)
		}
	} else if d := cmp.Diff(WorkflowResult[interopNote]{RunID: run.ID, State: ledger.RunComplete, Output: interopNote{interopText, 100}}, res); d != "" {
		t.Fatalf("replayed workflow (-want +got):\n%s", d)
	}
}

// interopLabelJSON is interopText as pydantic writes it in a string:
// raw, but for the tab.
const interopLabelJSON = "line\u2028sep\u2029end <b>&amp;</b> caf\u00e9 \u2713 del\x7f tab\\t"

// The same flow, run by the Python original and by the Go kernel with the
// same clock and ids, logs the same bytes: every event's canonical payload,
// stored payload_json and hash are equal. Each side then replays the
// other's log without calling the model or a tool and without appending.
func TestInteropSameFlowSameBytes(t *testing.T) {
	dir := seedDir(t)
	script, err := filepath.Abs("testdata/interop_flow.py")
	if err != nil {
		t.Fatal(err)
	}
	pyRows := runPython(t, dir, script, "write", filepath.Join(t.TempDir(), "python.db"))
	pyEvents := rowsToEvents(t, pyRows)

	model := interopModel()
	k, store := newTestKernel(t, model)
	registerMeasure(t, k, true)
	runInteropFlow(t, k, true)
	goEvents, err := store.Events(tctx, interopRun, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(goEvents) != len(pyEvents) || len(goEvents) != 13 {
		t.Fatalf("Go logged %d events, Python %d, want 13 each", len(goEvents), len(pyEvents))
	}
	for i, g := range goEvents {
		p := pyEvents[i]
		if g.Type != p.Type {
			t.Errorf("seq %d: Go logged %s, Python %s", g.Seq, g.Type, p.Type)
			continue
		}
		if gc, pc := ledger.CanonicalForm.Encode(g.Payload), ledger.CanonicalForm.Encode(p.Payload); !bytes.Equal(gc, pc) {
			t.Errorf("seq %d %s: canonical payloads differ\n    Go %s\nPython %s", g.Seq, g.Type, gc, pc)
		}
		if gs, ps := ledger.ColumnForm.Encode(g.Payload), pyRows[i].PayloadJSON; string(gs) != ps {
			t.Errorf("seq %d %s: payload_json differs\n    Go %s\nPython %s", g.Seq, g.Type, gs, ps)
		}
		type identity struct{ ID, Stamp, Hash string }
		if d := cmp.Diff(identity{p.ID, isotime.Format(p.Timestamp), p.Hash}, identity{g.ID, isotime.Format(g.Timestamp), g.Hash}); d != "" {
			t.Errorf("seq %d %s: the Go event differs from the Python one (-Python +Go):\n%s", g.Seq, g.Type, d)
		}
	}

	// Go replays the Python log.
	t.Run("go replays python", func(t *testing.T) {
		py := &sliceStore{events: pyEvents}
		model := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
			return llm.Response{}, errors.New("replay must not call the model")
		}}
		k := New(py, model)
		registerMeasure(t, k, false)
		runInteropFlow(t, k, false)
		if len(py.events) != len(pyEvents) || model.calls.Load() != 0 {
			t.Fatalf("replaying the Python log appended %d events, called the model %d times", len(py.events)-len(pyEvents), model.calls.Load())
		}
	})

	// Python replays the Go log.
	t.Run("python replays go", func(t *testing.T) {
		rows := filepath.Join(t.TempDir(), "go_rows.jsonl")
		if err := os.WriteFile(rows, eventsToRows(t, goEvents), 0o644); err != nil {
			t.Fatal(err)
		}
		out := runPythonRaw(t, dir, script, "replay", rows, filepath.Join(t.TempDir(), "replay.db"))
		type replayed struct{ Events, Appended int }
		var got replayed
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("Python replay of the Go log: %s (%v)", out, err)
		}
		if d := cmp.Diff(replayed{Events: 13}, got); d != "" {
			t.Fatalf("Python replay of the Go log, want 13 events and none appended (-want +got):\n%s", d)
		}
	})
}

// A ledger row as the Python original's SQLite store holds it.
type ledgerRow struct {
	RunID         string  `json:"run_id"`
	Seq           int64   `json:"seq"`
	EventID       string  `json:"event_id"`
	TenantID      string  `json:"tenant_id"`
	EventType     string  `json:"event_type"`
	PrevEventHash *string `json:"prev_event_hash"`
	EventHash     string  `json:"event_hash"`
	Timestamp     string  `json:"timestamp"`
	PayloadJSON   string  `json:"payload_json"`
}

func runPythonRaw(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("python3", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "src")+string(os.PathListSeparator)+
		filepath.Join(dir, ".deps/usr/lib/python3/dist-packages"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

func runPython(t *testing.T, dir string, args ...string) []ledgerRow {
	t.Helper()
	var rows []ledgerRow
	sc := bufio.NewScanner(bytes.NewReader(runPythonRaw(t, dir, args...)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row ledgerRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	return rows
}

func rowsToEvents(t *testing.T, rows []ledgerRow) []ledger.Event {
	t.Helper()
	var events []ledger.Event
	for _, row := range rows {
		p, err := ledger.DecodePayload(ledger.EventType(row.EventType), []byte(row.PayloadJSON))
		if err != nil {
			t.Fatalf("seq %d: %v", row.Seq, err)
		}
		ts, err := isotime.Parse(row.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		e := ledger.Event{ID: row.EventID, RunID: row.RunID, TenantID: row.TenantID, Seq: row.Seq,
			Type: ledger.EventType(row.EventType), Hash: row.EventHash, Timestamp: ts, Payload: p}
		if row.PrevEventHash != nil {
			e.PrevHash = *row.PrevEventHash
		}
		events = append(events, e)
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Fatal(err)
	}
	return events
}

func eventsToRows(t *testing.T, events []ledger.Event) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, e := range events {
		row := ledgerRow{RunID: e.RunID, Seq: e.Seq, EventID: e.ID, TenantID: e.TenantID, EventType: string(e.Type),
			EventHash: e.Hash, Timestamp: isotime.Format(e.Timestamp), PayloadJSON: string(ledger.ColumnForm.Encode(e.Payload))}
		if e.PrevHash != "" {
			row.PrevEventHash = &e.PrevHash
		}
		line, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
