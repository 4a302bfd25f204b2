package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A streamReply is what the SSE server answers to one request.
type streamReply struct {
	body  []byte // the event stream
	cutAt int    // if > 0, stop after this many bytes
	abort bool   // with cutAt: drop the connection instead of ending the body
	// status, if not 0 or 200, answers with this status and body as JSON
	status int
}

// sseServer serves event streams in order (the last one repeats), flushing
// after every event so that the client reads them as they come.
type sseServer struct {
	*httptest.Server
	t       testing.TB
	mu      sync.Mutex
	replies []streamReply
	bodies  [][]byte
}

func newSSEServer(t testing.TB, replies ...streamReply) *sseServer {
	t.Helper()
	s := &sseServer{t: t, replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *sseServer) serve(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, buf.Bytes())
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()

	body := rep.body
	if rep.status != 0 && rep.status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = w.Write(body)
		return
	}
	if rep.cutAt > 0 {
		body = body[:rep.cutAt]
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	for len(body) > 0 {
		i := bytes.Index(body, []byte("\n\n"))
		if i < 0 {
			i = len(body)
		} else {
			i += 2
		}
		_, _ = w.Write(body[:i])
		w.(http.Flusher).Flush()
		body = body[i:]
	}
	if rep.abort {
		panic(http.ErrAbortHandler) // close the connection mid-body
	}
}

func (s *sseServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func (s *sseServer) sent(n int) map[string]any {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	return decodeJSON(s.t, s.bodies[n])
}

func newStreamModel(t testing.TB, srv *sseServer, opts ...openai.Option) *openai.Model {
	t.Helper()
	base := []openai.Option{
		openai.WithBaseURL(srv.URL + "/v1"),
		openai.WithAPIKey(testKey),
		openai.WithSleep((&sleeps{}).sleep),
		openai.WithJitter(func(d time.Duration) time.Duration { return d }),
	}
	m, err := openai.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sseChunks reads the data events of a recorded stream, up to [DONE], as
// generic JSON: the test's own reading of the wire, independent of the
// SDK.
func sseChunks(t testing.TB, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			break
		}
		out = append(out, decodeJSON(t, []byte(data)))
	}
	return out
}

// wantDeltas is what the SSE says the deltas are: one per chunk with text,
// reasoning, tool-call fragments or usage.
func wantDeltas(t testing.TB, body []byte) []llm.Delta {
	var out []llm.Delta
	str := func(v any) string { s, _ := v.(string); return s }
	num := func(v any) int64 {
		n, _ := v.(json.Number).Int64()
		return n
	}
	for _, c := range sseChunks(t, body) {
		var d llm.Delta
		choices, _ := c["choices"].([]any)
		for _, ch := range choices {
			delta := ch.(map[string]any)["delta"].(map[string]any)
			d.Text += str(delta["content"])
			d.Reasoning += str(delta["reasoning"])
			tcs, _ := delta["tool_calls"].([]any)
			for _, tc := range tcs {
				tc := tc.(map[string]any)
				fn, _ := tc["function"].(map[string]any)
				d.ToolCalls = append(d.ToolCalls, llm.ToolCallDelta{Index: int(num(tc["index"])), ID: str(tc["id"]),
					ToolName: str(fn["name"]), ArgumentsJSON: str(fn["arguments"])})
			}
		}
		if u, ok := c["usage"].(map[string]any); ok {
			d.Usage = &llm.Usage{PromptTokens: num(u["prompt_tokens"]), CompletionTokens: num(u["completion_tokens"])}
			if ptd, ok := u["prompt_tokens_details"].(map[string]any); ok {
				d.Usage.CachedPromptTokens = num(ptd["cached_tokens"])
			}
		}
		if !d.IsZero() {
			out = append(out, d)
		}
	}
	return out
}

// noCost drops the cost, which the SSE does not carry.
func noCost(ds []llm.Delta) []llm.Delta {
	ds = slices.Clone(ds)
	for i := range ds {
		ds[i] = ds[i].Clone()
		if ds[i].Usage != nil {
			ds[i].Usage.CostUSD = 0
		}
	}
	return ds
}

func collect(ds *[]llm.Delta) func(llm.Delta) error {
	return func(d llm.Delta) error { *ds = append(*ds, d); return nil }
}

