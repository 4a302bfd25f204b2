package artanatest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
)

// NewStoreFunc opens a new, empty store for one subtest of TestStore,
// applying the given options. It should register its own cleanup; TestStore
// also closes the store when the subtest ends.
type NewStoreFunc func(t *testing.T, opts ...ledger.StoreOption) ledger.Store

// An opener opens a new, empty store for one check, with the given options.
type opener func(opts ...ledger.StoreOption) (ledger.Store, error)

// A storeCase is one check of the conformance suite. It returns every
// problem it finds, joined, or errSkip when the store lacks what it checks.
type storeCase struct {
	name  string
	check func(ctx context.Context, open opener) error
}

// errSkip reports that a check does not apply to the store.
var errSkip = errors.New("does not apply")

// storeCases is the conformance suite, in the order it runs.
var storeCases = []storeCase{
	{"AppendAssignsChain", checkAppendAssignsChain},
	{"PayloadsRoundTrip", checkPayloadsRoundTrip},
	{"ConcurrentAppendsAreGapless", checkConcurrentAppends},
	{"RunsAreIsolated", checkRunsAreIsolated},
	{"EventsAfterSeq", checkEventsAfterSeq},
	{"UnknownRun", checkUnknownRun},
	{"Runs", checkRuns},
	{"TenantMismatchAppendsNothing", checkTenantMismatch},
	{"InvalidPayloadAppendsNothing", checkInvalidPayload},
	{"CancelledContextAppendsNothing", checkCancelledContext},
	{"ClockAndIDOptions", checkClockAndIDOptions},
	{"CreateRun", checkCreateRun},
	{"Close", checkClose},
}

