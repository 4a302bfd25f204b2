package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/secrets"
)

// A Mode says what a Recorder does with a call.
type Mode int

// The modes of a Recorder.
const (
	// Replay answers every call from the cassette and never calls the live
	// model. A request with no unused matching interaction fails with a
	// *MissError. The cassette must exist.
	Replay Mode = iota
	// Record calls the live model for every call and, on Close, rewrites
	// the whole cassette atomically with what was recorded.
	Record
	// RecordMissing replays what matches, calls the live model for the
	// rest, and on Close appends the new interactions to the cassette,
	// leaving the existing ones untouched. The cassette may be missing.
	RecordMissing
	// Passthrough calls the live model and records nothing. The cassette is
	// neither read nor written.
	Passthrough
)

// String returns "replay", "record", "record-missing" or "passthrough".
func (m Mode) String() string {
	switch m {
	case Replay:
		return "replay"
	case Record:
		return "record"
	case RecordMissing:
		return "record-missing"
	case Passthrough:
		return "passthrough"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// A Matcher reports whether a recorded request answers the request got.
// Both have been scrubbed and have no RunID. The default matcher compares
// canonical fingerprints: every recorded field must be equal.
type Matcher func(got, recorded llm.Request) bool

// An Option configures a Recorder.
type Option func(*config)

type config struct {
	mode        Mode
	modeSet     bool
	scrubbers   []Scrubber
	matcher     Matcher
	now         func() time.Time
	allowUnused bool
	checkTools  bool
	dir         string
	// streams: see stream.go
	separateStreams bool
	paceStreams     bool
	sleep           func(ctx context.Context, d time.Duration) error
	rerecord        string       // the command that re-records, if known
	keepHeaders     []string     // Transport: response headers kept besides the defaults
	logStore        ledger.Store // Transport: LogRun
	logRun          artana.Run
}

// WithMode sets the mode. For Open it defaults to Replay; for New it
// overrides what -artana.record and ARTANA_RECORD would choose.
func WithMode(m Mode) Option { return func(c *config) { c.mode, c.modeSet = m, true } }

// WithScrubbers adds scrubbers, run in order after ScrubSecrets, on every
// interaction before it is recorded and on every request before it is
// matched.
func WithScrubbers(s ...Scrubber) Option {
	return func(c *config) { c.scrubbers = append(c.scrubbers, s...) }
}

// WithMatcher replaces the default matching of requests. Interactions are
// still tried in recorded order and each is used at most once.
func WithMatcher(m Matcher) Option { return func(c *config) { c.matcher = m } }

// WithClock sets the clock that measures latency (time.Now by default), so
// that a recording can be made deterministic: recording again with a
// deterministic live model and a clock that gives the same times writes a
// byte-identical cassette.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// AllowUnused turns strictness off: recorded interactions left unused in
// replay mode no longer make Close fail (and the test, with New).
func AllowUnused() Option { return func(c *config) { c.allowUnused = true } }

// WithDir sets the directory New keeps cassettes in, "testdata/cassettes"
// by default. Open ignores it.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// Errors usable with errors.Is.
var (
	// ErrNoMatch means no unused recorded interaction matches a request
	// (wrapped in a *MissError).
	ErrNoMatch = errors.New("no recorded interaction matches the request")
	// ErrUnused means strict replay ended with recorded interactions unused.
	ErrUnused = errors.New("recorded interactions were not used")
	// ErrNoCassette means the cassette to replay does not exist. It also
	// matches fs.ErrNotExist.
	ErrNoCassette error = noCassette{}
	// ErrClosed means the Recorder was used after Close.
	ErrClosed = errors.New("recorder is closed")
)

type noCassette struct{}

func (noCassette) Error() string        { return "cassette does not exist" }
func (noCassette) Is(target error) bool { return target == fs.ErrNotExist }

// entry is one interaction of a Recorder: loaded from the cassette or
// recorded during this session.
type entry struct {
	in Interaction
	// tool is set on the entry of a tool execution (see Recorder.Tools);
	// in is unused then.
	tool *ToolInteraction
	// fp is the fingerprint of in.Request, computed when first needed for
	// a loaded interaction (fpDone). rawText is the request's text in the
	// cassette (a view of the record's body), which the writer makes the
	// canonical form of the request: when it equals a request's canonical
	// text, their fingerprints are equal too.
	fp      string
	fpDone  bool
	fpErr   error
	rawText []byte
	line    int  // line in the cassette; 0 for a new interaction
	used    bool // replayed, or new
	done    bool // new: the live call returned and was recorded
	skip    bool // new: not to be written (cancelled call, scrubber error)
	body    []byte
	wrong   error // new: the interaction could not be encoded
}

// A Recorder is an llm.Model that records the interactions of a live
// model into a cassette and replays them. It is safe for concurrent use.
type Recorder struct {
	path string
	live llm.Model
	mode Mode
	cfg  config

	mu        sync.Mutex
	entries   []*entry // loaded ones first, in file order, then new ones
	loaded    int
	misses    int
	firstErr  error    // the first miss: a *MissError or a *ToolMissError
	toolDiffs []string // CheckTools: executions whose live result differed
	closed    bool
	closeErr  error
	inflight  sync.WaitGroup // Complete calls that Close waits for
	closeOnce sync.Once
}

var _ llm.Model = (*Recorder)(nil)

// Open returns a Recorder for the cassette at path that wraps live, in
// Replay mode unless WithMode says otherwise. In Replay and RecordMissing
// mode the cassette is read and checked first; a damaged cassette is
// reported as a *cassettes.Error naming path and line. live may be nil in
// Replay mode. Close the Recorder to write what was recorded.
func Open(path string, live llm.Model, opts ...Option) (*Recorder, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	return open(path, live, cfg)
}

func open(path string, live llm.Model, cfg config) (*Recorder, error) {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	cfg.scrubbers = append([]Scrubber{ScrubSecrets}, cfg.scrubbers...)
	r := &Recorder{path: path, live: live, mode: cfg.mode, cfg: cfg}
	switch r.mode {
	case Replay, RecordMissing:
		if err := r.load(); err != nil {
			return nil, err
		}
	case Record, Passthrough:
	default:
		return nil, fmt.Errorf("recorder: open %s: unknown mode %v", path, r.mode)
	}
	if live == nil && r.mode != Replay {
		return nil, fmt.Errorf("recorder: open %s: %v mode needs a live model, got nil", path, r.mode)
	}
	if r.mode == Record {
		if err := checkConfig(live); err != nil {
			return nil, fmt.Errorf("recorder: open %s: %v mode: %w (nothing was called; %s is unchanged)", path, r.mode, err, path)
		}
	}
	return r, nil
}

// A configChecker is a live model that can tell, without a network call,
// what it lacks to reach its endpoint (an API key, a base URL), as
// *openai.Model does.
type configChecker interface{ CheckConfig() error }

// checkConfig returns live's configuration error, if it can tell.
func checkConfig(live llm.Model) error {
	if c, ok := live.(configChecker); ok {
		return c.CheckConfig()
	}
	return nil
}

func (r *Recorder) howToRecord() string {
	if r.cfg.rerecord != "" {
		return r.cfg.rerecord
	}
	if _, ok := r.live.(httpLive); ok {
		return "open the transport with recorder.WithMode(recorder.Record), with the endpoint reachable"
	}
	return "open the recorder with recorder.WithMode(recorder.Record) and a live model"
}

// load reads the cassette.
func (r *Recorder) load() error {
	rd, err := cassettes.OpenReader(r.path, cassettes.RecordTypes(recordType, toolRecordType))
	if errors.Is(err, fs.ErrNotExist) {
		if r.mode == RecordMissing {
			return nil
		}
		return fmt.Errorf("recorder: %s: %w; record it with:\n\t%s", r.path, ErrNoCassette, r.howToRecord())
	}
	if err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	defer rd.Close()
	// The header first, so that a cassette of another kind is named as
	// such rather than failing on its first record.
	hdr := rd.Header()
	if hdr.Kind != cassettes.KindInteractions {
		return fmt.Errorf("recorder: %w", &cassettes.Error{Path: r.path, Line: 1,
			Err: fmt.Errorf("cassette holds %s, not interactions; is this a run's event log? give the recorder a cassette of its own", hdr.Kind)})
	}
	if v := hdr.Meta["recorder"]; v != bodyVersion {
		return fmt.Errorf("recorder: %w", &cassettes.Error{Path: r.path, Line: 1,
			Err: fmt.Errorf("interaction format %q is not supported; this build reads %q; re-record the cassette with:\n\t%s", v, bodyVersion, r.howToRecord())})
	}
	// Every record is read, the chain and the end record checked, before
	// any is decoded: a cut or edited cassette is reported as such.
	var recs []cassettes.Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
		recs = append(recs, rec)
	}
	for _, rec := range recs {
		if rec.Type == toolRecordType {
			t, err := decodeTool(rec.Body)
			if err != nil {
				return fmt.Errorf("recorder: %w", &cassettes.Error{Path: r.path, Line: rec.Line, Err: err})
			}
			r.entries = append(r.entries, &entry{tool: &t, line: rec.Line})
			continue
		}
		in, err := decodeOwned(rec.Body) // the reader's copy, used by nothing else
		if err != nil {
			return fmt.Errorf("recorder: %w", &cassettes.Error{Path: r.path, Line: rec.Line, Err: err})
		}
		e := &entry{in: in, line: rec.Line}
		if raw, ok := requestText(rec.Body); ok {
			e.rawText = raw
		} else if err := e.computeFP(); err != nil {
			return fmt.Errorf("recorder: %w", &cassettes.Error{Path: r.path, Line: rec.Line, Err: err})
		}
		r.entries = append(r.entries, e)
	}
	r.loaded = len(r.entries)
	return nil
}

// Path returns the cassette's path.
func (r *Recorder) Path() string { return r.path }

// Mode returns the Recorder's mode.
func (r *Recorder) Mode() Mode { return r.mode }

// Complete answers req: from the cassette in Replay mode (and in
// RecordMissing mode when an unused interaction matches), from the live
// model otherwise. A recorded error is returned as an *llm.Error
// with the recorded class, so errors.Is(err, llm.ErrTransient) and
// the like work on replay as they did live.
func (r *Recorder) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	return r.call(ctx, req, nil)
}

