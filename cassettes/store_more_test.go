package cassettes_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/google/go-cmp/cmp"
)

func TestFileNamesAreSafeAndDistinct(t *testing.T) {
	ids := []string{"run", "Run", "RUN", "a/b", "a_b", "../../etc/passwd", "..", ".", " ", "漢字", "ü",
		"u\u0308", strings.Repeat("x", 5000), "con", "a\\b", "nul\x00byte", "tab\there"}
	seen := map[string]string{}
	for _, id := range ids {
		name := cassettes.FileName(id)
		if strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") || len(name) > 80 {
			t.Errorf("FileName(%q) = %q is not a safe file name", id, name)
		}
		if lower := strings.ToLower(name); seen[lower] != "" {
			t.Errorf("FileName(%q) and FileName(%q) collide on a case-insensitive file system: %q", id, seen[lower], name)
		} else {
			seen[lower] = id
		}
	}
	// Every id round-trips through a store.
	s, err := cassettes.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, id := range ids {
		if _, err := s.Append(ctx, id, "t", &ledger.RunStarted{}); err != nil {
			t.Fatalf("Append(%q): %v", id, err)
		}
	}
	runs, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(ids) {
		t.Errorf("Runs lists %d runs, want %d", len(runs), len(ids))
	}
	for _, r := range runs {
		if events, err := s.Events(ctx, r.RunID, 0); err != nil || len(events) != 1 {
			t.Errorf("run %q: %d events, %v", r.RunID, len(events), err)
		}
	}
}

func TestInvalidUTF8RunIDAppendsNothing(t *testing.T) {
	s, _ := cassettes.OpenStore(t.TempDir())
	defer s.Close()
	if _, err := s.Append(context.Background(), "bad\xff", "t", &ledger.RunStarted{}); !errors.Is(err, ledger.ErrInvalidPayload) {
		t.Errorf("Append with an invalid UTF-8 run id: %v, want ErrInvalidPayload", err)
	}
	if entries, _ := os.ReadDir(s.Dir()); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

// Two stores on one directory (as two processes would have) see each
// other's appends and never break the chain.
func TestTwoStoresShareADirectory(t *testing.T) {
	dir := t.TempDir()
	a, _ := cassettes.OpenStore(dir)
	b, _ := cassettes.OpenStore(dir)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, s := range []*cassettes.Store{a, b} {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 15 {
					if _, err := s.Append(ctx, "shared", "t", &ledger.RunStarted{}); err != nil {
						t.Error(err)
						return
					}
					if _, err := s.Events(ctx, "shared", 3); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	for _, s := range []*cassettes.Store{a, b} {
		events, err := s.Events(ctx, "shared", 0)
		if err != nil || len(events) != 90 {
			t.Fatalf("%d events, %v; want 90", len(events), err)
		}
		if err := ledger.VerifyChain(events); err != nil {
			t.Error(err)
		}
		tail, err := s.Events(ctx, "shared", 88)
		if err != nil {
			t.Fatalf("Events(after 88): %v", err)
		}
		if d := cmp.Diff(events[88:], tail); d != "" {
			t.Errorf("Events(after 88) is not seqs 89 and 90 of Events(after 0) (-want +got):\n%s", d)
		}
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	src := ledger.NewMemStore()
	for i, run := range []string{"r1", "r2", "r1"} {
		if _, err := src.Append(ctx, run, "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: run}); err != nil {
			t.Fatal(err)
		}
	}
	r1, err := src.Events(ctx, "r1", 0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := src.Events(ctx, "r2", 0)
	if err != nil {
		t.Fatal(err)
	}

	s, _ := cassettes.OpenStore(t.TempDir())
	defer s.Close()
	if err := s.Import(ctx, append(append([]ledger.Event{}, r1...), r2...)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Events(ctx, "r1", 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("r1: %d events, %v", len(got), err)
	}
	if d := cmp.Diff(r1, got); d != "" {
		t.Errorf("r1 not imported verbatim (-imported +read back):\n%s", d)
	}
	// The store continues an imported run.
	if e, err := s.Append(ctx, "r2", "t", &ledger.RunStarted{}); err != nil || e.PrevHash != r2[0].Hash {
		t.Errorf("append after import: %+v, %v", e, err)
	}

	// A broken chain in one run imports nothing at all.
	more, _ := src.Append(ctx, "r3", "t", &ledger.RunStarted{})
	tampered := r1[1]
	tampered.Hash = strings.Repeat("0", 64)
	before, _ := os.ReadDir(s.Dir())
	err = s.Import(ctx, []ledger.Event{more, r1[0], tampered})
	if !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("Import of a tampered run: %v, want ErrChainBroken", err)
	}
	after, _ := os.ReadDir(s.Dir())
	if len(after) != len(before) {
		t.Errorf("failed Import left files: %d before, %d after", len(before), len(after))
	}
	if events, err := s.Events(ctx, "r3", 0); err != nil || len(events) != 0 {
		t.Errorf("failed Import wrote run r3 (%d events, %v)", len(events), err)
	}
	// Importing a run that already exists from seq 1 is refused.
	if err := s.Import(ctx, r1); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("re-Import: %v, want ErrChainBroken", err)
	}
}

func TestWriteEventsAndAppendEvents(t *testing.T) {
	ctx := context.Background()
	events := sealedEvents(t, 5)
	path := filepath.Join(t.TempDir(), "run.jsonl")
	if err := cassettes.WriteEvents(ctx, path, events[:3]); err != nil {
		t.Fatal(err)
	}
	a, err := cassettes.OpenAppender(ctx, path, cassettes.Header{Kind: cassettes.KindEvents})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AppendEvents(events[4]); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("AppendEvents with a gap: %v, want ErrChainBroken", err)
	}
	if err := a.AppendEvents(events[3:]...); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(cassettes.Record{Type: "x", Body: []byte("{}")}); err == nil {
		t.Errorf("Append of a generic record to an events cassette succeeded")
	}
	a.Close()
	_, got, err := cassettes.ReadEvents(path)
	if err != nil || len(got) != 5 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	if _, err := cassettes.OpenAppender(ctx, path, cassettes.Header{Kind: cassettes.KindInteractions}); !errors.Is(err, cassettes.ErrHeader) {
		t.Errorf("OpenAppender with the wrong kind: %v, want ErrHeader", err)
	}
}
