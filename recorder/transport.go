package recorder

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/internal/pyjson"
	"github.com/artana-go/go-artana/internal/secrets"
)

// A Transport is an http.RoundTripper that records the HTTP calls of any
// client (openai-go, go-openai, langchaingo, ...) into an interactions
// cassette and replays them, as a Recorder does for an llm.Model.
//
// An OpenAI Chat Completions call (POST .../chat/completions) and an
// Anthropic Messages API call (POST .../v1/messages), JSON or streamed,
// are understood: the body is parsed into the typed
// request (model, messages with tool calls, tools, output schema,
// options), which is matched, recorded and diffed on a miss as a
// Recorder's request is, and its answer into the typed response (and
// deltas, for a stream). Any other call is recorded and matched as plain
// HTTP: method, URL path and query, canonical body. Replay returns the
// recorded status, the kept response headers and the recorded body, byte
// for byte (an event stream too). Request headers are never recorded, so
// neither are credentials sent in them (Authorization, api-key,
// x-api-key); the rest goes through the scrubbers as a Recorder's does.
//
// Modes, the -artana.record flag, ARTANA_RECORD, strict replay and the
// miss report are a Recorder's.
type Transport struct {
	rec  *Recorder
	base http.RoundTripper
	keep map[string]bool

	logMu      sync.Mutex // serialises the run log's appends
	logStarted bool
}

var _ http.RoundTripper = (*Transport)(nil)

// defaultHeaders are the response headers a Transport keeps: what a
// client reads (the content type, the request id, retry advice).
var defaultHeaders = []string{"Content-Type", "X-Request-Id", "Request-Id", "Retry-After", "Retry-After-Ms"}

// KeepHeaders adds response headers that a Transport records and replays,
// besides Content-Type, X-Request-Id, Request-Id, Retry-After and
// Retry-After-Ms. Their values go through the scrubbers; request headers
// are never recorded.
func KeepHeaders(names ...string) Option {
	return func(c *config) { c.keepHeaders = append(c.keepHeaders, names...) }
}

// httpLive stands for the live model of a Transport's Recorder: the live
// side is the base RoundTripper, which exchange calls directly.
type httpLive struct{}

func (httpLive) Complete(context.Context, llm.Request) (llm.Response, error) {
	return llm.Response{}, errors.New("recorder: a Transport's recorder has no live model")
}

// OpenTransport returns a Transport for the cassette at path, in Replay
// mode unless WithMode says otherwise, sending live calls through base
// (http.DefaultTransport if nil). Close it to write what was recorded.
func OpenTransport(path string, base http.RoundTripper, opts ...Option) (*Transport, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	rec, err := open(path, httpLive{}, cfg)
	if err != nil {
		return nil, err
	}
	return newTransport(rec, base), nil
}

// NewTransport returns a Transport for the test t, with the cassette
// testdata/cassettes/<test name>.cassette (see WithDir), sending live
// calls through base (http.DefaultTransport if nil). As with New, the
// mode is Replay unless -artana.record or $ARTANA_RECORD matches the
// test's name, and the test's end writes (or checks) the cassette. Give
// its Client to the code under test:
//
//	client := openai.NewClient(option.WithHTTPClient(recorder.NewTransport(t, nil).Client()))
func NewTransport(t testing.TB, base http.RoundTripper, opts ...Option) *Transport {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	rec := newForTest(t, httpLive{}, cfg)
	if rec == nil {
		return nil
	}
	return newTransport(rec, base)
}

func newTransport(rec *Recorder, base http.RoundTripper) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{rec: rec, base: base, keep: map[string]bool{}}
	for _, h := range append(append([]string(nil), defaultHeaders...), rec.cfg.keepHeaders...) {
		t.keep[http.CanonicalHeaderKey(h)] = true
	}
	return t
}

// Client returns an *http.Client that sends its requests through t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// Recorder returns the Recorder that holds t's cassette.
func (t *Transport) Recorder() *Recorder { return t.rec }

// Path returns the cassette's path.
func (t *Transport) Path() string { return t.rec.path }

// Mode returns the mode.
func (t *Transport) Mode() Mode { return t.rec.mode }