var streamFixtures = []struct {
	file     string
	model    string
	tools    bool
	deltas   int    // count, as read from the file by hand
	text     string // assembled text
	calls    []ledger.ToolCall
	reasoned bool
}{
	{file: "openai-chat-stream.sse", model: "gpt-3.5-turbo", deltas: 14, text: "1, 2, 3, 4, 5"},
	{file: "openai-chat-stream-tool-calls.sse", model: "gpt-4o", tools: true, calls: []ledger.ToolCall{
		{ID: "call_M26z19sncd7b4LBgzKRRbaUE", ToolName: "secret_retrieval_tool", ArgumentsJSON: `{"password": "mellon"}`},
		{ID: "call_KPXe5NX7IcKkaBUhc6dto2QV", ToolName: "secret_retrieval_tool", ArgumentsJSON: `{"password": "radiance"}`},
	}},
	{file: "openai-chat-stream-tool-loop-turn2.sse", model: "gpt-4o", tools: true},
	{file: "ollama-chat-stream.sse", model: "qwen3", reasoned: true},
}

// TestStreamWireFixtures streams the recorded bodies: the deltas are the
// ones the SSE holds, in order, and the assembled answer is what they say.
func TestStreamWireFixtures(t *testing.T) {
	for _, fx := range streamFixtures {
		t.Run(fx.file, func(t *testing.T) {
			body := readWire(t, fx.file)
			srv := newSSEServer(t, streamReply{body: body})
			m := newStreamModel(t, srv, openai.WithStrictTools(false))
			req := llm.Request{Model: fx.model, Messages: []ledger.ChatMessage{{Role: "user", Content: "go"}}}
			if fx.tools {
				req.Tools = []llm.ToolDefinition{secretTool}
			}
			var got []llm.Delta
			resp, err := m.Stream(context.Background(), req, collect(&got))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			want := wantDeltas(t, body)
			if diff := cmp.Diff(want, noCost(got)); diff != "" {
				t.Errorf("deltas differ from the SSE (-sse +delivered):\n%s", diff)
			}
			if fx.deltas != 0 && len(got) != fx.deltas {
				t.Errorf("%d deltas, want %d", len(got), fx.deltas)
			}
			joined := llm.JoinDeltas(got)
			if fx.text != "" && joined.Text != fx.text {
				t.Errorf("assembled text %q, want %q", joined.Text, fx.text)
			}
			if joined.Text != "" {
				if w, _ := json.Marshal(joined.Text); resp.OutputJSON != string(w) {
					t.Errorf("OutputJSON = %s, want the streamed text %s", resp.OutputJSON, w)
				}
			} else if resp.OutputJSON != "" {
				t.Errorf("OutputJSON = %s, want none (a tool-calling turn)", resp.OutputJSON)
			}
			if fx.calls != nil {
				if diff := cmp.Diff(fx.calls, resp.ToolCalls); diff != "" {
					t.Errorf("tool calls (-want +got):\n%s", diff)
				}
				var wantJoined []llm.ToolCallDelta
				for i, c := range resp.ToolCalls {
					wantJoined = append(wantJoined, llm.ToolCallDelta{Index: i, ID: c.ID, ToolName: c.ToolName, ArgumentsJSON: c.ArgumentsJSON})
				}
				if diff := cmp.Diff(wantJoined, joined.ToolCalls); diff != "" {
					t.Errorf("joined fragments, want the response's calls (-want +got):\n%s", diff)
				}
			}
			if (joined.Reasoning != "") != fx.reasoned {
				t.Errorf("reasoning %q, want some: %v", joined.Reasoning, fx.reasoned)
			}
			if diff := cmp.Diff(&resp.Usage, got[len(got)-1].Usage); diff != "" {
				t.Errorf("the last delta's usage, want the response's (-want +got):\n%s", diff)
			}
			sent := srv.sent(0)
			if sent["stream"] != true || sent["stream_options"].(map[string]any)["include_usage"] != true {
				t.Errorf("request did not ask for a stream with usage: %v", sent)
			}
		})
	}
}

