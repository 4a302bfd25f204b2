package recorder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/recorder"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// streamingFake is a live StreamingModel that delivers deltas, then
// answers resp or fails with err.
type streamingFake struct {
	deltas []llm.Delta
	resp   llm.Response
	err    error
	calls  int
}

func (m *streamingFake) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	return m.Stream(ctx, req, func(llm.Delta) error { return nil })
}

func (m *streamingFake) Stream(_ context.Context, _ llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	m.calls++
	for _, d := range m.deltas {
		if err := yield(d); err != nil {
			return llm.Response{}, err
		}
	}
	if m.err != nil {
		return llm.Response{}, m.err
	}
	return m.resp, nil
}

var fakeDeltas = []llm.Delta{
	{Reasoning: "thinking"},
	{Text: "Hel"},
	{Text: "lo", ToolCalls: []llm.ToolCallDelta{{Index: 0, ID: "call_1", ToolName: "lookup", ArgumentsJSON: `{"q":`}}},
	{ToolCalls: []llm.ToolCallDelta{{Index: 0, ArgumentsJSON: `"x"}`}}},
	{Usage: &llm.Usage{PromptTokens: 3, CompletionTokens: 4, CostUSD: 0.5}},
}

var fakeAnswer = llm.Response{OutputJSON: `"Hello"`, Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 4, CostUSD: 0.5},
	ToolCalls: []ledger.ToolCall{{ID: "call_1", ToolName: "lookup", ArgumentsJSON: `{"q":"x"}`}}}

// millis is a clock that advances 10ms on every reading.
func millis() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(10 * time.Millisecond)
		return t
	}
}

func collect(ds *[]llm.Delta) func(llm.Delta) error {
	return func(d llm.Delta) error { *ds = append(*ds, d); return nil }
}

