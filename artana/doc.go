// Package artana is a durable, event-sourced execution kernel for LLM
// agents, shaped as a deterministic record/replay test toolkit.
//
// Every model call and tool call an agent makes goes through a Kernel and is
// written to an append-only, hash-chained event log, a ledger.Store. Running the
// same run again answers every step from the log: no model is called, no
// tool re-executes and no event is added, and the step's result says so
// (ModelResult.FromLog, ToolResult.FromLog). Tests rely on that one
// property. (A model call answered from a recorded cassette, package
// recorder, is a different thing: the step still runs and is logged.)
//
// "The Python original", in this documentation, is artana, the Python
// library this package reimplements: its ledgers (the SQLite event log it
// writes) and this package's logs are the same format, byte for byte, so
// that each verifies and replays the other's. Names of its classes and
// functions are given where this package follows one of them.
//
// # Runs and steps
//
// New builds a kernel over a ledger.Store and an llm.Model; NewEnforced also installs
// the PII scrubber, quota and capability guard middleware
// (DefaultMiddleware) and requires tenants with a budget. StartRun starts
// a new run for a Tenant, LoadRun loads an existing one (in this process
// or the next) and LoadOrStartRun does whichever applies. A run advances
// by steps, each given as a struct (ModelStep, ToolStep, PauseStep):
//
//   - StepModel[T] asks the model for a value of type T. The output JSON
//     Schema is derived from T and the answer is decoded strictly into T.
//     A step with the same model, prompt, messages and step key as a
//     logged one is answered from the log. The result is a ModelResult[T].
//   - StepTool runs a registered tool (RegisterTool) in two phases:
//     tool_requested is logged before the call, tool_completed after it.
//     A request found without its completion is an unknown outcome: replay
//     halts with ErrUnknownOutcome until ReconcileTool re-runs it with the
//     same idempotency key. The result is a ToolResult.
//   - RunToolLoop[T] is the standard tool-calling agent loop: a model
//     step, each tool call it asks for as a tool step keyed by the call's
//     id, the results (or failures) back to the model as tool messages
//     (ChatMessage with ToolCallID), until the model answers with a T or
//     the turn limit is reached (*TurnLimitError). It replays, halts and
//     reconciles as its steps do. A conversation whose tool messages do not
//     answer the calls before them is refused (*ledger.MessageError) before
//     anything is logged.
//   - RunWorkflow and Step run plain Go functions as replayable workflow
//     steps; Pause and Resume wait for a human.
//   - Chat is the one-call convenience: LoadOrStartRun, then one typed
//     model step.
//
// Middleware (PIIScrubber, Quota, CapabilityGuard, or your own) hooks
// into model steps by implementing one or more of PrepareModelHook,
// BeforeModelHook and AfterModelHook.
//
// # Streaming
//
// A step streams when ModelStep.OnDelta is set (RunToolLoop passes its
// OnDelta to every turn): the callback receives each llm.Delta of the answer
// as it arrives (a text or reasoning fragment, tool-call fragments with
// their index, and on the last delta the usage), from a model that is a
// llm.StreamingModel. A model that cannot stream is called with Complete and
// delivers its answer as one delta (llm.Response.Delta). Streaming changes
// delivery, not the log: a streamed step appends exactly the events an
// unstreamed step with the same answer appends, so replay, golden logs and
// the Python original's ledgers are unaffected. A step answered from the
// log delivers the logged output to OnDelta as one delta (llm.Response.Delta of
// the logged answer: its text, its tool calls whole, its usage), once,
// before it returns. A stream that breaks off returns a *llm.Error whose
// Partial holds the deltas delivered (llm.JoinDeltas joins them); nothing is
// logged as completed and the next step calls the model again.
//
// # Replay policies
//
// By default (ReplayStrict) a step whose request differs from the logged
// one in anything is a new request. ReplayAllowPromptDrift lets a model
// step whose logged request (found by step key) differs only in prompt or
// messages return the logged answer, and a tool step whose tool changed
// version or schema version since it was logged return the logged
// result; ReplayForkOnDrift copies the run up to such a step into a new
// run, "<run>::fork::<16 hex digits>" (ledger.ForkRunID), that continues live.
// Either way the run gets one replayed_with_drift event (ledger.ReplayedWithDrift,
// the newest Python artana's payload) naming the fields that drifted, the
// answer reused and the fork; replaying again appends nothing. A different
// model or different tools offered is still ErrReplayMismatch. A log
// without drift events is byte for byte the Python original's; one with
// them is the newest Python artana's, which the Python original cannot
// load. The fork cannot keep its parent's event hashes (they cover the run
// id), so the fork id's hash covers the parent's prefix by the hash of its
// last event, and ledger.CheckFork checks a fork against its parent.
//
// Replay costs the same at event 10 and at event 100,000: the kernel keeps
// an index per run and reads only the events it has not seen, so two
// kernels, or two processes, on one store still see each other's appends.
//
// # The log
//
// The log's events, payloads, hashing, stores and verification are in
// package ledger: Event and its ten payload types, the Store interface
// every store implements, ledger.NewMemStore (the in-memory store of
// tests) and the chain verifiers. A kernel is built over any ledger.Store.
//
// # Values in the log
//
// Go values in the log are written as the Python original writes the same
// values, so that an agent written in either language logs the same bytes
// and each replays the other's log. The Go type decides, as the pydantic
// field type does in Python: a float64 or float32 is a float (100.0,
// 1e+16, 5e-324), an int is an integer (100), whatever the value. Fields,
// names and omissions follow encoding/json (json tags, omitempty,
// omitzero, "-", the string option, embedded structs, json.Marshaler and
// encoding.TextMarshaler, []byte as base64); map keys are sorted; a
// time.Time is written as pydantic writes a datetime. The text has one of
// the Python original's two forms:
//
//   - as json.dumps(..., sort_keys=True, separators=(",", ":")) writes it:
//     keys sorted, non-ASCII and DEL escaped as \uXXXX, floats as repr
//     (1e-05). This is the form of tool arguments (arguments_json, which
//     replay compares byte for byte) and of JSONCodec workflow results.
//   - as pydantic's model_dump_json writes it: struct fields in declaration
//     order, strings raw UTF-8 (U+2028, U+2029, DEL and <>& unescaped),
//     floats 0.00001 and 1e-7 where repr writes 1e-05 and 1e-07. This is
//     the form of model outputs (output_json), pause contexts, human input,
//     tool results and PydanticCodec workflow results.
//
// JSON given as text (a json.RawMessage, a model's output taken as
// json.RawMessage or any, a json.Marshaler's output) is rewritten in the
// same form with its numbers as written: an integer stays an integer, any
// other number is a float of that value. NaN and infinities are refused.
//
// ledger.MemStore keeps runs in memory. Stores with a dependency live in their own
// packages, so that importing this one compiles neither SQLite nor an LLM
// SDK: sqlite writes the Python original's ledger format, and cassettes
// keeps each run as a reviewable file in testdata/. Package recorder
// records a live llm.Model into a cassette and replays it in go test, and
// artanatest turns the replay guarantees into one-line assertions.
package artana