// Close finishes the Transport as Recorder.Close does and also returns
// the first request that no recorded interaction matched (a *MissError),
// if any: some clients (langchaingo) replace a transport's error by a
// text of their own, and the miss report is then seen here (and, with
// NewTransport, in the test's failure).
func (t *Transport) Close() error {
	err := t.rec.Close()
	t.rec.mu.Lock()
	first := t.rec.firstErr
	t.rec.mu.Unlock()
	if first != nil {
		return errors.Join(first, err)
	}
	return err
}

// RoundTrip answers req: from the cassette in Replay mode, through the
// base RoundTripper otherwise. A request no recorded interaction matches
// fails with a *MissError (which the client returns wrapped in its own
// error: errors.Is(err, recorder.ErrNoMatch) holds on the client's error
// when the client wraps with %w).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("recorder: %s: read the request body: %w", t.rec.path, err)
		}
	}
	var typed llm.Request
	var streamed bool
	h := &HTTPExchange{}
	if api, understood, s, extra, ok := t.understand(req, body); ok {
		typed, streamed = understood, s
		h.API, h.Extra = api, extra
	} else {
		h.Method, h.Path, h.Query = req.Method, req.URL.Path, req.URL.RawQuery
		h.Body = body
		if len(body) > 0 && json.Valid(body) {
			if c, err := pyjson.Canonicalize(body); err == nil {
				h.Body = c
			}
		}
	}
	structured := len(typed.OutputSchema) > 0
	live := func(ctx context.Context, start time.Time) (Interaction, error) {
		return t.live(ctx, req, body, h.API, structured, start)
	}
	in, err := t.rec.exchange(req.Context(), typed, h, streamed, live, credentialScrubber(req.Header))
	if err != nil {
		return nil, err
	}
	if err := t.logStep(req.Context(), in); err != nil {
		return nil, err
	}
	return t.response(req, in.HTTP), nil
}

// understand parses a request of an API the Transport knows: OpenAI Chat
// Completions (POST .../chat/completions) or the Anthropic Messages API
// (POST .../v1/messages).
func (t *Transport) understand(req *http.Request, body []byte) (api string, typed llm.Request, streamed bool, extra json.RawMessage, ok bool) {
	if req.Method != http.MethodPost {
		return "", typed, false, nil, false
	}
	switch path := strings.TrimSuffix(req.URL.Path, "/"); {
	case strings.HasSuffix(path, "/chat/completions"):
		typed, streamed, extra, ok = chatRequest(body)
		return APIChat, typed, streamed, extra, ok
	case strings.HasSuffix(path, "/v1/messages"):
		typed, streamed, extra, ok = messagesRequest(body)
		return APIMessages, typed, streamed, extra, ok
	}
	return "", typed, false, nil, false
}

// response builds the client's response from a recorded exchange.
func (t *Transport) response(req *http.Request, h *HTTPExchange) *http.Response {
	header := http.Header{}
	for k, v := range h.Header {
		header.Set(k, v)
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", h.Status, http.StatusText(h.Status)),
		StatusCode: h.Status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: io.NopCloser(bytes.NewReader(h.ResponseBody)),
		ContentLength: int64(len(h.ResponseBody)), Request: req,
	}
}

