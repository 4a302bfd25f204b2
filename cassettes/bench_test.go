package cassettes_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
)

func benchPayload(i int) ledger.Payload {
	return &ledger.ModelCompleted{Model: "fake-model", OutputJSON: fmt.Sprintf(`{"answer":"step %d, with some text to make the line realistic"}`, i),
		PromptTokens: 120, CompletionTokens: 30, CostUSD: 0.00042,
		ToolCalls: []ledger.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":"café"}`}}}
}

// sealedEvents returns n sealed events of run "bench".
func sealedEvents(tb testing.TB, n int) []ledger.Event {
	tb.Helper()
	o := ledger.NewStoreOptions(ledger.WithEventClock(artanatest.SteppingClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
	events := make([]ledger.Event, n)
	var last *ledger.Event
	for i := range events {
		e, err := o.NextEvent(last, "bench", "t", benchPayload(i))
		if err != nil {
			tb.Fatal(err)
		}
		events[i] = e
		last = &events[i]
	}
	return events
}

// BenchmarkStoreAppend appends one event per call through Store.Append,
// with an fsync per event.
func BenchmarkStoreAppend(b *testing.B) {
	s, err := cassettes.OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Append(ctx, "bench", "t", benchPayload(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendBatched appends sealed events 100 per fsynced write
// through an Appender; ns/op is per event.
func BenchmarkAppendBatched(b *testing.B) {
	const batch = 100
	events := sealedEvents(b, 100_000)
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	a, err := cassettes.OpenAppender(context.Background(), path, cassettes.Header{Kind: cassettes.KindEvents, Meta: map[string]string{"run_id": "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.ReportAllocs()
	next := 0
	for b.Loop() {
		if next%batch == 0 {
			if next+batch > len(events) {
				b.StopTimer()
				a.Close()
				os.Remove(path)
				a, err = cassettes.OpenAppender(context.Background(), path, cassettes.Header{Kind: cassettes.KindEvents, Meta: map[string]string{"run_id": "bench"}})
				if err != nil {
					b.Fatal(err)
				}
				next = 0
				b.StartTimer()
			}
			if err := a.AppendEvents(events[next : next+batch]...); err != nil {
				b.Fatal(err)
			}
		}
		next++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func write100k(b *testing.B) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	if err := cassettes.WriteEvents(context.Background(), path, sealedEvents(b, 100_000)); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

// BenchmarkLoadVerify100k streams a 100,000-event cassette, checking every
// line and the hash chain, without keeping the events. It reports MB/s,
// allocations, and the peak live heap while reading.
func BenchmarkLoadVerify100k(b *testing.B) {
	path, size := write100k(b)
	b.SetBytes(size)
	b.ReportAllocs()
	var peak uint64
	first := true
	cpu := processCPU()
	for b.Loop() {
		r, err := cassettes.OpenReader(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.NextEvent()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			if first && n%10_000 == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
		r.Close()
		first = false
		if n != 100_000 {
			b.Fatalf("read %d events", n)
		}
	}
	b.StopTimer()
	// CPU time (all goroutines) varies less with the machine's load than
	// the wall time.
	b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
	b.ReportMetric(float64(size)/(1<<20), "file-MB")
}

// BenchmarkStoreEvents100k loads a 100,000-event run into memory through a
// fresh Store (full read, index build and verification).
func BenchmarkStoreEvents100k(b *testing.B) {
	path, size := write100k(b)
	dir := filepath.Dir(path)
	if err := os.Rename(path, filepath.Join(dir, cassettes.FileName("bench"))); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		s, err := cassettes.OpenStore(dir)
		if err != nil {
			b.Fatal(err)
		}
		events, err := s.Events(context.Background(), "bench", 0)
		if err != nil || len(events) != 100_000 {
			b.Fatalf("%d events, %v", len(events), err)
		}
		s.Close()
	}
}

// BenchmarkVerify100k verifies a 100,000-event cassette with
// Reader.Verify, which checks events from their text. It reports MB/s,
// allocations per event and the peak live heap.
func BenchmarkVerify100k(b *testing.B) {
	path, size := write100k(b)
	b.SetBytes(size)
	b.ReportAllocs()
	verify := func() {
		r, err := cassettes.OpenReader(path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		if n, err := r.Verify(context.Background(), nil); err != nil || n != 100_000 {
			b.Fatalf("%d records, %v", n, err)
		}
	}
	cpu := processCPU()
	for b.Loop() {
		verify()
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(testing.AllocsPerRun(1, verify)/100_000, "allocs/event")
}

// BenchmarkVerifyBeforeAfter100k verifies the same 100,000-event cassette
// with Reader.Verify and by reading every event with NextEvent (as verify
// did before), alternating the two in every iteration; it reports the
// MB/s of each (median) and their ratio, x:
//
//	go test -run '^$' -bench VerifyBeforeAfter100k -benchtime 5x ./cassettes
func BenchmarkVerifyBeforeAfter100k(b *testing.B) {
	path, size := write100k(b)
	var after, before []time.Duration
	for b.Loop() {
		t0 := time.Now()
		r, err := cassettes.OpenReader(path)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := r.Verify(context.Background(), nil); err != nil || n != 100_000 {
			b.Fatalf("%d records, %v", n, err)
		}
		r.Close()
		t1 := time.Now()
		if r, err = cassettes.OpenReader(path); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.NextEvent(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
		after, before = append(after, t1.Sub(t0)), append(before, time.Since(t1))
	}
	ma, mb := median(after), median(before)
	b.ReportMetric(float64(size)/1e6/ma.Seconds(), "after-MB/s")
	b.ReportMetric(float64(size)/1e6/mb.Seconds(), "before-MB/s")
	b.ReportMetric(mb.Seconds()/ma.Seconds(), "x")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// processCPU returns the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