// TestStreamRequestWire: the streamed request for the recorded exchange is
// the recorded request, field by field.
func TestStreamRequestWire(t *testing.T) {
	srv := newSSEServer(t, streamReply{body: readWire(t, "openai-chat-stream-tool-calls.sse")})
	m := newStreamModel(t, srv, openai.WithStrictTools(false))
	_, err := m.Stream(context.Background(), llm.Request{Model: "gpt-4o", Messages: []ledger.ChatMessage{
		{Role: "system", Content: "Use parallel tool calling."},
		{Role: "user", Content: "Please retrieve the secrets associated with each of these passwords: mellon,radiance"},
	}, Tools: []llm.ToolDefinition{secretTool}}, func(llm.Delta) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := decodeJSON(t, readWire(t, "openai-chat-stream-tool-calls.request.json"))
	if diff := cmp.Diff(want, srv.sent(0)); diff != "" {
		t.Errorf("request differs from the recorded one (-recorded +sent):\n%s", diff)
	}
}

// TestStreamErrorMidstream: the recorded 200 stream with an error event
// after its content is a transient failure that keeps the delivered
// deltas, and is not retried.
func TestStreamErrorMidstream(t *testing.T) {
	body := readWire(t, "openai-chat-stream-error-midstream.sse")
	srv := newSSEServer(t, streamReply{body: body})
	m := newStreamModel(t, srv)
	var got []llm.Delta
	_, err := m.Stream(context.Background(), llm.Request{Model: "gpt-4.1-nano", Prompt: "Count from 1 to 3"}, collect(&got))
	me, ok := errors.AsType[*llm.Error](err)
	if !ok || me.Class != llm.ClassTransient {
		t.Fatalf("err = %v, want a transient ModelError", err)
	}
	if d := cmp.Diff(streamed{8, "1, 2, 3."}, streamedOf(got)); d != "" {
		t.Errorf("delivered, want the 8 deltas before the error (-want +got):\n%s", d)
	}
	if d := cmp.Diff(got, me.Partial); d != "" {
		t.Errorf("Partial, want the delivered deltas (-want +got):\n%s", d)
	}
	apiErr, ok := errors.AsType[*openai.APIError](err)
	if !ok || apiErr.Type != "server_error" || !strings.Contains(apiErr.Message, "The server had an error") {
		t.Errorf("err = %v, want the stream's server_error", err)
	}
	if !strings.Contains(err.Error(), "line 19") {
		t.Errorf("err = %v, want it to name the event's line (19)", err)
	}
	if srv.requests() != 1 {
		t.Errorf("%d requests; a stream that delivered deltas must not be retried", srv.requests())
	}
	checkStreamRequest(t, srv, "openai-chat-stream-error-midstream.request.json")
}

func checkStreamRequest(t *testing.T, srv *sseServer, recorded string) {
	t.Helper()
	want := decodeJSON(t, readWire(t, recorded))
	got := srv.sent(0)
	for _, k := range []string{"stream", "stream_options"} {
		if !cmp.Equal(want[k], got[k]) {
			t.Errorf("%s = %v, recorded %v", k, got[k], want[k])
		}
	}
}

// TestStreamCut: a stream that is cut off (connection dropped, or body
// ended without [DONE]) after some deltas is a transient failure keeping
// them; cut before the first delta, it is retried.
func TestStreamCut(t *testing.T) {
	body := readWire(t, "openai-chat-stream.sse")
	half := bytes.Index(body, []byte(`"content":"3"`))
	half += bytes.Index(body[half:], []byte("\n\n")) + 2
	for _, abort := range []bool{true, false} {
		srv := newSSEServer(t, streamReply{body: body, cutAt: half, abort: abort})
		m := newStreamModel(t, srv)
		var got []llm.Delta
		_, err := m.Stream(context.Background(), llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, collect(&got))
		me, ok := errors.AsType[*llm.Error](err)
		if !ok || me.Class != llm.ClassTransient {
			t.Fatalf("abort=%v: err = %v, want a transient ModelError", abort, err)
		}
		if d := cmp.Diff(streamed{7, "1, 2, 3"}, streamedOf(me.Partial)); d != "" {
			t.Fatalf("abort=%v: partial, want the 7 deltas before the cut (-want +got):\n%s", abort, d)
		}
		want := openai.ErrNoTerminator
		if abort {
			want = openai.ErrStreamCut
		}
		se, ok := errors.AsType[*openai.StreamError](err)
		if !ok || !errors.Is(err, want) || se.Line == 0 {
			t.Errorf("abort=%v: err = %v, want a *StreamError matching %v naming a line", abort, err, want)
		}
		if srv.requests() != 1 {
			t.Errorf("abort=%v: %d requests, want 1 (deltas were delivered)", abort, srv.requests())
		}
	}

	// Cut after the role chunk, which carries no delta: retried, and the
	// second attempt's deltas are delivered once.
	first := bytes.Index(body, []byte("\n\n")) + 2
	srv := newSSEServer(t, streamReply{body: body, cutAt: first, abort: true}, streamReply{body: body})
	m := newStreamModel(t, srv)
	var got []llm.Delta
	resp, err := m.Stream(context.Background(), llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, collect(&got))
	if err != nil {
		t.Fatalf("retry before the first delta: %v", err)
	}
	if d := cmp.Diff(attempt{2, 14, `"1, 2, 3, 4, 5"`}, attempt{srv.requests(), len(got), resp.OutputJSON}); d != "" {
		t.Errorf("retry before the first delta (-want +got):\n%s", d)
	}
}

// TestStreamBadInput: a malformed line, an unknown event type and an
// event that is not JSON are permanent errors naming the line.
func TestStreamBadInput(t *testing.T) {
	body := readWire(t, "openai-chat-stream.sse")
	second := bytes.Index(body, []byte("\n\n")) + 2 // start of line 3
	insert := func(s string) []byte {
		return append(append(append([]byte(nil), body[:second]...), s...), body[second:]...)
	}
	for _, tc := range []struct {
		name string
		body []byte
		kind error
		line int
		text string
	}{
		{"malformed line", insert("this is not a field\n"), openai.ErrMalformedLine, 3, "this is not a field"},
		{"unknown event", insert("event: surprise\ndata: {}\n\n"), openai.ErrUnknownEvent, 3, "surprise"},
		{"data not JSON", insert("data: {\"id\":\n\n"), openai.ErrMalformedLine, 3, `{"id":`},
		{"no terminator", body[:bytes.LastIndex(body, []byte("data: [DONE]"))], openai.ErrNoTerminator, 32, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSSEServer(t, streamReply{body: tc.body})
			m := newStreamModel(t, srv)
			var got []llm.Delta
			_, err := m.Stream(context.Background(), llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, collect(&got))
			se, ok := errors.AsType[*openai.StreamError](err)
			if !ok {
				t.Fatalf("err = %v, want a *StreamError", err)
			}
			if d := cmp.Diff(openai.StreamError{Line: tc.line, Text: tc.text, Kind: tc.kind}, *se, cmpopts.EquateErrors()); d != "" {
				t.Fatalf("err = %v (-want +got):\n%s", err, d)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("err = %v names no line", err)
			}
			wantClass := llm.ClassPermanent
			if tc.kind == openai.ErrNoTerminator {
				wantClass = llm.ClassTransient
			}
			if c := llm.ClassOf(err); c != wantClass {
				t.Errorf("class %s, want %s", c, wantClass)
			}
			if srv.requests() != 1 && wantClass == llm.ClassPermanent {
				t.Errorf("%d requests for a permanent failure", srv.requests())
			}
		})
	}
}

