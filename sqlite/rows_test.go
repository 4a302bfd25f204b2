package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/sqlite"
)

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opts []sqlite.Option
		sync string
		busy string
	}{
		{nil, "1", "10000"},
		{[]sqlite.Option{sqlite.WithSynchronous(sqlite.SyncFull), sqlite.WithBusyTimeout(1500 * time.Millisecond)}, "2", "1500"},
	} {
		s := openT(t, filepath.Join(t.TempDir(), "p.db"), tc.opts...)
		for name, want := range map[string]string{"synchronous": tc.sync, "busy_timeout": tc.busy, "journal_mode": "wal"} {
			if got, err := s.Pragma(ctx, name); err != nil || got != want {
				t.Errorf("PRAGMA %s = %q, %v; want %q", name, got, err, want)
			}
		}
	}
}

// TestBadRows checks that a damaged row is reported with the file, run,
// seq and what is wrong, by Events, Scan, Verify and Runs.
func TestBadRows(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, set, want string
	}{
		{"timestamp", `timestamp = 'yesterday'`, "column timestamp"},
		{"payload not JSON", `payload_json = '{"kind": '`, "column payload_json"},
		{"payload missing field", `payload_json = '{"kind": "pause_requested"}'`, "reason"},
		{"payload kind", `payload_json = '{"kind": "run_started"}'`, "does not match"},
		{"event type", `event_type = 'exploded'`, "unknown event type"},
		{"empty prev hash", `prev_event_hash = ''`, "prev_event_hash is an empty string"},
		{"NULL tenant", `tenant_id = NULL`, "NULL run_id or tenant_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.db")
			s := openT(t, path)
			for _, p := range []ledger.Payload{&ledger.RunStarted{}, &ledger.PauseRequested{Reason: "x"}, &ledger.PauseRequested{Reason: "y"}} {
				if _, err := s.Append(ctx, "r", "t", p); err != nil {
					t.Fatal(err)
				}
			}
			db := rawDB(t, path)
			if tc.name == "NULL tenant" {
				// The column is NOT NULL; a damaged file can still hold one.
				execSQL(t, db, `PRAGMA writable_schema = ON`,
					`UPDATE sqlite_master SET sql = replace(sql, 'tenant_id TEXT NOT NULL', 'tenant_id TEXT') WHERE name = 'kernel_events'`)
				db.Close()
				db = rawDB(t, path)
			}
			execSQL(t, db, `UPDATE kernel_events SET `+tc.set+` WHERE seq = 2`)
			check := func(what string, err error) {
				t.Helper()
				var se *sqlite.Error
				if !errors.As(err, &se) {
					t.Errorf("%s: err = %v; want a *sqlite.Error", what, err)
					return
				}
				if d := cmp.Diff(errorPlace{path, "r", 2}, placeOf(se)); d != "" {
					t.Errorf("%s: err = %v (-want +got):\n%s", what, err, d)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, path) || !strings.Contains(msg, "seq 2") {
					t.Errorf("%s: %q does not say %q, the file and the seq", what, msg, tc.want)
				}
			}
			_, err := s.Events(ctx, "r", 0)
			check("Events", err)
			check("Verify", s.Verify(ctx, "r"))
			if events, err := s.Events(ctx, "r", 2); err != nil || len(events) != 1 {
				t.Errorf("Events after the bad seq: %d events, %v", len(events), err)
			}
			if tc.name == "timestamp" {
				_, err := s.Runs(ctx)
				if err == nil {
					// seq 2 is neither first nor last; damage the last one too.
					execSQL(t, db, `UPDATE kernel_events SET timestamp = 'never' WHERE seq = 3`)
					_, err = s.Runs(ctx)
				}
				if err == nil || !strings.Contains(err.Error(), "seq 3") {
					t.Errorf("Runs with a bad last timestamp: %v", err)
				}
			}
		})
	}
}

