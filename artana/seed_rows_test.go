package artana_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/original"
)

// TestSeedLedgersVerify verifies every run of every ledger the Python
// original wrote (../sqlite/testdata/seed, dumped to testdata/seed_rows), and
// checks that the payload column written back is byte-identical.
func TestSeedLedgersVerify(t *testing.T) {
	files, err := filepath.Glob("testdata/seed_rows/*.jsonl")
	if err != nil || len(files) < 8 {
		t.Fatalf("found %d dumped ledgers (%v), want 8", len(files), err)
	}
	seen := map[ledger.EventType]bool{}
	for _, file := range files {
		tampered := strings.Contains(file, "tampered")
		runs, columns, order := original.ReadRows(t, file)
		for _, runID := range order {
			events := runs[runID]
			err := ledger.VerifyChain(events)
			if tampered && runID == "chat_run_1" {
				var ce *ledger.ChainError
				if !errors.As(err, &ce) || ce.Seq != 3 || !strings.Contains(ce.Reason, "hash mismatch") {
					t.Errorf("%s run %s: VerifyChain = %v, want a hash mismatch at seq 3", file, runID, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", file, err)
			}
			for i := range events {
				seen[events[i].Type] = true
				if got := string(ledger.ColumnForm.Encode(events[i].Payload)); got != columns[&events[i]] {
					t.Errorf("%s run %s seq %d: payload_json written back differs:\n got %s\nwant %s",
						file, runID, events[i].Seq, got, columns[&events[i]])
				}
			}
		}
	}
	for _, typ := range []ledger.EventType{
		ledger.EventRunStarted, ledger.EventResumeRequested, ledger.EventModelRequested, ledger.EventModelCompleted,
		ledger.EventToolRequested, ledger.EventToolCompleted, ledger.EventPauseRequested,
		ledger.EventWorkflowStepRequested, ledger.EventWorkflowStepCompleted,
	} {
		if !seen[typ] {
			t.Errorf("no seed ledger has a %s event", typ)
		}
	}
}