// live sends the request through the base RoundTripper and reads the whole
// answer into an interaction (its HTTP response side, and the typed
// response or error of an understood call).
func (t *Transport) live(ctx context.Context, req *http.Request, body []byte, api string, structured bool, start time.Time) (Interaction, error) {
	out := req.Clone(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	// Let the base transport ask for and undo compression, so that the body
	// recorded is the one the client reads.
	out.Header.Del("Accept-Encoding")
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return Interaction{}, err
	}
	defer resp.Body.Close()
	h := &HTTPExchange{Status: resp.StatusCode, Header: map[string]string{}}
	for k, v := range resp.Header {
		if t.keep[http.CanonicalHeaderKey(k)] && len(v) > 0 {
			h.Header[http.CanonicalHeaderKey(k)] = v[0]
		}
	}
	if len(h.Header) == 0 {
		h.Header = nil
	}
	in := Interaction{HTTP: h}
	// What the request carried in its headers (credentials, a caller's
	// extra headers) is scrubbed from the answer before anything reads it:
	// an endpoint may echo it anywhere in the body.
	known := headerSecrets(req.Header)
	scrub := func(b []byte) []byte {
		if len(known) == 0 {
			return b
		}
		return []byte(secrets.RedactExact(string(b), known...))
	}
	eventStream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	var events []sseEvent
	if eventStream {
		h.ResponseBody, events, err = readEvents(resp.Body, func() time.Duration { return t.rec.cfg.now().Sub(start) }, scrub)
	} else {
		h.ResponseBody, err = io.ReadAll(resp.Body)
		h.ResponseBody = scrub(h.ResponseBody)
	}
	if err != nil {
		return Interaction{}, fmt.Errorf("recorder: %s: read the response body: %w", t.rec.path, err)
	}
	if api == "" {
		return in, nil
	}
	if resp.StatusCode >= 400 {
		in.Err = httpError(resp.StatusCode, resp.Header.Get("Retry-After"), h.ResponseBody)
		return in, nil
	}
	if eventStream {
		in.Streamed = true
		var deltas []RecordedDelta
		var r llm.Response
		var serr *llm.Error
		ok := false
		if api == APIMessages {
			deltas, r, serr, ok = messagesStream(events)
		} else {
			deltas, r, serr, ok = chatStream(events, structured)
		}
		if ok {
			in.Deltas, in.Response, in.Err = deltas, r, serr
			if serr != nil {
				in.Response = llm.Response{}
			}
		}
		return in, nil
	}
	if api == APIMessages {
		in.Response, _ = messagesResponse(h.ResponseBody)
	} else {
		in.Response, _ = chatResponse(h.ResponseBody, structured)
	}
	return in, nil
}

// readEvents reads a whole event stream, noting when each data line came.
func readEvents(r io.Reader, since func() time.Duration, scrub func([]byte) []byte) ([]byte, []sseEvent, error) {
	var all bytes.Buffer
	var events []sseEvent
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		line = scrub(line)
		all.Write(line)
		if data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data:")); ok {
			events = append(events, sseEvent{at: since(), data: bytes.TrimSpace(data)})
		}
		if err == io.EOF {
			return all.Bytes(), events, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

// exchange answers a call of a Transport: typed is the understood request
// (zero for a plain HTTP call), h its HTTP request side, streamed whether
// the client asked for a stream (matched: a stream replays only a
// recorded stream), live the call through the base RoundTripper.
func (r *Recorder) exchange(ctx context.Context, typed llm.Request, h *HTTPExchange, streamed bool,
	live func(ctx context.Context, start time.Time) (Interaction, error), first Scrubber) (*Interaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.inflight.Done()
	if r.mode == Passthrough {
		in, err := live(ctx, r.cfg.now())
		return &in, err
	}
	scrubbers := r.cfg.scrubbers
	if first != nil {
		scrubbers = append([]Scrubber{first}, scrubbers...)
	}
	got, gotH, err := scrubCall(typed, h, scrubbers)
	if err != nil {
		return nil, fmt.Errorf("recorder: %s: scrub request: %w", r.path, err)
	}
	key, err := keyOf(&got, gotH)
	if err != nil {
		return nil, fmt.Errorf("recorder: %s: %w", r.path, err)
	}
	if r.mode == Replay || r.mode == RecordMissing {
		if in, found, err := r.replayed(&key, streamed, &typed, &got, gotH); found || err != nil {
			return in, err
		}
	}
	return r.recordLive(ctx, typed, h, streamed, live, scrubbers, &key)
}

// enter counts a call in flight, or returns ErrClosed once Close began.
func (r *Recorder) enter() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("recorder: %s: %w", r.path, ErrClosed)
	}
	r.inflight.Add(1)
	return nil
}

