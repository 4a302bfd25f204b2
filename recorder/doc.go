// Package recorder records the interactions of a live llm.Model into a
// cassette once, and replays them forever after, offline, in go test. When
// a replay stops matching, it says exactly why.
//
// A *Recorder is itself an llm.Model: give it to artana.New in place of
// the live model.
//
//	func TestTriage(t *testing.T) {
//		rec := recorder.New(t, openaiModel(t)) // testdata/cassettes/TestTriage.cassette
//		k := artana.New(ledger.NewMemStore(), rec)
//		// ... run the agent ...
//	}
//
// # Tools
//
// Recorder.Tools wraps a registry so that tool executions are recorded in
// the same cassette (tool, arguments, result or failure) and replayed from
// it: a regression test then needs neither the model nor any tool backend.
//
//	rec := recorder.New(t, live)
//	k := artana.New(ledger.NewMemStore(), rec, artana.WithTools(rec.Tools(tools)))
//
// With CheckTools, replay also runs the tools live and reports, as a field
// diff, each result that differs from the recording.
//
// # Workflow
//
// Replay is the default: the live model is never called, and a missing
// cassette fails the test with the command that records it. Record once,
// with the flag (a regexp on the test name, like -run):
//
//	go test ./triage -run '^TestTriage$' -artana.record='^TestTriage$'
//
// or, for go test ./..., where packages that do not import recorder would
// reject the flag, with the environment:
//
//	ARTANA_RECORD='^TestTriage$' go test ./...
//
// The flag wins over the environment. The same switch makes
// artanatest.AssertGoldenEvents rewrite the test's golden event log, so one
// command re-records a test. Recording(t.Name()) tells whether the test
// records, before the live model is built:
//
//	var live llm.Model
//	if rec, err := recorder.Recording(t.Name()); err != nil {
//		t.Fatal(err)
//	} else if rec {
//		live, err = openai.New()
//		...
//	}
//	k := artanatest.NewKernel(t, recorder.New(t, live))
//
// In Record mode every call goes to the live model and, when the test ends
// and only if it passed, the whole cassette is rewritten atomically; a
// failing test leaves the previous cassette byte-identical. Commit the
// cassette; review it like code. Before any call, Record mode asks a live
// model that has a CheckConfig() error method (as *openai.Model has) what
// it lacks, and fails with that (a missing OPENAI_API_KEY, a base URL that
// is not a URL) instead of a DNS or authentication error. With a
// deterministic live model and WithClock (the cassette keeps each call's
// latency), recording again writes a byte-identical cassette.
//
// The modes (WithMode, or Open for code that is not a test):
//
//   - Replay: answer from the cassette; never call the live model.
//   - Record: call the live model; rewrite the whole cassette on Close.
//   - RecordMissing: replay what matches, call the live model for the rest
//     and append those on Close, leaving the existing interactions as they
//     are.
//   - Passthrough: call the live model; read and write nothing.
//
// # Matching
//
// A request matches a recorded interaction when their fingerprints are
// equal: the canonical JSON of the request as
// recorded, i.e. model, prompt, messages, output name and schema, tool
// definitions, options and step key. RunID is neither recorded nor
// matched: the kernel makes it random per run. WithMatcher replaces the
// comparison. Interactions are tried in recorded order and each is used
// once, so identical requests replay in the order they were recorded.
//
// A request that matches nothing fails with a *MissError (ErrNoMatch) that
// names the cassette, prints the request, lists the fields that differ from
// the nearest unused recorded request, and gives the command that
// re-records the test:
//
//	recorder: testdata/cassettes/TestTriage.cassette: no recorded interaction matches the request:
//		{"messages":[{"content":"Classify: refund please","role":"user"}],"model":"gpt-4o-mini",...}
//	nearest unused recorded interaction: line 2; differences (-recorded +got):
//		Messages[0].Content:
//			-"Classify: refund"
//			+"Classify: refund please"
//	re-record with:
//		go test ./triage -run '^TestTriage$' -artana.record='^TestTriage$'
//
// Replay is strict: a test that leaves recorded interactions unused fails
// when it ends (AllowUnused turns this off), since the code no longer
// makes the calls the cassette holds.
//
// # Streams
//
// A Recorder is an llm.StreamingModel. Stream records the deltas the
// caller received, in order, each with its offset from the start of the
// call, beside the whole response (or error); replay delivers the same
// deltas in the same order, at once, or with PaceStreams at the recorded
// pace (to test timeouts and user interfaces), then returns the recorded
// response. A stream recorded as failed mid-way replays its deltas and
// then the same *llm.Error, its Partial holding them. Matching
// ignores streaming: a streamed and an unstreamed call for the same
// request match the same interactions (Complete answered from a streamed
// interaction returns its response; Stream answered from an unstreamed
// one delivers it as one delta), unless SeparateStreams. A stream the
// caller's callback stopped is not recorded.
//
// # Any HTTP client
//
// A Transport records and replays at the HTTP level, for an agent that
// calls an OpenAI-compatible endpoint through its own client (openai-go,
// sashabaranov/go-openai, langchaingo, ...) and never touches the kernel:
//
//	tr := recorder.NewTransport(t, nil) // testdata/cassettes/TestAgent.cassette
//	client := openai.NewClient(option.WithHTTPClient(tr.Client()))
//
// It writes the same cassettes under the same modes, flag and variable.
// An OpenAI Chat Completions call and an Anthropic Messages call (JSON or
// stream) are parsed into the typed request, so a changed prompt gives the
// field diff above; any other call is recorded and matched as plain HTTP
// (method, path, query, canonical body). With LogRun, each understood
// call is also logged as a model step of a run in a store, so an agent
// that never touches the kernel gets a run log for golden files. Replay returns the recorded status, kept headers and body, byte
// for byte. Request headers (Authorization, api-key, x-api-key) are never
// written, and their values are redacted wherever an endpoint echoes them. A streamed call matches only a recorded stream.
//
// # Errors
//
// A live call that fails is recorded too, with its class
// (llm.ClassOf: transient, permanent, timeout, refusal, truncated),
// HTTP status, Retry-After and message, and replays as an
// *llm.Error of that class: errors.Is(err, llm.ErrTransient)
// holds on replay as it did live. A call whose context was cancelled is not
// recorded.
//
// # Secrets
//
// Scrubbers (func(*Interaction) error) run in order on every interaction
// before it is kept for writing, and on every request before it is
// matched. ScrubSecrets always runs first: it replaces whatever looks like
// an API key, bearer token or credential (sk-..., "Authorization: Bearer
// ...", api_key=..., AWS, Google, GitHub and Slack tokens, JWTs) with
// [REDACTED]. It scrubs streamed deltas too, including a secret split
// across deltas (see ScrubSecrets). Add your own with WithScrubbers.
//
// # File format
//
// A recorder cassette is a package cassettes file of kind "interactions"
// whose header meta is {"recorder":"1"}, holding one record of type
// "interaction" per call, in call order. The body, shown here indented
// and annotated (the file holds it on one line, canonical JSON, keys
// sorted):
//
//	{
//	  "request": {
//	    "model": "gpt-4o-mini",
//	    "prompt": "...",
//	    "messages": [{"role": "user", "content": "..."}],
//	    "output_name": "Decision",            // omitted when empty
//	    "output_schema": {...},               // a JSON Schema; omitted when empty
//	    "tools": [{"name": ..., "description": ..., "schema": {...}}], // omitted when none
//	    "options": {"temperature": 0.2, "max_tokens": 100, "seed": 1, "reasoning_effort": "low"},
//	    "step_key": "triage"                  // omitted when empty
//	  },
//	  "response": {                           // or "error", never both
//	    "output_json": "{\"label\":\"refund\"}",
//	    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "cost_usd": 0.0001}, // and "cached_prompt_tokens" when not 0
//	    "tool_calls": [{"id": ..., "tool_name": ..., "arguments_json": ...}]
//	  },
//	  "error": {"class": "transient", "status": 429, "message": "...", "retry_after": "2s"},
//	  "latency": "812ms",                     // time.Duration text
//	  "stream": {                             // a streamed call only
//	    "deltas": [                           // in order; "at" is the offset from the call's start
//	      {"at": "240ms", "text": "{\"label\":"},
//	      {"at": "251ms", "reasoning": "..."},
//	      {"at": "260ms", "tool_calls": [{"index": 0, "id": "call_1", "tool_name": "lookup", "arguments_json": "{\"q\""}]},
//	      {"at": "812ms", "usage": {"prompt_tokens": 12, "completion_tokens": 3, "cost_usd": 0.0001}}
//	    ]
//	  }
//	}
//
// An interaction a Transport recorded has two more members: "http" in
// "request", matched with it ({"api": "openai.chat_completions", "extra":
// {...the body's members the typed request does not hold}} for an
// understood call; {"method", "path", "query", "body" or "body_text"} for
// a plain one, whose typed request is empty), and "http" beside
// "response": {"status", "header": {kept headers}, "body" (text) or
// "body_base64"}, replayed as is.
//
// "stream" is optional: an unstreamed interaction, and every cassette
// written before streams were recorded, has none and reads (and hashes)
// as before, so the header's version stays "1". A build that predates
// streams refuses a cassette holding one, naming the line and the
// unknown field "stream".
//
// The file is hash-chained line by line (see package cassettes): a hand
// edit is reported as "path:line: reason"; cassettes.Reseal accepts a
// deliberate one.
package recorder
