package artanatest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/gotestcmd"
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
func EventsText(events []artana.Event, opts ...GoldenOption) ([]byte, error) {
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
func normalize(text []byte, events []artana.Event) []byte {
	quote := func(s string) string { return string(artana.AppendPythonString(nil, s)) }
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
		case *artana.ToolRequested:
			addKey(&p.IdempotencyKey)
		case *artana.ToolCompleted:
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
// (see GoldenName), through github.com/sebdah/goldie/v2. Run the test with
// -update (or GOLDIE_UPDATE=1) to write the file; a mismatch shows the line
// diff and the command that rewrites the file. Use NormalizeVolatile for a
// store whose clock or ids are not deterministic.
//
// goldie defines the -update, -template and -clean flags in every binary
// that links it, so a test package using artanatest must not define flags
// of those names itself.
func AssertGoldenEvents(t testing.TB, store artana.Store, runID string, opts ...GoldenOption) {
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
	g := goldie.New(t)
	path := g.GoldenFileName(t, name)
	rewrite := "go test " + gotestcmd.PackageDir() + " -run " + gotestcmd.Quote(gotestcmd.RunPattern(t.Name())) + " -update"
	if updateFlag() {
		if err := g.Update(t, name, got); err != nil {
			t.Fatalf("artanatest: AssertGoldenEvents: write %s: %v", path, err)
			return
		}
		t.Logf("artanatest: wrote %s (%d events of run %q)", path, len(events), runID)
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("artanatest: AssertGoldenEvents: golden file %s does not exist; create it with:\n\t%s", path, rewrite)
		return
	}
	if err != nil {
		t.Fatalf("artanatest: AssertGoldenEvents: %v", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("artanatest: AssertGoldenEvents: the events of run %q differ from %s:\n%s\nif the change is intended, rewrite the golden file with:\n\t%s",
			runID, path, goldie.Diff(goldie.ClassicDiff, string(got), string(want)), rewrite)
	}
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
