package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/sqlite"
)

// renderHTML runs artana-replay html with args and returns the page.
func renderHTML(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"html"}, args...), &out, &errOut); err != nil {
		t.Fatalf("artana-replay html %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// A tag is one start tag of a page: its name and attributes as written.
type tag struct {
	name  string
	attrs map[string]string
	raw   string
}

var (
	tagName  = regexp.MustCompile(`^<([a-zA-Z][a-zA-Z0-9-]*)`)
	tagAttrs = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?`)
)

// tagsOf lists the start tags of page. Every '<' of the page outside the
// contents of its script and style elements opens a tag: html/template
// writes '<' in text as "&lt;", so a '<' that came from ledger data would
// show up here as a tag of its own.
func tagsOf(t *testing.T, page string) []tag {
	t.Helper()
	var out []tag
	for i := 0; i < len(page); {
		j := strings.IndexByte(page[i:], '<')
		if j < 0 {
			break
		}
		i += j
		end := strings.IndexByte(page[i:], '>')
		if end < 0 {
			t.Fatalf("unterminated tag at offset %d: %.80q", i, page[i:])
		}
		raw := page[i : i+end+1]
		i += end + 1
		if strings.HasPrefix(raw, "</") || strings.HasPrefix(raw, "<!") {
			continue
		}
		m := tagName.FindStringSubmatch(raw)
		if m == nil {
			t.Fatalf("a '<' that opens no tag at offset %d: %.80q", i, raw)
		}
		tg := tag{name: strings.ToLower(m[1]), attrs: map[string]string{}, raw: raw}
		for _, a := range tagAttrs.FindAllStringSubmatch(raw[len(m[0]):len(raw)-1], -1) {
			tg.attrs[strings.ToLower(a[1])] = a[2] + a[3] + a[4]
		}
		out = append(out, tg)
		if tg.name == "script" || tg.name == "style" {
			close := strings.Index(page[i:], "</"+tg.name+">")
			if close < 0 {
				t.Fatalf("<%s> is not closed", tg.name)
			}
			i += close
		}
	}
	return out
}

// checkSelfContained checks that a page asks for nothing outside itself
// and runs no script but its own: one script element, no event handler
// attributes, no src, every link to an anchor of the page, no CSS url()
// or @import, and a Content-Security-Policy that forbids requests.
func checkSelfContained(t *testing.T, page string) []tag {
	t.Helper()
	tags := tagsOf(t, page)
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
		"header": true, "h1": true, "h3": true, "h4": true, "p": true, "span": true, "div": true, "b": true, "i": true,
		"a": true, "code": true, "pre": true, "main": true, "section": true, "details": true, "summary": true,
		"ol": true, "li": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
		"figure": true, "figcaption": true, "svg": true, "polyline": true, "script": true}
	scripts := 0
	for _, tg := range tags {
		if !allowed[tg.name] {
			t.Errorf("unexpected element %s", tg.raw)
		}
		if tg.name == "script" {
			scripts++
		}
		for name, val := range tg.attrs {
			switch {
			case strings.HasPrefix(name, "on"):
				t.Errorf("event handler attribute in %s", tg.raw)
			case name == "src" || name == "srcset" || name == "action" || name == "formaction" || name == "xlink:href":
				t.Errorf("attribute %s in %s", name, tg.raw)
			case name == "href" && !strings.HasPrefix(val, "#"):
				t.Errorf("link out of the page: %s", tg.raw)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d script elements, want 1", scripts)
	}
	style := page[strings.Index(page, "<style>"):strings.Index(page, "</style>")]
	if strings.Contains(style, "url(") || strings.Contains(style, "@import") {
		t.Error("the style sheet refers to something outside the page")
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`) {
		t.Error("no Content-Security-Policy forbidding requests")
	}
	return tags
}

func countClass(tags []tag, name, class string) int {
	n := 0
	for _, tg := range tags {
		if tg.name == name && strings.Contains(" "+tg.attrs["class"]+" ", " "+class+" ") {
			n++
		}
	}
	return n
}

func TestHTMLRun(t *testing.T) {
	page := renderHTML(t, filepath.Join("testdata", "tool_loop.cassette"))
	tags := checkSelfContained(t, page)
	if n := countClass(tags, "details", "step"); n != 5 {
		t.Errorf("%d steps in the timeline, want 5 (as diff groups the run's 9 events)", n)
	}
	for _, want := range []string{
		"Hash chain verified: 9 events.",
		"Status: complete",
		`tool call 1 (lookup_order) of model step &#34;support/turn-1&#34;`,
		"completion tokens <b>85</b>",
		"<polyline",
		"seq 8–9",
		"1.00s", // latency: the fixture's clock steps one second per event
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// A run that waits, and a tool call with an unknown outcome, stand out:
// their steps are open, flagged and linked from the status banner.
func TestHTMLAttention(t *testing.T) {
	db := filepath.Join(t.TempDir(), "statuses.db")
	if err := writeStatuses(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	page := renderHTML(t, filepath.Join("testdata", "tool_outcomes.db")+"#run_tool_unknown_reconcile")
	if !strings.Contains(page, `<details class="step k-tool attention" id="step-2" open>`) ||
		!strings.Contains(page, "unknown outcome, reconciled at seq 4") {
		t.Error("the reconciled unknown outcome does not stand out")
	}
	src, err := openSource(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := src.runs(context.Background())
	src.Close()
	waiting := map[string]string{}
	for _, r := range runs {
		page := renderHTML(t, db+"#"+r)
		checkSelfContained(t, page)
		if strings.Contains(page, `id="status">Status: complete`) {
			continue
		}
		if m := regexp.MustCompile(`<span class="flag">⚠ ([^<]*)</span>`).FindStringSubmatch(page); m != nil {
			waiting[r] = m[1]
		}
		m := regexp.MustCompile(`id="status">Status: ([^<]*) — <a href="#(step-\d+)">`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("run %s: no link from the status to the step that waits", r)
			continue
		}
		if !regexp.MustCompile(`<details class="step k-\w+ attention" id="` + m[2] + `" open>`).MatchString(page) {
			t.Errorf("run %s (%s): step %s does not stand out", r, m[1], m[2])
		}
	}
	want := map[string]string{"paused_run": "paused", "pending_run": "pending tool", "unknown_run": "unknown outcome"}
	if fmt.Sprint(waiting) != fmt.Sprint(want) {
		t.Errorf("flagged steps of the runs that wait: %v, want %v", waiting, want)
	}
}

func TestHTMLBrokenChain(t *testing.T) {
	page := renderHTML(t, filepath.Join("testdata", "tampered_chat_replay.db")+"#chat_run_1")
	if !strings.Contains(page, `Hash chain breaks at <a href="#step-2">seq 3</a>: hash mismatch`) {
		t.Error("the report does not say where the chain breaks")
	}
	if !strings.Contains(page, `id="step-2" open>`) {
		t.Error("the step where the chain breaks is not open")
	}
	// A cassette whose chain breaks: the events before the break.
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "tool_loop.cassette"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("A-17"), []byte("A-18"), 1)
	bad := filepath.Join(dir, "bad.cassette")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	page = renderHTML(t, bad)
	if !strings.Contains(page, `class="banner bad" id="chain">Hash chain breaks`) || !strings.Contains(page, "bad.cassette:") {
		t.Errorf("a broken cassette's report does not say where it breaks:\n%s", page[strings.Index(page, "<header>"):][:600])
	}
}

func TestHTMLInteractions(t *testing.T) {
	page := renderHTML(t, filepath.Join("testdata", "tool_loop_interactions.cassette"))
	tags := checkSelfContained(t, page)
	var models, tools int
	err := readInteractions(context.Background(), filepath.Join("testdata", "tool_loop_interactions.cassette"), func(in interaction) error {
		if in.Tool != "" {
			tools++
		} else {
			models++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countClass(tags, "details", "step"); n != models+tools || n == 0 {
		t.Errorf("%d steps, want one per interaction (%d)", n, models+tools)
	}
}

// Every string of a ledger is text: the hostile run renders without a
// single element, attribute or script of its own, in a run report and in
// a diff, and its text is there, escaped.
func TestHTMLHostile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hostile.db")
	if err := writeHostile(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	run := db + "#run" + hostileText
	escaped := `&lt;/script&gt;&lt;script&gt;window.__pwned=1;document.title=&#34;pwned&#34;&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=2;document.title=&#39;pwned&#39;&#34;&gt;`
	for name, args := range map[string][]string{
		"run":       {run},
		"diff":      {run, filepath.Join("testdata", "tool_loop.cassette")},
		"diff self": {run, run},
	} {
		t.Run(name, func(t *testing.T) {
			page := renderHTML(t, args...)
			tags := checkSelfContained(t, page)
			if !strings.Contains(page, escaped) {
				t.Error("the hostile text is not shown as text")
			}
			if !strings.Contains(page, "<title>") || strings.Contains(page, "<title>run</script>") {
				t.Error("the title is not escaped")
			}
			if name == "run" {
				if n := countClass(tags, "details", "step"); n != 4 {
					t.Errorf("%d steps, want 4", n)
				}
				// The payloads are JSON, indented, their strings escaped once
				// for JSON and once for HTML.
				if !strings.Contains(page, `&#34;prompt&#34;: &#34;\u003c/script\u003e`) &&
					!strings.Contains(page, `&#34;prompt&#34;: &#34;&lt;/script&gt;`) {
					t.Error("the prompt's payload is not shown")
				}
			}
		})
	}
}

// The diff report aligns the runs as diff does: one section per aligned
// step, in the same order, those diff reports as divergent marked, the
// first one anchored as #first-divergence.
func TestHTMLDiffAlignment(t *testing.T) {
	dir := t.TempDir()
	a, c := filepath.Join(dir, "a.db"), filepath.Join(dir, "c.db")
	ctx := context.Background()
	if err := writeToolLoop(ctx, a, "call_A", "delivered"); err != nil {
		t.Fatal(err)
	}
	if err := writeToolLoop(ctx, c, "call_C", "lost"); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join("testdata", "tool_loop.cassette")
	for _, pair := range [][2]string{{a, c}, {a, b}, {b, a}, {a, a}, {filepath.Join("testdata", "chat_replay.db") + "#chat_run_1", filepath.Join("testdata", "chat_replay.db") + "#chat_run_2"}} {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-%s-strict=%v", filepath.Base(pair[0]), filepath.Base(pair[1]), strict), func(t *testing.T) {
				args := []string{pair[0], pair[1]}
				if strict {
					args = append(args, "--strict")
				}
				page := renderHTML(t, args...)
				tags := checkSelfContained(t, page)
				_, ea, _ := loadSide(ctx, nil, pair[0])
				_, eb, _ := loadSide(ctx, nil, pair[1])
				al := alignRuns(ea, eb, strict)
				var sections []tag
				for _, tg := range tags {
					if tg.name == "section" {
						sections = append(sections, tg)
					}
				}
				if len(sections) != len(al.pairs) {
					t.Fatalf("%d rows, want %d aligned steps", len(sections), len(al.pairs))
				}
				labels := regexp.MustCompile(`<h3><span class="n">\d+</span>([^<]*)<span class="state">([a-z_]+)</span>`).FindAllStringSubmatch(page, -1)
				divergent := map[string]bool{}
				for _, d := range al.divs {
					divergent[d.Step] = true
				}
				for i, p := range al.pairs {
					want := ""
					if p.a != nil {
						want = p.a.label
					} else {
						want = p.b.label
					}
					got := strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(labels[i][1])
					if got != want {
						t.Errorf("row %d is %q, want %q", i+1, got, want)
					}
					if (labels[i][2] != "same") != divergent[want] {
						t.Errorf("row %d (%s) is marked %s; diff says divergent=%v", i+1, want, labels[i][2], divergent[want])
					}
				}
				firsts := strings.Count(page, `id="first-divergence"`)
				switch {
				case len(al.divs) == 0 && (firsts != 0 || !strings.Contains(page, "Equivalent:")):
					t.Errorf("equivalent runs: %d first divergences marked", firsts)
				case len(al.divs) > 0 && firsts != 1:
					t.Errorf("%d rows anchored as the first divergence, want 1", firsts)
				case len(al.divs) > 0:
					sec := page[strings.Index(page, `id="first-divergence"`):]
					if !strings.Contains(sec[:200], `<span class="marker">first divergence</span>`) {
						t.Error("the first divergence is not marked")
					}
					if len(al.divs[0].Fields) > 0 && !strings.Contains(sec, `<td class="f">`+al.divs[0].Fields[0].Field+`</td>`) {
						t.Error("the first divergence's fields are not listed")
					}
				}
			})
		}
	}
}

// A long run renders its first and last steps and sums up the rest; the
// report stays small.
func TestHTMLLargeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 20,000-event ledger")
	}
	db := filepath.Join(t.TempDir(), "large.db")
	if err := writeLarge(context.Background(), db, "big", 20000); err != nil {
		t.Fatal(err)
	}
	page := renderHTML(t, db)
	tags := checkSelfContained(t, page)
	if n := countClass(tags, "details", "step"); n != defaultHTMLLimit {
		t.Errorf("%d steps rendered, want %d", n, defaultHTMLLimit)
	}
	if !strings.Contains(page, "Steps 1,001–9,000 (seq 2001–18000): 8,000 steps left out — 8,000 model turns, 0 tool steps, 416,000 tokens, $1.600000.") {
		t.Error("the steps left out are not summed up")
	}
	if len(page) > 4<<20 {
		t.Errorf("the report of 20,000 events is %d bytes", len(page))
	}
	all := renderHTML(t, "--limit", "0", db)
	if n := strings.Count(all, `<details class="step`); n != 10000 {
		t.Errorf("--limit 0: %d steps rendered, want 10000", n)
	}
}

func TestHTMLWritesFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	if got := renderHTML(t, "-o", out, filepath.Join("testdata", "triage.cassette")); got != "" {
		t.Errorf("with -o, stdout is %q", got)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Fatalf("the report file: %v, %.40q", err, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the output directory holds %d files, want the report only", len(entries))
	}
}

func TestHTMLErrors(t *testing.T) {
	dir := t.TempDir()
	cas := filepath.Join("testdata", "tool_loop.cassette")
	inter := filepath.Join("testdata", "tool_loop_interactions.cassette")
	for _, c := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{}, true, "missing arguments"},
		{[]string{cas, cas, cas}, true, "too many arguments"},
		{[]string{"--limit", "-1", cas}, true, "--limit must be 0 (no limit) or more"},
		{[]string{"--json", cas}, true, "--json is not supported"},
		{[]string{filepath.Join("testdata", "chat_replay.db")}, true, "holds 2 runs; name one"},
		{[]string{filepath.Join("testdata", "chat_replay.db") + "#nope"}, false, `"nope"`},
		{[]string{inter + "#run"}, true, "interactions cassette: it holds no runs"},
		{[]string{cas, inter}, false, "is an interactions cassette"},
		{[]string{filepath.Join(dir, "missing.db")}, false, "no such file or directory"},
		{[]string{"-o", filepath.Join(dir, "no", "such", "dir", "r.html"), cas}, false, "html: write"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"html"}, c.args...), &out, &errOut)
		var ue *usageError
		switch {
		case err == nil:
			t.Errorf("html %q: no error", c.args)
		case errors.As(err, &ue) != c.usage:
			t.Errorf("html %q: usage error = %v, want %v (%v)", c.args, !c.usage, c.usage, err)
		case !strings.Contains(err.Error(), c.want):
			t.Errorf("html %q: %v; want it to say %q", c.args, err, c.want)
		}
		if out.Len() > 0 {
			t.Errorf("html %q: wrote %d bytes of output with the error", c.args, out.Len())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed html left %d files behind", len(entries))
	}
}

