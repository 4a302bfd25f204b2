// Package ledger is the event log of artana's kernel: the events and
// payloads a run is made of, how they are hashed and chained, the Store
// interface every store implements, an in-memory store, the verification
// of stored logs, and the conversation types that the log holds and a
// model is sent (ChatMessage, ToolCall, checked by CheckConversation).
// Package artana's Kernel writes and reads it; the stores (MemStore here,
// and packages sqlite, postgres and cassettes) keep it; artana-replay
// reads it.
//
// The log is wire-compatible with the Python original of artana: its nine
// event types (and the newest Python artana's replayed_with_drift) and
// their payloads have the same fields and defaults (the tool-call fields
// of messages, tool_call_id, name and tool_calls, and the tool_call_id of
// a logged tool call, come from the newest Python artana and are left out
// when empty, so a log without them is byte for byte the
// Python original's), and Event.ComputeHash produces the same bytes, using
// canonical JSON (CanonicalForm: json.dumps with sorted keys, compact,
// ensure_ascii escapes, Python float repr) and Python isoformat
// timestamps (datetime.isoformat).
// VerifyChain and ChainVerifier name the first bad seq and why.
//
// # Stores
//
// A Store appends events atomically: it assigns seq, previous hash, event
// id, timestamp and hash inside one append (StoreOptions.NextEvent does it
// for a store implementation), and never rewrites or deletes an event.
// WithEventClock and WithEventIDs make a store's events byte-identical run
// after run. MemStore keeps runs in memory. StoredVerifier checks rows as
// a store reads them, the stored payload text included.
//
// # Status and forks
//
// StatusOf (or a StatusTracker fed event by event) says where a run
// stands: complete, paused, waiting on a tool, or halted on an unknown
// outcome. A fork made under the fork_on_drift replay policy is named by
// ForkRunID, and CheckFork checks it against its parent.
package ledger