// recordStream records one streamed call of live into a new cassette.
func recordStream(t *testing.T, live llm.Model, opts ...recorder.Option) (string, []llm.Delta, llm.Response, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stream.cassette")
	rec, err := recorder.Open(path, live, append([]recorder.Option{recorder.WithMode(recorder.Record), recorder.WithClock(millis())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var got []llm.Delta
	resp, callErr := rec.Stream(context.Background(), request("hi"), collect(&got))
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return path, got, resp, callErr
}

func TestStreamRecordReplay(t *testing.T) {
	live := &streamingFake{deltas: fakeDeltas, resp: fakeAnswer}
	path, liveDeltas, liveResp, err := recordStream(t, live)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(liveDeltas, fakeDeltas) {
		t.Errorf("live deltas = %+v", liveDeltas)
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{`"stream":{"deltas":[{"at":"10ms","reasoning":"thinking"},{"at":"20ms","text":"Hel"}`, `"latency":"60ms"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("cassette lacks %s:\n%s", want, raw)
		}
	}

	rep, err := recorder.Open(path, disconnected(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []llm.Delta
	resp, err := rep.Stream(context.Background(), request("hi"), collect(&got))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(liveDeltas, got); diff != "" {
		t.Errorf("replayed deltas (-live +replayed):\n%s", diff)
	}
	if diff := cmp.Diff(liveResp, resp); diff != "" {
		t.Errorf("replayed response (-live +replayed):\n%s", diff)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}

	// Complete on the streamed interaction: the same response, no deltas.
	rep2, _ := recorder.Open(path, nil)
	if resp, err := rep2.Complete(context.Background(), request("hi")); err != nil || !cmp.Equal(resp, liveResp) {
		t.Errorf("Complete on a streamed interaction: %+v, %v", resp, err)
	}
	rep2.Close()

	// SeparateStreams: Complete no longer matches it.
	rep3, _ := recorder.Open(path, nil, recorder.SeparateStreams(), recorder.AllowUnused())
	if _, err := rep3.Complete(context.Background(), request("hi")); !errors.Is(err, recorder.ErrNoMatch) {
		t.Errorf("SeparateStreams: Complete err = %v, want a miss", err)
	}
	rep3.Close()
}

// TestStreamOverUnstreamed: an interaction recorded by Complete answers a
// Stream call with one delta, unless SeparateStreams.
func TestStreamOverUnstreamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain.cassette")
	rec, _ := recorder.Open(path, &streamingFake{resp: fakeAnswer}, recorder.WithMode(recorder.Record))
	if _, err := rec.Complete(context.Background(), request("hi")); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), `"stream"`) {
		t.Errorf("an unstreamed interaction has a stream field:\n%s", raw)
	}
	rep, _ := recorder.Open(path, nil)
	var got []llm.Delta
	if _, err := rep.Stream(context.Background(), request("hi"), collect(&got)); err != nil {
		t.Fatal(err)
	}
	if want := []llm.Delta{fakeAnswer.Delta()}; !cmp.Equal(got, want) {
		t.Errorf("deltas = %+v, want %+v", got, want)
	}
	rep.Close()
	rep2, _ := recorder.Open(path, nil, recorder.SeparateStreams(), recorder.AllowUnused())
	if _, err := rep2.Stream(context.Background(), request("hi"), collect(&got)); !errors.Is(err, recorder.ErrNoMatch) {
		t.Errorf("SeparateStreams: Stream err = %v, want a miss", err)
	}
	rep2.Close()
}

// TestStreamFailedMidway: a stream that failed after some deltas replays
// the same deltas, then the same failure.
func TestStreamFailedMidway(t *testing.T) {
	broken := &llm.Error{Class: llm.ClassTransient, StatusCode: 200, Message: "the stream broke off", Partial: fakeDeltas[:2]}
	path, liveDeltas, _, liveErr := recordStream(t, &streamingFake{deltas: fakeDeltas[:2], err: broken})
	if liveErr == nil || len(liveDeltas) != 2 {
		t.Fatalf("live: %v, %d deltas", liveErr, len(liveDeltas))
	}
	rep, _ := recorder.Open(path, nil)
	var got []llm.Delta
	_, err := rep.Stream(context.Background(), request("hi"), collect(&got))
	me, ok := errors.AsType[*llm.Error](err)
	if !ok {
		t.Fatalf("replayed err = %v, want an *llm.Error", err)
	}
	if d := cmp.Diff(*broken, *me, cmpopts.IgnoreFields(llm.Error{}, "Partial", "Err")); d != "" {
		t.Fatalf("replayed err, want the recorded one (-want +got):\n%s", d)
	}
	if !cmp.Equal(got, liveDeltas) || !cmp.Equal(me.Partial, liveDeltas) {
		t.Errorf("replayed deltas %+v, Partial %+v; want %+v", got, me.Partial, liveDeltas)
	}
	rep.Close()
}

// TestStreamCallbackStops: a callback that stops the stream gets its error
// back, and nothing is recorded.
func TestStreamCallbackStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stopped.cassette")
	rec, _ := recorder.Open(path, &streamingFake{deltas: fakeDeltas, resp: fakeAnswer}, recorder.WithMode(recorder.Record))
	stop := errors.New("stop")
	if _, err := rec.Stream(context.Background(), request("hi"), func(llm.Delta) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := recorder.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Stream(context.Background(), request("hi"), collect(new([]llm.Delta))); !errors.Is(err, recorder.ErrNoMatch) {
		t.Errorf("a stopped stream was recorded: %v", err)
	}
	rep.Close()

	// Replayed, the callback's error stops delivery too.
	path2, _, _, _ := recordStream(t, &streamingFake{deltas: fakeDeltas, resp: fakeAnswer})
	rep2, _ := recorder.Open(path2, nil, recorder.AllowUnused())
	n := 0
	if _, err := rep2.Stream(context.Background(), request("hi"), func(llm.Delta) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("replay: err = %v after %d deltas", err, n)
	}
	rep2.Close()
}

// TestStreamSecretSplitAcrossDeltas: a key split over two deltas does not
// reach the cassette.
func TestStreamSecretSplitAcrossDeltas(t *testing.T) {
	key := "sk-proj-" + strings.Repeat("Ab3", 10)
	deltas := []llm.Delta{{Text: "your key is sk-proj-"}, {Text: key[len("sk-proj-"):] + " ok"}, {Usage: &llm.Usage{PromptTokens: 1}}}
	path, _, _, err := recordStream(t, &streamingFake{deltas: deltas, resp: llm.Response{OutputJSON: `"x"`}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), key[len("sk-proj-"):]) {
		t.Fatalf("the key reached the cassette:\n%s", raw)
	}
	rep, _ := recorder.Open(path, nil)
	var got []llm.Delta
	if _, err := rep.Stream(context.Background(), request("hi"), collect(&got)); err != nil {
		t.Fatal(err)
	}
	if j := llm.JoinDeltas(got); j.Text != "your key is [REDACTED] ok" {
		t.Errorf("replayed text %q", j.Text)
	}
	rep.Close()
}

// TestStreamBadRecords: a hand-edited stream is reported with its line.
func TestStreamBadRecords(t *testing.T) {
	path, _, _, err := recordStream(t, &streamingFake{deltas: fakeDeltas, resp: fakeAnswer})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for _, tc := range []struct{ from, to, want string }{
		{`"at":"20ms"`, `"at":"5ms"`, "bad offset"},
		{`"at":"20ms"`, `"at":"soon"`, "bad offset"},
		{`{"at":"20ms","text":"Hel"}`, `{"at":"20ms"}`, "is empty"},
		{`"index":0,"tool_name"`, `"index":-1,"tool_name"`, "index -1"},
		{`"text":"Hel"`, `"txt":"Hel"`, "unknown field"},
	} {
		edited := strings.Replace(string(raw), tc.from, tc.to, 1)
		if edited == string(raw) {
			t.Fatalf("%s not in the cassette", tc.from)
		}
		bad := filepath.Join(t.TempDir(), "bad.cassette")
		os.WriteFile(bad, []byte(edited), 0o644)
		if _, err := cassettes.Reseal(context.Background(), bad); err != nil { // a deliberate edit: reseal the chain
			t.Fatal(err)
		}
		_, err := recorder.Open(bad, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.cassette:2:") {
			t.Errorf("%s -> %s: err = %v, want %q naming line 2", tc.from, tc.to, err, tc.want)
		}
	}
}

// TestStreamModes: Passthrough streams from the live model and records
// nothing; RecordMissing appends a new streamed interaction to a cassette
// of unstreamed ones, which then replays both.
func TestStreamModes(t *testing.T) {
	live := &streamingFake{deltas: fakeDeltas, resp: fakeAnswer}
	pass, err := recorder.Open(filepath.Join(t.TempDir(), "none.cassette"), live, recorder.WithMode(recorder.Passthrough))
	if err != nil {
		t.Fatal(err)
	}
	var got []llm.Delta
	if _, err := pass.Stream(context.Background(), request("hi"), collect(&got)); err != nil || !cmp.Equal(got, fakeDeltas) {
		t.Errorf("passthrough: %v, %+v", err, got)
	}
	pass.Close()

	path := filepath.Join(t.TempDir(), "mixed.cassette")
	rec, _ := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record))
	if _, err := rec.Complete(context.Background(), request("plain")); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	more, err := recorder.Open(path, live, recorder.WithMode(recorder.RecordMissing))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if _, err := more.Stream(context.Background(), request("streamed"), collect(&got)); err != nil || len(got) != len(fakeDeltas) {
		t.Fatalf("record missing: %v, %d deltas", err, len(got))
	}
	if err := more.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := recorder.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var plain, streamed []llm.Delta
	if _, err := rep.Stream(context.Background(), request("plain"), collect(&plain)); err != nil || len(plain) != 1 {
		t.Errorf("plain: %v, %d deltas", err, len(plain))
	}
	if _, err := rep.Stream(context.Background(), request("streamed"), collect(&streamed)); err != nil || !cmp.Equal(streamed, fakeDeltas) {
		t.Errorf("streamed: %v, %+v", err, streamed)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
}