// call answers req; yield is nil for an unstreamed call (Complete), the
// caller's delta callback for a streamed one (Stream).
func (r *Recorder) call(ctx context.Context, req llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return llm.Response{}, err
	}
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.inflight.Add(1)
	}
	r.mu.Unlock()
	if closed {
		return llm.Response{}, fmt.Errorf("recorder: %s: %w", r.path, ErrClosed)
	}
	defer r.inflight.Done()
	if r.mode == Passthrough {
		if yield != nil {
			return llm.Stream(ctx, r.live, req, yield)
		}
		return r.live.Complete(ctx, req)
	}
	got, err := scrubRequest(req, r.cfg.scrubbers)
	if err != nil {
		return llm.Response{}, fmt.Errorf("recorder: %s: scrub request: %w", r.path, err)
	}
	key, err := keyOf(&got, nil)
	if err != nil {
		return llm.Response{}, fmt.Errorf("recorder: %s: %w", r.path, err)
	}
	if r.mode == Replay || r.mode == RecordMissing {
		r.mu.Lock()
		if e := r.match(&got, &key, yield != nil); e != nil {
			e.used = true
			r.mu.Unlock()
			return r.replayTo(ctx, &e.in, yield)
		}
		if r.mode == Replay {
			miss := r.miss(&req, &got, nil)
			r.misses++
			if r.firstErr == nil {
				r.firstErr = miss
			}
			r.mu.Unlock()
			return llm.Response{}, miss
		}
		r.mu.Unlock()
	}
	return r.record(ctx, req, key.fingerprint(), yield)
}