// TestStore runs the conformance suite that every ledger.Store must pass,
// one subtest per check: append assigns seq, previous hash, id, timestamp
// and hash; payloads of all nine types round-trip; concurrent appends
// produce a gapless, valid chain; runs are isolated; reads after a seq
// return only later events; an unknown run reads as empty; runs are
// listed; a tenant mismatch, an invalid payload or a cancelled context
// append nothing; the clock and id options are honoured; a store that
// implements ledger.RunCreator lets exactly one of several concurrent
// CreateRun calls win; and Close makes later calls fail with
// ledger.ErrClosed.
func TestStore(t *testing.T, newStore NewStoreFunc) {
	for _, c := range storeCases {
		t.Run(c.name, func(t *testing.T) {
			open := func(opts ...ledger.StoreOption) (ledger.Store, error) {
				s := newStore(t, opts...)
				t.Cleanup(func() { _ = s.Close() })
				return s, nil
			}
			err := c.check(context.Background(), open)
			if errors.Is(err, errSkip) {
				t.Skip(err)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
}

// CheckStore runs the conformance suite of TestStore outside a test, as
// testing/fstest.TestFS does: open returns a new, empty store with the
// given options each time it is called, and CheckStore closes it. The
// result joins every problem found, each prefixed with the name of its
// check, or is nil.
func CheckStore(ctx context.Context, open func(opts ...ledger.StoreOption) (ledger.Store, error)) error {
	var errs []error
	for _, c := range storeCases {
		var opened []ledger.Store
		err := c.check(ctx, func(opts ...ledger.StoreOption) (ledger.Store, error) {
			s, err := open(opts...)
			if err == nil {
				opened = append(opened, s)
			}
			return s, err
		})
		for _, s := range opened {
			_ = s.Close()
		}
		if err != nil && !errors.Is(err, errSkip) {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// problems collects the problems of one check.
type problems []error

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// fatal adds a problem that ends the check and returns them all.
func (p *problems) fatal(format string, args ...any) error {
	p.add(format, args...)
	return p.err()
}

func (p problems) err() error { return errors.Join(p...) }

func checkAppendAssignsChain(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	var prev *ledger.Event
	for i := range 3 {
		before := time.Now().UTC().Truncate(time.Microsecond)
		e, err := s.Append(ctx, "run-1", "tenant-1", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"})
		if err != nil {
			return p.fatal("Append #%d: %v", i+1, err)
		}
		if e.Seq != int64(i+1) {
			p.add("Append #%d: seq = %d, want %d", i+1, e.Seq, i+1)
		}
		if e.RunID != "run-1" || e.TenantID != "tenant-1" || e.Type != ledger.EventWorkflowStepRequested {
			p.add("Append #%d: run, tenant, type = %q, %q, %q", i+1, e.RunID, e.TenantID, e.Type)
		}
		if len(e.ID) != 32 {
			p.add("Append #%d: id %q is not 32 hex digits", i+1, e.ID)
		}
		wantPrev := ""
		if prev != nil {
			wantPrev = prev.Hash
		}
		if e.PrevHash != wantPrev {
			p.add("Append #%d: prev hash = %q, want %q", i+1, e.PrevHash, wantPrev)
		}
		if h := e.ComputeHash(); e.Hash != h {
			p.add("Append #%d: hash = %q, computed %q", i+1, e.Hash, h)
		}
		if e.Timestamp.Nanosecond()%1000 != 0 {
			p.add("Append #%d: timestamp %v has sub-microsecond digits", i+1, e.Timestamp)
		}
		if e.Timestamp.Before(before.Add(-time.Minute)) || e.Timestamp.After(time.Now().Add(time.Minute)) {
			p.add("Append #%d: timestamp %v is not now", i+1, e.Timestamp)
		}
		prev = &e
	}
	return p.err()
}

func checkPayloadsRoundTrip(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	const run = "run-ünï/漢字 🚀"
	var appended []ledger.Event
	for _, pl := range samplePayloads() {
		e, err := s.Append(ctx, run, "tenant-東京", pl)
		if err != nil {
			return p.fatal("Append %s: %v", pl.Kind(), err)
		}
		appended = append(appended, e)
	}
	got, err := s.Events(ctx, run, 0)
	if err != nil {
		return p.fatal("Events: %v", err)
	}
	if len(got) != len(appended) {
		return p.fatal("Events returned %d events, want %d", len(got), len(appended))
	}
	for i := range got {
		if err := sameEvent(appended[i], got[i]); err != nil {
			p.add("event %d read back differs from the one appended: %v", i+1, err)
		}
	}
	if err := ledger.VerifyChain(got); err != nil {
		p.add("VerifyChain: %v", err)
	}
	return p.err()
}

func checkConcurrentAppends(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				pl := &ledger.WorkflowStepCompleted{StepIndex: int64(i), StepName: fmt.Sprintf("w%d", w), ResultJSON: "{}"}
				if _, err := s.Append(ctx, "busy", "t", pl); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		p.add("concurrent Append: %v", err)
	}
	events, err := s.Events(ctx, "busy", 0)
	if err != nil {
		return p.fatal("Events: %v", err)
	}
	if len(events) != workers*each {
		return p.fatal("got %d events, want %d", len(events), workers*each)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			return p.fatal("events[%d].Seq = %d, want %d", i, e.Seq, i+1)
		}
	}
	if err := ledger.VerifyChain(events); err != nil {
		p.add("VerifyChain: %v", err)
	}
	return p.err()
}

func checkRunsAreIsolated(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	for i := range 3 {
		for _, run := range []string{"a", "b"} {
			if _, err := s.Append(ctx, run, "t-"+run, &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: run}); err != nil {
				return p.fatal("Append %s: %v", run, err)
			}
		}
	}
	for _, run := range []string{"a", "b"} {
		events, err := s.Events(ctx, run, 0)
		if err != nil {
			return p.fatal("Events(%s): %v", run, err)
		}
		if len(events) != 3 {
			return p.fatal("run %s has %d events, want 3", run, len(events))
		}
		for i, e := range events {
			if e.RunID != run || e.Seq != int64(i+1) || e.TenantID != "t-"+run {
				p.add("run %s event %d: run %q seq %d tenant %q", run, i, e.RunID, e.Seq, e.TenantID)
			}
		}
		if err := ledger.VerifyChain(events); err != nil {
			p.add("VerifyChain(%s): %v", run, err)
		}
	}
	return p.err()
}

func checkEventsAfterSeq(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	for i := range 5 {
		if _, err := s.Append(ctx, "r", "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "x"}); err != nil {
			return p.fatal("Append: %v", err)
		}
	}
	for _, tc := range []struct {
		after     int64
		wantFirst int64
		wantLen   int
	}{{-1, 1, 5}, {0, 1, 5}, {2, 3, 3}, {4, 5, 1}, {5, 0, 0}, {99, 0, 0}} {
		events, err := s.Events(ctx, "r", tc.after)
		if err != nil {
			return p.fatal("Events(after %d): %v", tc.after, err)
		}
		if len(events) != tc.wantLen {
			p.add("Events(after %d) returned %d events, want %d", tc.after, len(events), tc.wantLen)
			continue
		}
		if tc.wantLen > 0 && events[0].Seq != tc.wantFirst {
			p.add("Events(after %d) starts at seq %d, want %d", tc.after, events[0].Seq, tc.wantFirst)
		}
	}
	// Appends made after a read are seen by the next incremental read.
	if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); err != nil {
		return p.fatal("Append: %v", err)
	}
	events, err := s.Events(ctx, "r", 5)
	if err != nil || len(events) != 1 || events[0].Seq != 6 {
		p.add("Events(after 5) after a new append = %d events, %v; want seq 6", len(events), err)
	}
	return p.err()
}

func checkUnknownRun(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	events, err := s.Events(ctx, "never-written", 0)
	if err != nil {
		return fmt.Errorf("Events of an unknown run: %v, want no error", err)
	}
	if len(events) != 0 {
		return fmt.Errorf("Events of an unknown run returned %d events", len(events))
	}
	return nil
}

func checkRuns(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	runs, err := s.Runs(ctx)
	if err != nil || len(runs) != 0 {
		return p.fatal("Runs of an empty store = %v, %v; want none", runs, err)
	}
	var lastOfB ledger.Event
	for i, run := range []string{"b", "a", "b", "c", "b"} {
		e, err := s.Append(ctx, run, "tenant-"+run, &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "x"})
		if err != nil {
			return p.fatal("Append: %v", err)
		}
		if run == "b" {
			lastOfB = e
		}
	}
	runs, err = s.Runs(ctx)
	if err != nil {
		return p.fatal("Runs: %v", err)
	}
	if len(runs) != 3 || runs[0].RunID != "a" || runs[1].RunID != "b" || runs[2].RunID != "c" {
		return p.fatal("Runs = %+v, want a, b, c in order", runs)
	}
	b := runs[1]
	if b.TenantID != "tenant-b" || b.Events != 3 || b.LastHash != lastOfB.Hash {
		p.add("Runs()[b] = %+v; want tenant-b, 3 events, last hash %s", b, lastOfB.Hash)
	}
	if !b.Last.Equal(lastOfB.Timestamp) || b.First.After(b.Last) {
		p.add("Runs()[b] first %v last %v; want last = %v", b.First, b.Last, lastOfB.Timestamp)
	}
	return p.err()
}

func checkTenantMismatch(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	if _, err := s.Append(ctx, "r", "owner", &ledger.RunStarted{}); err != nil {
		return p.fatal("Append: %v", err)
	}
	if _, err := s.Append(ctx, "r", "intruder", &ledger.RunStarted{}); !errors.Is(err, ledger.ErrTenantMismatch) {
		p.add("Append with another tenant: err = %v, want ErrTenantMismatch", err)
	}
	p.wantLen(ctx, s, "r", 1)
	return p.err()
}

func checkInvalidPayload(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	for _, pl := range []ledger.Payload{
		&ledger.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: math.NaN()},
		&ledger.ModelCompleted{Model: "m", OutputJSON: "{}", PromptTokens: -1},
		&ledger.ToolCompleted{ToolName: "t", Outcome: "exploded"},
		&ledger.ModelRequested{Model: "m", Messages: []ledger.ChatMessage{{Role: "wizard"}}},
		&ledger.PauseRequested{Reason: "bad \xff utf-8"},
		nil,
	} {
		if _, err := s.Append(ctx, "r", "t", pl); !errors.Is(err, ledger.ErrInvalidPayload) {
			p.add("Append(%#v): err = %v, want ErrInvalidPayload", pl, err)
		}
	}
	if _, err := s.Append(ctx, "", "t", &ledger.RunStarted{}); err == nil {
		p.add("Append with an empty run id succeeded")
	}
	p.wantLen(ctx, s, "r", 0)
	return p.err()
}

func checkCancelledContext(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(cctx, "r", "t", &ledger.RunStarted{}); !errors.Is(err, context.Canceled) {
		p.add("Append with a cancelled context: err = %v, want context.Canceled", err)
	}
	p.wantLen(ctx, s, "r", 0)
	return p.err()
}

func checkClockAndIDOptions(ctx context.Context, open opener) error {
	start := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	logOf := func() ([]ledger.Event, error) {
		s, err := open(ledger.WithEventClock(SteppingClock(start, 1500*time.Nanosecond)), ledger.WithEventIDs(SequentialIDs()))
		if err != nil {
			return nil, err
		}
		for _, pl := range samplePayloads() {
			if _, err := s.Append(ctx, "det", "t", pl); err != nil {
				return nil, fmt.Errorf("Append: %w", err)
			}
		}
		return s.Events(ctx, "det", 0)
	}
	a, err := logOf()
	if err != nil {
		return err
	}
	b, err := logOf()
	if err != nil {
		return err
	}
	var p problems
	if len(a) < 2 || len(b) != len(a) {
		return p.fatal("read back %d and %d events, want %d each", len(a), len(b), len(samplePayloads()))
	}
	if a[0].ID != fmt.Sprintf("%032x", 1) || !a[0].Timestamp.Equal(start) {
		p.add("first event id %q time %v; the clock or id option was ignored", a[0].ID, a[0].Timestamp)
	}
	if got := isotime.Format(a[1].Timestamp); got != "2024-02-29T23:59:59.000001+00:00" {
		p.add("second timestamp = %s, want truncated to microseconds", got)
	}
	for i := range a {
		if a[i].Hash != b[i].Hash {
			p.add("event %d: hashes differ between two stores with the same clock and ids", i+1)
		}
	}
	return p.err()
}

func checkCreateRun(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	c, ok := s.(ledger.RunCreator)
	if !ok {
		return fmt.Errorf("%T does not implement ledger.RunCreator: %w", s, errSkip)
	}
	var p problems
	const racers = 8
	var wg sync.WaitGroup
	results := make(chan error, racers)
	for range racers {
		wg.Go(func() {
			_, err := c.CreateRun(ctx, "contested", "t", &ledger.RunStarted{})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ledger.ErrRunExists):
			p.add("CreateRun lost the race with %v, want an error matching ErrRunExists", err)
		}
	}
	if won != 1 {
		p.add("%d of %d concurrent CreateRun calls succeeded, want exactly 1", won, racers)
	}
	p.wantLen(ctx, s, "contested", 1)
	if _, err := s.Append(ctx, "grown", "t", &ledger.RunStarted{}); err != nil {
		return p.fatal("Append: %v", err)
	}
	if _, err := c.CreateRun(ctx, "grown", "t", &ledger.RunStarted{}); !errors.Is(err, ledger.ErrRunExists) {
		p.add("CreateRun of a run with events: err = %v, want ErrRunExists", err)
	}
	p.wantLen(ctx, s, "grown", 1)
	if _, err := c.CreateRun(ctx, "bad", "t", &ledger.ModelCompleted{CostUSD: -1}); !errors.Is(err, ledger.ErrInvalidPayload) {
		p.add("CreateRun with an invalid payload: err = %v, want ErrInvalidPayload", err)
	}
	p.wantLen(ctx, s, "bad", 0)
	return p.err()
}

func checkClose(ctx context.Context, open opener) error {
	s, err := open()
	if err != nil {
		return err
	}
	var p problems
	if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); err != nil {
		return p.fatal("Append: %v", err)
	}
	if err := s.Close(); err != nil {
		return p.fatal("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		p.add("second Close: %v, want nil", err)
	}
	if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); !errors.Is(err, ledger.ErrClosed) {
		p.add("Append after Close: err = %v, want ErrClosed", err)
	}
	if _, err := s.Events(ctx, "r", 0); !errors.Is(err, ledger.ErrClosed) {
		p.add("Events after Close: err = %v, want ErrClosed", err)
	}
	if _, err := s.Runs(ctx); !errors.Is(err, ledger.ErrClosed) {
		p.add("Runs after Close: err = %v, want ErrClosed", err)
	}
	return p.err()
}

// wantLen adds a problem unless the run has want events.
func (p *problems) wantLen(ctx context.Context, s ledger.Store, run string, want int) {
	events, err := s.Events(ctx, run, 0)
	switch {
	case err != nil:
		p.add("Events(%q): %v", run, err)
	case len(events) != want:
		p.add("run %q has %d events, want %d", run, len(events), want)
	}
}

// sameEvent compares two events by their stored and hashed forms, so that a
// nil and an empty slice are the same, as they are in the log.
func sameEvent(a, b ledger.Event) error {
	switch {
	case a.ID != b.ID, a.RunID != b.RunID, a.TenantID != b.TenantID, a.Seq != b.Seq,
		a.Type != b.Type, a.PrevHash != b.PrevHash, a.Hash != b.Hash:
		return fmt.Errorf("header %+v != %+v", header(a), header(b))
	case isotime.Format(a.Timestamp) != isotime.Format(b.Timestamp):
		return fmt.Errorf("timestamp %s != %s", isotime.Format(a.Timestamp), isotime.Format(b.Timestamp))
	case b.Payload == nil:
		return fmt.Errorf("payload missing")
	}
	if ca, cb := ledger.CanonicalForm.Encode(a.Payload), ledger.CanonicalForm.Encode(b.Payload); string(ca) != string(cb) {
		return fmt.Errorf("payload %s != %s", ca, cb)
	}
	return nil
}

func header(e ledger.Event) string {
	return fmt.Sprintf("{id %s run %q tenant %q seq %d type %s prev %s hash %s}", e.ID, e.RunID, e.TenantID, e.Seq, e.Type, e.PrevHash, e.Hash)
}

// awkward is text that exercises every escaping rule of the canonical JSON.
const awkward = "Café 漢字 😀 \"q\" back\\slash tab\t nl\n ctrl\x1f DEL\x7f LS\u2028 <b>&amp;</b> /"

// samplePayloads returns one payload of each of the ten types, with
// non-ASCII text, nulls and awkward floats.
func samplePayloads() []ledger.Payload {
	return []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "fake-model", Prompt: awkward,
			Messages:     []ledger.ChatMessage{{Role: "system", Content: "be brief"}, {Role: "user", Content: awkward}},
			AllowedTools: []string{"lookup", "tränslate"}, StepKey: new("step.1")},
		&ledger.ModelCompleted{Model: "fake-model", OutputJSON: `{"a":"é"}`, PromptTokens: 12, CompletionTokens: 6, CostUSD: 1e-05,
			ToolCalls: []ledger.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":"ü"}`}}},
		&ledger.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: 0},
		&ledger.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: 0.1 + 0.2, ToolCalls: []ledger.ToolCall{}},
		&ledger.ModelCompleted{Model: "m", OutputJSON: "{}", CostUSD: 1e16},
		&ledger.ToolRequested{ToolName: "lookup", ArgumentsJSON: `{"q":"\u00fc"}`, IdempotencyKey: "k",
			ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion},
		&ledger.ToolCompleted{ToolName: "lookup", ResultJSON: "", Outcome: ledger.OutcomeUnknown,
			ReceivedIdempotencyKey: new("k"), RequestID: new("0123"), ErrorMessage: new(awkward)},
		&ledger.PauseRequested{Reason: "review", ContextJSON: new(`{"x":1}`)},
		&ledger.ResumeRequested{HumanInputJSON: new(`{"ok":true}`)},
		&ledger.ResumeRequested{},
		&ledger.WorkflowStepRequested{StepIndex: 0, StepName: "fetch"},
		&ledger.WorkflowStepCompleted{StepIndex: 0, StepName: "fetch", ResultJSON: `"done"`},
		&ledger.ReplayedWithDrift{StepKey: new("step.1"), Model: "fake-model", DriftFields: []string{"prompt", "messages"},
			SourceRequestedEventID: "0123", SourceTerminalSeq: new(int64(3)), Policy: "allow_prompt_drift"},
		&ledger.ReplayedWithDrift{Model: awkward, DriftFields: []string{}, SourceRequestedEventID: "0123",
			Policy: "fork_on_drift", ForkRunID: new("run-ünï::fork::0123456789abcdef")},
	}
}
