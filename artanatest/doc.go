// Package artanatest holds helpers for testing artana stores, kernels and
// agents with go test. TestStore is the conformance suite every
// ledger.Store implementation must pass; the rest turns the kernel's
// guarantees into one-line assertions for agent tests.
//
// Every helper takes a testing.TB, marks itself with t.Helper, and
// releases what it creates with t.Cleanup. None needs testify.
//
// # Kernels and models
//
// NewKernel returns a kernel on an in-memory store whose log is
// byte-stable: timestamps from 2025-01-01 00:00:00 UTC one second apart,
// event ids counting up (Deterministic), run ids "run-1", "run-2", ...
// (RunIDs). It has a quota and the capability guard (DefaultKernelOptions),
// so tenants that run model steps need a BudgetUSD, and no scrubber: the
// prompt is sent and logged as written unless the test adds one.
// NewKernelWithStore takes any store. Both close the kernel when the test
// ends.
//
// FakeModel is a scripted llm.Model: a queue of Reply values (output as
// a Go value or JSON, usage, tool calls, or an error), then CompleteFn. An
// unexpected call fails the test and shows the request; Calls counts the
// calls. It is safe for concurrent use. It streams too (an
// llm.StreamingModel): Reply.Deltas scripts the deltas a streamed step
// receives, and a reply without them arrives as one delta.
//
// # Invariants
//
//	got := artanatest.AssertReplays(t, k, agent)        // a second pass replays: no event, no model call, same output
//	artanatest.AssertNoNewEvents(t, store, runID, fn)   // fn appends nothing
//	artanatest.AssertHaltsOnUnknownOutcome(t, k, run, step, executions)
//	artanatest.AssertChainValid(t, store, runID)        // the hash chain verifies
//	artanatest.AssertGoldenEvents(t, store, runID)      // testdata/<TestName>.golden
//
// AssertReplays runs the agent a second time on a new kernel over the same
// store, as after a restart, with a model that must not be called, and
// shows a go-cmp diff (-first +second) when the outputs differ. The agent
// must open its runs by id (Kernel.LoadOrStartRun), as a resuming agent does.
//
// # Golden event logs
//
// AssertGoldenEvents compares a run's events, in the text form of an
// events cassette (EventsText, one canonical line per event, see package
// cassettes), with testdata/<TestName>.golden, using
// github.com/sebdah/goldie/v2. Rewrite the file with
//
//	go test ./triage -run '^TestTriage$' -update
//
// goldie registers the -update flag (and -template and -clean) in every
// binary that links it, which includes every test binary importing
// artanatest: such a test package must not define flags of those names
// itself (the flag package panics on the duplicate). With a store whose clock or ids are not deterministic,
// NormalizeVolatile replaces ids, timestamps, hashes, the run id and
// idempotency keys with stable placeholders.
//
// # Comparing events
//
// IgnoreTimestamps, IgnoreIDs, IgnoreHashes and IgnoreVolatile are go-cmp
// options for ledger.Event values; they compose, and payloads are compared
// through the Payload interface, field by field.
//
// A regression test of a whole agent, replaying a recorder cassette, is in
// examples/regression.
package artanatest
