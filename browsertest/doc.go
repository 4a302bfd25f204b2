// Package browsertest opens the HTML reports of artana-replay html in
// headless Chromium (Debian's chromium package, driven with chromedp) and
// checks what a person sees: the timeline's steps, a step's payload once
// expanded, the diff scrolled to its first divergence, no request leaving
// the page, no ledger text run as script. It is a module of its own so
// that the main module gains no browser dependency.
//
// The tests skip when no chromium is installed, unless
// ARTANA_REQUIRE_BROWSER=1 (as .ci/run sets). ARTANA_CHROMIUM names the
// browser binary (default: chromium on PATH). Screenshots are written to
// ARTANA_BROWSERTEST_ARTIFACTS, or to the test's temporary directory, and
// logged.
package browsertest
