package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/sqlite"
)

// replayBin is the artana-replay command, built once by TestMain.
var replayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "artana-browsertest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	replayBin = filepath.Join(dir, "artana-replay")
	// Built in the main module, with its own go.mod and go.sum.
	build := exec.Command("go", "build", "-o", replayBin, "./cmd/artana-replay")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build artana-replay: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testdata is the CLI's test data, in the main module.
func testdata(name string) string {
	return filepath.Join("..", "cmd", "artana-replay", "testdata", name)
}

// report runs artana-replay html with args, writing to a file in dir
// named name, and returns the file's path.
func report(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	return reportIn(t, "", dir, name, args...)
}

// reportIn is report run in the directory wd ("": the test's).
func reportIn(t *testing.T, wd, dir, name string, args ...string) string {
	t.Helper()
	out, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(replayBin, append([]string{"html", "-o", out}, args...)...)
	cmd.Dir = wd
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("artana-replay html %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// artifacts is where screenshots go.
func artifacts(t *testing.T) string {
	if d := os.Getenv("ARTANA_BROWSERTEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// A browser is one headless Chromium with a fresh profile, and the URLs
// its pages requested.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	console  []string
}

// newBrowser starts Chromium, or skips the test when there is none.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv("ARTANA_CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			if os.Getenv("ARTANA_REQUIRE_BROWSER") == "1" {
				t.Fatal("ARTANA_REQUIRE_BROWSER=1 and no chromium on PATH (apt-get install chromium)")
			}
			t.Skip("no chromium on PATH; install Debian's chromium package or set ARTANA_CHROMIUM")
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		}
	}); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	return b
}

// open loads the report at path (with an optional #fragment) and returns
// how long the browser took to load it.
func (b *browser) open(t *testing.T, path, fragment string) time.Duration {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	// A blank page first: a new document each time, not a fragment
	// navigation within the last one.
	if err := chromedp.Do(b.ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.requests = nil
	b.mu.Unlock()
	start := time.Now()
	if err := chromedp.Do(b.ctx, chromedp.Navigate("file://"+abs+fragment)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return time.Since(start)
}

// checkNoRequests checks that the page loaded nothing but itself.
func (b *browser) checkNoRequests(t *testing.T, path string) {
	t.Helper()
	abs, _ := filepath.Abs(path)
	b.mu.Lock()
	defer b.mu.Unlock()
	self := 0
	for _, u := range b.requests {
		if strings.HasPrefix(u, "file://"+abs) {
			self++
			continue
		}
		t.Errorf("the page requested %s", u)
	}
	if self == 0 {
		t.Errorf("the browser reported no request for the page itself (requests seen: %q); the network listener sees nothing", b.requests)
	}
}

// eval evaluates a JavaScript expression into out.
func eval[T any](t *testing.T, b *browser, expr string, out *T) {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	*out = v
}

// scripting turns the page's script on or off.
func (b *browser) scripting(t *testing.T, on bool) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		t.Fatal(err)
	}
}

