package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/original"

	"github.com/artana-go/go-artana/artanatest"
)

// The four worked examples of HASH_RECIPE.md §8, copied from ledgers the
// Python original wrote: columns as stored, and the stored event_hash.
var workedExamples = []struct {
	name                           string
	id, run, tenant                string
	seq                            int64
	typ                            ledger.EventType
	prev, timestamp, payload, hash string
	wantInputLen                   int
}{
	{
		name: "first event, microsecond 0",
		id:   "a01242123e1449e3a2d3340f551ded2f", run: "fixed_clock_run", tenant: "org_clock", seq: 1,
		typ: ledger.EventRunStarted, timestamp: "2024-02-29T23:59:59+00:00",
		payload:      `{"kind": "run_started"}`,
		hash:         "855bc8bbfe42b1eca7818bde95745be5472a80ec7fd69c2598d6ed6a263adfea",
		wantInputLen: 122,
	},
	{
		name: "model_completed with cost 1e-05",
		id:   "84bc9ba6a8ba4c0e8acffc21db410c21", run: "cost_run", tenant: "org_costs", seq: 5,
		typ:          ledger.EventModelCompleted,
		prev:         "f2bd2930b6d150685a6157f1e22e8f3891eeda3647b75ae5cb31dff30f4e015e",
		timestamp:    "2026-11-25T17:48:08.565811+00:00",
		payload:      `{"kind": "model_completed", "model": "fake-model", "output_json": "{\"approved\":true,\"text\":\"cost 1e-05\"}", "prompt_tokens": 1000000, "completion_tokens": 0, "cost_usd": 1e-05, "tool_calls": []}`,
		hash:         "76cd81e22be9a6e363b9efcb6de3ef9644612f6e39cc5b2b3020f7dde918eef1",
		wantInputLen: 354,
	},
	{
		name: "non-ASCII ids and a prompt full of escapes",
		id:   "436ac543ab2141a5bf1c867c8eb5f78b", run: "run_ünïcødé_漢字_🚀", tenant: "tenant_ümlaut_東京", seq: 2,
		typ:          ledger.EventModelRequested,
		prev:         "efc2b47264091952ec511be231466cf8e018ceb3ff3ad2e30bd000c44dd091a2",
		timestamp:    "2026-11-25T17:48:08.537449+00:00",
		payload:      `{"kind": "model_requested", "model": "fake-model", "prompt": "Caf\u00e9 cr\u00e8me \u2013 na\u00efve fa\u00e7ade; \u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8; \u4e2d\u6587; \ud55c\uad6d\uc5b4; emoji \ud83d\ude00\ud83d\ude80\ud83d\udc4d\ud83c\udffd family \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 clef \ud834\udd1e\nline2 \"double\" and 'single' quotes, back\\slash, tab\tend\r\nctrl \u001f DEL \u007f LS \u2028 PS \u2029 NBSP\u00a0 BOM \ufeff combining e\u0301 html <b>&amp;</b> slash / end", "messages": [{"role": "user", "content": "Caf\u00e9 cr\u00e8me \u2013 na\u00efve fa\u00e7ade; \u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8; \u4e2d\u6587; \ud55c\uad6d\uc5b4; emoji \ud83d\ude00\ud83d\ude80\ud83d\udc4d\ud83c\udffd family \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 clef \ud834\udd1e\nline2 \"double\" and 'single' quotes, back\\slash, tab\tend\r\nctrl \u001f DEL \u007f LS \u2028 PS \u2029 NBSP\u00a0 BOM \ufeff combining e\u0301 html <b>&amp;</b> slash / end"}], "allowed_tools": ["translate"], "step_key": "uni.1"}`,
		hash:         "7c72f7b8c9b7ec4b5c2a31dbe5c504b4395f526aca5e2433f6c563b9a5dad791",
		wantInputLen: 1219,
	},
	{
		name: "tool_completed with unknown_outcome and nulls",
		id:   "d5437310b1654188803a7bbde8dc1a56", run: "run_tool_unknown_reconcile", tenant: "org_live", seq: 3,
		typ:          ledger.EventToolCompleted,
		prev:         "1bf3a96534fc085a27d8c467e840c390dcd2b9c2562ce8914ca9f5a6a7aba14f",
		timestamp:    "2026-11-25T17:48:08.405120+00:00",
		payload:      `{"kind": "tool_completed", "tool_name": "submit_transfer", "result_json": "", "outcome": "unknown_outcome", "received_idempotency_key": "932409b9374cbdeb5a61e2e587aab9bf061b9ee04e7125d3282465e54acabb34", "effect_id": null, "request_id": "a38cf5faa12a492cb42cb10fbea1d210", "error_message": "simulated network drop after request submission"}`,
		hash:         "5da974d2ce3687f143bed3289807baa6c2619ad0db16eed69c63fa00170bd74c",
		wantInputLen: 509,
	},
}

