package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/sqlite"
)

// ledgerContent is what a ledger file holds, read without the store: the
// rows as the table holds them, the rows as reads through the index find
// them, and SQLite's thorough integrity_check. A byte changed where it
// changes none of these changed nothing stored (free space, a counter in
// the file header).
func ledgerContent(path string) string {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return "open: " + err.Error()
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		`SELECT ` + `rowid, run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, timestamp, payload_json FROM kernel_events NOT INDEXED ORDER BY rowid`,
		`SELECT ` + `rowid, run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, timestamp, payload_json FROM kernel_events INDEXED BY idx_kernel_events_run_seq WHERE run_id > '' ORDER BY run_id, seq`,
		`SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name`,
		`PRAGMA integrity_check`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", q, err)
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
				fmt.Fprintf(&b, "scan: %v\n", err)
				break
			}
			fmt.Fprintf(&b, "%q\n", vals)
		}
		if err := rows.Err(); err != nil {
			fmt.Fprintf(&b, "rows: %v\n", err)
		}
		rows.Close()
	}
	return b.String()
}

// verifyReport opens the ledger read-only and verifies every run, as
// artana-replay verify does. It returns the problems found: the open or
// file-level error, or one line per failing run.
func verifyReport(path string) (problems []string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := sqlite.Open(ctx, path, sqlite.ReadOnly())
	if err != nil {
		return []string{err.Error()}, nil
	}
	defer s.Close()
	verr := s.VerifyEach(ctx, nil, func(c sqlite.RunCheck) error {
		if c.Err == nil {
			return nil
		}
		var ce *ledger.ChainError
		var se *sqlite.Error
		switch {
		case c.RunID == "":
			// Damage of the file, not of one run.
			if !errors.Is(c.Err, sqlite.ErrDamaged) || !strings.Contains(c.Err.Error(), path) {
				return fmt.Errorf("file-level finding that is not ErrDamaged naming the file: %v", c.Err)
			}
		case errors.As(c.Err, &ce):
			if ce.RunID == "" || ce.Seq <= 0 {
				return fmt.Errorf("run %q: a chain error without run and seq: %v", c.RunID, c.Err)
			}
		case errors.As(c.Err, &se):
			if se.RunID == "" {
				return fmt.Errorf("run %q: an error that does not name the run: %v", c.RunID, c.Err)
			}
		default:
			return fmt.Errorf("run %q: an error that names neither run nor seq: %v", c.RunID, c.Err)
		}
		problems = append(problems, c.Err.Error())
		return nil
	}, nil)
	if verr != nil {
		if strings.Contains(verr.Error(), "finding that") || strings.Contains(verr.Error(), "an error that") {
			return nil, verr
		}
		if !strings.Contains(verr.Error(), path) {
			return nil, fmt.Errorf("a verify error that does not name the file: %v", verr)
		}
		problems = append(problems, verr.Error())
	}
	return problems, nil
}

// fastProves reports whether the fast path of VerifyEach alone proves the
// ledger sound (it leaves anything else to the thorough path), reading it
// from its pages (opened ReadOnly), or through SQLite (a copy opened for
// writing).
func fastProves(path string) (pages, rows bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s, err := sqlite.Open(ctx, path, sqlite.ReadOnly(), sqlite.SkipFileCheck()); err == nil {
		pages, _ = s.VerifyFast(ctx)
		s.Close()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return pages, false
	}
	cp := path + ".copy"
	defer func() {
		for _, p := range []string{cp, cp + "-wal", cp + "-shm"} {
			os.Remove(p)
		}
	}()
	if err := os.WriteFile(cp, data, 0o644); err != nil {
		return pages, false
	}
	if s, err := sqlite.Open(ctx, cp, sqlite.SkipFileCheck()); err == nil {
		rows, _ = s.VerifyFast(ctx)
		s.Close()
	}
	return pages, rows
}

