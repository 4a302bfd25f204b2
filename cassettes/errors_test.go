package cassettes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/cassettes"
)

// lines splits a cassette into its lines, without newlines.
func lines(data []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func join(ls [][]byte) []byte { return append(bytes.Join(ls, []byte("\n")), '\n') }

func readAllEvents(path string) error {
	r, err := cassettes.OpenReader(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, err := r.NextEvent(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func TestReaderReportsCorruption(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Lines: 1 header, 2..6 events seq 1..5, 7 end record.
	edit := func(f func(ls [][]byte) [][]byte) []byte {
		return join(f(lines(bytes.Clone(golden))))
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		wantErr  error
		wantLine int
		wantText string
		storeErr error // what a Store reports, when it differs; errNone for no error
	}{
		{"bad JSON", edit(func(ls [][]byte) [][]byte { ls[2] = ls[2][:40]; return ls }), cassettes.ErrSyntax, 3, "bad JSON", nil},
		{"unknown record type", edit(func(ls [][]byte) [][]byte {
			ls[2] = bytes.Replace(ls[2], []byte(`"type":"model_requested"`), []byte(`"type":"model_exploded"`), 1)
			return ls
		}), cassettes.ErrUnknownType, 3, `"model_exploded" is not an event type`, nil},
		{"edited payload", edit(func(ls [][]byte) [][]byte {
			ls[3] = bytes.Replace(ls[3], []byte(`"prompt_tokens":12`), []byte(`"prompt_tokens":13`), 1)
			return ls
		}), cassettes.ErrBrokenChain, 4, "hash mismatch", nil},
		{"reordered records", edit(func(ls [][]byte) [][]byte { ls[3], ls[4] = ls[4], ls[3]; return ls }), cassettes.ErrBrokenChain, 4, "seq", nil},
		{"removed record", edit(func(ls [][]byte) [][]byte { return append(ls[:3:3], ls[4:]...) }), cassettes.ErrBrokenChain, 4, "seq gap", nil},
		{"duplicated record", edit(func(ls [][]byte) [][]byte { return append(ls[:4:4], ls[3:]...) }), cassettes.ErrBrokenChain, 5, "seq", nil},
		{"truncated at a line boundary", edit(func(ls [][]byte) [][]byte { return ls[:5] }), cassettes.ErrTruncated, 6, "without its end record", nil},
		{"truncated mid-line", golden[:len(golden)-100], cassettes.ErrTornLine, 7, "without a newline", nil},
		{"torn last line", golden[:len(golden)-1], cassettes.ErrTornLine, 7, "interrupted", nil},
		{"unknown version", edit(func(ls [][]byte) [][]byte {
			ls[0] = bytes.Replace(ls[0], []byte(`"version":1`), []byte(`"version":2`), 1)
			return ls
		}), cassettes.ErrVersion, 1, "cassette format version 2 is not supported; this build reads version 1", nil},
		{"merge conflict markers", edit(func(ls [][]byte) [][]byte {
			out := append([][]byte{}, ls[:3]...)
			out = append(out, []byte("<<<<<<< HEAD"), ls[3], []byte("======="), ls[3], []byte(">>>>>>> feature"))
			return append(out, ls[4:]...)
		}), cassettes.ErrMergeConflict, 4, "conflict", nil},
		{"reformatted line", edit(func(ls [][]byte) [][]byte {
			ls[1] = bytes.Replace(ls[1], []byte(`"seq":1,`), []byte(`"seq": 1,`), 1)
			return ls
		}), cassettes.ErrNotCanonical, 2, "canonical", nil},
		{"extra field", edit(func(ls [][]byte) [][]byte {
			ls[1] = bytes.Replace(ls[1], []byte(`{"type"`), []byte(`{"note":"x","type"`), 1)
			return ls
		}), cassettes.ErrNotCanonical, 2, "canonical", nil},
		{"header run changed", edit(func(ls [][]byte) [][]byte {
			ls[0] = bytes.Replace(ls[0], []byte(`golden/run`), []byte(`other/run`), 1)
			return ls
		}), cassettes.ErrBrokenChain, 2, "belongs to run", cassettes.ErrHeader},
		{"end record count", edit(func(ls [][]byte) [][]byte {
			ls[6] = bytes.Replace(ls[6], []byte(`"records":5`), []byte(`"records":6`), 1)
			return ls
		}), cassettes.ErrBrokenChain, 7, "end record hash mismatch", nil},
		{"concatenated cassettes", append(bytes.Clone(golden), golden...), cassettes.ErrBrokenChain, 8, "after the end record", nil},
		{"CRLF line endings", bytes.ReplaceAll(golden, []byte("\n"), []byte("\r\n")), cassettes.ErrNotCanonical, 1, "gitattributes", nil},
		{"empty file", nil, cassettes.ErrHeader, 1, "empty file", errNone}, // an empty file is a run not yet written
		{"not a cassette", []byte(`{"hello":"world"}` + "\n"), cassettes.ErrHeader, 1, "not an artana-cassette file", nil},
		{"empty line", edit(func(ls [][]byte) [][]byte { ls[2] = nil; return ls }), cassettes.ErrSyntax, 3, "empty line", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.jsonl")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := readAllEvents(path)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var ce *cassettes.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *cassettes.Error", err)
			}
			if d := cmp.Diff(cassettes.Error{Path: path, Line: tc.wantLine, Err: ce.Err}, *ce, cmpopts.EquateErrors()); d != "" {
				t.Errorf("%v (-want +got):\n%s", err, d)
			}
			if prefix := fmt.Sprintf("%s:%d: ", path, tc.wantLine); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("message %q does not mention %q", err, tc.wantText)
			}
			// A store on the same file reports the same problem.
			dir := filepath.Dir(path)
			if err := os.Rename(path, filepath.Join(dir, cassettes.FileName("golden/run ü"))); err != nil {
				t.Fatal(err)
			}
			s, err := cassettes.OpenStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want := tc.wantErr
			if tc.storeErr != nil {
				want = tc.storeErr
			}
			if _, err := s.Events(context.Background(), "golden/run ü", 0); !(errors.Is(err, want) || want == errNone && err == nil) {
				t.Errorf("Store.Events: err = %v, want %v", err, want)
			}
			if _, err := s.Append(context.Background(), "golden/run ü", "acme", &ledger.RunStarted{}); !(errors.Is(err, want) || want == errNone && err == nil) {
				t.Errorf("Store.Append: err = %v, want %v", err, want)
			}
		})
	}
}

