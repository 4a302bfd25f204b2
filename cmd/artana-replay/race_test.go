//go:build race

package main

// raceEnabled is true when the race detector is on: its instrumentation
// makes SQLite an order of magnitude slower, so heavy tests use less data.
const raceEnabled = true