// match returns the first unused entry that answers got, whose key is
// key, or nil. r.mu is held.
func (r *Recorder) match(got *llm.Request, key *callKey, streamed bool) *entry {
	for _, e := range r.entries[:r.loaded] {
		if e.used || e.tool != nil || (r.cfg.separateStreams && e.in.Streamed != streamed) {
			continue
		}
		if r.cfg.matcher != nil {
			if r.cfg.matcher(*got, e.in.Request) {
				return e
			}
		} else if e.matches(key) {
			return e
		}
	}
	return nil
}

func replay(in *Interaction) (llm.Response, error) {
	if in.Err != nil {
		e := *in.Err
		e.Partial = partial(in)
		return llm.Response{}, &e
	}
	return cloneResponse(in.Response), nil
}

// record calls the live model and keeps the interaction.
func (r *Recorder) record(ctx context.Context, req llm.Request, fp string, yield func(llm.Delta) error) (llm.Response, error) {
	if err := checkConfig(r.live); err != nil {
		// Not the model's answer: nothing is recorded.
		return llm.Response{}, fmt.Errorf("recorder: %s: %v mode: %w (nothing was called or recorded)", r.path, r.mode, err)
	}
	e := &entry{fp: fp, fpDone: true, used: true}
	r.mu.Lock()
	r.entries = append(r.entries, e) // reserve the slot: arrival order
	r.mu.Unlock()

	start := r.cfg.now()
	resp, deltas, refused, err := r.callLive(ctx, req, start, yield)
	latency := r.cfg.now().Sub(start)

	in := Interaction{Request: cloneRequest(req), Latency: latency, Streamed: yield != nil, Deltas: deltas}
	if err != nil {
		in.Err = recordedError(err)
	} else {
		in.Response = cloneResponse(resp)
	}
	var werr error
	if err != nil && (refused || errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled) {
		// The caller gave up, or its callback stopped the stream: that is
		// not the model's answer.
		r.mu.Lock()
		e.skip = true
		r.mu.Unlock()
		return resp, err
	}
	for _, s := range r.cfg.scrubbers {
		if werr = s(&in); werr != nil {
			werr = fmt.Errorf("recorder: %s: scrub interaction: %w (nothing recorded)", r.path, werr)
			break
		}
	}
	var body []byte
	if werr == nil {
		body, werr = encodeInteraction(&in)
		if werr != nil {
			werr = fmt.Errorf("recorder: %s: encode interaction: %w (nothing recorded)", r.path, werr)
		}
	}
	var newFP string
	if werr == nil {
		newFP, werr = fingerprint(&in.Request)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if werr != nil {
		e.skip = true
		return llm.Response{}, werr
	}
	e.in, e.body, e.fp, e.fpDone, e.done = in, body, newFP, true, true
	if err != nil && in.Err != nil && secrets.Redact(err.Error()) != err.Error() {
		// The live model's error holds what looks like a credential: the
		// caller gets the error as recorded (scrubbed), as a replay gives it.
		scrubbed := *in.Err
		return resp, &scrubbed
	}
	return resp, err
}

// newRecords returns the records of the interactions recorded in this
// session, in the order the calls were made. r.mu is held.
func (r *Recorder) newRecords() []cassettes.Record {
	var recs []cassettes.Record
	for _, e := range r.entries[r.loaded:] {
		if e.done && !e.skip {
			typ := recordType
			if e.tool != nil {
				typ = toolRecordType
			}
			recs = append(recs, cassettes.Record{Type: typ, Body: e.body})
		}
	}
	return recs
}

// Close finishes the Recorder. In Record mode it writes the whole cassette
// atomically (temp file, fsync, rename), creating its directory; in
// RecordMissing mode it appends the new interactions, if any, in one
// write. In Replay mode, unless AllowUnused was given, it fails with
// ErrUnused if recorded interactions were never used. Closing twice returns
// the first result.
//
// Calls already under way when Close is called are waited for, so that
// what they record is written too; later calls fail with ErrClosed.
func (r *Recorder) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true // later calls fail with ErrClosed
		r.mu.Unlock()
		r.inflight.Wait()
		r.mu.Lock()
		r.closeErr = r.finish()
		r.mu.Unlock()
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closeErr
}