func TestReaderGenericChain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.jsonl")
	h := cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"model": "m"}}
	if err := cassettes.WriteFile(ctx, path, h, interactions()); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name     string
		data     []byte
		opts     []cassettes.ReadOption
		wantErr  error
		wantLine int
	}{
		{"restricted type", good, []cassettes.ReadOption{cassettes.RecordTypes("request")}, cassettes.ErrUnknownType, 2},
		{"invalid type name", bytes.Replace(good, []byte(`"type":"interaction"`), []byte(`"type":"Interaction"`), 1), nil, cassettes.ErrUnknownType, 2},
		{"edited body", bytes.Replace(good, []byte(`"latency_ms":12`), []byte(`"latency_ms":99`), 1), nil, cassettes.ErrBrokenChain, 2},
		{"reordered", join(func() [][]byte { ls := lines(good); ls[1], ls[2] = ls[2], ls[1]; return ls }()), nil, cassettes.ErrBrokenChain, 2},
		{"edited meta", bytes.Replace(good, []byte(`"model":"m"}}`), []byte(`"model":"n"}}`), 1), nil, cassettes.ErrBrokenChain, 4},
		{"missing field", bytes.Replace(good, []byte(`"prev":"",`), nil, 1), nil, cassettes.ErrSyntax, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.jsonl")
			os.WriteFile(p, tc.data, 0o644)
			_, _, err := cassettes.ReadAll(p, tc.opts...)
			var ce *cassettes.Error
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *cassettes.Error matching %v", err, tc.wantErr)
			}
			if d := cmp.Diff(cassettes.Error{Path: p, Line: tc.wantLine, Err: ce.Err}, *ce, cmpopts.EquateErrors()); d != "" {
				t.Errorf("%v (-want +got):\n%s", err, d)
			}
		})
	}
}

func TestResealAcceptsDeliberateEdit(t *testing.T) {
	ctx := context.Background()
	golden, _ := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	path := filepath.Join(t.TempDir(), "run.jsonl")
	ls := lines(golden)
	ls[3] = bytes.Replace(ls[3], []byte(`"prompt_tokens":12`), []byte(`"prompt_tokens":13`), 1)
	ls = append(ls[:4:4], ls[5:]...) // and drop seq 4
	os.WriteFile(path, join(ls), 0o644)
	if err := readAllEvents(path); !errors.Is(err, cassettes.ErrBrokenChain) {
		t.Fatalf("edited cassette reads with %v, want ErrBrokenChain", err)
	}
	changes, err := cassettes.Reseal(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{
		"line 4: model_completed seq 3: [hash]",
		"line 5: tool_completed seq 4: [seq prev hash body]",
		"line 6: end: [hash]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, events, err := cassettes.ReadEvents(path)
	if err != nil {
		t.Fatalf("resealed cassette: %v", err)
	}
	if len(events) != 4 {
		t.Fatalf("resealed: %d events, want 4", len(events))
	}
	if got := events[2].Payload.(*ledger.ModelCompleted).PromptTokens; got != 13 {
		t.Errorf("resealed model_completed has %d prompt tokens, want the edited 13", got)
	}
	// Resealing a sealed cassette changes nothing.
	before, _ := os.ReadFile(path)
	if changes, err := cassettes.Reseal(ctx, path); err != nil || len(changes) != 0 {
		t.Errorf("second Reseal = %v, %v; want no changes", changes, err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("second Reseal rewrote the file")
	}
}

func TestResealRefusesWhatItCannotRepair(t *testing.T) {
	golden, _ := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"conflict markers", append([]byte("<<<<<<< HEAD\n"), golden...), cassettes.ErrMergeConflict},
		{"bad JSON", append(bytes.Clone(golden), "{oops\n"...), cassettes.ErrSyntax},
		{"unknown version", bytes.Replace(golden, []byte(`"version":1`), []byte(`"version":7`), 1), cassettes.ErrVersion},
		{"unknown event type", bytes.Replace(golden, []byte(`"type":"run_started"`), []byte(`"type":"run_exploded"`), 1), cassettes.ErrUnknownType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.jsonl")
			os.WriteFile(path, tc.data, 0o644)
			if _, err := cassettes.Reseal(context.Background(), path); !errors.Is(err, tc.wantErr) {
				t.Errorf("Reseal: %v, want %v", err, tc.wantErr)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tc.data) {
				t.Errorf("a refused Reseal changed the file")
			}
			matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
			if len(matches) > 0 {
				t.Errorf("temp files left behind: %v", matches)
			}
		})
	}
}

var errNone = errors.New("no error")

var _ = json.RawMessage(nil)
