package regression_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/examples/regression"
	"github.com/artana-go/go-artana/recorder"
	"github.com/google/go-cmp/cmp"
)

const ticket = "I returned order A-17 two weeks ago. Where is my refund?"

func support(ctx context.Context, k *artana.Kernel) (regression.Decision, error) {
	return regression.Handle(ctx, k, "ticket-7", ticket)
}

// TestSupport replays the committed cassette: no model, no server, no tool
// backend. Recording (-artana.record) runs it against the local server and
// the shop instead, and rewrites the cassette and the golden log.
func TestSupport(t *testing.T) {
	recording, err := recorder.Recording(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	var live llm.Model
	var backend regression.Backend // nil: every tool execution replays from the cassette
	if recording {
		live = startServer(t).model(t)
		backend = &shop{}
	}
	rec := recorder.New(t, live)
	k := artanatest.NewKernel(t, rec, artana.WithTools(rec.Tools(regression.Tools(backend))))
	got := artanatest.AssertReplays(t, k, support)
	if got.Label != "refund" {
		t.Errorf("decision %+v, want the refund label", got)
	}
	if !strings.Contains(got.Reply, "already refunded") {
		t.Errorf("reply %q does not say the order was already refunded", got.Reply)
	}
	artanatest.AssertChainValid(t, k.Store(), "ticket-7")
	artanatest.AssertGoldenEvents(t, k.Store(), "ticket-7")
}

// TestRecordThenReplay records the loop (two tools called in parallel in
// one turn, one of them failing and the failure told to the model) through
// the openai model against the local server, stops the server, and replays
// the recording with no tool backend: AssertReplays passes, the call ids
// are the ones the server gave, and both runs logged the same events.
func TestRecordThenReplay(t *testing.T) {
	ctx := t.Context()
	srv := startServer(t)
	path := filepath.Join(t.TempDir(), "support.cassette")
	backend := &shop{}
	rec, err := recorder.Open(path, srv.model(t), recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	recorded := artanatest.NewKernel(t, rec, artana.WithTools(rec.Tools(regression.Tools(backend))))
	first, err := support(ctx, recorded)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if diff := cmp.Diff([]string{"lookup_order A-17", "refund A-17"}, backend.calls); diff != "" {
		t.Errorf("tool runs (-want +got):\n%s", diff)
	}

	// The second request carried both calls and both answers, the refund's
	// failure included.
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests to the server, want 2", len(reqs))
	}
	msgs := reqs[1]["messages"].([]any)
	refund := msgs[len(msgs)-1].(map[string]any)
	wantRefund := map[string]any{"role": "tool", "tool_call_id": "call_onyWzk4mLTGKzW9cthmf4Llq",
		"content": `{"error":"order A-17: the order was already refunded on 2025-01-03","outcome":"permanent_error"}`}
	if diff := cmp.Diff(wantRefund, refund); diff != "" {
		t.Errorf("the refund's tool message (-want +got):\n%s", diff)
	}

	replay, err := recorder.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	replayed := artanatest.NewKernel(t, replay, artana.WithTools(replay.Tools(regression.Tools(nil))))
	got := artanatest.AssertReplays(t, replayed, support)
	if err := replay.Close(); err != nil {
		t.Fatal(err)
	}
	if got != first {
		t.Errorf("replayed decision %+v, recorded %+v", got, first)
	}
	// What was recorded is the committed golden log of TestSupport.
	artanatest.AssertGoldenEvents(t, recorded.Store(), "ticket-7", artanatest.GoldenName("TestSupport"))
	a, b := events(t, recorded), events(t, replayed)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("the replayed run logged other events (-recorded +replayed):\n%s", diff)
	}
	calls := b[2].Payload.(*ledger.ModelCompleted).ToolCalls
	ids := []string{}
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"call_v6LacIrChvs6ITVpIZqy5tFc", "call_onyWzk4mLTGKzW9cthmf4Llq"}, ids); diff != "" {
		t.Errorf("replayed call ids (-server +replayed):\n%s", diff)
	}
}

func events(t *testing.T, k *artana.Kernel) []ledger.Event {
	t.Helper()
	evs, err := k.Store().Events(t.Context(), "ticket-7", 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
