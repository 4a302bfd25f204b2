package artanatest

import (
	"fmt"
	"sync"
	"time"
)

// SequentialIDs returns an id source for tests, for ledger.WithEventIDs:
// 32-hex-digit ids counting up from 1, in the form of the random ones. It
// is safe for concurrent use.
func SequentialIDs() func() string {
	var mu sync.Mutex
	var n uint64
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%032x", n)
	}
}

// SteppingClock returns a clock for tests, for ledger.WithEventClock, that
// reads start, then start+step, start+2*step and so on. It is safe for
// concurrent use.
func SteppingClock(start time.Time, step time.Duration) func() time.Time {
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