// screenshot writes a PNG of the page to the artifacts directory.
func (b *browser) screenshot(t *testing.T, name string, full bool) string {
	t.Helper()
	act := chromedp.CaptureScreenshot()
	if full {
		act = chromedp.FullScreenshot(90)
	}
	png, err := chromedp.Run(b.ctx, act)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifacts(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	return path
}

// The run report: its timeline has one row per step, a step opens on its
// payload, and the page requests nothing but itself, with script on and
// off.
func TestRunReport(t *testing.T) {
	b := newBrowser(t)
	page := report(t, t.TempDir(), "run.html", testdata("tool_loop.cassette"))
	for _, script := range []bool{true, false} {
		t.Run(fmt.Sprintf("script=%v", script), func(t *testing.T) {
			b.scripting(t, script)
			b.open(t, page, "")
			b.checkNoRequests(t, page)
			var steps int
			eval(t, b, `document.querySelectorAll("#timeline > details.step").length`, &steps)
			if steps != 5 {
				t.Errorf("the timeline shows %d steps, want 5", steps)
			}
			var buttons int
			eval(t, b, `document.querySelectorAll("#tools button").length`, &buttons)
			if want := map[bool]int{true: 2, false: 0}[script]; buttons != want {
				t.Errorf("%d buttons, want %d (they are made by the page's script)", buttons, want)
			}
			// The payload of step 3 is hidden until its summary is clicked.
			var visible bool
			const payload = `document.querySelector("#step-3 pre.payload")`
			eval(t, b, payload+`.checkVisibility()`, &visible)
			if visible {
				t.Error("step 3's payload is shown before the step is expanded")
			}
			if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#step-3 > summary"))); err != nil {
				t.Fatal(err)
			}
			var text string
			eval(t, b, payload+`.checkVisibility() ? `+payload+`.innerText : ""`, &text)
			if !strings.Contains(text, `"tool_name": "lookup_order"`) {
				t.Errorf("expanded step 3 shows %q, want its tool_requested payload", text)
			}
			if script {
				b.screenshot(t, "run.png", false)
			}
		})
	}
	b.scripting(t, true)
}

// The diff report scrolls to its first divergence and marks it; the URL
// fragment alone does it with script off.
func TestDiffReport(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	a, bdb := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	writeTurns(t, a, 60, -1)
	writeTurns(t, bdb, 60, 41)
	page := report(t, dir, "diff.html", a, bdb)
	for _, script := range []bool{true, false} {
		t.Run(fmt.Sprintf("script=%v", script), func(t *testing.T) {
			b.scripting(t, script)
			fragment := ""
			if !script {
				fragment = "#first-divergence"
			}
			b.open(t, page, fragment)
			b.checkNoRequests(t, page)
			var got struct {
				Hash    string  `json:"hash"`
				ScrollY float64 `json:"scrollY"`
				Top     float64 `json:"top"`
				Bottom  float64 `json:"bottom"`
				Height  float64 `json:"height"`
				Label   string  `json:"label"`
				Marker  string  `json:"marker"`
				Rows    int     `json:"rows"`
			}
			eval(t, b, `(() => {
				const el = document.getElementById("first-divergence");
				const r = el.getBoundingClientRect();
				return {hash: location.hash, scrollY: window.scrollY, top: r.top, bottom: r.bottom,
					height: window.innerHeight, label: el.querySelector("h3").innerText,
					marker: el.querySelector(".marker").innerText,
					rows: document.querySelectorAll("#timeline > section.row").length};
			})()`, &got)
			if got.Rows != 61 {
				t.Errorf("%d aligned rows, want 61", got.Rows)
			}
			if got.Hash != "#first-divergence" {
				t.Errorf("location.hash is %q, want #first-divergence", got.Hash)
			}
			if got.ScrollY <= 0 || got.Top < 0 || got.Top > got.Height {
				t.Errorf("the first divergence is not scrolled to: scrollY %v, its top at %v of a %v-pixel window", got.ScrollY, got.Top, got.Height)
			}
			if !strings.Contains(got.Label, `model step "turn-41"`) || !strings.EqualFold(got.Marker, "first divergence") {
				t.Errorf("the marked row is %q (marker %q), want model step \"turn-41\" marked as the first divergence", got.Label, got.Marker)
			}
			var field string
			eval(t, b, `document.querySelector("#first-divergence td.f").innerText`, &field)
			if field != "payload.output_json" {
				t.Errorf("the first differing field shown is %q, want payload.output_json", field)
			}
			if script {
				b.screenshot(t, "diff.png", false)
			}
		})
	}
	b.scripting(t, true)
}

// hostile is ledger text that would run script, change the title, load an
// image or link out if a report took it for HTML.
const hostile = `</script><script>window.__pwned=1;document.title="pwned"</script><img src="https://example.invalid/x.png" onerror="window.__pwned=2;document.title='pwned'"><svg onload="window.__pwned=3"></svg>`

