package cassettes_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
)

// FuzzReader feeds arbitrary bytes to the reader. It must never panic,
// every error must be a *cassettes.Error with a line inside the input, and
// whatever reads cleanly must be a valid chain that the reader accepts
// again after a Reseal-free round trip through the events API.
func FuzzReader(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)-1])
	f.Add([]byte(`{"format":"artana-cassette","version":1,"kind":"interactions"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := cassettes.NewReader(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			checkErr(t, err, data)
			return
		}
		events := r.Header().Kind == cassettes.KindEvents
		for n := 0; ; n++ {
			if events {
				_, err = r.NextEvent()
			} else {
				_, err = r.Next()
			}
			if err == io.EOF {
				if n > 0 && !bytes.HasSuffix(data, []byte("\n")) {
					t.Fatalf("accepted a cassette without a final newline")
				}
				return
			}
			if err != nil {
				checkErr(t, err, data)
				return
			}
		}
	})
}

func checkErr(t *testing.T, err error, data []byte) {
	t.Helper()
	var ce *cassettes.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v is not a *cassettes.Error", err, err)
	}
	if lines := bytes.Count(data, []byte("\n")) + 2; ce.Line < 1 || ce.Line > lines {
		t.Fatalf("error line %d outside the input's %d lines: %v", ce.Line, lines, err)
	}
}
