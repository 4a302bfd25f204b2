package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
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
		if ok == tampered || !s.immutable {
			t.Errorf("%s: fast path proved it sound: %v (%+v), from its pages: %v", filepath.Base(path), ok, checks, s.immutable)
		}
		s.Close()

		// A copy opened for writing is read through SQLite.
		cp := filepath.Join(t.TempDir(), filepath.Base(path))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if s, err = Open(ctx, cp); err != nil {
			t.Fatal(err)
		}
		if checks, _, ok := s.verifyEachFast(ctx, nil, nil); ok == tampered || s.immutable {
			t.Errorf("%s, writable: fast path proved it sound: %v (%+v), from its pages: %v", filepath.Base(path), ok, checks, s.immutable)
		}
		s.Close()
	}
}

// TestPageFileReadsWhatSQLiteReads reads the table and the indexes of a
// ledger with small and spilling rows and keys (overflow chains),
// interleaved runs and trees of several levels straight from its pages,
// and compares every row and every index entry, in order, with what SQLite
// reads.
func TestPageFileReadsWhatSQLiteReads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	writeDeepLedger(t, path)
	s, err := Open(ctx, path, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.immutable {
		t.Fatal("the closed ledger was not opened as immutable")
	}
	pf, ok := openPageFile(s.abs)
	if !ok {
		t.Fatal("openPageFile refused the ledger")
	}
	defer pf.Close()
	want := sqliteTableRows(t, s)
	got := pageTableRows(t, s, pf)
	if len(got) != len(want) {
		t.Fatalf("read %d rows from the pages, SQLite reads %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d from the pages:\n%.300s\nSQLite reads:\n%.300s", i, got[i], want[i])
		}
	}
	if pf.visited < 100 {
		t.Errorf("the table has %d pages; want a tree of several levels", pf.visited)
	}
	// The indexes, entry by entry, in key order.
	for _, index := range []struct {
		name, query string
		withSeq     bool
	}{
		{indexRunSeq, `SELECT run_id, seq, rowid FROM kernel_events INDEXED BY ` + indexRunSeq + ` ORDER BY run_id, seq`, true},
		{indexPKey, `SELECT run_id, seq, rowid FROM kernel_events INDEXED BY ` + indexPKey + ` ORDER BY run_id, seq`, true},
		{indexID, `SELECT event_id, 0, rowid FROM kernel_events INDEXED BY ` + indexID + ` ORDER BY event_id`, false},
	} {
		want := sqliteIndexEntries(t, s, index.query)
		got := pageIndexEntries(t, s, pf, index.name, index.withSeq)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d entries from the pages, %d from SQLite, or in another order", index.name, len(got), len(want))
		}
	}
	if ok, n := s.VerifyFast(ctx); !ok || n != 3000 {
		t.Errorf("VerifyFast = %v, %d events; want true, 3000", ok, n)
	}
}

