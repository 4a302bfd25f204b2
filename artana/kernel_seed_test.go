package artana

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/internal/original"
	"github.com/google/go-cmp/cmp"
)

func TestSeedSkipMessage(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "### Interoperability tests") {
		t.Errorf("README.md has no section \"Interoperability tests\", which the skip message names")
	}
	if strings.Contains(original.SkipMessage, "/work/") || strings.Contains(original.SkipMessage, "prepare_seed") {
		t.Errorf("the skip message names a path of one machine: %s", original.SkipMessage)
	}
}

// seedDir returns the prepared Python original, or skips the test.
func seedDir(t *testing.T) string { return original.Dir(t) }

// A run written by the Python original replays in the Go kernel, given the
// same inputs, without calling the model or a tool and without appending.
func TestReplaySeedWrittenRun(t *testing.T) {
	dir := seedDir(t)
	script, err := filepath.Abs("testdata/kernel_seed_run.py")
	if err != nil {
		t.Fatal(err)
	}
	store := &sliceStore{events: rowsToEvents(t, runPython(t, dir, script, filepath.Join(t.TempDir(), "ledger.db")))}
	if err := ledger.VerifyChain(store.events); err != nil {
		t.Fatal(err)
	}
	if len(store.events) != 10 {
		t.Fatalf("the seed wrote %d events, want 10", len(store.events))
	}

	model := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{}, errors.New("replay must not call the model")
	}}
	k := New(store, model)
	if err := RegisterTool(k.Tools(), "submit_transfer", func(context.Context, TransferArgs) (json.RawMessage, error) {
		return nil, errors.New("replay must not run the tool")
	}, WithCapability("finance:write")); err != nil {
		t.Fatal(err)
	}
	tenant := Tenant{ID: "org_seed", Capabilities: []string{"finance:write"}, BudgetUSD: 1}
	run, err := k.LoadRun(tctx, tenant, "seed_run")
	if err != nil {
		t.Fatal(err)
	}

	first, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "fake-model", Prompt: "Approve transfer, café 🚀", StepKey: "decision.v1"})
	if err != nil {
		t.Fatal(err)
	}
	// The Python original's fake model asks for the same transfer each time.
	calls := []ledger.ToolCall{{ToolName: "submit_transfer", ArgumentsJSON: `{"account_id":"acc_1","amount":"10.00"}`}}
	wantFirst := first // the output JSON is checked through Output
	wantFirst.RunID, wantFirst.FromLog, wantFirst.Seq, wantFirst.Output = "seed_run", true, 3, Decision{true, "ok: Approve transfer, café 🚀"}
	wantFirst.Usage, wantFirst.ToolCalls, wantFirst.Drift = llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}, calls, nil
	if d := cmp.Diff(wantFirst, first); d != "" {
		t.Fatalf("first model step (-want +got):\n%s", d)
	}
	second, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "fake-model", Prompt: "Second question"})
	if err != nil {
		t.Fatal(err)
	}
	wantSecond := second // the output JSON is checked through Output
	wantSecond.RunID, wantSecond.FromLog, wantSecond.Seq, wantSecond.Output = "seed_run", true, 5, Decision{true, "ok: Second question"}
	wantSecond.Usage, wantSecond.ToolCalls, wantSecond.Drift = llm.Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}, calls, nil
	if d := cmp.Diff(wantSecond, second); d != "" {
		t.Fatalf("second model step (-want +got):\n%s", d)
	}

	transfer, err := k.StepTool(tctx, run, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"acc_1", "10.00"}, StepKey: "transfer.acc_1.v1"})
	if err != nil {
		t.Fatalf("reconciled tool step: %v", err)
	}
	wantTransfer := ToolResult{RunID: "seed_run", Seq: 8, Tool: "submit_transfer", FromLog: true,
		ResultJSON:     `{"status": "submitted", "account_id": "acc_1", "amount": "10.00"}`,
		IdempotencyKey: idempotencyKey("seed_run", "transfer.acc_1.v1", 0)}
	if d := cmp.Diff(wantTransfer, transfer); d != "" {
		t.Fatalf("reconciled tool step (-want +got):\n%s", d)
	}
	second2, err := k.StepTool(tctx, run, ToolStep{Tool: "submit_transfer", Args: TransferArgs{"acc_2", "5"}})
	if err != nil {
		t.Fatal(err)
	}
	wantSecond2 := second2 // the result is the Python original's
	wantSecond2.RunID, wantSecond2.Seq, wantSecond2.Tool, wantSecond2.FromLog = "seed_run", 10, "submit_transfer", true
	wantSecond2.IdempotencyKey, wantSecond2.Drift = idempotencyKey("seed_run", "", 9), nil
	if d := cmp.Diff(wantSecond2, second2); d != "" {
		t.Fatalf("tool step without step key (-want +got):\n%s", d)
	}
	if n := model.calls.Load(); n != 0 {
		t.Fatalf("replay called the model %d times", n)
	}
	if n := len(store.events); n != 10 {
		t.Fatalf("replay appended: %d events, want 10", n)
	}
}
