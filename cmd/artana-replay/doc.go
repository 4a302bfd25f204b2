// Command artana-replay inspects, verifies, compares and converts the
// recorded runs of artana: SQLite ledgers (written by package sqlite or by
// the Python original), single cassette files and directories of cassettes
// (written by package cassettes), and PostgreSQL ledgers (written by
// package postgres), named by a postgres:// or postgresql:// URL wherever
// a PATH or LEDGER is taken. The kind of a file is detected from its
// content, not its name. A URL's password is never printed: messages show
// it as xxxxx.
//
// Usage:
//
//	artana-replay ls     [--json] PATH
//	artana-replay show   [--json] [--full] PATH [RUN]
//	artana-replay verify [--json] PATH [RUN...]
//	artana-replay diff   [--json] [--strict] A B        (A, B: PATH or PATH#RUN)
//	artana-replay export [--json] [--force] LEDGER DIR [RUN...]
//	artana-replay import [--json] SOURCE LEDGER   (LEDGER: a .db file or a postgres:// URL)
//	artana-replay stats  [--json] PATH
//	artana-replay reseal [--json] CASSETTE
//	artana-replay html   [-o FILE] [--limit N] [--strict] PATH[#RUN] [B]
//
// ls lists the runs of a ledger: tenant, event count, first and last
// timestamps, status, tokens and cost. A run's status is "complete" when
// nothing is outstanding, "paused" when its last pause_requested is not
// followed by a resume_requested, "pending tool" when a tool_requested has
// no tool_completed, and "unknown outcome" when a tool call's latest
// outcome is unknown_outcome and awaits ReconcileTool; --json adds the
// step it waits at. It is ledger.RunStatus, which Kernel.Status returns.
// Costs are printed one way everywhere: dollars with six decimals.
//
// show prints a run's timeline, one line per event (seq, time, type, step
// key, model or tool, outcome, tokens, cost), then the run's status and the
// step it waits at; --full keeps that table and puts each event's payload
// on an indented line under its row.
//
// verify checks the hash chain of every run, or of the named runs,
// streaming the ledger run by run in constant memory, and prints the first
// bad seq of each failing run and why. On a terminal it shows its progress
// on stderr when it takes more than a second.
//
// diff aligns two runs step by step (model steps by step key, or by order
// among the model steps without one; tool steps by tool name and
// arguments; workflow steps by index) and reports the first divergence and
// a field-level diff of the differing events. Event ids, run ids,
// timestamps, hashes, idempotency keys and request ids are ignored unless
// --strict is given.
//
// export writes each run of a ledger as a cassette file in DIR (a
// directory that cassettes.OpenStore can use); import writes the runs of a
// cassette, a directory of cassettes or another ledger into a SQLite
// ledger. Both keep every id, timestamp and hash byte for byte, check the
// chains first and write nothing when one fails.
//
// stats sums tokens and cost by run, by tenant and by model.
//
// reseal accepts a deliberate hand edit of a cassette: it lists the lines
// that changed and recomputes the cassette's chain. SQLite ledgers are
// refused: their history is never rewritten.
//
// html writes one self-contained HTML file (standard output, or -o FILE):
// of one run, or of an interactions cassette, given one argument; of the
// diff of two runs, given two. A run's report opens with its hash chain
// check (verified, or the seq where it breaks) and its status, sums up
// tokens and cost with a chart of both over the run, and lists its steps
// as diff groups them (a model request and its completion, a tool call and
// its outcome, a workflow step), each a <details> element that opens on
// its messages, tool calls and the events' payloads; unknown outcomes,
// pending tools, pauses the run waits at, drift and the break of the
// chain are flagged and open. A diff's report aligns the two runs exactly
// as diff does, marks the first divergence (anchor #first-divergence,
// scrolled to on load) and lists the differing fields. Of a run of more
// than --limit steps (default 2000; 0 renders all) it renders the first
// and last steps and every flagged or divergent one with its neighbours,
// and sums up each stretch left out in one row. The page makes no request
// (a Content-Security-Policy forbids any; its only script is allowed by
// hash), reads without script, and shows every ledger string as text.
//
// Every command prints human-readable text by default and JSON with
// --json, prints its usage with -h, and exits with status 0 on success,
// 1 on failure (including a failed verification and runs that differ) and
// 2 on bad usage. Colour is used only when stdout is a terminal and
// NO_COLOR is not set.
package main