// writeDeepLedger writes a ledger of 3000 events at path whose table and
// indexes are trees of several levels, with payloads and run ids that
// spill over to overflow pages.
func writeDeepLedger(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		text := strings.Repeat("x", i%7*(1+i%1000)*(1+i%3))
		if i%500 == 7 {
			text = strings.Repeat("big ", 30_000) // spills over many pages
		}
		run := fmt.Sprint("run-", i%3)
		if i%4 == 3 {
			run = strings.Repeat("long run id ", 250) // spills from index pages
		}
		if _, err := s.Append(ctx, run, "t", &ledger.ModelCompleted{Model: "m", OutputJSON: `"` + text + `"`}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// sqliteTableRows returns the rows of s's table as SQLite reads them, in
// rowid order, one line each.
func sqliteTableRows(t *testing.T, s *Store) []string {
	t.Helper()
	var want []string
	rows, err := s.db.QueryContext(context.Background(), `SELECT rowid, `+columns+` FROM kernel_events ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rowid, seq                              int64
			run, id, tenant, typ, hash, ts, payload string
			prev                                    *string
		)
		if err := rows.Scan(&rowid, &run, &seq, &id, &tenant, &typ, &prev, &hash, &ts, &payload); err != nil {
			t.Fatal(err)
		}
		p := "NULL"
		if prev != nil {
			p = *prev
		}
		want = append(want, fmt.Sprintln(rowid, run, seq, id, tenant, typ, p, hash, ts, payload))
	}
	return want
}

// pageTableRows returns the rows of s's table as pf reads them from the
// pages, in the form of sqliteTableRows.
func pageTableRows(t *testing.T, s *Store, pf *pageFile) []string {
	t.Helper()
	var root int64
	if err := s.db.QueryRowContext(context.Background(), `SELECT rootpage FROM sqlite_master WHERE name = 'kernel_events'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	var got []string
	var r ledgerRecord
	ok := pf.scanTable(uint32(root), func(rowid int64, record []byte) bool {
		if !splitRecord(record, &r) {
			t.Errorf("row %d: splitRecord refused its record", rowid)
			return false
		}
		p := r.prevHash
		if r.prevNull {
			p = "NULL"
		}
		got = append(got, fmt.Sprintln(rowid, r.runID, r.seq, r.eventID, r.tenantID, r.eventType, p, r.hash, r.timestamp, r.payload))
		return true
	})
	if !ok {
		t.Fatal("scanTable did not read the whole table")
	}
	return got
}

// sqliteIndexEntries returns the entries query reads from an index (key,
// seq, rowid), one string each.
func sqliteIndexEntries(t *testing.T, s *Store, query string) []string {
	t.Helper()
	var want []string
	rows, err := s.db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var x indexEntry
		if err := rows.Scan(&x.text, &x.seq, &x.rowid); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprint(x))
	}
	return want
}

// pageIndexEntries returns the entries of the index name as pf reads them
// from the pages, in the form of sqliteIndexEntries.
func pageIndexEntries(t *testing.T, s *Store, pf *pageFile, name string, withSeq bool) []string {
	t.Helper()
	var root int64
	if err := s.db.QueryRowContext(context.Background(), `SELECT rootpage FROM sqlite_master WHERE name = ?`, name).Scan(&root); err != nil {
		t.Fatal(err)
	}
	var got []string
	var x indexEntry
	if !pf.scanIndex(uint32(root), func(rec []byte) bool {
		if !splitIndexRecord(rec, withSeq, &x) {
			t.Errorf("%s: splitIndexRecord refused an entry", name)
			return false
		}
		got = append(got, fmt.Sprint(x))
		return true
	}) {
		t.Fatalf("%s: scanIndex did not read the whole index", name)
	}
	return got
}

// FuzzPageFile changes bytes of a small ledger (up to four, at offsets the
// fuzzer picks) and reads its table and indexes from the pages as the fast
// path of verify does: whatever the bytes, the reader returns (no panic, no
// endless loop), and the fast path never proves sound a file whose rows or
// index entries SQLite reads differently.
func FuzzPageFile(f *testing.F) {
	ctx := context.Background()
	clean := filepath.Join(f.TempDir(), "clean.db")
	writeSmallLedger(f, clean)
	orig, err := os.ReadFile(clean)
	if err != nil {
		f.Fatal(err)
	}
	want := ledgerContents(ctx, clean)
	f.Add(uint32(4096+3), []byte{0xff})
	f.Add(uint32(100), []byte{0x0a, 0x00, 0x00, 0x09})
	f.Add(uint32(len(orig)-200), []byte("zz"))
	f.Fuzz(func(t *testing.T, at uint32, b []byte) {
		if len(b) == 0 || len(b) > 4 {
			return
		}
		data := slices.Clone(orig)
		at %= uint32(len(data))
		copy(data[at:], b)
		path := filepath.Join(t.TempDir(), "m.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, path, ReadOnly(), SkipFileCheck())
		if err != nil {
			return
		}
		ok, _ := s.VerifyFast(ctx)
		s.Close()
		if ok && ledgerContents(ctx, path) != want {
			t.Fatalf("bytes %x at %d: the fast path proves sound a file SQLite reads differently", b, at)
		}
	})
}

// writeSmallLedger writes a ledger of 40 events in two runs at path, a few
// of whose payloads spill over to overflow pages.
func writeSmallLedger(tb testing.TB, path string) {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 40 {
		text := strings.Repeat("x", i*i*5)
		if _, err := s.Append(ctx, fmt.Sprint("run-", i%2), "t", &ledger.ModelCompleted{Model: "m", OutputJSON: `"` + text + `"`}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// ledgerContents returns what SQLite reads of the ledger at path: its rows
// without the indexes, the entries of each index, and integrity_check's
// findings (or the error of each read).
func ledgerContents(ctx context.Context, path string) string {
	s, err := Open(ctx, path, ReadOnly(), SkipFileCheck())
	if err != nil {
		return "open: " + err.Error()
	}
	defer s.Close()
	var b strings.Builder
	for _, q := range []string{
		`SELECT rowid, ` + columns + ` FROM kernel_events NOT INDEXED ORDER BY rowid`,
		`SELECT run_id, seq, rowid FROM kernel_events INDEXED BY ` + indexRunSeq + ` WHERE run_id >= '' ORDER BY run_id, seq`,
		`SELECT run_id, seq, rowid FROM kernel_events INDEXED BY ` + indexPKey + ` WHERE run_id >= '' ORDER BY run_id, seq`,
		`SELECT event_id, rowid FROM kernel_events INDEXED BY ` + indexID + ` WHERE event_id >= '' ORDER BY event_id`,
		`PRAGMA integrity_check`,
	} {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			fmt.Fprintln(&b, err)
			continue
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				fmt.Fprintln(&b, err)
				break
			}
			fmt.Fprintf(&b, "%q\n", vals)
		}
		fmt.Fprintln(&b, rows.Err())
		rows.Close()
	}
	return b.String()
}

// TestVerifyEachCancelled cancels VerifyEach while it verifies, from its
// progress callback: it returns the context's error, calls fn for no run,
// and leaves no goroutine behind, read from the file or through SQLite.
func TestVerifyEachCancelled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		if _, err := s.Append(ctx, fmt.Sprint("run-", i%2), "t", &ledger.ModelCompleted{Model: "m", OutputJSON: `"ok"`}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]Option{{ReadOnly()}, nil} {
		s, err := Open(ctx, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		cctx, cancel := context.WithCancel(ctx)
		events, runs := 0, 0
		err = s.VerifyEach(cctx, nil, func(RunCheck) error { runs++; return nil }, func() {
			if events++; events == 500 {
				cancel()
			}
		})
		cancel()
		if !errors.Is(err, context.Canceled) || runs != 0 {
			t.Errorf("read-only %v: VerifyEach = %v after %d runs; want context.Canceled and no run", opts != nil, err, runs)
		}
		s.Close()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("read-only %v: %d goroutines after VerifyEach, %d before", opts != nil, n, before)
		}
	}
}