// replayed finds the first unused recorded HTTP interaction that key
// matches, streamed as the call is, and marks it used. In Replay mode a
// call that matches none is a miss (got and gotH are the scrubbed call,
// typed the call as made): it is counted and returned as the error.
func (r *Recorder) replayed(key *callKey, streamed bool, typed, got *llm.Request, gotH *HTTPExchange) (in *Interaction, found bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries[:r.loaded] {
		if e.used || e.tool != nil || e.in.HTTP == nil || e.in.Streamed != streamed {
			continue
		}
		if e.matches(key) {
			e.used = true
			return &e.in, true, nil
		}
	}
	if r.mode != Replay {
		return nil, false, nil
	}
	miss := r.miss(typed, got, gotH)
	r.misses++
	if r.firstErr == nil {
		r.firstErr = miss
	}
	return nil, false, miss
}

// recordLive makes the call live and records its interaction, scrubbed by
// scrubbers, in the slot it takes on arrival; a call that got no answer,
// or whose interaction cannot be scrubbed or encoded, records nothing.
func (r *Recorder) recordLive(ctx context.Context, typed llm.Request, h *HTTPExchange, streamed bool,
	live func(ctx context.Context, start time.Time) (Interaction, error), scrubbers []Scrubber, key *callKey) (*Interaction, error) {
	e := &entry{fp: key.fingerprint(), fpDone: true, used: true}
	r.mu.Lock()
	r.entries = append(r.entries, e) // reserve the slot: arrival order
	r.mu.Unlock()
	skip := func() {
		r.mu.Lock()
		e.skip = true
		r.mu.Unlock()
	}
	start := r.cfg.now()
	in, err := live(ctx, start)
	if err != nil {
		skip() // no answer (connection refused, cancelled): nothing recorded
		return nil, err
	}
	in.Latency = r.cfg.now().Sub(start)
	in.Request = cloneRequest(typed)
	if in.Streamed = streamed; streamed && in.Deltas == nil {
		in.Deltas = []RecordedDelta{} // a stream refused with an HTTP error
	}
	resp := in.HTTP
	in.HTTP = h.requestSide()
	in.HTTP.Status, in.HTTP.Header, in.HTTP.ResponseBody = resp.Status, resp.Header, resp.ResponseBody
	body, fp, err := r.seal(&in, scrubbers)
	if err != nil {
		skip()
		return nil, err
	}
	r.mu.Lock()
	e.in, e.body, e.fp, e.fpDone, e.done = in, body, fp, true, true
	r.mu.Unlock()
	// The client gets the answer as recorded (scrubbed), as replay gives it.
	return &in, nil
}

// seal scrubs in with scrubbers and returns its encoding and the
// fingerprint of its (scrubbed) call.
func (r *Recorder) seal(in *Interaction, scrubbers []Scrubber) (body []byte, fp string, err error) {
	for _, s := range scrubbers {
		if err := s(in); err != nil {
			return nil, "", fmt.Errorf("recorder: %s: scrub interaction: %w (nothing recorded)", r.path, err)
		}
	}
	if body, err = encodeInteraction(in); err != nil {
		return nil, "", fmt.Errorf("recorder: %s: encode interaction: %w (nothing recorded)", r.path, err)
	}
	if fp, err = fingerprintCall(&in.Request, in.HTTP); err != nil {
		return nil, "", err
	}
	return body, fp, nil
}

// LogRun makes a Transport also log each call it understands (Chat
// Completions, Anthropic Messages) and answers (recorded or replayed) as a model step of run in store: a
// model_requested event (model, prompt, messages, offered tool names) and
// a model_completed event (output, usage, tool calls), after a
// run_started event if the run has no events yet. An agent that never
// touches the kernel so gets a hash-chained run log, which
// artanatest.AssertGoldenEvents, artana-replay show and diff read. The
// output is logged as openai.Model returns it: the content's JSON document
// when the request asked for structured output, else the content as a
// JSON string ("" for a turn of tool calls alone). A call that failed
// (an HTTP error, a broken stream) is not logged; plain HTTP calls are
// not either. The cost is logged as 0: the Transport knows no prices.
func LogRun(store ledger.Store, run artana.Run) Option {
	return func(c *config) { c.logStore, c.logRun = store, run }
}

