package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestVerifyCampaignCassette changes one random byte of an events cassette
// at a time (fixed seed) and runs artana-replay verify on it: every change
// fails verification with the file and line, and the command neither
// panics nor hangs. The stores' own campaigns (./sqlite, ./cassettes) run
// thousands more.
func TestVerifyCampaignCassette(t *testing.T) {
	dir := t.TempDir()
	ledger := filepath.Join(dir, "l.db")
	if err := writeSeedFlow(t.Context(), ledger, "Second question"); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCLI(t, "export", ledger, filepath.Join(dir, "out")); err != nil {
		t.Fatalf("export: %v %s", err, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("export wrote no cassette")
	}
	orig, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.jsonl")
	where := regexp.MustCompile(regexp.QuoteMeta(path) + `:\d+: `)
	rng := rand.New(rand.NewPCG(22, 3))
	for i := range 100 {
		data := slices.Clone(orig)
		at := rng.IntN(len(data))
		old := data[at]
		data[at] = byte(rng.IntN(255))
		if data[at] >= old {
			data[at]++
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr string
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			stdout, stderr, err = runCLI(t, "verify", path)
		}()
		if err == nil || !where.MatchString(stdout+stderr+err.Error()) {
			t.Errorf("mutation %d (byte %d: %q -> %q): verify %v\n%s%s; want a failure naming %s:LINE", i, at, old, data[at], err, stdout, stderr, path)
		}
	}
}
