package recorder_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/recorder"
)

const benchSteps = 50

// agent50 runs 50 model steps through a kernel on m.
func agent50(b *testing.B, m llm.Model) {
	k := artana.New(ledger.NewMemStore(), m)
	run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, "run-1")
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchSteps {
		_, err := artana.StepModel[verdict](ctx, k, run, artana.ModelStep{
			Model:    "fake-1",
			Messages: []ledger.ChatMessage{{Role: "system", Content: triageSystem}, {Role: "user", Content: fmt.Sprintf("Category of: ticket %d", i)}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKernelReplay50 replays a 50-interaction cassette through the
// kernel: open the cassette, run 50 model steps, close (strict check).
// One op is one test's worth of replay.
func BenchmarkKernelReplay50(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.cassette")
	rec, err := recorder.Open(path, triageModel(), recorder.WithMode(recorder.Record))
	if err != nil {
		b.Fatal(err)
	}
	agent50(b, rec)
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec, err := recorder.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		agent50(b, rec)
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKernelLive50 is the baseline: the same 50 steps on the scripted
// live model, without a recorder.
func BenchmarkKernelLive50(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		agent50(b, triageModel())
	}
}
