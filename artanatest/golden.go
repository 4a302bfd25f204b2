package artanatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/fielddiff"
	"github.com/artana-go/go-artana/internal/gotestcmd"
	"github.com/artana-go/go-artana/internal/pyjson"
	"github.com/artana-go/go-artana/recorder"
	"github.com/sebdah/goldie/v2"
)

// A GoldenOption configures AssertGoldenEvents and EventsText.
type GoldenOption func(*goldenConfig)

type goldenConfig struct {
	normalize bool
	name      string
}

// NormalizeVolatile replaces what differs from one run of a test to the
// next when the clock and ids are not deterministic with placeholders that
// are stable across runs: event ids become "<id-SEQ>" (wherever they
// appear, so a tool_completed's request_id names the seq of its request),
// hashes "<hash-SEQ>", timestamps "<timestamp>", the run id "<run>",
// idempotency keys "<key-N>" in order of first appearance, and the end
// record's hash and header digest "<end-hash>" and "<header-hash>". The
// result is then no longer a verifiable cassette, only text to compare.
func NormalizeVolatile() GoldenOption { return func(c *goldenConfig) { c.normalize = true } }

// GoldenName names the golden file testdata/<name>.golden instead of
// testdata/<TestName>.golden, for a test that checks several runs.
func GoldenName(name string) GoldenOption { return func(c *goldenConfig) { c.name = name } }