// A run whose every string is hostile renders as text: nothing runs,
// nothing loads, the title is the run's id as text.
func TestHostileRun(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "hostile.db")
	writeHostile(t, db)
	for name, args := range map[string][]string{
		"run":  {db},
		"diff": {db, testdata("tool_loop.cassette")},
	} {
		t.Run(name, func(t *testing.T) {
			page := report(t, dir, name+".html", args...)
			b.open(t, page, "")
			// Open every step, so that every payload is in the layout.
			if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			b.checkNoRequests(t, page)
			var got struct {
				Pwned  string `json:"pwned"`
				Title  string `json:"title"`
				Imgs   int    `json:"imgs"`
				Script int    `json:"scripts"`
				Text   bool   `json:"text"`
			}
			eval(t, b, `({pwned: String(window.__pwned), title: document.title,
				imgs: document.querySelectorAll("img, svg [onload], [onerror]").length,
				scripts: document.scripts.length,
				text: document.body.innerText.includes('<img src="https://example.invalid/x.png" onerror=')})`, &got)
			if got.Pwned != "undefined" || got.Title == "pwned" {
				t.Errorf("the hostile payload ran: window.__pwned = %s, title %q", got.Pwned, got.Title)
			}
			if got.Imgs != 0 || got.Script != 1 {
				t.Errorf("the page has %d elements made of ledger text and %d scripts (want 0 and 1)", got.Imgs, got.Script)
			}
			if !got.Text {
				t.Error("the hostile text is not shown as text")
			}
			if name == "run" && !strings.HasPrefix(got.Title, "run run</script><script>") {
				t.Errorf("title %q, want the run id as text", got.Title)
			}
			b.screenshot(t, "hostile-"+name+".png", false)
		})
	}
}

// A run of 100,000 events: the file's size and the time Chromium takes to
// load it, as rendered by default (the first and last 1,000 steps) and,
// with ARTANA_BROWSERTEST_FULL=1, every step (--limit 0).
func TestLargeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100,000-event ledger")
	}
	b := newBrowser(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "large.db")
	writeLarge(t, db, 100000)
	limits := []string{"2000"}
	if os.Getenv("ARTANA_BROWSERTEST_FULL") == "1" {
		limits = append(limits, "0")
	}
	for _, limit := range limits {
		start := time.Now()
		page := report(t, dir, "large-"+limit+".html", "--limit", limit, db)
		rendered := time.Since(start)
		fi, err := os.Stat(page)
		if err != nil {
			t.Fatal(err)
		}
		load := b.open(t, page, "")
		var nav struct {
			DOM  float64 `json:"dom"`
			Load float64 `json:"load"`
		}
		eval(t, b, `(() => { const n = performance.getEntriesByType("navigation")[0];
			return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()`, &nav)
		var steps int
		eval(t, b, `document.querySelectorAll("#timeline > details.step").length`, &steps)
		t.Logf("--limit %s: 100,000 events, %d steps rendered; artana-replay html %v; file %.1f MB; Chromium: DOMContentLoaded %.0f ms, load %.0f ms (navigation returned after %v)",
			limit, steps, rendered.Round(time.Millisecond), float64(fi.Size())/1e6, nav.DOM, nav.Load, load.Round(time.Millisecond))
		if limit == "2000" {
			if steps != 2000 {
				t.Errorf("%d steps rendered, want 2000", steps)
			}
			if fi.Size() > 8<<20 {
				t.Errorf("the report is %d bytes", fi.Size())
			}
			b.checkNoRequests(t, page)
		}
	}
}

