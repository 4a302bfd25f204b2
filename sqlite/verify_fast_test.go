package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestTableDigestsInSQL checks that the digests SQLite sums up are those
// rowDigest.add sums up row by row, for rowids and seqs of any size and
// sign and run ids of either type.
func TestTableDigestsInSQL(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, r := range []struct {
		rowid, seq int64
		run        any
	}{
		{1, 1, "a"}, {2, 2, "a"}, {7, 1, "b"}, {1 << 40, 3, "a"}, {-5, 4, "a"}, {9, -3, "b"},
		{1<<62 + 12345, 1 << 50, "b"}, {-(1 << 62), 5, "a"}, {100, 1, 5}, {101, 2, "5"},
	} {
		_, err := s.db.ExecContext(ctx, `INSERT INTO kernel_events (rowid, run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, timestamp, payload_json)
			VALUES (?, ?, ?, ?, 't', 'run_started', NULL, 'h', '2024-01-01T00:00:00+00:00', '{}')`, r.rowid, r.run, r.seq, fmt.Sprint("id", i))
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, run := range []string{"", "a", "b", "5"} {
		fast, ok := s.tableDigestsFast(ctx, run)
		if !ok {
			t.Fatalf("tableDigestsFast(%q) fell back", run)
		}
		slow, err := s.tableDigestsScan(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("run %q: %d digests in SQL, %d row by row", run, len(fast), len(slow))
		}
		for id, d := range slow {
			if f := fast[id]; f == nil || *f != *d {
				t.Errorf("run %q: digest of %q in SQL %+v, row by row %+v", run, id, fast[id], *d)
			}
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE kernel_events SET seq = 'x' WHERE rowid = 1`); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.tableDigestsFast(ctx, ""); ok {
		t.Errorf("tableDigestsFast took a text seq")
	}
}

// TestSeedRunsVerifyFromStoredText checks that every run the Python
// original wrote verifies from its stored text, without the decoding
// path, and that the tampered one is left to it.
func TestSeedRunsVerifyFromStoredText(t *testing.T) {
	ctx := context.Background()
	paths, err := filepath.Glob(filepath.Join("testdata", "seed", "*.db"))
	if err != nil || len(paths) < 8 {
		t.Fatalf("seed ledgers: %v, %v", paths, err)
	}
	for _, path := range paths {
		s, err := Open(ctx, path, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		table, err := s.tableDigests(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for run, want := range table {
			n, ok, err := s.verifyRunStored(ctx, run, want, nil)
			tampered := strings.Contains(path, "tampered") && run == "chat_run_1"
			if ok == tampered || err != nil {
				t.Errorf("%s run %q: verifyRunStored = %d, %v, ok %v", filepath.Base(path), run, n, err, ok)
			}
		}
		s.Close()
	}
}

// TestVerifyFastProvesSoundLedgers checks that the fast path of VerifyEach
// proves the ledgers the tests write and the Python original's ledgers
// sound (the thorough path is only for damage), and leaves the tampered
// one to the thorough path.
func TestVerifyFastProvesSoundLedgers(t *testing.T) {
	ctx := context.Background()
	paths, err := filepath.Glob(filepath.Join("testdata", "seed", "*.db"))
	if err != nil || len(paths) < 8 {
		t.Fatalf("seed ledgers: %v, %v", paths, err)
	}
	for _, path := range paths {
		s, err := Open(ctx, path, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		checks, _, ok := s.verifyEachFast(ctx, nil, nil)
		tampered := strings.Contains(path, "tampered")
		if ok == tampered {
			t.Errorf("%s: fast path proved it sound: %v (%+v)", filepath.Base(path), ok, checks)
		}
		s.Close()
	}
}