// logStep appends the model step of an understood call to the run log.
func (t *Transport) logStep(ctx context.Context, in *Interaction) error {
	store, run := t.rec.cfg.logStore, t.rec.cfg.logRun
	if store == nil || in.HTTP == nil || in.HTTP.API == "" || in.Err != nil {
		return nil
	}
	t.logMu.Lock()
	defer t.logMu.Unlock()
	fail := func(what string, err error) error {
		return fmt.Errorf("recorder: %s: log the call to run %q: %s: %w (the client got no answer)", t.rec.path, run.ID, what, err)
	}
	if !t.logStarted {
		evs, err := store.Events(ctx, run.ID, 0)
		if err != nil {
			return fail("read the run", err)
		}
		if len(evs) == 0 {
			if _, err := store.Append(ctx, run.ID, run.Tenant.ID, &ledger.RunStarted{}); err != nil {
				return fail("append run_started", err)
			}
		}
		t.logStarted = true
	}
	req := &in.Request
	var allowed []string
	for _, tool := range req.Tools {
		allowed = append(allowed, tool.Name)
	}
	if allowed == nil {
		allowed = []string{}
	}
	if _, err := store.Append(ctx, run.ID, run.Tenant.ID, &ledger.ModelRequested{
		Model: req.Model, Prompt: req.Prompt, Messages: slices.Clone(req.Messages), AllowedTools: allowed,
	}); err != nil {
		return fail("append model_requested", err)
	}
	calls := slices.Clone(in.Response.ToolCalls)
	if calls == nil {
		calls = []ledger.ToolCall{}
	}
	u := in.Response.Usage
	if _, err := store.Append(ctx, run.ID, run.Tenant.ID, &ledger.ModelCompleted{
		Model: req.Model, OutputJSON: in.Response.OutputJSON,
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, CostUSD: u.CostUSD, ToolCalls: calls,
	}); err != nil {
		return fail("append model_completed", err)
	}
	return nil
}

// headerSecrets returns the secret values the request carries in its
// headers (secrets.HeaderValues), longest first, so that "Bearer KEY" is
// replaced whole before KEY alone and the scrubbed text does not depend on
// map order.
func headerSecrets(h http.Header) []string {
	known := secrets.HeaderValues(h)
	slices.SortFunc(known, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return known
}

// credentialScrubber returns a scrubber that replaces the secret values
// the request sent in its headers (headerSecrets) wherever they appear in
// the interaction, its request side and kept response headers included (an
// endpoint that echoes a key, a key of no known shape), or nil when the
// request sent none.
func credentialScrubber(h http.Header) Scrubber {
	known := headerSecrets(h)
	if len(known) == 0 {
		return nil
	}
	return func(in *Interaction) error {
		redact := func(s string) string { return secrets.RedactExact(s, known...) }
		redactB := func(b []byte) []byte {
			if len(b) == 0 {
				return b
			}
			if s := redact(string(b)); s != string(b) {
				return []byte(s)
			}
			return b
		}
		r := &in.Request
		r.Prompt = redact(r.Prompt)
		for i := range r.Messages {
			m := &r.Messages[i]
			m.Content, m.ToolCallID = redact(m.Content), redact(m.ToolCallID)
			for j := range m.ToolCalls {
				m.ToolCalls[j].ArgumentsJSON = redact(m.ToolCalls[j].ArgumentsJSON)
			}
		}
		for i := range r.Tools {
			r.Tools[i].Description = redact(r.Tools[i].Description)
		}
		in.Response.OutputJSON = redact(in.Response.OutputJSON)
		for i := range in.Response.ToolCalls {
			in.Response.ToolCalls[i].ArgumentsJSON = redact(in.Response.ToolCalls[i].ArgumentsJSON)
		}
		if in.Err != nil {
			in.Err.Message = redact(in.Err.Message)
		}
		for i := range in.Deltas {
			d := &in.Deltas[i]
			d.Text, d.Reasoning = redact(d.Text), redact(d.Reasoning)
			for j := range d.ToolCalls {
				d.ToolCalls[j].ArgumentsJSON = redact(d.ToolCalls[j].ArgumentsJSON)
			}
		}
		if x := in.HTTP; x != nil {
			x.Query, x.Body, x.Extra, x.ResponseBody = redact(x.Query), redactB(x.Body), redactB(x.Extra), redactB(x.ResponseBody)
			for k, v := range x.Header {
				x.Header[k] = redact(v)
			}
		}
		return nil
	}
}