func TestWorkedExamples(t *testing.T) {
	for _, ex := range workedExamples {
		t.Run(ex.name, func(t *testing.T) {
			e := original.EventFromColumns(t, ex.id, ex.run, ex.tenant, ex.seq, ex.typ, ex.prev, ex.hash, ex.timestamp, ex.payload)
			if got := e.ComputeHash(); got != ex.hash {
				t.Errorf("ComputeHash = %s, want %s\ninput: %s", got, ex.hash, e.HashInput())
			}
			if n := len(e.HashInput()); n != ex.wantInputLen {
				t.Errorf("hash input is %d bytes, want %d", n, ex.wantInputLen)
			}
			// The column form written back is byte-identical to what Python stored.
			if got := string(ledger.ColumnForm.Encode(e.Payload)); got != ex.payload {
				t.Errorf("PayloadJSON =\n%s\nwant\n%s", got, ex.payload)
			}
		})
	}
}

func sealed(t testing.TB, n int) []ledger.Event {
	t.Helper()
	opts := ledger.NewStoreOptions(ledger.WithEventIDs(artanatest.SequentialIDs()),
		ledger.WithEventClock(artanatest.SteppingClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Second)))
	var events []ledger.Event
	for i := range n {
		var last *ledger.Event
		if i > 0 {
			last = &events[i-1]
		}
		e, err := opts.NextEvent(last, "run", "tenant", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	return events
}

func TestVerifyChain(t *testing.T) {
	if err := ledger.VerifyChain(nil); err != nil {
		t.Errorf("VerifyChain(nil) = %v", err)
	}
	if err := ledger.VerifyChain(sealed(t, 5)); err != nil {
		t.Fatalf("VerifyChain of a sealed run: %v", err)
	}
	tests := []struct {
		name    string
		tamper  func(ev []ledger.Event) []ledger.Event
		wantSeq int64
		reason  string
	}{
		{"payload changed", func(ev []ledger.Event) []ledger.Event {
			ev[2].Payload = &ledger.WorkflowStepRequested{StepIndex: 2, StepName: "S"}
			return ev
		}, 3, "hash mismatch"},
		{"timestamp changed", func(ev []ledger.Event) []ledger.Event {
			ev[1].Timestamp = ev[1].Timestamp.Add(time.Microsecond)
			return ev
		}, 2, "hash mismatch"},
		{"link broken", func(ev []ledger.Event) []ledger.Event {
			ev[3].PrevHash = strings.Repeat("0", 64)
			return ev
		}, 4, "broken link"},
		{"first event has a prev hash", func(ev []ledger.Event) []ledger.Event {
			ev[0].PrevHash = "x"
			return ev
		}, 1, "broken link"},
		{"seq gap", func(ev []ledger.Event) []ledger.Event {
			return append(ev[:2], ev[3:]...)
		}, 4, "seq gap"},
		{"reordered", func(ev []ledger.Event) []ledger.Event {
			ev[1], ev[2] = ev[2], ev[1]
			return ev
		}, 3, "seq gap"},
		{"repeated", func(ev []ledger.Event) []ledger.Event {
			return append(ev[:3], ev[2:]...)
		}, 3, "out of order or repeated"},
		{"tenant mixed", func(ev []ledger.Event) []ledger.Event {
			ev[2].TenantID = "other"
			return ev
		}, 3, "tenant mixed"},
		{"run mixed", func(ev []ledger.Event) []ledger.Event {
			ev[2].RunID = "other"
			return ev
		}, 3, "event of run"},
		{"type does not match payload", func(ev []ledger.Event) []ledger.Event {
			ev[1].Type = ledger.EventRunStarted
			return ev
		}, 2, "does not match payload kind"},
		{"payload missing", func(ev []ledger.Event) []ledger.Event {
			ev[1].Payload = nil
			return ev
		}, 2, "no payload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ledger.VerifyChain(tc.tamper(sealed(t, 5)))
			var ce *ledger.ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ledger.ErrChainBroken) {
				t.Fatalf("VerifyChain = %v, want a *ChainError matching ErrChainBroken", err)
			}
			want := *ce // the run is sealed's
			want.Seq = tc.wantSeq
			if d := cmp.Diff(want, *ce); d != "" {
				t.Errorf("VerifyChain = %v (-want +got):\n%s", err, d)
			}
			if !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("VerifyChain = %v; want a reason containing %q", err, tc.reason)
			}
		})
	}
}

func TestChainVerifierResume(t *testing.T) {
	events := sealed(t, 6)
	var v ledger.ChainVerifier
	v.Resume(&events[2])
	for i := 3; i < 6; i++ {
		if err := v.Next(&events[i]); err != nil {
			t.Fatalf("Next(seq %d) after Resume: %v", events[i].Seq, err)
		}
	}
	v.Resume(&events[2])
	if err := v.Next(&events[4]); err == nil {
		t.Errorf("Next skipped seq 4 without an error")
	}
}

func BenchmarkAppendVerify(b *testing.B) {
	ctx := b.Context()
	payload := &ledger.ModelCompleted{Model: "fake-model", OutputJSON: `{"answer":"Café ✓"}`,
		PromptTokens: 120, CompletionTokens: 40, CostUSD: 0.00042}
	b.Run("Append", func(b *testing.B) {
		s := ledger.NewMemStore()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Append(ctx, "run", "tenant", payload); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("Verify", func(b *testing.B) {
		s := ledger.NewMemStore()
		for range 1000 {
			if _, err := s.Append(ctx, "run", "tenant", payload); err != nil {
				b.Fatal(err)
			}
		}
		events, err := s.Events(ctx, "run", 0)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := ledger.VerifyChain(events); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	})
}
