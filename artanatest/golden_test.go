package artanatest_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
)

func TestAssertGoldenEvents(t *testing.T) {
	k, _, _ := triageKernel(t)
	if _, err := triage(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	artanatest.AssertGoldenEvents(t, k.Store(), "ticket-1")

	// The golden file is exactly the events cassette of the run.
	path := filepath.Join(t.TempDir(), "run.cassette")
	if err := cassettes.WriteEvents(t.Context(), path, mustEvents(t, k.Store(), "ticket-1")); err != nil {
		t.Fatal(err)
	}
	written, _ := os.ReadFile(path)
	golden, _ := os.ReadFile(filepath.Join("testdata", "TestAssertGoldenEvents.golden"))
	if string(written) != string(golden) {
		t.Errorf("golden file differs from cassettes.WriteEvents:\n%s\n%s", golden, written)
	}
}

// liveRun runs triage-like steps on a kernel with a real clock, random
// event ids and a random run id, and returns the run id.
func liveRun(t *testing.T) (ledger.Store, string) {
	t.Helper()
	s := ledger.NewMemStore()
	k := artana.New(s, artanatest.NewFakeModel(t, artanatest.Reply{Output: verdict{"refund"}}),
		artana.WithTools(refundTools(t, new(atomic.Int64))))
	ctx := t.Context()
	run, err := k.StartRun(ctx, tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artana.StepModel[verdict](ctx, k, run, artana.ModelStep{Model: "m", Prompt: "Classify"}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "second"} {
		if _, err := k.StepTool(ctx, run, artana.ToolStep{Tool: "refund", Args: refundArgs{"A-1", 1}, StepKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	return s, run.ID
}

func TestAssertGoldenEventsNormalized(t *testing.T) {
	s1, run1 := liveRun(t)
	s2, run2 := liveRun(t)
	a := eventsText(t, s1, run1, artanatest.NormalizeVolatile())
	b := eventsText(t, s2, run2, artanatest.NormalizeVolatile())
	if a != b {
		t.Fatalf("normalized logs of two identical runs differ:\n%s\n%s", a, b)
	}
	if hex := regexp.MustCompile(`[0-9a-f]{32}|20\d\d-\d\d-\d\dT`).FindString(a); hex != "" || strings.Contains(a, run1) {
		t.Fatalf("normalized log still holds %q or the run id:\n%s", hex, a)
	}
	for _, want := range []string{`"request_id":"<id-4>"`, `"received_idempotency_key":"<key-2>"`, `"prev":"<hash-5>"`, `"run_id":"<run>"`} {
		if !strings.Contains(a, want) {
			t.Errorf("normalized log lacks %s:\n%s", want, a)
		}
	}
	artanatest.AssertGoldenEvents(t, s1, run1, artanatest.NormalizeVolatile())
	artanatest.AssertGoldenEvents(t, s2, run2, artanatest.NormalizeVolatile())
}

func TestNormalizeEscapedRunID(t *testing.T) {
	s := ledger.NewMemStore()
	const id = "tïcket/\"1\""
	if _, err := s.Append(context.Background(), id, "acme", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	text := eventsText(t, s, id, artanatest.NormalizeVolatile())
	if strings.Count(text, `"<run>"`) != 2 || strings.Contains(text, "cket") {
		t.Fatalf("run id not normalized in header and body:\n%s", text)
	}
}

func TestAssertGoldenEventsFails(t *testing.T) {
	k, _, _ := triageKernel(t)
	if _, err := triage(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	// The test drives -update itself, whatever the command line says.
	prev := flag.Lookup("update").Value.String()
	_ = flag.Set("update", "false")
	defer flag.Set("update", prev)
	t.Chdir(t.TempDir())
	golden := filepath.Join("testdata", t.Name()+".golden")

	fails(t, func(tb testing.TB) {
		artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1")
	}, "golden file "+golden+" does not exist; record the test, which writes it (and the test's cassettes), with:",
		"\n\tgo test . -run '^TestAssertGoldenEventsFails$' -artana.record='^TestAssertGoldenEventsFails$'")

	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	good := eventsText(t, k.Store(), "ticket-1")
	bad := strings.Replace(good, `\"label\":\"refund\"`, `\"label\":\"spam\"`, 1)
	if err := os.WriteFile(golden, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	fails(t, func(tb testing.TB) {
		artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1")
	}, `the events of run "ticket-1" differ from `+golden+`; first difference at line 4, seq 3 (model_completed) (-golden +got):
	body.payload.output_json:
		-"{\"label\":\"spam\"}"
		+"{\"label\":\"refund\"}"
(the 3 line(s) after it may differ only because hashes chain)
if the change is intended, rewrite the golden file with:
	go test . -run '^TestAssertGoldenEventsFails$' -update`)

	// An event the golden file lacks, and one it has more.
	lines := strings.SplitAfter(good, "\n")
	if err := os.WriteFile(golden, []byte(strings.Join(lines[:3], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	fails(t, func(tb testing.TB) {
		artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1")
	}, "the run has 4 more line(s) than the golden file, from line 4: seq 3 (model_completed)")
	if err := os.WriteFile(golden, []byte(good+lines[3]), 0o644); err != nil {
		t.Fatal(err)
	}
	fails(t, func(tb testing.TB) {
		artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1")
	}, "the golden file has 1 more line(s), from line 8: seq 3 (model_completed)")

	fails(t, func(tb testing.TB) {
		artanatest.AssertGoldenEvents(tb, k.Store(), "nope")
	}, `run "nope" has no events`)

	// -update rewrites the file, and the test then passes.
	if err := flag.Set("update", "true"); err != nil {
		t.Fatal(err)
	}
	passes(t, func(tb testing.TB) { artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1") })
	passes(t, func(tb testing.TB) {
		artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1", artanatest.GoldenName("named"))
	})
	_ = flag.Set("update", "false")
	if got, _ := os.ReadFile(golden); string(got) != good {
		t.Fatalf("-update wrote:\n%s\nwant:\n%s", got, good)
	}
	if _, err := os.Stat(filepath.Join("testdata", "named.golden")); err != nil {
		t.Fatalf("GoldenName: %v", err)
	}
	passes(t, func(tb testing.TB) { artanatest.AssertGoldenEvents(tb, k.Store(), "ticket-1") })
}

func TestEventsTextErrors(t *testing.T) {
	if _, err := artanatest.EventsText(nil); err == nil || !strings.Contains(err.Error(), "no events") {
		t.Errorf("no events: %v", err)
	}
	k, _, _ := triageKernel(t)
	if _, err := triage(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	evs := mustEvents(t, k.Store(), "ticket-1")
	_, err := artanatest.EventsText(evs[1:])
	if err == nil || !strings.Contains(err.Error(), `events of run "ticket-1"`) {
		t.Errorf("a run not starting at seq 1: %v", err)
	}
	evs[2].Payload = &ledger.ModelCompleted{Model: "x", OutputJSON: "{}"}
	if _, err := artanatest.EventsText(evs); err == nil {
		t.Error("a broken chain was written")
	}
}