// A replayed_with_drift event stands out, saying which fields drifted,
// where the answer came from and the fork, if any.
func TestHTMLDrift(t *testing.T) {
	opts := ledger.NewStoreOptions(ledger.WithEventIDs(artanatest.SequentialIDs()))
	key := "decide"
	seq := int64(3)
	fork := "r::fork::0123456789abcdef"
	var evs []ledger.Event
	var last *ledger.Event
	for _, p := range []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "gpt-4o", Prompt: "p", Messages: []ledger.ChatMessage{{Role: "user", Content: "p"}}, StepKey: &key},
		&ledger.ModelCompleted{Model: "gpt-4o", OutputJSON: `{}`, ToolCalls: []ledger.ToolCall{}},
		&ledger.ReplayedWithDrift{StepKey: &key, Model: "gpt-4o", DriftFields: []string{"prompt", "messages"},
			SourceRequestedEventID: "x", SourceTerminalSeq: &seq, Policy: "fork_on_drift", ForkRunID: &fork},
	} {
		e, err := opts.NextEvent(last, "r", "t", p)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		last = &evs[len(evs)-1]
	}
	v := buildRunView(evs, chainView{OK: true}, 0)
	if len(v.Steps) != 3 {
		t.Fatalf("%d steps, want 3", len(v.Steps))
	}
	d := v.Steps[2]
	want := "replayed with drift in prompt, messages; answer reused from seq 3; forked into run " + fork
	type flagged struct {
		Kind, Flag string
		Open       bool
		Attention  int
	}
	if diff := cmp.Diff(flagged{"drift", want, true, 1}, flagged{d.Kind, d.Flag, d.Open, v.Attention}); diff != "" {
		t.Errorf("drift step (-want +got):\n%s", diff)
	}
}