// TestStreamYieldError: the callback's error stops the stream and is
// returned as it is.
func TestStreamYieldError(t *testing.T) {
	srv := newSSEServer(t, streamReply{body: readWire(t, "openai-chat-stream.sse")})
	m := newStreamModel(t, srv)
	stop := errors.New("stop")
	n := 0
	_, err := m.Stream(context.Background(), llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, func(llm.Delta) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("err = %v, want the callback's error", err)
	}
	type stopped struct{ Deltas, Requests int }
	if d := cmp.Diff(stopped{3, 1}, stopped{n, srv.requests()}); d != "" {
		t.Errorf("stopped after (-want +got):\n%s", d)
	}
}

// TestStreamHTTPErrorRetried: an error status before the stream starts is
// classified as Complete classifies it and retried when transient.
func TestStreamHTTPErrorRetried(t *testing.T) {
	srv := newSSEServer(t, streamReply{status: 429, body: readWire(t, "openai-error-429.json")},
		streamReply{body: readWire(t, "openai-chat-stream.sse")})
	m := newStreamModel(t, srv)
	var got []llm.Delta
	resp, err := m.Stream(context.Background(), llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, collect(&got))
	if err != nil {
		t.Fatalf("after a 429: %v", err)
	}
	if d := cmp.Diff(attempt{2, 14, `"1, 2, 3, 4, 5"`}, attempt{srv.requests(), len(got), resp.OutputJSON}); d != "" {
		t.Errorf("after a 429 (-want +got):\n%s", d)
	}

	srv2 := newSSEServer(t, streamReply{status: 401, body: readWire(t, "openai-error-401.json")})
	m2 := newStreamModel(t, srv2)
	_, err = m2.Stream(context.Background(), llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, collect(&got))
	if !errors.Is(err, llm.ErrPermanent) || srv2.requests() != 1 || strings.Contains(err.Error(), testKey) {
		t.Errorf("401: %v after %d requests", err, srv2.requests())
	}
}