// discard closes the Recorder without writing anything.
func (r *Recorder) discard() {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.inflight.Wait()
	})
}

func (r *Recorder) finish() error {
	ctx := context.Background()
	switch r.mode {
	case Record:
		if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
		if err := cassettes.WriteFile(ctx, r.path, header(), r.newRecords()); err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
	case RecordMissing:
		recs := r.newRecords()
		if len(recs) == 0 {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
		a, err := cassettes.OpenAppender(ctx, r.path, header())
		if err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
		if int(a.Len()) != r.loaded {
			a.Close()
			return fmt.Errorf("recorder: %s changed since it was opened (%d interactions, then %d); nothing appended; run again",
				r.path, r.loaded, a.Len())
		}
		err = a.Append(recs...)
		if cerr := a.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
	case Replay:
		var errs []error
		if len(r.toolDiffs) > 0 {
			errs = append(errs, &ToolDiffError{Path: r.path, Diffs: r.toolDiffs})
		}
		if !r.cfg.allowUnused {
			errs = append(errs, r.unusedError())
		}
		return errors.Join(errs...)
	}
	return nil
}

// unusedError reports the loaded interactions never used. r.mu is held.
func (r *Recorder) unusedError() error {
	var lines []string
	for _, e := range r.entries[:r.loaded] {
		if !e.used {
			lines = append(lines, "\t"+describe(e))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("recorder: %s: %d of %d %w:\n%s\nthe code no longer makes these calls; re-record with:\n\t%s\nor pass recorder.AllowUnused()",
		r.path, len(lines), r.loaded, ErrUnused, strings.Join(lines, "\n"), r.howToRecord())
}

// describe names an entry in one line.
func describe(e *entry) string {
	if t := e.tool; t != nil {
		return fmt.Sprintf("line %d: tool %q, arguments %s", e.line, t.Tool, quoteShort(t.ArgumentsJSON, 60))
	}
	if h := e.in.HTTP; h != nil && h.API == "" {
		target := h.Path
		if h.Query != "" {
			target += "?" + h.Query
		}
		return fmt.Sprintf("line %d: HTTP %s %s", e.line, h.Method, quoteShort(target, 80))
	}
	req := &e.in.Request
	s := fmt.Sprintf("line %d: model %q", e.line, req.Model)
	if req.StepKey != "" {
		s += fmt.Sprintf(", step key %q", req.StepKey)
	}
	if n := len(req.Messages); n > 0 {
		s += fmt.Sprintf(", last message %s", quoteShort(req.Messages[n-1].Content, 60))
	}
	return s
}