// writeEvents writes one run of the given payloads to a new SQLite ledger.
func writeEvents(t *testing.T, path, runID, tenant string, payloads []ledger.Payload) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := ledger.NewStoreOptions(ledger.WithEventClock(artanatest.SteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 700*time.Millisecond)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
	batch := make([]ledger.Event, 0, 5000)
	var last *ledger.Event
	for i, p := range payloads {
		e, err := opts.NextEvent(last, runID, tenant, p)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, e)
		last = &batch[len(batch)-1]
		if len(batch) == cap(batch) || i == len(payloads)-1 {
			if err := store.Import(ctx, batch); err != nil {
				t.Fatal(err)
			}
			keep := batch[len(batch)-1]
			last = &keep
			batch = batch[:0]
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeTurns writes a run of n model turns keyed turn-1 … turn-n, the
// answer of turn differ (if any) changed.
func writeTurns(t *testing.T, path string, n, differ int) {
	ps := []ledger.Payload{&ledger.RunStarted{}}
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("turn-%d", i)
		q := fmt.Sprintf("What is the balance of account acc_%d?", i)
		answer := map[string]any{"answer": fmt.Sprintf("acc_%d holds %d.00 USD", i, 10*i)}
		if i == differ {
			answer["answer"] = "I cannot tell."
		}
		out, _ := json.Marshal(answer)
		ps = append(ps,
			&ledger.ModelRequested{Model: "gpt-4o-mini", Prompt: q, Messages: []ledger.ChatMessage{{Role: "user", Content: q}}, AllowedTools: []string{}, StepKey: &key},
			&ledger.ModelCompleted{Model: "gpt-4o-mini", OutputJSON: string(out), PromptTokens: 40 + int64(i), CompletionTokens: 12, CostUSD: 0.0001 * float64(i%7+1), ToolCalls: []ledger.ToolCall{}})
	}
	writeEvents(t, path, "balances", "org_demo", ps)
}

// writeLarge writes a run of n events: n/2 model turns.
func writeLarge(t *testing.T, path string, n int) {
	ps := make([]ledger.Payload, 0, n)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			q := fmt.Sprintf("question %d: what is the balance of account acc_%d?", i, i%97)
			ps = append(ps, &ledger.ModelRequested{Model: "bench-model", Prompt: q,
				Messages: []ledger.ChatMessage{{Role: "user", Content: q}}, AllowedTools: []string{"lookup"}})
		} else {
			ps = append(ps, &ledger.ModelCompleted{Model: "bench-model", OutputJSON: `{"answer":"the balance is 10.00 USD","confidence":0.93}`,
				PromptTokens: 40, CompletionTokens: 12, CostUSD: 0.0002, ToolCalls: []ledger.ToolCall{}})
		}
	}
	writeEvents(t, path, "run", "org_bench", ps)
}

// writeHostile writes a run whose every free-text field is hostile.
func writeHostile(t *testing.T, path string) {
	h := hostile
	arg, _ := json.Marshal(map[string]string{"q": h})
	out, _ := json.Marshal(map[string]string{"answer": h})
	key := "key " + h
	call := ledger.ToolCall{ID: "call " + h, ToolName: "tool" + h, ArgumentsJSON: string(arg)}
	writeEvents(t, path, "run"+h, "tenant"+h, []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "model" + h, Prompt: h, Messages: []ledger.ChatMessage{
			{Role: "system", Content: h}, {Role: "user", Content: h, Name: h}}, AllowedTools: []string{"tool" + h}, StepKey: &key},
		&ledger.ModelCompleted{Model: "model" + h, OutputJSON: string(out), PromptTokens: 10, CompletionTokens: 5, CostUSD: 0.001,
			ToolCalls: []ledger.ToolCall{call}},
		&ledger.ToolRequested{ToolName: "tool" + h, ArgumentsJSON: string(arg), IdempotencyKey: "idem", ToolVersion: "1.0.0", SchemaVersion: "1", StepKey: &key},
		&ledger.ToolCompleted{ToolName: "tool" + h, ResultJSON: string(out), Outcome: ledger.OutcomeUnknown, ErrorMessage: &key},
		&ledger.PauseRequested{Reason: h, StepKey: &key},
	})
}
