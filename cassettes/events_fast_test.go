package cassettes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/google/go-cmp/cmp"
)

// fastSample returns a cassette of n events of run runID, in the writers'
// form, with payloads of several types, escapes and non-ASCII text.
func fastSample(tb testing.TB, runID string, n int) []byte {
	tb.Helper()
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	id := 0
	o := ledger.NewStoreOptions(
		ledger.WithEventClock(func() time.Time { clock = clock.Add(time.Millisecond); return clock }),
		ledger.WithEventIDs(func() string { id++; return fmt.Sprintf("%032x", id) }))
	payloads := []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "m", Prompt: "say \"hi\"\n", Messages: []ledger.ChatMessage{{Role: "user", Content: "café ☕"}}},
		&ledger.ModelCompleted{Model: "m", OutputJSON: `{"a":1}`, PromptTokens: 3, CompletionTokens: 4, CostUSD: 0.5,
			ToolCalls: []ledger.ToolCall{{ToolName: "t", ArgumentsJSON: `{"q":"x"}`}, {ToolName: "u", ArgumentsJSON: "{}"}}},
		&ledger.ToolRequested{ToolName: "t", ArgumentsJSON: `{"q":"x"}`},
		&ledger.ToolCompleted{ToolName: "t", ResultJSON: `"ok"`, Outcome: ledger.OutcomeSuccess},
		&ledger.PauseRequested{Reason: "wait"},
		&ledger.ResumeRequested{},
	}
	var events []ledger.Event
	var last *ledger.Event
	for i := range n {
		e, err := o.NextEvent(last, runID, "tenant", payloads[i%len(payloads)])
		if err != nil {
			tb.Fatal(err)
		}
		events = append(events, e)
		last = &events[len(events)-1]
	}
	path := filepath.Join(tb.TempDir(), "s.jsonl")
	if err := WriteEvents(context.Background(), path, events); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type readResult struct {
	Events []ledger.Event
	Err    string
	Count  int64
	Prev   string
}

// readBoth reads data with NextEvent and with the general path (record),
// collecting every event before reading the next: events that shared the
// reader's buffers would change under the reads that follow.
func readBoth(t *testing.T, data []byte) (fast, slow readResult, ok bool) {
	read := func(next func(r *Reader) (ledger.Event, error)) readResult {
		r, err := NewReader(bytes.NewReader(data), "f.jsonl")
		if err != nil || r.hdr.Kind != KindEvents {
			return readResult{Err: "header"}
		}
		var res readResult
		for {
			e, err := next(r)
			if err == io.EOF {
				break
			}
			if err != nil {
				res.Err = err.Error()
				break
			}
			res.Events = append(res.Events, e)
		}
		res.Count, res.Prev = r.count, r.prev
		return res
	}
	fast = read((*Reader).NextEvent)
	slow = read(func(r *Reader) (ledger.Event, error) {
		_, e, err := r.next()
		if err != nil {
			return ledger.Event{}, err
		}
		return *e, nil
	})
	return fast, slow, fast.Err != "header"
}

func TestNextEventFastPathAgrees(t *testing.T) {
	for _, run := range []string{"run-1", "run \u00fc"} {
		data := fastSample(t, run, 40)
		fast, slow, _ := readBoth(t, data)
		if fast.Err != "" || len(fast.Events) != 40 {
			t.Fatalf("run %q: %d events, %s", run, len(fast.Events), fast.Err)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("run %q: NextEvent differs from the general path (-general +NextEvent):\n%s", run, diff)
		}
	}
	// A damaged line in the middle: the same error, the same events before it.
	data := fastSample(t, "run-1", 10)
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines[5] = bytes.Replace(lines[5], []byte(`"seq":5`), []byte(`"seq":6`), 1)
	fast, slow, _ := readBoth(t, bytes.Join(lines, nil))
	if fast.Err == "" || len(fast.Events) != 4 {
		t.Fatalf("damaged: %d events, error %q", len(fast.Events), fast.Err)
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Fatalf("damaged: NextEvent differs from the general path (-general +NextEvent):\n%s", diff)
	}
}