// A directory of cassettes is a source like any other: its run renders as
// the SQLite ledger it was exported from does, and the two are equivalent.
func TestHTMLCassetteDirectory(t *testing.T) {
	chat := filepath.Join("testdata", "chat_replay.db")
	dir := filepath.Join(t.TempDir(), "out")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"export", chat, dir}, &out, &errOut); err != nil {
		t.Fatalf("export: %v\n%s", err, errOut.String())
	}
	fromDir := renderHTML(t, dir+"#chat_run_1")
	fromDB := renderHTML(t, chat+"#chat_run_1")
	body := func(page string) string { return page[strings.Index(page, `<main class="timeline"`):] }
	if body(fromDir) != body(fromDB) {
		t.Error("the run's timeline differs between the ledger and the cassette exported from it")
	}
	if page := renderHTML(t, "--strict", dir+"#chat_run_1", chat+"#chat_run_1"); !strings.Contains(page, "Equivalent: 3 steps align and match.") {
		t.Error("the exported run is not equivalent to the original under --strict")
	}
}

// writeTurns writes a run of n model turns keyed turn-1 … turn-n, the
// answer of turn differ (if any) changed.
func writeTurns(t *testing.T, path string, n, differ int) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := ledger.NewStoreOptions(ledger.WithEventIDs(artanatest.SequentialIDs()))
	evs := make([]ledger.Event, 0, 2*n+1)
	var last *ledger.Event
	add := func(p ledger.Payload) {
		e, err := opts.NextEvent(last, "turns", "org", p)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		last = &evs[len(evs)-1]
	}
	add(&ledger.RunStarted{})
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("turn-%d", i)
		answer := fmt.Sprintf(`{"answer":"%d"}`, i)
		if i == differ {
			answer = `{"answer":"changed"}`
		}
		add(&ledger.ModelRequested{Model: "m", Prompt: key, Messages: []ledger.ChatMessage{{Role: "user", Content: key}}, AllowedTools: []string{}, StepKey: &key})
		add(&ledger.ModelCompleted{Model: "m", OutputJSON: answer, PromptTokens: 3, CompletionTokens: 2, CostUSD: 0.001, ToolCalls: []ledger.ToolCall{}})
	}
	if err := store.Import(ctx, evs); err != nil {
		t.Fatal(err)
	}
}

// A diff of long runs renders the first and last rows and those around
// each divergence; the rows between are summed up.
func TestHTMLLargeDiff(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	writeTurns(t, a, 300, -1)
	writeTurns(t, b, 300, 150)
	page := renderHTML(t, "--limit", "20", a, b)
	tags := checkSelfContained(t, page)
	rows := 0
	for _, tg := range tags {
		if tg.name == "section" {
			rows++
		}
	}
	// 301 aligned steps: the first 10, the last 10, and rows 149 to 153
	// (turn-150 is row 151).
	if rows != 25 {
		t.Errorf("%d rows rendered, want 25", rows)
	}
	for _, want := range []string{
		`<section class="row s-differs first" id="first-divergence">`,
		"Steps 11–148: 138 steps left out — 138 model turns, 0 tool steps.",
		"Steps 154–291: 138 steps left out",
		"25 of 301 aligned steps are rendered",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
