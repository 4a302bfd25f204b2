package cassettes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/artana-go/go-artana/cassettes"
)

// readWhole reads every record of the cassette at path, checked, as
// artana-replay verify does (under the shared lock).
func readWhole(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := cassettes.OpenShared(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		var err error
		if r.Header().Kind == cassettes.KindEvents {
			_, err = r.NextEvent()
		} else {
			_, err = r.Next()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// tamperCampaign changes one random byte of the cassette at orig, n
// times: every change (every byte of a cassette is stored content) must be
// reported as an *Error naming the file and a line, without a panic or a
// hang.
func tamperCampaign(t *testing.T, orig string, n int, seed uint64) {
	t.Helper()
	data0, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := readWhole(orig); err != nil {
		t.Fatalf("the clean cassette: %v", err)
	}
	rng := rand.New(rand.NewPCG(seed, 22))
	path := filepath.Join(t.TempDir(), filepath.Base(orig))
	lines := map[int]int{}
	for i := range n {
		data := slices.Clone(data0)
		at := rng.IntN(len(data))
		old := data[at]
		data[at] = byte(rng.IntN(255))
		if data[at] >= old {
			data[at]++
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v", r)
				}
			}()
			done <- readWhole(path)
		}()
		desc := fmt.Sprintf("mutation %d (byte %d of %d: %q -> %q)", i, at, len(data), old, data[at])
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: reading did not return within 20s", desc)
		}
		var ce *cassettes.Error
		switch {
		case err == nil:
			t.Errorf("%s passes silently", desc)
		case !errors.As(err, &ce) || ce.Line <= 0 || ce.Path != path:
			t.Errorf("%s: %v, want an error naming %s and a line", desc, err, path)
		default:
			lines[ce.Line]++
		}
	}
	t.Logf("%d single-byte mutations of %s (%d bytes): all reported; by line: %v", n, filepath.Base(orig), len(data0), lines)
}

// TestTamperCampaignEvents: an events cassette written by Store.
func TestTamperCampaignEvents(t *testing.T) {
	s, path := smallRun(t, t.TempDir())
	s.Close()
	tamperCampaign(t, path, campaignN(), 22)
}

// TestTamperCampaignInteractions: an interactions cassette written by the
// recorder (the examples' committed one).
func TestTamperCampaignInteractions(t *testing.T) {
	tamperCampaign(t, filepath.Join("..", "examples", "regression", "testdata", "cassettes", "TestSupport.cassette"), campaignN(), 22)
}

// campaignN is ARTANA_TAMPER_N, or 300.
func campaignN() int {
	n := 300
	if v := os.Getenv("ARTANA_TAMPER_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	return n
}