func TestScan(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "s.db"))
	for _, run := range []string{"b", "a", "b", "a", "c"} {
		if _, err := s.Append(ctx, run, "t", &ledger.RunStarted{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err := s.ScanAll(ctx, func(e ledger.Event) error {
		got = append(got, e.RunID+string(rune('0'+e.Seq)))
		return nil
	})
	if err != nil || strings.Join(got, " ") != "a1 a2 b1 b2 c1" {
		t.Errorf("ScanAll order = %v, %v; want a1 a2 b1 b2 c1", got, err)
	}
	stop := errors.New("stop")
	n := 0
	err = s.Scan(ctx, "b", 0, func(ledger.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Scan with a failing callback: %v after %d calls; want stop after 1", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Scan(cctx, "b", 0, func(ledger.Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a cancelled context: %v", err)
	}
	if _, err := s.Runs(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Runs with a cancelled context: %v", err)
	}
	s.Close()
	if err := s.ScanAll(ctx, func(ledger.Event) error { return nil }); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("ScanAll after Close: %v", err)
	}
	if err := s.Verify(ctx, "a"); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Verify after Close: %v", err)
	}
	if err := s.Import(ctx, []ledger.Event{{RunID: "x"}}); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Import after Close: %v", err)
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x, y := importSource(t, filepath.Join(dir, "src.db"))
	dst := openT(t, filepath.Join(dir, "dst.db"))

	// A broken event in the middle: nothing is imported.
	tampered := append([]ledger.Event{}, x[:2]...)
	bad := y[1]
	bad.Payload = &ledger.WorkflowStepRequested{StepIndex: 99, StepName: "s"}
	tampered = append(tampered, y[0], bad)
	err := dst.Import(ctx, tampered)
	var se *sqlite.Error
	if !errors.As(err, &se) || !errors.Is(err, ledger.ErrChainBroken) {
		t.Fatalf("Import with a tampered event: %v; want a *sqlite.Error matching ErrChainBroken", err)
	}
	if d := cmp.Diff(errorPlace{se.Path, "y", 2}, placeOf(se)); d != "" {
		t.Errorf("Import with a tampered event: %v (-want +got):\n%s", err, d)
	}
	if !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("Import with a tampered event: %v does not say that nothing was imported", err)
	}
	assertRunCounts(t, dst, map[string]int64{})

	// Not starting at seq 1.
	if err := dst.Import(ctx, x[1:]); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("Import from seq 2 into an empty ledger: %v", err)
	}
	assertRunCounts(t, dst, map[string]int64{})

	// Part of run x and all of run y, then the rest of x continuing it.
	if err := dst.Import(ctx, append(append([]ledger.Event{}, x[:1]...), y...)); err != nil {
		t.Fatal(err)
	}
	if err := dst.Import(ctx, x[1:]); err != nil {
		t.Fatalf("Import continuing run x: %v", err)
	}
	assertRunCounts(t, dst, map[string]int64{"x": 3, "y": 2})
	got, err := dst.Events(ctx, "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(identities(x), identities(got)); d != "" {
		t.Errorf("imported events, want the source's (-want +got):\n%s", d)
	}
	checkImportRefusals(t, dst, x)
	assertRunCounts(t, dst, map[string]int64{"x": 3, "y": 2})
	// Appends continue imported chains.
	if _, err := dst.Append(ctx, "x", "tenant-x", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	assertGapless(t, dst, "x")
}

// importSource writes runs x (3 events) and y (2), interleaved, in a
// ledger at path and returns their events.
func importSource(t *testing.T, path string) (x, y []ledger.Event) {
	t.Helper()
	ctx := context.Background()
	src := openT(t, path)
	for i, run := range []string{"x", "y", "x", "x", "y"} {
		if _, err := src.Append(ctx, run, "tenant-"+run, &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	x, err := src.Events(ctx, "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	y, err = src.Events(ctx, "y", 0)
	if err != nil {
		t.Fatal(err)
	}
	return x, y
}

// checkImportRefusals checks that dst, which holds run x, refuses to
// import x's last event again, an event id it holds in another run, an
// event without run id, and imports nothing without complaint.
func checkImportRefusals(t *testing.T, dst *sqlite.Store, x []ledger.Event) {
	t.Helper()
	ctx := context.Background()
	if err := dst.Import(ctx, x[2:]); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("importing seq 3 again: %v", err)
	}
	dup := ledger.Event{ID: x[0].ID, RunID: "z", TenantID: "t", Seq: 1, Type: ledger.EventRunStarted,
		Timestamp: x[0].Timestamp, Payload: &ledger.RunStarted{}}
	dup.Hash = dup.ComputeHash()
	if err := dst.Import(ctx, []ledger.Event{dup}); err == nil || !strings.Contains(err.Error(), "already in the ledger") {
		t.Errorf("Import of a duplicate event id: %v", err)
	}
	if err := dst.Import(ctx, []ledger.Event{{}}); err == nil || !strings.Contains(err.Error(), "empty run id") {
		t.Errorf("Import of an event without run id: %v", err)
	}
	if err := dst.Import(ctx, nil); err != nil {
		t.Errorf("Import(nil) = %v", err)
	}
}

// assertRunCounts checks the runs of s and their numbers of events.
func assertRunCounts(t *testing.T, s *sqlite.Store, want map[string]int64) {
	t.Helper()
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]int64)
	for _, r := range runs {
		got[r.RunID] = r.Events
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("runs and their events (-want +got):\n%s", d)
	}
}

// errorPlace is where a *sqlite.Error says the problem is.
type errorPlace struct {
	Path, RunID string
	Seq         int64
}

func placeOf(se *sqlite.Error) errorPlace { return errorPlace{se.Path, se.RunID, se.Seq} }

// identity is what a store must keep of an event besides its payload:
// seq, id, hash and timestamp (as isoformat text, offset included).
type identity struct {
	Seq             int64
	ID, Hash, Stamp string
}

func identities(evs []ledger.Event) []identity {
	var out []identity
	for _, e := range evs {
		out = append(out, identity{e.Seq, e.ID, e.Hash, isotime.Format(e.Timestamp)})
	}
	return out
}