// TestTamperCampaignSQLite changes one random byte of a ledger this
// package wrote, a few hundred times (deterministic seed): every change
// that alters what the file stores is reported (by Open, by the file check
// or by a run's verification, naming run and seq), none passes silently,
// nothing panics or hangs; the fast path of verify proves none of them
// sound (it leaves them to the thorough path). ARTANA_TAMPER_N sets the
// number of mutations (300 by default), ARTANA_TAMPER_SEED the seed (22).
func TestTamperCampaignSQLite(t *testing.T) {
	n := 300
	if v := os.Getenv("ARTANA_TAMPER_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	fixtureLedger(t, clean)
	orig, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	want := ledgerContent(clean)
	if p, err := verifyReport(clean); err != nil || len(p) > 0 {
		t.Fatalf("the clean ledger: %v %v", p, err)
	}
	seed := uint64(22)
	if v := os.Getenv("ARTANA_TAMPER_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	rng := rand.New(rand.NewPCG(seed, 22))
	path := filepath.Join(dir, "m.db")
	stats := map[string]int{}
	for i := range n {
		data, at, old := mutateByte(rng, orig)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, ok := verifyMutated(path, want)
		if !ok {
			t.Fatalf("mutation %d (byte %d: %#x -> %#x): verify did not return within 20s", i, at, old, data[at])
		}
		desc := fmt.Sprintf("mutation %d (byte %d of %d, page %d: %#x -> %#x)", i, at, len(data), at/4096+1, old, data[at])
		r.tally(t, desc, stats)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	}
	t.Logf("%d single-byte mutations of a %d-byte ledger: %v", n, len(orig), stats)
}

// mutateByte returns a copy of orig with the byte at a random offset, at,
// changed from old to another value.
func mutateByte(rng *rand.Rand, orig []byte) (data []byte, at int, old byte) {
	data = slices.Clone(orig)
	at = rng.IntN(len(data))
	old = data[at]
	data[at] = byte(rng.IntN(255))
	if data[at] >= old {
		data[at]++
	}
	return data, at, old
}

// A tamperResult is what verify and its fast path make of a mutated
// ledger, and whether SQLite reads other contents from it.
type tamperResult struct {
	problems []string
	err      error
	changed  bool
	pages    bool // the fast path alone proved the file sound, from its pages
	rows     bool // or through SQLite
}

// verifyMutated verifies the ledger at path, asks the fast path whether
// it proves it sound, and compares what SQLite reads of it with want, on
// a goroutine of its own (a panic is returned as the error). It reports
// false if that took more than 20 s.
func verifyMutated(path, want string) (tamperResult, bool) {
	done := make(chan tamperResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- tamperResult{err: fmt.Errorf("panic: %v", r)}
			}
		}()
		p, err := verifyReport(path)
		pages, rows := fastProves(path)
		done <- tamperResult{p, err, ledgerContent(path) != want, pages, rows}
	}()
	select {
	case r := <-done:
		return r, true
	case <-time.After(20 * time.Second):
		return tamperResult{}, false
	}
}

// tally fails the test if r, the outcome of the mutation desc, is a
// change verify missed or the fast path proved sound, and counts it in
// stats.
func (r tamperResult) tally(t *testing.T, desc string, stats map[string]int) {
	t.Helper()
	switch {
	case r.err != nil:
		t.Errorf("%s: %v", desc, r.err)
	case r.changed && len(r.problems) == 0:
		t.Errorf("%s changes what the file stores, and verify reports nothing", desc)
	case r.changed && (r.pages || r.rows):
		t.Errorf("%s changes what the file stores, and the fast path of verify proves it sound (from its pages %v, through SQLite %v)",
			desc, r.pages, r.rows)
	case r.changed:
		stats["changed, reported"]++
	case len(r.problems) > 0:
		stats["no stored change, reported anyway"]++
	default:
		stats["no stored change, nothing reported"]++
	}
	if r.pages {
		stats["proved sound by the fast path from the pages"]++
	}
	if r.rows {
		stats["proved sound by the fast path through SQLite"]++
	}
}
