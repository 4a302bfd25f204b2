package cassettes_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
)

// nextAll reads data record by record with Next and returns how many
// records it read and the error it stopped at (nil at the end).
func nextAll(data []byte) (int64, error) {
	r, err := cassettes.NewReader(bytes.NewReader(data), "c.jsonl")
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		if _, err := r.Next(); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

func verifyAll(data []byte) (int64, error) {
	r, err := cassettes.NewReader(bytes.NewReader(data), "c.jsonl")
	if err != nil {
		return 0, err
	}
	return r.Verify(context.Background(), nil)
}

func sameOutcome(t *testing.T, name string, data []byte) {
	t.Helper()
	n1, err1 := nextAll(data)
	n2, err2 := verifyAll(data)
	if n1 != n2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
		t.Errorf("%s: Next reads %d records and stops at %v; Verify reads %d and stops at %v", name, n1, err1, n2, err2)
	}
}

// TestVerifyAsNext checks that Reader.Verify accepts and refuses exactly
// what reading record by record does, with the same error, on the golden
// cassette, the damaged ones, and every single-line change of the golden
// cassette: a line removed, repeated, or with one byte changed.
func TestVerifyAsNext(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	damaged, _ := filepath.Glob(filepath.Join("testdata", "damaged", "*.jsonl"))
	for _, p := range append(paths, damaged...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameOutcome(t, p, data)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := verifyAll(golden); err != nil || n == 0 {
		t.Fatalf("golden cassette: Verify = %d, %v", n, err)
	}
	lines := strings.SplitAfter(string(golden), "\n")
	for i := range lines {
		removed := strings.Join(append(append([]string{}, lines[:i]...), lines[i+1:]...), "")
		sameOutcome(t, fmt.Sprintf("line %d removed", i+1), []byte(removed))
		repeated := strings.Join(append(append([]string{}, lines[:i+1]...), lines[i:]...), "")
		sameOutcome(t, fmt.Sprintf("line %d repeated", i+1), []byte(repeated))
	}
	for i := 0; i < len(golden); i += 7 {
		for _, c := range []byte{' ', '0', 'a', '"', '\\', '}', 0xc3} {
			mutated := bytes.Clone(golden)
			mutated[i] = c
			sameOutcome(t, fmt.Sprintf("byte %d = %q", i, c), mutated)
		}
	}
}

// FuzzVerify checks Reader.Verify against reading record by record.
func FuzzVerify(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Fuzz(func(t *testing.T, data []byte) { sameOutcome(t, "input", data) })
}
