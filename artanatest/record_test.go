package artanatest_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/recorder"
)

// setFlag sets the flag name to value for the rest of the test.
func setFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag -%s in the test binary", name)
	}
	old := f.Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// TestOneSwitchRecords: the record switch alone re-records a test's
// cassette and rewrites its golden event log; recording again with a
// deterministic model (and a fixed clock for the latency the cassette
// keeps) leaves both byte-identical; without the switch the test replays
// them, never calling the live model.
func TestOneSwitchRecords(t *testing.T) {
	t.Chdir(t.TempDir())
	setFlag(t, "update", "false")
	t.Setenv(recorder.EnvVar, "")
	var liveCalls atomic.Int64
	label := "refund"
	live := llm.ModelFunc(func(context.Context, llm.Request) (llm.Response, error) {
		liveCalls.Add(1)
		return llm.Response{OutputJSON: `{"label":"` + label + `"}`,
			Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 3, CostUSD: 0.0001}}, nil
	})
	fixed := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	triageTest := func(t testing.TB) {
		rec := recorder.New(t, live, recorder.WithClock(func() time.Time { return fixed }))
		k := artanatest.NewKernel(t, rec, artana.WithTools(refundTools(t, new(atomic.Int64))))
		if _, err := triage(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		artanatest.AssertGoldenEvents(t, k.Store(), "ticket-1")
	}
	// Each pass is the test TestTriage, run as a fresh test would be.
	pass := func(what string) {
		t.Helper()
		if f := check(t, func(tb testing.TB) { triageTest(named{tb, "TestTriage"}) }); f.Failed() {
			t.Fatalf("%s failed:\n%s", what, f.report())
		}
	}
	cassette := filepath.Join("testdata", "cassettes", "TestTriage.cassette")
	golden := filepath.Join("testdata", "TestTriage.golden")
	files := func() (string, string) {
		t.Helper()
		c, err := os.ReadFile(cassette)
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		return string(c), string(g)
	}

	setFlag(t, recorder.FlagName, "^TestTriage$")
	pass("the first recording")
	c1, g1 := files()
	if liveCalls.Load() != 1 {
		t.Fatalf("recording called the live model %d times, want 1", liveCalls.Load())
	}

	// A recording that fails leaves cassette and golden log as they were,
	// though the model answered otherwise.
	label = "spam"
	if f := check(t, func(tb testing.TB) {
		triageTest(named{tb, "TestTriage"})
		tb.Errorf("the test fails after recording")
	}); !f.Failed() {
		t.Fatal("the failing pass passed")
	}
	if c, g := files(); c != c1 || g != g1 {
		t.Errorf("a failed recording changed the files:\ncassette:\n%s\ngolden:\n%s", c, g)
	}
	label = "refund"

	// Again, through the environment variable this time.
	setFlag(t, recorder.FlagName, "")
	t.Setenv(recorder.EnvVar, "^TestTriage$")
	pass("the second recording")
	c2, g2 := files()
	if c1 != c2 || g1 != g2 {
		t.Errorf("a second recording with a deterministic model changed the files:\ncassette:\n%s\n%s\ngolden:\n%s\n%s", c1, c2, g1, g2)
	}

	// Without the switch: replay, offline.
	t.Setenv(recorder.EnvVar, "")
	before := liveCalls.Load()
	pass("the replay")
	if liveCalls.Load() != before {
		t.Errorf("the replay called the live model")
	}
}

// named is a test with another name.
type named struct {
	testing.TB
	name string
}

func (n named) Name() string { return n.name }
