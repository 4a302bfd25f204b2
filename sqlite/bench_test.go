package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/sqlite"
)

func benchPayload() ledger.Payload {
	return &ledger.ModelCompleted{Model: "gpt-4o-mini", OutputJSON: `{"approved":true,"reason":"` + strings.Repeat("ok ", 40) + `"}`,
		PromptTokens: 120, CompletionTokens: 60, CostUSD: 0.00123}
}

// BenchmarkAppend measures one event per transaction through the store,
// beside raw single-row inserts of the same row with the same pragmas, so
// that the ratio of the two is measured in one run:
//
//	go test -run '^$' -bench 'Append' -benchtime 2000x ./sqlite/
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []sqlite.SyncMode{sqlite.SyncNormal, sqlite.SyncFull} {
		b.Run(string(mode)+"/store", func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.WithSynchronous(mode))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p := benchPayload()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Append(ctx, "bench", "tenant", p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(mode)+"/raw", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "raw.db")
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous("+string(mode)+")")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for _, q := range []string{"PRAGMA journal_mode = WAL", `CREATE TABLE kernel_events (
				run_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
				event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL, timestamp TEXT NOT NULL,
				payload_json TEXT NOT NULL, PRIMARY KEY (run_id, seq))`,
				`CREATE INDEX idx_kernel_events_run_seq ON kernel_events (run_id, seq)`} {
				if _, err := db.Exec(q); err != nil {
					b.Fatal(err)
				}
			}
			ins, err := db.Prepare(`INSERT INTO kernel_events (run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, timestamp, payload_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				b.Fatal(err)
			}
			defer ins.Close()
			payload := string(ledger.ColumnForm.Encode(benchPayload()))
			hash := strings.Repeat("ab", 32)
			ts := isotime.Format(time.Now())
			seq := int64(0)
			b.ResetTimer()
			for b.Loop() {
				seq++
				if _, err := ins.Exec("bench", seq, fmt.Sprintf("%032x", seq), "tenant", "model_completed", hash, hash, ts, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillRun appends n events to run through Import (one transaction) and
// returns the total size of their columns in bytes.
func fillRun(b *testing.B, s *sqlite.Store, run string, n int) int64 {
	b.Helper()
	ms := ledger.NewMemStore()
	var size int64
	for range n {
		e, err := ms.Append(context.Background(), run, "tenant", benchPayload())
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(e.ID) + len(e.RunID) + len(e.TenantID) + len(e.Type) + len(e.PrevHash) + len(e.Hash) +
			len(isotime.Format(e.Timestamp)) + len(ledger.ColumnForm.Encode(e.Payload)) + 8)
	}
	events, err := ms.Events(context.Background(), run, 0)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Import(context.Background(), events); err != nil {
		b.Fatal(err)
	}
	return size
}

// BenchmarkEventsIncremental reads the 10 events after a seq near the end
// of a 10,000-event run, as a follower polling a ledger does.
func BenchmarkEventsIncremental(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 10_000
	fillRun(b, s, "bench", n)
	b.ResetTimer()
	for b.Loop() {
		events, err := s.Events(ctx, "bench", n-10)
		if err != nil || len(events) != 10 {
			b.Fatal(len(events), err)
		}
	}
}

// loadVerifyLedger writes a 100,000-event run to a new ledger and
// returns the path and the size of the rows' columns.
func loadVerifyLedger(b *testing.B) (string, int64) {
	path := filepath.Join(b.TempDir(), "b.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	size := fillRun(b, s, "big", 100_000)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path, size
}

// BenchmarkLoadVerify loads and verifies a 100,000-event run with Verify,
// on the ledger opened ReadOnly (as artana-replay verify opens it: an
// immutable file, its pages read from the file) and opened for writing
// (its pages read through SQLite); the MB/s figure counts the bytes of
// the rows' columns:
//
//	go test -run '^$' -bench 'LoadVerify$' -benchtime 4x ./sqlite
func BenchmarkLoadVerify(b *testing.B) {
	ctx := context.Background()
	path, size := loadVerifyLedger(b)
	const n = 100_000
	for _, mode := range []struct {
		name string
		opts []sqlite.Option
	}{{"readonly", []sqlite.Option{sqlite.ReadOnly()}}, {"writable", nil}} {
		b.Run(mode.name, func(b *testing.B) {
			s, err := sqlite.Open(ctx, path, mode.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(size)
			b.ReportMetric(n, "events/op")
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if err := s.Verify(ctx, "big"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// CPU time (all goroutines) varies less with the machine's load
			// than the wall time.
			b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() { s.Verify(ctx, "big") }))/n, "allocs/event")
		})
	}
	if testing.Verbose() {
		fmt.Printf("run of %d events, %.1f MB of columns\n", n, float64(size)/1e6)
	}
}

// BenchmarkLoadVerifyBeforeAfter verifies the same 100,000-event run,
// opened ReadOnly as artana-replay verify opens it, with Verify and with
// VerifyThorough (Verify as it was before its fast path: integrity_check,
// the table digests, each run read through the index and verified from
// its stored text), alternating the two in every iteration so that both
// see the same machine load; it reports the MB/s of each (median) and
// their ratio, x:
//
//	go test -run '^$' -bench LoadVerifyBeforeAfter -benchtime 5x ./sqlite
func BenchmarkLoadVerifyBeforeAfter(b *testing.B) {
	ctx := context.Background()
	path, size := loadVerifyLedger(b)
	s, err := sqlite.Open(ctx, path, sqlite.ReadOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var after, before, afterCPU, beforeCPU []time.Duration
	for b.Loop() {
		t0, c0 := time.Now(), processCPU()
		if err := s.Verify(ctx, "big"); err != nil {
			b.Fatal(err)
		}
		t1, c1 := time.Now(), processCPU()
		if err := s.VerifyThorough(ctx, "big"); err != nil {
			b.Fatal(err)
		}
		after, before = append(after, t1.Sub(t0)), append(before, time.Since(t1))
		afterCPU, beforeCPU = append(afterCPU, c1-c0), append(beforeCPU, processCPU()-c1)
	}
	ma, mb := median(after), median(before)
	b.ReportMetric(float64(size)/1e6/ma.Seconds(), "after-MB/s")
	b.ReportMetric(float64(size)/1e6/mb.Seconds(), "before-MB/s")
	b.ReportMetric(mb.Seconds()/ma.Seconds(), "x")
	// CPU time (all goroutines) varies less with the machine's load than
	// the wall time.
	b.ReportMetric(float64(median(afterCPU).Milliseconds()), "after-cpu-ms")
	b.ReportMetric(float64(median(beforeCPU).Milliseconds()), "before-cpu-ms")
}

// processCPU returns the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkVerifyParts measures, on one 100,000-event ledger, what Verify
// does beside streaming the chain: SQLite's quick_check of the file, the
// read of the table without the index, and (for comparison, not done)
// the thorough integrity_check:
//
//	go test -run '^$' -bench VerifyParts -benchtime 3x ./sqlite
func BenchmarkVerifyParts(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100_000
	size := fillRun(b, s, "big", n)
	for _, part := range []struct {
		name string
		fn   func() error
	}{
		{"chain", func() error { return s.VerifyChainOnly(ctx, "big") }},
		{"quick_check", func() error { return s.CheckFile(ctx) }},
		{"table", func() error { return s.TableDigests(ctx) }},
		{"integrity_check", func() error { return s.IntegrityCheck(ctx) }},
		{"verify", func() error { return s.Verify(ctx, "big") }},
	} {
		b.Run(part.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if err := part.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
