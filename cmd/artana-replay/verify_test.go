package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// largeLedger writes a ledger of n events into dir and returns its path
// and size.
func largeLedger(tb testing.TB, dir string, n int) (string, int64) {
	tb.Helper()
	path := filepath.Join(dir, "large.db")
	if err := writeLarge(context.Background(), path, "large_run", n); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, fi.Size()
}

// verify streams: the heap does not grow with the ledger. The run is
// verified with its events never all in memory, so the peak heap while
// verifying stays a small fraction of what holding the run would take.
func TestVerifyStreamingMemory(t *testing.T) {
	n := 100_000
	// Holding 100,000 events of this ledger takes well over 24 MB of heap
	// (the file alone is 61 MB), so only a streaming verify stays under it.
	// The race detector makes SQLite too slow for that size: under it, or
	// with -short, the test runs on 10,000 events, which checks the code
	// path but not the bound.
	const limit = 24 << 20
	if testing.Short() || raceEnabled {
		n = 10_000
	}
	path, size := largeLedger(t, t.TempDir(), n)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	var out bytes.Buffer
	err := run(context.Background(), []string{"verify", path}, &out, io.Discard)
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if want := "large_run  " + strconv.Itoa(n) + " events"; !strings.Contains(out.String(), want) {
		t.Fatalf("verify printed %q, want %q", out.String(), want)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("%d events, ledger %.1f MB, peak heap growth while verifying %.1f MB", n, float64(size)/1e6, float64(growth)/1e6)
	// Holding the run would take more than the file's size in heap; a
	// streaming verify needs a bounded amount whatever the run's length.
	if growth > limit {
		t.Fatalf("peak heap grew by %d bytes verifying a %d-byte ledger of %d events; want at most %d (verify must stream)", growth, size, n, limit)
	}
}

// BenchmarkVerify measures verify's throughput in MB/s of ledger file.
// ARTANA_REPLAY_BENCH_EVENTS sets the ledger's size in events (default
// 100000); about 1,900,000 events make a 1 GB ledger.
func BenchmarkVerify(b *testing.B) {
	n := 100_000
	if s := os.Getenv("ARTANA_REPLAY_BENCH_EVENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	path, size := largeLedger(b, b.TempDir(), n)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if err := run(context.Background(), []string{"verify", path}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
