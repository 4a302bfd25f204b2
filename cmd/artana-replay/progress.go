package main

import (
	"fmt"
	"io"
	"time"
)

// progress prints "N/M events" on a terminal's stderr, overwriting one
// line, once an operation has taken more than a second. On anything but a
// terminal it prints nothing.
type progress struct {
	w       io.Writer // nil when progress is not shown
	what    string
	total   int64
	n       int64
	start   time.Time
	last    time.Time
	printed bool
}

const (
	progressDelay    = time.Second
	progressInterval = 200 * time.Millisecond
)

func newProgress(stderr io.Writer, what string, total int64) *progress {
	p := &progress{what: what, total: total, start: time.Now()}
	if isTerminal(stderr) {
		p.w = stderr
	}
	return p
}

// add counts n more items done.
func (p *progress) add(n int64) {
	p.n += n
	if p.w == nil || p.n%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < progressDelay || now.Sub(p.last) < progressInterval {
		return
	}
	p.last = now
	p.printed = true
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %d/%d events (%d%%)\x1b[K", p.what, p.n, p.total, p.n*100/p.total)
	} else {
		fmt.Fprintf(p.w, "\r%s: %d events\x1b[K", p.what, p.n)
	}
}

// done erases the progress line, if one was printed.
func (p *progress) done() {
	if p.printed {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.printed = false
	}
}
