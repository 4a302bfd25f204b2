package browsertest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestREADMEScreenshots writes the README's pictures of a run report and
// of a diff report into the directory ARTANA_README_SCREENSHOTS names:
//
//	cd browsertest && ARTANA_README_SCREENSHOTS=../docs go test -run TestREADMEScreenshots
func TestREADMEScreenshots(t *testing.T) {
	out := os.Getenv("ARTANA_README_SCREENSHOTS")
	if out == "" {
		t.Skip("set ARTANA_README_SCREENSHOTS to a directory to write the README's screenshots")
	}
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 1100, Height: 720, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shot := func(name string) {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(out, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", path, len(png))
	}

	// A run of a tool-using agent: two model turns, two tool calls (one
	// failing), its second tool call expanded.
	b.open(t, report(t, dir, "run.html", testdata("tool_loop.cassette")), "")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#step-4 > summary"))); err != nil {
		t.Fatal(err)
	}
	shot("html-run.png")

	// Two runs of 6 turns whose 4th answers differ, as the page opens:
	// scrolled to the first divergence.
	a, bdb := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	writeTurns(t, a, 6, -1)
	writeTurns(t, bdb, 6, 4)
	b.open(t, reportIn(t, dir, dir, "diff.html", "a.db", "b.db"), "")
	shot("html-diff.png")
}