// BenchmarkStream measures a streamed call of the recorded Ollama stream
// (300 events, 292 deltas) against a local server, and the same answer
// as one whole body through Complete:
//
//	go test ./openai -run '^$' -bench 'Stream$' -benchmem
func BenchmarkStream(b *testing.B) {
	body := readWire(b, "ollama-chat-stream.sse")
	srv := newSSEServer(b, streamReply{body: body})
	m := newStreamModel(b, srv)
	req := llm.Request{Model: "qwen3", Prompt: "count"}
	b.Run("stream", func(b *testing.B) {
		n := 0
		for b.Loop() {
			if _, err := m.Stream(context.Background(), req, func(llm.Delta) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/float64(b.N), "deltas/op")
	})
}

// TestStreamCanceled: a caller that gives up mid-stream gets a canceled
// error keeping the deltas it saw, and the call is not retried.
func TestStreamCanceled(t *testing.T) {
	body := readWire(t, "openai-chat-stream.sse")
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		third := 0
		for range 4 { // the role chunk and three deltas
			third += bytes.Index(body[third:], []byte("\n\n")) + 2
		}
		_, _ = w.Write(body[:third])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	m, err := openai.New(openai.WithBaseURL(srv.URL+"/v1"), openai.WithAPIKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, err = m.Stream(ctx, llm.Request{Model: "gpt-3.5-turbo", Prompt: "count"}, func(llm.Delta) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	me, ok := errors.AsType[*llm.Error](err)
	if !ok || !errors.Is(err, context.Canceled) || len(me.Partial) != 3 {
		t.Fatalf("err = %v, want a canceled ModelError keeping the 3 deltas", err)
	}
}

// TestStreamAnthropicNotUnderstood: an Anthropic Messages stream (a real
// one) is not Chat Completions: its first event type is named as unknown,
// a permanent failure, and nothing is retried.
func TestStreamAnthropicNotUnderstood(t *testing.T) {
	srv := newSSEServer(t, streamReply{body: readWire(t, "anthropic-messages-stream.sse")})
	m := newStreamModel(t, srv)
	var got []llm.Delta
	_, err := m.Stream(context.Background(), llm.Request{Model: "claude-sonnet-4-0", Prompt: "hi"}, collect(&got))
	se, ok := errors.AsType[*openai.StreamError](err)
	if !ok {
		t.Fatalf("err = %v, want a *StreamError", err)
	}
	if d := cmp.Diff(openai.StreamError{Line: 1, Text: "message_start", Kind: openai.ErrUnknownEvent}, *se, cmpopts.EquateErrors()); d != "" {
		t.Fatalf("err = %v, want the unknown event message_start at line 1 (-want +got):\n%s", err, d)
	}
	if !errors.Is(err, llm.ErrPermanent) {
		t.Errorf("err = %v, want a permanent failure", err)
	}
	if d := cmp.Diff(attempt{Requests: 1}, attempt{srv.requests(), len(got), ""}); d != "" {
		t.Errorf("want 1 request, no delta (-want +got):\n%s", d)
	}
}

// streamed is a list of deltas in outline: how many, and their text joined.
type streamed struct {
	Deltas int
	Text   string
}

func streamedOf(ds []llm.Delta) streamed { return streamed{len(ds), llm.JoinDeltas(ds).Text} }

// attempt is what a streamed call took and gave: the requests sent, the
// deltas delivered and the output.
type attempt struct {
	Requests, Deltas int
	OutputJSON       string
}
