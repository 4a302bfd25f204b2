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

	model := &fakeModel{CompleteFn: func(context.Context, ModelRequest) (ModelResponse, error) {
		return ModelResponse{}, errors.New("replay must not call the model")
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
	wantFirst := first // the tool call's arguments are checked below
	wantFirst.FromLog, wantFirst.Seq, wantFirst.Output = true, 3, Decision{true, "ok: Approve transfer, café 🚀"}
	wantFirst.Usage = Usage{PromptTokens: 12, CompletionTokens: 6, CostUSD: 0.01}
	if d := cmp.Diff(wantFirst, first); d != "" {
		t.Fatalf("first model step (-want +got):\n%s", d)
	}
	if len(first.ToolCalls) != 1 || first.ToolCalls[0].ArgumentsJSON != `{"account_id":"acc_1","amount":"10.00"}` {
		t.Fatalf("first model step's tool calls %+v", first.ToolCalls)
	}
	second, err := StepModel[Decision](tctx, k, run, ModelStep{Model: "fake-model", Prompt: "Second question"})
	if err != nil || !second.FromLog || second.Seq != 5 || second.Output.Reason != "ok: Second question" {
		t.Fatalf("second model step %+v, %v", second, err)
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
	if err != nil || !second2.FromLog || second2.Seq != 10 || second2.IdempotencyKey != idempotencyKey("seed_run", "", 9) {
		t.Fatalf("tool step without step key %+v, %v", second2, err)
	}
	if model.calls.Load() != 0 || len(store.events) != 10 {
		t.Fatalf("replay called the model %d times or appended (%d events)", model.calls.Load(), len(store.events))
	}
}
