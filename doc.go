// Package artana is a durable, event-sourced execution kernel for LLM
// agents, shaped as a deterministic record/replay test toolkit.
//
// Every model call and tool call an agent makes goes through the kernel and
// is written to an append-only, hash-chained event log (a Store). Running
// the same run again replays it from the log: no model is called, no tool
// re-executes and no event is added.
//
// The log is wire-compatible with the Python original of artana: the nine
// event types and their payloads have the same fields, and Event.ComputeHash
// produces the same bytes, using Python-style canonical JSON
// (CanonicalPayload) and Python isoformat timestamps (FormatTimestamp).
//
// This package has no third-party dependencies. Stores that need one live in
// their own packages: sqlite for the Python original's ledger format, and
// cassettes for reviewable files in testdata/.
package artana