// EventsText returns events, the events of one run from seq 1, in the
// text form of an events cassette (package cassettes): a header line, one
// canonical line per event, and the end record. The text is exactly the
// file cassettes.WriteEvents writes, unless NormalizeVolatile is given.
func EventsText(events []ledger.Event, opts ...GoldenOption) ([]byte, error) {
	var cfg goldenConfig
	for _, o := range opts {
		o(&cfg)
	}
	if len(events) == 0 {
		return nil, errors.New("artanatest: no events; a cassette holds a run from seq 1")
	}
	dir, err := os.MkdirTemp("", "artanatest-events-")
	if err != nil {
		return nil, fmt.Errorf("artanatest: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.cassette")
	if err := cassettes.WriteEvents(context.Background(), path, events); err != nil {
		return nil, fmt.Errorf("artanatest: events of run %q: %w", events[0].RunID, err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("artanatest: %w", err)
	}
	if cfg.normalize {
		text = normalize(text, events)
	}
	return text, nil
}

var (
	endHashRE   = regexp.MustCompile(`"hash":"[0-9a-f]{64}"`)
	endHeaderRE = regexp.MustCompile(`"header":"[0-9a-f]{64}"`)
)

// normalize rewrites text, the cassette of events, as NormalizeVolatile
// says.
func normalize(text []byte, events []ledger.Event) []byte {
	quote := func(s string) string { return string(pyjson.AppendString(nil, s)) }
	var pairs []string
	keys := map[string]bool{}
	addKey := func(k *string) {
		if k != nil && *k != "" && !keys[*k] {
			keys[*k] = true
			pairs = append(pairs, quote(*k), `"<key-`+strconv.Itoa(len(keys))+`>"`)
		}
	}
	for _, e := range events {
		seq := strconv.FormatInt(e.Seq, 10)
		pairs = append(pairs, quote(e.ID), `"<id-`+seq+`>"`, quote(e.Hash), `"<hash-`+seq+`>"`)
		switch p := e.Payload.(type) {
		case *ledger.ToolRequested:
			addKey(&p.IdempotencyKey)
		case *ledger.ToolCompleted:
			addKey(p.ReceivedIdempotencyKey)
		}
	}
	ids := strings.NewReplacer(pairs...)
	run := quote(events[0].RunID)

	lines := strings.SplitAfter(string(text), "\n")
	var out strings.Builder
	for i, line := range lines {
		switch {
		case line == "":
		case i == 0: // header
			line = strings.Replace(line, `"run_id":`+run, `"run_id":"<run>"`, 1)
		case i == len(lines)-2: // end record, before the final ""
			line = ids.Replace(line)
			line = endHashRE.ReplaceAllLiteralString(line, `"hash":"<end-hash>"`)
			line = endHeaderRE.ReplaceAllLiteralString(line, `"header":"<header-hash>"`)
		default:
			line = ids.Replace(line)
			if j := strings.LastIndex(line, `,"run":`+run+`,"seq":`); j >= 0 {
				line = line[:j] + `,"run":"<run>","seq":` + line[j+len(`,"run":`+run+`,"seq":`):]
			}
			if j := strings.LastIndex(line, `,"timestamp":"`); j >= 0 {
				line = line[:j] + `,"timestamp":"<timestamp>"}}` + "\n"
			}
		}
		out.WriteString(line)
	}
	return []byte(out.String())
}

// AssertGoldenEvents compares the events of the run runID of store, in
// the EventsText form, with the golden file testdata/<TestName>.golden
// (see GoldenName), through github.com/sebdah/goldie/v2. Use
// NormalizeVolatile for a store whose clock or ids are not deterministic.
//
// The file is written instead when the test records (the record switch of
// package recorder: -artana.record=REGEXP or ARTANA_RECORD matching the
// test's name, see recorder.Recording), so that one switch re-records a
// test's cassettes and rewrites its golden log: like the cassettes, it is
// written when the test ends and only if it passed. -update (or
// GOLDIE_UPDATE=1) rewrites the golden log alone, offline, at once.
//
// A mismatch reports the first event that differs as a field diff
// (-golden +got, as artana-replay diff prints it; hashes and prev, which
// chain, are left out), then the command that rewrites the file. A missing
// file reports the command that records the test, which writes it.
//
// goldie defines the -update, -template and -clean flags in every binary
// that links it, so a test package using artanatest must not define flags
// of those names itself.
func AssertGoldenEvents(t testing.TB, store ledger.Store, runID string, opts ...GoldenOption) {
	t.Helper()
	var cfg goldenConfig
	for _, o := range opts {
		o(&cfg)
	}
	events, err := store.Events(t.Context(), runID, 0)
	if err != nil {
		t.Fatalf("artanatest: AssertGoldenEvents: read run %q: %v", runID, err)
		return
	}
	if len(events) == 0 {
		t.Fatalf("artanatest: AssertGoldenEvents: run %q has no events; check the run id", runID)
		return
	}
	got, err := EventsText(events, opts...)
	if err != nil {
		t.Fatalf("artanatest: AssertGoldenEvents: %v", err)
		return
	}
	name := cfg.name
	if name == "" {
		name = t.Name()
	}
	recording, err := recorder.Recording(t.Name())
	if err != nil {
		t.Fatalf("artanatest: AssertGoldenEvents: %v", err)
		return
	}
	g := goldie.New(t)
	path := g.GoldenFileName(t, name)
	testCmd := "go test " + gotestcmd.PackageDir() + " -run " + gotestcmd.Quote(gotestcmd.RunPattern(t.Name()))
	write := func() {
		if err := g.Update(t, name, got); err != nil {
			t.Errorf("artanatest: AssertGoldenEvents: write %s: %v", path, err)
			return
		}
		t.Logf("artanatest: wrote %s (%d events of run %q)", path, len(events), runID)
	}
	if recording {
		// As the recorder does with the cassette: written only if the
		// test passes, so that a failed recording leaves both as they were.
		t.Logf("artanatest: record mode: %s will be written if the test passes (not if it fails or is skipped)", path)
		t.Cleanup(func() {
			if t.Failed() || t.Skipped() {
				t.Logf("artanatest: the test did not pass; %s was left unchanged", path)
				return
			}
			write()
		})
		return
	}
	if updateFlag() {
		write()
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("artanatest: AssertGoldenEvents: golden file %s does not exist; record the test, which writes it (and the test's cassettes), with:\n\t%s",
			path, testCmd+" -"+recorder.FlagName+"="+gotestcmd.Quote("^"+regexp.QuoteMeta(t.Name())+"$"))
		return
	}
	if err != nil {
		t.Fatalf("artanatest: AssertGoldenEvents: %v", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("artanatest: AssertGoldenEvents: the events of run %q differ from %s; %s\nif the change is intended, rewrite the golden file with:\n\t%s",
			runID, path, firstDifference(want, got), testCmd+" -update")
	}
}

// firstDifference describes where the golden text want and got first
// differ: the line, the event's seq and type, and its differing fields
// (-golden +got). Hashes and prev are left out of the field diff: they
// chain, so every event after a change differs in them.
func firstDifference(want, got []byte) string {
	wl := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	gl := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	switch {
	case i == len(wl) && i == len(gl):
		return "the texts differ only in line endings"
	case i >= len(gl):
		return fmt.Sprintf("the golden file has %d more line(s), from line %d: %s", len(wl)-i, i+1, describeLine(wl[i]))
	case i >= len(wl):
		return fmt.Sprintf("the run has %d more line(s) than the golden file, from line %d: %s", len(gl)-i, i+1, describeLine(gl[i]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d, %s (-golden +got):\n", i+1, describeLine(gl[i]))
	var w, g map[string]any
	if json.Unmarshal([]byte(wl[i]), &w) != nil || json.Unmarshal([]byte(gl[i]), &g) != nil {
		fmt.Fprintf(&b, "\t-%s\n\t+%s", wl[i], gl[i])
		return b.String()
	}
	delete(w, "hash")
	delete(w, "prev")
	delete(g, "hash")
	delete(g, "prev")
	_, diffs := jsonFields.Compare(w, g)
	if len(diffs) == 0 {
		b.WriteString("\tonly hash or prev differ: an event before it changed in a way the text does not show\n")
	}
	for _, d := range diffs {
		fmt.Fprintf(&b, "\t%s:\n\t\t-%s\n\t\t+%s\n", d.Path, d.X, d.Y)
	}
	if rest := min(len(wl), len(gl)) - i - 1; rest > 0 {
		fmt.Fprintf(&b, "(the %d line(s) after it may differ only because hashes chain)", rest)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// describeLine names the record of a golden line: "seq 3 (model_completed)",
// "the header" or "the end record".
func describeLine(line string) string {
	var rec struct {
		Format string `json:"format"`
		Type   string `json:"type"`
		Body   struct {
			Seq json.RawMessage `json:"seq"`
		} `json:"body"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil {
		return "a line that is not JSON"
	}
	switch {
	case rec.Format != "":
		return "the header"
	case rec.Type == "end":
		return "the end record"
	case rec.Body.Seq != nil:
		return "seq " + string(rec.Body.Seq) + " (" + rec.Type + ")"
	}
	return "a " + rec.Type + " record"
}

// jsonFields prints the differing leaves of two decoded JSON records:
// body.payload.prompt, body.payload.messages[0].content; values as JSON.
var jsonFields = fielddiff.Format{
	Root: "record",
	Key:  func(k reflect.Value) string { return k.String() },
	Value: func(v reflect.Value) string {
		if !v.IsValid() {
			return "(absent)"
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Sprint(v.Interface())
		}
		return string(b)
	},
}

// updateFlag reports whether goldie's -update flag (or GOLDIE_UPDATE) is
// set.
func updateFlag() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	b, _ := g.Get().(bool)
	return b
}
