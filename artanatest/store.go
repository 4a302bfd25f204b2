package artanatest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/internal/isotime"
)

// NewStoreFunc opens a new, empty store for one subtest of TestStore,
// applying the given options. It should register its own cleanup; TestStore
// also closes the store when the subtest ends.
type NewStoreFunc func(t *testing.T, opts ...artana.StoreOption) artana.Store

// TestStore runs the conformance suite that every artana.Store must pass:
// append assigns seq, previous hash, id, timestamp and hash; payloads of all
// nine types round-trip; concurrent appends produce a gapless, valid chain;
// runs are isolated; reads after a seq return only later events; an unknown
// run reads as empty; runs are listed; a tenant mismatch, an invalid payload
// or a cancelled context append nothing; the clock and id options are
// honoured; a store that implements artana.RunCreator lets exactly one of
// several concurrent CreateRun calls win; and Close makes later calls fail
// with artana.ErrClosed.
func TestStore(t *testing.T, newStore NewStoreFunc) {
	open := func(t *testing.T, opts ...artana.StoreOption) artana.Store {
		t.Helper()
		s := newStore(t, opts...)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	ctx := context.Background()

	t.Run("AppendAssignsChain", func(t *testing.T) {
		s := open(t)
		var prev *artana.Event
		for i := range 3 {
			before := time.Now().UTC().Truncate(time.Microsecond)
			e, err := s.Append(ctx, "run-1", "tenant-1", &artana.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"})
			if err != nil {
				t.Fatalf("Append #%d: %v", i+1, err)
			}
			if e.Seq != int64(i+1) {
				t.Errorf("Append #%d: seq = %d, want %d", i+1, e.Seq, i+1)
			}
			if e.RunID != "run-1" || e.TenantID != "tenant-1" || e.Type != artana.EventWorkflowStepRequested {
				t.Errorf("Append #%d: run, tenant, type = %q, %q, %q", i+1, e.RunID, e.TenantID, e.Type)
			}
			if len(e.ID) != 32 {
				t.Errorf("Append #%d: id %q is not 32 hex digits", i+1, e.ID)
			}
			wantPrev := ""
			if prev != nil {
				wantPrev = prev.Hash
			}
			if e.PrevHash != wantPrev {
				t.Errorf("Append #%d: prev hash = %q, want %q", i+1, e.PrevHash, wantPrev)
			}
			if h := e.ComputeHash(); e.Hash != h {
				t.Errorf("Append #%d: hash = %q, computed %q", i+1, e.Hash, h)
			}
			if e.Timestamp.Nanosecond()%1000 != 0 {
				t.Errorf("Append #%d: timestamp %v has sub-microsecond digits", i+1, e.Timestamp)
			}
			if e.Timestamp.Before(before.Add(-time.Minute)) || e.Timestamp.After(time.Now().Add(time.Minute)) {
				t.Errorf("Append #%d: timestamp %v is not now", i+1, e.Timestamp)
			}
			prev = &e
		}
	})

	t.Run("PayloadsRoundTrip", func(t *testing.T) {
		s := open(t)
		var appended []artana.Event
		for _, p := range samplePayloads() {
			e, err := s.Append(ctx, "run-ünï/漢字 🚀", "tenant-東京", p)
			if err != nil {
				t.Fatalf("Append %s: %v", p.Kind(), err)
			}
			appended = append(appended, e)
		}
		got, err := s.Events(ctx, "run-ünï/漢字 🚀", 0)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(got) != len(appended) {
			t.Fatalf("Events returned %d events, want %d", len(got), len(appended))
		}
		for i := range got {
			if err := sameEvent(appended[i], got[i]); err != nil {
				t.Errorf("event %d read back differs from the one appended: %v", i+1, err)
			}
		}
		if err := artana.VerifyChain(got); err != nil {
			t.Errorf("VerifyChain: %v", err)
		}
	})

	t.Run("ConcurrentAppendsAreGapless", func(t *testing.T) {
		s := open(t)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					p := &artana.WorkflowStepCompleted{StepIndex: int64(i), StepName: fmt.Sprintf("w%d", w), ResultJSON: "{}"}
					if _, err := s.Append(ctx, "busy", "t", p); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent Append: %v", err)
		}
		events, err := s.Events(ctx, "busy", 0)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(events) != workers*each {
			t.Fatalf("got %d events, want %d", len(events), workers*each)
		}
		for i, e := range events {
			if e.Seq != int64(i+1) {
				t.Fatalf("events[%d].Seq = %d, want %d", i, e.Seq, i+1)
			}
		}
		if err := artana.VerifyChain(events); err != nil {
			t.Errorf("VerifyChain: %v", err)
		}
	})

	t.Run("RunsAreIsolated", func(t *testing.T) {
		s := open(t)
		for i := range 3 {
			for _, run := range []string{"a", "b"} {
				if _, err := s.Append(ctx, run, "t-"+run, &artana.WorkflowStepRequested{StepIndex: int64(i), StepName: run}); err != nil {
					t.Fatalf("Append %s: %v", run, err)
				}
			}
		}
		for _, run := range []string{"a", "b"} {
			events, err := s.Events(ctx, run, 0)
			if err != nil {
				t.Fatalf("Events(%s): %v", run, err)
			}
			if len(events) != 3 {
				t.Fatalf("run %s has %d events, want 3", run, len(events))
			}
			for i, e := range events {
				if e.RunID != run || e.Seq != int64(i+1) || e.TenantID != "t-"+run {
					t.Errorf("run %s event %d: run %q seq %d tenant %q", run, i, e.RunID, e.Seq, e.TenantID)
				}
			}
			if err := artana.VerifyChain(events); err != nil {
				t.Errorf("VerifyChain(%s): %v", run, err)
			}
		}
	})

	t.Run("EventsAfterSeq", func(t *testing.T) {
		s := open(t)
		for i := range 5 {
			if _, err := s.Append(ctx, "r", "t", &artana.WorkflowStepRequested{StepIndex: int64(i), StepName: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			after     int64
			wantFirst int64
			wantLen   int
		}{{-1, 1, 5}, {0, 1, 5}, {2, 3, 3}, {4, 5, 1}, {5, 0, 0}, {99, 0, 0}} {
			events, err := s.Events(ctx, "r", tc.after)
			if err != nil {
				t.Fatalf("Events(after %d): %v", tc.after, err)
			}
			if len(events) != tc.wantLen {
				t.Errorf("Events(after %d) returned %d events, want %d", tc.after, len(events), tc.wantLen)
				continue
			}
			if tc.wantLen > 0 && events[0].Seq != tc.wantFirst {
				t.Errorf("Events(after %d) starts at seq %d, want %d", tc.after, events[0].Seq, tc.wantFirst)
			}
		}
		// Appends made after a read are seen by the next incremental read.
		if _, err := s.Append(ctx, "r", "t", &artana.RunStarted{}); err != nil {
			t.Fatal(err)
		}
		events, err := s.Events(ctx, "r", 5)
		if err != nil || len(events) != 1 || events[0].Seq != 6 {
			t.Errorf("Events(after 5) after a new append = %d events, %v; want seq 6", len(events), err)
		}
	})

	t.Run("UnknownRun", func(t *testing.T) {
		s := open(t)
		events, err := s.Events(ctx, "never-written", 0)
		if err != nil {
			t.Fatalf("Events of an unknown run: %v, want no error", err)
		}
		if len(events) != 0 {
			t.Errorf("Events of an unknown run returned %d events", len(events))
		}
	})

	t.Run("Runs", func(t *testing.T) {
		s := open(t)
		runs, err := s.Runs(ctx)
		if err != nil || len(runs) != 0 {
			t.Fatalf("Runs of an empty store = %v, %v; want none", runs, err)
		}
		var lastOfB artana.Event
		for i, run := range []string{"b", "a", "b", "c", "b"} {
			e, err := s.Append(ctx, run, "tenant-"+run, &artana.WorkflowStepRequested{StepIndex: int64(i), StepName: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if run == "b" {
				lastOfB = e
			}
		}
		runs, err = s.Runs(ctx)
		if err != nil {
			t.Fatalf("Runs: %v", err)
		}
		if len(runs) != 3 || runs[0].RunID != "a" || runs[1].RunID != "b" || runs[2].RunID != "c" {
			t.Fatalf("Runs = %+v, want a, b, c in order", runs)
		}
		b := runs[1]
		if b.TenantID != "tenant-b" || b.Events != 3 || b.LastHash != lastOfB.Hash {
			t.Errorf("Runs()[b] = %+v; want tenant-b, 3 events, last hash %s", b, lastOfB.Hash)
		}
		if !b.Last.Equal(lastOfB.Timestamp) || b.First.After(b.Last) {
			t.Errorf("Runs()[b] first %v last %v; want last = %v", b.First, b.Last, lastOfB.Timestamp)
		}
	})

	t.Run("TenantMismatchAppendsNothing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Append(ctx, "r", "owner", &artana.RunStarted{}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Append(ctx, "r", "intruder", &artana.RunStarted{})
		if !errors.Is(err, artana.ErrTenantMismatch) {
			t.Errorf("Append with another tenant: err = %v, want ErrTenantMismatch", err)
		}
		assertLen(t, s, "r", 1)
	})

	t.Run("InvalidPayloadAppendsNothing", func(t *testing.T) {
		s := open(t)
		for _, p := range []artana.Payload{
			&artana.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: math.NaN()},
			&artana.ModelCompleted{Model: "m", OutputJSON: "{}", PromptTokens: -1},
			&artana.ToolCompleted{ToolName: "t", Outcome: "exploded"},
			&artana.ModelRequested{Model: "m", Messages: []artana.ChatMessage{{Role: "wizard"}}},
			&artana.PauseRequested{Reason: "bad \xff utf-8"},
			nil,
		} {
			_, err := s.Append(ctx, "r", "t", p)
			if !errors.Is(err, artana.ErrInvalidPayload) {
				t.Errorf("Append(%#v): err = %v, want ErrInvalidPayload", p, err)
			}
		}
		if _, err := s.Append(ctx, "", "t", &artana.RunStarted{}); err == nil {
			t.Errorf("Append with an empty run id succeeded")
		}
		assertLen(t, s, "r", 0)
	})

	t.Run("CancelledContextAppendsNothing", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Append(cctx, "r", "t", &artana.RunStarted{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Append with a cancelled context: err = %v, want context.Canceled", err)
		}
		assertLen(t, s, "r", 0)
	})

	t.Run("ClockAndIDOptions", func(t *testing.T) {
		start := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
		logOf := func() []artana.Event {
			s := open(t, artana.WithEventClock(SteppingClock(start, 1500*time.Nanosecond)), artana.WithEventIDs(SequentialIDs()))
			for _, p := range samplePayloads() {
				if _, err := s.Append(ctx, "det", "t", p); err != nil {
					t.Fatal(err)
				}
			}
			events, err := s.Events(ctx, "det", 0)
			if err != nil {
				t.Fatal(err)
			}
			return events
		}
		a, b := logOf(), logOf()
		if a[0].ID != fmt.Sprintf("%032x", 1) || !a[0].Timestamp.Equal(start) {
			t.Errorf("first event id %q time %v; the clock or id option was ignored", a[0].ID, a[0].Timestamp)
		}
		if got := isotime.Format(a[1].Timestamp); got != "2024-02-29T23:59:59.000001+00:00" {
			t.Errorf("second timestamp = %s, want truncated to microseconds", got)
		}
		for i := range a {
			if a[i].Hash != b[i].Hash {
				t.Errorf("event %d: hashes differ between two stores with the same clock and ids", i+1)
			}
		}
	})

	t.Run("CreateRun", func(t *testing.T) {
		s := open(t)
		c, ok := s.(artana.RunCreator)
		if !ok {
			t.Skipf("%T does not implement artana.RunCreator", s)
		}
		const racers = 8
		var wg sync.WaitGroup
		results := make(chan error, racers)
		for range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.CreateRun(ctx, "contested", "t", &artana.RunStarted{})
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, artana.ErrRunExists):
				t.Errorf("CreateRun lost the race with %v, want an error matching ErrRunExists", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent CreateRun calls succeeded, want exactly 1", won, racers)
		}
		assertLen(t, s, "contested", 1)
		if _, err := s.Append(ctx, "grown", "t", &artana.RunStarted{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateRun(ctx, "grown", "t", &artana.RunStarted{}); !errors.Is(err, artana.ErrRunExists) {
			t.Errorf("CreateRun of a run with events: err = %v, want ErrRunExists", err)
		}
		assertLen(t, s, "grown", 1)
		if _, err := c.CreateRun(ctx, "bad", "t", &artana.ModelCompleted{CostUSD: -1}); !errors.Is(err, artana.ErrInvalidPayload) {
			t.Errorf("CreateRun with an invalid payload: err = %v, want ErrInvalidPayload", err)
		}
		assertLen(t, s, "bad", 0)
	})

	t.Run("Close", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Append(ctx, "r", "t", &artana.RunStarted{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
		if _, err := s.Append(ctx, "r", "t", &artana.RunStarted{}); !errors.Is(err, artana.ErrClosed) {
			t.Errorf("Append after Close: err = %v, want ErrClosed", err)
		}
		if _, err := s.Events(ctx, "r", 0); !errors.Is(err, artana.ErrClosed) {
			t.Errorf("Events after Close: err = %v, want ErrClosed", err)
		}
		if _, err := s.Runs(ctx); !errors.Is(err, artana.ErrClosed) {
			t.Errorf("Runs after Close: err = %v, want ErrClosed", err)
		}
	})
}

func assertLen(t *testing.T, s artana.Store, run string, want int) {
	t.Helper()
	events, err := s.Events(context.Background(), run, 0)
	if err != nil {
		t.Fatalf("Events(%q): %v", run, err)
	}
	if len(events) != want {
		t.Errorf("run %q has %d events, want %d", run, len(events), want)
	}
}

// sameEvent compares two events by their stored and hashed forms, so that a
// nil and an empty slice are the same, as they are in the log.
func sameEvent(a, b artana.Event) error {
	switch {
	case a.ID != b.ID, a.RunID != b.RunID, a.TenantID != b.TenantID, a.Seq != b.Seq,
		a.Type != b.Type, a.PrevHash != b.PrevHash, a.Hash != b.Hash:
		return fmt.Errorf("header %+v != %+v", header(a), header(b))
	case isotime.Format(a.Timestamp) != isotime.Format(b.Timestamp):
		return fmt.Errorf("timestamp %s != %s", isotime.Format(a.Timestamp), isotime.Format(b.Timestamp))
	case b.Payload == nil:
		return fmt.Errorf("payload missing")
	}
	if ca, cb := artana.CanonicalPayload(a.Payload), artana.CanonicalPayload(b.Payload); string(ca) != string(cb) {
		return fmt.Errorf("payload %s != %s", ca, cb)
	}
	return nil
}

func header(e artana.Event) string {
	return fmt.Sprintf("{id %s run %q tenant %q seq %d type %s prev %s hash %s}", e.ID, e.RunID, e.TenantID, e.Seq, e.Type, e.PrevHash, e.Hash)
}

// awkward is text that exercises every escaping rule of the canonical JSON.
const awkward = "Café 漢字 😀 \"q\" back\\slash tab\t nl\n ctrl\x1f DEL\x7f LS\u2028 <b>&amp;</b> /"

// samplePayloads returns one payload of each of the nine types, with
// non-ASCII text, nulls and awkward floats.
func samplePayloads() []artana.Payload {
	return []artana.Payload{
		&artana.RunStarted{},
		&artana.ModelRequested{Model: "fake-model", Prompt: awkward,
			Messages:     []artana.ChatMessage{{Role: "system", Content: "be brief"}, {Role: "user", Content: awkward}},
			AllowedTools: []string{"lookup", "tränslate"}, StepKey: new("step.1")},
		&artana.ModelCompleted{Model: "fake-model", OutputJSON: `{"a":"é"}`, PromptTokens: 12, CompletionTokens: 6, CostUSD: 1e-05,
			ToolCalls: []artana.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":"ü"}`}}},
		&artana.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: 0},
		&artana.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: 0.1 + 0.2, ToolCalls: []artana.ToolCall{}},
		&artana.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: 1e16},
		&artana.ToolRequested{ToolName: "lookup", ArgumentsJSON: `{"q":"\u00fc"}`, IdempotencyKey: "k",
			ToolVersion: artana.DefaultToolVersion, SchemaVersion: artana.DefaultSchemaVersion},
		&artana.ToolCompleted{ToolName: "lookup", ResultJSON: "", Outcome: artana.OutcomeUnknown,
			ReceivedIdempotencyKey: new("k"), RequestID: new("0123"), ErrorMessage: new(awkward)},
		&artana.PauseRequested{Reason: "review", ContextJSON: new(`{"x":1}`)},
		&artana.ResumeRequested{HumanInputJSON: new(`{"ok":true}`)},
		&artana.ResumeRequested{},
		&artana.WorkflowStepRequested{StepIndex: 0, StepName: "fetch"},
		&artana.WorkflowStepCompleted{StepIndex: 0, StepName: "fetch", ResultJSON: `"done"`},
	}
}
