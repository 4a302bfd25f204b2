package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/sqlite"
	"github.com/google/go-cmp/cmp"
)

// expectedLedgers is testdata/seed/expected.json, written by
// gen_seed_ledgers.py from what the Python original read back.
type expectedLedgers struct {
	Ledgers map[string]struct {
		Runs     map[string]expectedRun `json:"runs"`
		Verifies bool                   `json:"verifies"`
		Tampered *expectedTamper        `json:"tampered"`
	} `json:"ledgers"`
}

// expectedRun is what the Python original read of a run of a seed ledger.
type expectedRun struct {
	Events   int64    `json:"events"`
	TenantID string   `json:"tenant_id"`
	LastHash string   `json:"last_hash"`
	Types    []string `json:"types"`
}

// expectedTamper names the run of a tampered seed ledger and the seq at
// which its chain breaks.
type expectedTamper struct {
	RunID string `json:"run_id"`
	Seq   int64  `json:"seq"`
}

func readExpected(t *testing.T) expectedLedgers {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expectedLedgers
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatalf("testdata/seed/expected.json: %v", err)
	}
	return exp
}

// dirSnapshot returns the names and contents of the files in dir.
func dirSnapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

func sameSnapshot(t *testing.T, before, after map[string][]byte) {
	t.Helper()
	for name, data := range after {
		old, ok := before[name]
		switch {
		case !ok:
			t.Errorf("file %s was created", name)
		case !bytes.Equal(old, data):
			t.Errorf("file %s was modified", name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("file %s was removed", name)
		}
	}
}

// TestSeedLedgers reads every ledger the Python original wrote: each run
// loads and verifies, matches what Python read, and the read-only open
// leaves the files as they were.
func TestSeedLedgers(t *testing.T) {
	ctx := context.Background()
	exp := readExpected(t)
	dir := filepath.Join("testdata", "seed")
	before := dirSnapshot(t, dir)
	if len(exp.Ledgers) < 8 {
		t.Fatalf("expected.json lists %d ledgers, want at least 8", len(exp.Ledgers))
	}
	seen := make(map[ledger.EventType]bool)
	for name, want := range exp.Ledgers {
		t.Run(name, func(t *testing.T) {
			s, err := sqlite.Open(ctx, filepath.Join(dir, name), sqlite.ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			runs, err := s.Runs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want.Tampered != nil {
				checkTamperedSeed(t, s, runs, want.Tampered)
				return
			}
			if len(runs) != len(want.Runs) {
				t.Fatalf("Runs() = %d runs, want %d", len(runs), len(want.Runs))
			}
			for _, r := range runs {
				w, ok := want.Runs[r.RunID]
				if !ok {
					t.Fatalf("unexpected run %q", r.RunID)
				}
				checkSeedRun(t, s, r, w, seen)
			}
		})
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
	sameSnapshot(t, before, dirSnapshot(t, dir))
}

// checkTamperedSeed checks that Verify reports the chain of the tampered
// run of a seed ledger broken where the Python original found it broken,
// and finds the other runs sound.
func checkTamperedSeed(t *testing.T, s *sqlite.Store, runs []ledger.RunInfo, want *expectedTamper) {
	t.Helper()
	ctx := context.Background()
	err := s.Verify(ctx, want.RunID)
	var ce *ledger.ChainError
	if !errors.As(err, &ce) {
		t.Fatalf("Verify(%q) = %v; want a chain error", want.RunID, err)
	}
	if d := cmp.Diff(ledger.ChainError{RunID: want.RunID, Seq: want.Seq, Reason: ce.Reason}, *ce); d != "" {
		t.Fatalf("Verify(%q) = %v (-want +got):\n%s", want.RunID, err, d)
	}
	for _, r := range runs {
		if r.RunID != want.RunID {
			if err := s.Verify(ctx, r.RunID); err != nil {
				t.Errorf("untampered run %q: %v", r.RunID, err)
			}
		}
	}
}

// checkSeedRun checks a run of a seed ledger, as Runs listed it (r),
// against what the Python original read (w): its events, types, chain and
// time span. It notes the types of its events in seen.
func checkSeedRun(t *testing.T, s *sqlite.Store, r ledger.RunInfo, w expectedRun, seen map[ledger.EventType]bool) {
	t.Helper()
	ctx := context.Background()
	wantRun := r // First and Last are checked against the events below
	wantRun.Events, wantRun.TenantID, wantRun.LastHash = w.Events, w.TenantID, w.LastHash
	if d := cmp.Diff(wantRun, r); d != "" {
		t.Errorf("run %q: Runs() (-want +got):\n%s", r.RunID, d)
	}
	events, err := s.Events(ctx, r.RunID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Errorf("VerifyChain: %v", err)
	}
	if err := s.Verify(ctx, r.RunID); err != nil {
		t.Errorf("Verify: %v", err)
	}
	var types []string
	for _, e := range events {
		types = append(types, string(e.Type))
		seen[e.Type] = true
	}
	if !slices.Equal(types, w.Types) {
		t.Errorf("run %q: types %v, want %v", r.RunID, types, w.Types)
	}
	span := func(first, last time.Time) []string { return []string{isotime.Format(first), isotime.Format(last)} }
	if d := cmp.Diff(span(events[0].Timestamp, events[len(events)-1].Timestamp), span(r.First, r.Last)); d != "" {
		t.Errorf("run %q: first and last, want the events' timestamps (-want +got):\n%s", r.RunID, d)
	}
}

// TestSeedLedgerRoundTrip re-serialises every seed row as this package
// stores it and checks the columns are the ones Python wrote.
func TestSeedLedgerRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"unicode_text.db", "cost_floats.db", "timestamps_fixed_clock.db", "tool_outcomes.db", "workflow.db"} {
		path := filepath.Join("testdata", "seed", name)
		s, err := sqlite.Open(ctx, path, sqlite.ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		got := make(map[string][2]string) // event id -> timestamp, payload_json
		err = s.ScanAll(ctx, func(e ledger.Event) error {
			got[e.ID] = [2]string{isotime.Format(e.Timestamp), string(ledger.ColumnForm.Encode(e.Payload))}
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`SELECT event_id, timestamp, payload_json FROM kernel_events`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var id, ts, pl string
			if err := rows.Scan(&id, &ts, &pl); err != nil {
				t.Fatal(err)
			}
			n++
			if g := got[id]; g[0] != ts || g[1] != pl {
				t.Errorf("%s event %s:\n python ts %s payload %s\n go     ts %s payload %s", name, id, ts, pl, g[0], g[1])
			}
		}
		rows.Close()
		db.Close()
		if n != len(got) || n == 0 {
			t.Errorf("%s: %d rows, ScanAll gave %d events", name, n, len(got))
		}
	}
}

// TestSchemaMatchesSeed checks that a ledger created here has the same
// table and index text in sqlite_master as one the Python original created.
func TestSchemaMatchesSeed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	schema := func(path string) string {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b bytes.Buffer
		for rows.Next() {
			var typ, name, text string
			if err := rows.Scan(&typ, &name, &text); err != nil {
				t.Fatal(err)
			}
			b.WriteString(typ + " " + name + "\n" + text + "\n")
		}
		return b.String()
	}
	got, want := schema(path), schema(filepath.Join("testdata", "seed", "workflow.db"))
	if got != want {
		t.Errorf("schema differs from the seed's:\n got:\n%s\n want:\n%s", got, want)
	}
	head, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if head[18] != 2 || head[19] != 2 {
		t.Errorf("file header bytes 18-19 = %d %d, want 2 2 (WAL)", head[18], head[19])
	}
}
