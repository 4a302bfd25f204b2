// Package cassettes is the on-disk cassette format of artana and a Store
// that keeps each run as one cassette file.
//
// A cassette is a text file meant to be committed to testdata/ and
// reviewed in pull requests: JSON Lines, one header line, one record per
// line, and an end record, all hash-chained so that a hand edit, a
// reordering, a truncation or a merge accident is reported as
// "path:line: reason".
//
// # Format (version 1)
//
// Line 1 is the header, written in exactly this field order:
//
//	{"format":"artana-cassette","version":1,"kind":"events","meta":{"run_id":"r1"}}
//
// kind is "events" (a run's events) or "interactions" (a model's
// interactions, written by package recorder). meta is optional,
// string-valued, keys sorted, left out when empty. A version other than
// Version is refused: "cassette format version 2 is not supported; this
// build reads version 1".
//
// Every following line is a record, in exactly this field order:
//
//	{"type":T,"prev":P,"hash":H,"body":B}
//
// B is canonical JSON (sorted keys, compact,
// ensure_ascii escapes, Python float repr), so the bytes are stable and a
// diff is a line diff. P is the hash of the previous record ("" for the
// first) and H is the record's hash:
//
//   - kind "interactions": H = recordHash(T, P, B) = hex sha256(T "|" P "|" B),
//     with T chosen by the writer (lowercase letters, digits, '_', '-', '.').
//   - kind "events": T is the event type, P is prev_event_hash and H is
//     event_hash, i.e. ledger.Event.ComputeHash, the Python original's hash. B is
//     {"id":…,"payload":{…},"run":…,"seq":N,"tenant":…,"timestamp":…} with
//     the payload in ledger.CanonicalForm and the timestamp in
//     Python isoformat form. The line chain of an events cassette IS
//     the event hash chain: an event already carries its predecessor's hash
//     and a hash over all of its fields, so a second chain would add bytes
//     and nothing else, and keeping one chain means a cassette's hashes are
//     the very hashes the SQLite store holds for the same events.
//
// The last line is the end record, type "end", chained like the others
// (H = recordHash("end", P, B)), with body
// {"header":<sha256 of the header line>,"records":<number of records>}. It
// makes a cut at a line boundary (lost records) and an edited header
// detectable. Appending replaces the end record.
//
// Every line must be byte-for-byte what the writer would write for it, so
// any edit, even one that leaves the parsed value unchanged, is reported.
// After a deliberate edit, Reseal recomputes the chain and reports which
// records changed.
//
// # Reading
//
// Reader (from NewReader, OpenReader or OpenShared) streams records, checking each line, in
// memory bounded by the longest line. Next returns a Record; NextEvent an
// ledger.Event verified with ledger.ChainVerifier. Both return io.EOF
// after the end record. ReadAll and ReadEvents read a whole file. Errors
// are *Error{Path, Line, Err} whose Err matches, via errors.Is, one of
// ErrSyntax, ErrNotCanonical, ErrUnknownType, ErrBrokenChain (which is
// ledger.ErrChainBroken), ErrTornLine, ErrTruncated, ErrMergeConflict,
// ErrHeader or ErrVersion.
//
// # Writing
//
// WriteFile and WriteEvents write a whole cassette atomically: temp file in
// the same directory, fsync, rename, fsync of the directory. An Appender
// (OpenAppender) appends records, or sealed events, with one write and an
// fsync per call. The bytes of an append go first to a redo record beside
// the cassette (NAME.redo), so that a process killed mid-append, even in the
// middle of a write, leaves either the cassette as it was or a redo record
// from which the next writer or Store reader that locks the file finishes
// the append; nothing an earlier call acknowledged is ever lost. A cassette
// cut short some other way (a torn last line, a missing end record) is
// reported when it is opened. Writers hold an advisory lock (flock) on the file:
// another process writing the same cassette waits until its context is
// done, or DefaultLockWait, and then fails with ErrLocked. They never
// interleave. OpenShared reads under the same lock, shared, so that a
// reader never sees an append in progress (artana-replay reads every
// cassette this way); it finishes an interrupted append first, or, with
// NoRecovery or where it may not write the file, reports it as
// ErrInterruptedAppend ("an interrupted append awaits recovery"), never as
// damage. A path that is not a regular file is refused at once.
//
// # Store
//
// Store (OpenStore) is an ledger.Store keeping each run in its own events
// cassette, named by FileName: a lowercase slug of the run id plus 16 hex
// digits of its SHA-256, safe for any id (non-ASCII, '/', "..", very long)
// and on case-insensitive file systems; the header's meta.run_id holds the
// real id. Events are sealed by ledger.StoreOptions.NextEvent, so their
// hashes are those of every other store. Append holds the run's mutex and
// the file's lock, catches up with lines other processes appended, writes
// the event and the new end record in one write and fsyncs. Store keeps a
// per-run index (line offsets, first and last event) so that an append or
// Events(ctx, run, n) reads only lines it has not seen. Import writes
// already sealed events verbatim; ReadEvents or OpenReader read a single file.
//
// For package recorder: make records of your own types with any JSON body,
//
//	a, err := cassettes.OpenAppender(ctx, path, cassettes.Header{Kind: cassettes.KindInteractions})
//	err = a.Append(cassettes.Record{Type: "interaction", Body: body})
//	err = a.Close()
//
// or write them all at once with WriteFile, and read them back with OpenReader
// (optionally RecordTypes("interaction") to refuse any other type) or
// ReadAll.
package cassettes
