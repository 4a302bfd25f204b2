package cassettes_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
)

var update = flag.Bool("cassettes.update", false, "rewrite the golden cassettes under testdata/")

// smallRun appends a short run of varied events to a deterministic store
// in dir and returns the store and the path of the run's cassette.
func smallRun(t testing.TB, dir string) (*cassettes.Store, string) {
	t.Helper()
	s, err := cassettes.OpenStore(dir,
		ledger.WithEventClock(artanatest.SteppingClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), 1500*time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "fake-model", Prompt: "Summarise: Café 漢字 😀",
			Messages:     []ledger.ChatMessage{{Role: "user", Content: "Summarise: Café 漢字 😀"}},
			AllowedTools: []string{"lookup"}, StepKey: new("summary")},
		&ledger.ModelCompleted{Model: "fake-model", OutputJSON: `{"summary":"ok"}`, PromptTokens: 12, CompletionTokens: 3, CostUSD: 1e-05,
			ToolCalls: []ledger.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":"café"}`}}},
		&ledger.ToolRequested{ToolName: "lookup", ArgumentsJSON: `{"q":"caf\u00e9"}`, IdempotencyKey: "k-1",
			ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion},
		&ledger.ToolCompleted{ToolName: "lookup", ResultJSON: `{"hits":2}`, Outcome: ledger.OutcomeSuccess,
			ReceivedIdempotencyKey: new("k-1"), RequestID: new("00000000000000000000000000000004")},
	} {
		if _, err := s.Append(ctx, "golden/run ü", "acme", p); err != nil {
			t.Fatal(err)
		}
	}
	return s, s.Path("golden/run ü")
}

func TestGoldenCassetteBytes(t *testing.T) {
	s, path := smallRun(t, t.TempDir())
	defer s.Close()
	if base := filepath.Base(path); !strings.HasPrefix(base, "golden_run__-") || !strings.HasSuffix(base, ".jsonl") {
		t.Errorf("file name %q: want golden_run__-<hash>.jsonl", base)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "small_run.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./cassettes -run TestGoldenCassetteBytes -cassettes.update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("cassette bytes differ from %s; if the format change is intended, run go test ./cassettes -run TestGoldenCassetteBytes -cassettes.update\ngot:\n%s", golden, got)
	}
	// The golden file itself reads back and verifies.
	h, events, err := cassettes.ReadEvents(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Meta["run_id"]; got != "golden/run ü" {
		t.Errorf("golden header names run %q, want golden/run ü", got)
	}
	if len(events) != 5 {
		t.Errorf("golden file holds %d events, want 5", len(events))
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Error(err)
	}
	// The hashes are the ones any other store computes for the same events.
	mem := ledger.NewMemStore(
		ledger.WithEventClock(artanatest.SteppingClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), 1500*time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
	for i, e := range events {
		m, err := mem.Append(context.Background(), e.RunID, e.TenantID, e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if m.Hash != e.Hash {
			t.Errorf("seq %d: cassette hash %s, MemStore hash %s", i+1, e.Hash, m.Hash)
		}
	}
}