func TestNextEventAllocations(t *testing.T) {
	data := fastSample(t, "run-1", 800)
	r, err := NewReader(bytes.NewReader(data), "f.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for range 7 { // the arena grows to the largest event
		if _, err := r.NextEvent(); err != nil {
			t.Fatal(err)
		}
	}
	n := testing.AllocsPerRun(99, func() {
		for range 7 {
			if _, err := r.NextEvent(); err != nil {
				t.Fatal(err)
			}
		}
	})
	// 7 events: 7 payloads (with their lists), 7 string buffers.
	if n > 14 {
		t.Errorf("%v allocations per 7 events, want at most 14", n)
	}
}

// FuzzNextEvent checks that NextEvent, which reads lines in the writers'
// form from their text, returns what the general path returns: the same
// events and the same error, after the same records.
func FuzzNextEvent(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(fastSample(f, "run-1", 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, slow, ok := readBoth(t, data)
		if !ok {
			return
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("NextEvent differs from the general path (-general +NextEvent):\n%s", diff)
		}
	})
}

// BenchmarkLoadVerifyBeforeAfter100k reads the 100,000-event cassette of
// BenchmarkLoadVerify100k with NextEvent (after) and with the general path
// that NextEvent took before it read lines in the writers' form from their
// text (before), alternating the two in every iteration; it reports the
// MB/s of each (median), their ratio x, and the allocations per event of
// each:
//
//	go test -run '^$' -bench LoadVerifyBeforeAfter100k -benchtime 5x ./cassettes
func BenchmarkLoadVerifyBeforeAfter100k(b *testing.B) {
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	id := 0
	o := ledger.NewStoreOptions(
		ledger.WithEventClock(func() time.Time { clock = clock.Add(time.Millisecond); return clock }),
		ledger.WithEventIDs(func() string { id++; return fmt.Sprintf("%032x", id) }))
	events := make([]ledger.Event, 100_000)
	var last *ledger.Event
	for i := range events {
		p := &ledger.ModelCompleted{Model: "fake-model", OutputJSON: fmt.Sprintf(`{"answer":"step %d, with some text to make the line realistic"}`, i),
			PromptTokens: 120, CompletionTokens: 30, CostUSD: 0.00042,
			ToolCalls: []ledger.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":"café"}`}}}
		e, err := o.NextEvent(last, "bench", "t", p)
		if err != nil {
			b.Fatal(err)
		}
		events[i] = e
		last = &events[i]
	}
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	if err := WriteEvents(context.Background(), path, events); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	events = nil
	pass := func(next func(r *Reader) (ledger.Event, error)) (time.Duration, uint64) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		t0 := time.Now()
		r, err := OpenReader(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := next(r); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		d := time.Since(t0)
		if n != 100_000 {
			b.Fatalf("read %d events", n)
		}
		runtime.ReadMemStats(&ms)
		return d, ms.Mallocs - mallocs
	}
	general := func(r *Reader) (ledger.Event, error) {
		_, e, err := r.next()
		if err != nil {
			return ledger.Event{}, err
		}
		return *e, nil
	}
	var after, before []time.Duration
	var allocsAfter, allocsBefore uint64
	for b.Loop() {
		d, m := pass((*Reader).NextEvent)
		after, allocsAfter = append(after, d), m
		d, m = pass(general)
		before, allocsBefore = append(before, d), m
	}
	ma, mb := medianDuration(after), medianDuration(before)
	b.ReportMetric(float64(st.Size())/1e6/ma.Seconds(), "after-MB/s")
	b.ReportMetric(float64(st.Size())/1e6/mb.Seconds(), "before-MB/s")
	b.ReportMetric(mb.Seconds()/ma.Seconds(), "x")
	b.ReportMetric(float64(allocsAfter)/100_000, "after-allocs/event")
	b.ReportMetric(float64(allocsBefore)/100_000, "before-allocs/event")
}

func medianDuration(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
