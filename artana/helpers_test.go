package artana

import (
	"fmt"
	"sync"
	"time"
)

// sequentialIDs returns an id source for tests: 32-hex-digit ids counting
// up from 1. It is safe for concurrent use.
func sequentialIDs() func() string {
	var mu sync.Mutex
	var n uint64
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%032x", n)
	}
}

// steppingClock returns a clock for tests that reads start, then start+step,
// start+2*step and so on. It is safe for concurrent use.
func steppingClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(step)
		return t
	}
}
