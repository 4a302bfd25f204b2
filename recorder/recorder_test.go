package recorder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/recorder"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// recordFile records the given prompts with m into a new cassette and
// returns its path.
func recordFile(t *testing.T, m llm.Model, prompts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, m, recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	for _, p := range prompts {
		_, err := rec.Complete(ctx, request(p))
		require.NoError(t, err)
	}
	require.NoError(t, rec.Close())
	return path
}

func answer(t *testing.T, m llm.Model, prompt string) string {
	t.Helper()
	resp, err := m.Complete(ctx, request(prompt))
	require.NoError(t, err)
	return resp.OutputJSON
}

func TestRecordThenReplay(t *testing.T) {
	live := echoModel()
	path := recordFile(t, live, "a", "b")
	require.EqualValues(t, 2, live.calls.Load())

	rec, err := recorder.Open(path, disconnected(t))
	require.NoError(t, err)
	require.Equal(t, recorder.Replay, rec.Mode())
	resp, err := rec.Complete(ctx, request("a"))
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: a"}`, resp.OutputJSON)
	require.Equal(t, llm.Usage{PromptTokens: 1, CompletionTokens: 5, CostUSD: 0.001}, resp.Usage)
	require.Equal(t, `{"answer":"echo 1: b"}`, answer(t, rec, "b"))
	require.NoError(t, rec.Close())
}

func TestReplayWithoutLiveModel(t *testing.T) {
	path := recordFile(t, echoModel(), "a")
	rec, err := recorder.Open(path, nil)
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: a"}`, answer(t, rec, "a"))
	require.NoError(t, rec.Close())
}

func TestIdenticalRequestsReplayInOrder(t *testing.T) {
	path := recordFile(t, echoModel(), "same", "other", "same", "same")
	rec, err := recorder.Open(path, disconnected(t))
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: same"}`, answer(t, rec, "same"))
	require.Equal(t, `{"answer":"echo 2: same"}`, answer(t, rec, "same"))
	require.Equal(t, `{"answer":"echo 1: other"}`, answer(t, rec, "other"))
	require.Equal(t, `{"answer":"echo 3: same"}`, answer(t, rec, "same"))

	_, err = rec.Complete(ctx, request("same"))
	require.ErrorIs(t, err, recorder.ErrNoMatch)
	require.Contains(t, err.Error(), "all 4 recorded interactions were already used")
	require.NoError(t, rec.Close())
}

func TestRunIDIsNeitherRecordedNorMatched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	req := request("a")
	req.RunID = "run-recorded-0001"
	_, err = rec.Complete(ctx, req)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(data), "run-recorded-0001")

	rec, err = recorder.Open(path, nil)
	require.NoError(t, err)
	req.RunID = "another-run"
	_, err = rec.Complete(ctx, req)
	require.NoError(t, err)
	require.NoError(t, rec.Close())
}

func TestOptionsAndSchemaAreMatched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	req := request("a")
	req.Options.Temperature = new(0.5)
	req.OutputSchema = []byte(`{"type": "object", "properties": {"answer": {"type": "string"}}}`)
	req.Tools = []llm.ToolDefinition{{Name: "lookup", Description: "Look up.", Schema: []byte(`{"type":"object"}`)}}
	_, err = rec.Complete(ctx, req)
	require.NoError(t, err)
	require.NoError(t, rec.Close())

	rec, err = recorder.Open(path, nil, recorder.AllowUnused())
	require.NoError(t, err)
	other := req
	other.Options.Temperature = new(0.7)
	_, err = rec.Complete(ctx, other)
	require.ErrorIs(t, err, recorder.ErrNoMatch)
	require.Contains(t, err.Error(), "\tOptions.Temperature:\n\t\t-0.5\n\t\t+0.7\n")

	// The schema is compared in canonical form: whitespace does not matter.
	same := req
	same.OutputSchema = []byte(`{"properties":{"answer":{"type":"string"}},"type":"object"}`)
	_, err = rec.Complete(ctx, same)
	require.NoError(t, err)
}

func TestCustomMatcher(t *testing.T) {
	path := recordFile(t, echoModel(), "a")
	byLastMessage := func(got, recorded llm.Request) bool {
		return got.Messages[len(got.Messages)-1].Content == recorded.Messages[len(recorded.Messages)-1].Content
	}
	rec, err := recorder.Open(path, nil, recorder.WithMatcher(byLastMessage))
	require.NoError(t, err)
	req := request("a")
	req.Model = "another-model"
	req.Messages[0].Content = "Be verbose."
	resp, err := rec.Complete(ctx, req)
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: a"}`, resp.OutputJSON)

	_, err = rec.Complete(ctx, request("a"))
	require.ErrorIs(t, err, recorder.ErrNoMatch, "each interaction is used once, whatever the matcher")
}

func TestMatcherRejectingEqualRequest(t *testing.T) {
	path := recordFile(t, echoModel(), "a")
	never := func(got, recorded llm.Request) bool { return false }
	rec, err := recorder.Open(path, nil, recorder.WithMatcher(never), recorder.AllowUnused())
	require.NoError(t, err)
	_, err = rec.Complete(ctx, request("a"))
	require.ErrorContains(t, err, "no recorded field differs, but the matcher rejects it")
}

func TestMissMessage(t *testing.T) {
	path := recordFile(t, echoModel(), "What is 2+2?", "Thanks")
	rec, err := recorder.Open(path, disconnected(t), recorder.AllowUnused())
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: What is 2+2?"}`, answer(t, rec, "What is 2+2?"))

	req := request("What is 3+3?")
	req.Messages = append(req.Messages, ledger.ChatMessage{Role: "user", Content: "Quickly."})
	_, err = rec.Complete(ctx, req)
	var miss *recorder.MissError
	require.ErrorAs(t, err, &miss)
	require.ErrorIs(t, err, recorder.ErrNoMatch)
	require.Equal(t, path, miss.Path)
	require.Equal(t, 3, miss.Nearest, "the unused interaction is on line 3")
	msg := err.Error()
	for _, want := range []string{
		"recorder: " + path + ": no recorded interaction matches the request:\n",
		`{"messages":[{"content":"Be brief.","role":"system"},{"content":"What is 3+3?","role":"user"},{"content":"Quickly.","role":"user"}],"model":"fake-1",`,
		"nearest unused recorded interaction: line 3; differences (-recorded +got):\n",
		"\tPrompt:\n\t\t-\"Thanks\"\n\t\t+\"What is 3+3?\"\n",
		"\tMessages[1].Content:\n\t\t-\"Thanks\"\n\t\t+\"What is 3+3?\"\n",
		"\tMessages[2]:\n\t\t-(none)\n\t\t+{\"role\":\"user\",\"content\":\"Quickly.\"}\n",
		"re-record with:\n\topen the recorder with recorder.WithMode(recorder.Record)",
	} {
		require.Contains(t, msg, want)
	}
	require.NotContains(t, msg, "Model:", "fields that are equal are not listed")
}

func TestMissingCassette(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.cassette")
	_, err := recorder.Open(path, nil)
	require.ErrorIs(t, err, recorder.ErrNoCassette)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, path)
	require.ErrorContains(t, err, "record it with")

	tb := newFakeTB(t, "TestSomething/case_1")
	rec := recorder.New(tb, nil, recorder.WithDir(t.TempDir()))
	require.Nil(t, rec)
	require.True(t, tb.Failed())
	require.Contains(t, tb.errors(), "cassette does not exist; record it with:\n\tgo test ./recorder -run '^TestSomething$/^case_1$' -artana.record='^TestSomething/case_1$'")
}

func TestRecordRewritesTheWholeCassette(t *testing.T) {
	path := recordFile(t, echoModel(), "a", "b")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	answer(t, rec, "c")
	require.NoError(t, rec.Close())

	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Contains(t, string(recs[0].Body), "echo 1: c")
}

func TestRecordMissingAppends(t *testing.T) {
	path := recordFile(t, echoModel(), "a", "b")
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	live := echoModel()
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.RecordMissing))
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: a"}`, answer(t, rec, "a"))
	require.EqualValues(t, 0, live.calls.Load(), "a recorded request replays")
	require.Equal(t, `{"answer":"echo 1: c"}`, answer(t, rec, "c"))
	require.Equal(t, `{"answer":"echo 2: c"}`, answer(t, rec, "c"), "a new request is not replayed from itself")
	require.EqualValues(t, 2, live.calls.Load())
	require.NoError(t, rec.Close())

	after, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.SplitAfter(before, []byte("\n"))
	kept := bytes.Join(lines[:len(lines)-2], nil) // all but the end record (and the empty tail)
	require.True(t, bytes.HasPrefix(after, kept), "existing lines are untouched")
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 4)

	// Nothing new: the file is not touched at all.
	rec, err = recorder.Open(path, live, recorder.WithMode(recorder.RecordMissing))
	require.NoError(t, err)
	answer(t, rec, "b")
	require.NoError(t, rec.Close())
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, after, again)
}

func TestRecordMissingCreatesCassette(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "new.cassette")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.RecordMissing))
	require.NoError(t, err)
	answer(t, rec, "a")
	require.NoError(t, rec.Close())
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)
}

func TestRecordMissingRefusesAChangedFile(t *testing.T) {
	path := recordFile(t, echoModel(), "a")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.RecordMissing))
	require.NoError(t, err)
	answer(t, rec, "b")
	recordAt(t, path, "x", "y") // someone else rewrote it meanwhile
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	err = rec.Close()
	require.ErrorContains(t, err, "changed since it was opened (1 interactions, then 2); nothing appended")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func recordAt(t *testing.T, path string, prompts ...string) {
	t.Helper()
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	for _, p := range prompts {
		answer(t, rec, p)
	}
	require.NoError(t, rec.Close())
}

func TestPassthrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cassette")
	live := echoModel()
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Passthrough))
	require.NoError(t, err)
	require.Equal(t, `{"answer":"echo 1: a"}`, answer(t, rec, "a"))
	require.Equal(t, `{"answer":"echo 2: a"}`, answer(t, rec, "a"))
	require.NoError(t, rec.Close())
	require.EqualValues(t, 2, live.calls.Load())
	require.NoFileExists(t, path)
}

func TestOpenErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cassette")
	for _, m := range []recorder.Mode{recorder.Record, recorder.RecordMissing, recorder.Passthrough} {
		_, err := recorder.Open(path, nil, recorder.WithMode(m))
		require.ErrorContains(t, err, m.String()+" mode needs a live model")
	}
	_, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Mode(9)))
	require.ErrorContains(t, err, "unknown mode Mode(9)")
}

func TestClosed(t *testing.T) {
	rec, err := recorder.Open(filepath.Join(t.TempDir(), "c.cassette"), echoModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	require.NoError(t, rec.Close())
	_, err = rec.Complete(ctx, request("a"))
	require.ErrorIs(t, err, recorder.ErrClosed)
}

func TestStrictUnused(t *testing.T) {
	path := recordFile(t, echoModel(), "a", "b", "c")
	rec, err := recorder.Open(path, nil)
	require.NoError(t, err)
	answer(t, rec, "b")
	err = rec.Close()
	require.ErrorIs(t, err, recorder.ErrUnused)
	require.ErrorContains(t, err, "2 of 3 recorded interactions were not used:\n\tline 2: model \"fake-1\", last message \"a\"\n\tline 4: model \"fake-1\", last message \"c\"\n")
	require.Equal(t, err, rec.Close(), "Close reports the same result twice")

	rec, err = recorder.Open(path, nil, recorder.AllowUnused())
	require.NoError(t, err)
	require.NoError(t, rec.Close())
}

func TestNewStrictFailsTheTest(t *testing.T) {
	dir := t.TempDir()
	recordAt(t, filepath.Join(dir, "TestStrict.cassette"), "a", "b")

	tb := newFakeTB(t, "TestStrict")
	rec := recorder.New(tb, disconnected(t), recorder.WithDir(dir))
	answer(t, rec, "a")
	tb.end()
	require.True(t, tb.Failed())
	require.Contains(t, tb.errors(), "1 of 2 recorded interactions were not used:\n\tline 3: model \"fake-1\", last message \"b\"")
	require.Contains(t, tb.errors(), "re-record with:\n\tgo test ./recorder -run '^TestStrict$' -artana.record='^TestStrict$'\nor pass recorder.AllowUnused()")

	tb = newFakeTB(t, "TestStrict")
	rec = recorder.New(tb, disconnected(t), recorder.WithDir(dir), recorder.AllowUnused())
	answer(t, rec, "a")
	tb.end()
	require.False(t, tb.Failed(), tb.errors())
}

func TestNewFailsOnSwallowedMiss(t *testing.T) {
	dir := t.TempDir()
	recordAt(t, filepath.Join(dir, "TestMiss.cassette"), "a")
	tb := newFakeTB(t, "TestMiss")
	rec := recorder.New(tb, disconnected(t), recorder.WithDir(dir), recorder.AllowUnused())
	_, err := rec.Complete(ctx, request("zzz"))
	require.ErrorIs(t, err, recorder.ErrNoMatch) // and the code under test ignores it
	tb.end()
	require.True(t, tb.Failed())
	require.Contains(t, tb.errors(), "recorder: 1 request(s) had no recorded interaction; the first:\nrecorder: "+filepath.Join(dir, "TestMiss.cassette"))
}

func TestNewRecordWritesOnlyIfTheTestPasses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "TestRec", "sub.cassette")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	recordAt(t, path, "old")
	old, err := os.ReadFile(path)
	require.NoError(t, err)

	for _, mode := range []recorder.Mode{recorder.Record, recorder.RecordMissing} {
		tb := newFakeTB(t, "TestRec/sub")
		rec := recorder.New(tb, echoModel(), recorder.WithDir(dir), recorder.WithMode(mode))
		require.Equal(t, path, rec.Path())
		answer(t, rec, "new")
		tb.Errorf("the test fails")
		tb.end()
		now, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, old, now, "%v: a failed test leaves the cassette byte-identical", mode)
		require.Contains(t, tb.logged(), "the test failed; "+path+" was left unchanged")
	}

	tb := newFakeTB(t, "TestRec/sub")
	rec := recorder.New(tb, echoModel(), recorder.WithDir(dir), recorder.WithMode(recorder.Record))
	answer(t, rec, "new")
	tb.end()
	require.False(t, tb.Failed(), tb.errors())
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Contains(t, string(recs[0].Body), "echo 1: new")
}

// TestNewRecordSkippedKeepsCassette: a test skipped in record mode (short
// mode, no API key) leaves its cassette as it was.
func TestNewRecordSkippedKeepsCassette(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "TestSkip.cassette")
	recordAt(t, path, "old")
	old, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, mode := range []recorder.Mode{recorder.Record, recorder.RecordMissing} {
		tb := newFakeTB(t, "TestSkip")
		recorder.New(tb, echoModel(), recorder.WithDir(dir), recorder.WithMode(mode))
		tb.skip()
		tb.end()
		now, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, old, now, "%v: a skipped test leaves the cassette byte-identical", mode)
		require.Contains(t, tb.logged(), "the test was skipped; "+path+" was left unchanged")
	}
}

func TestNewRecordMissingLogsUnused(t *testing.T) {
	dir := t.TempDir()
	recordAt(t, filepath.Join(dir, "TestRM.cassette"), "a", "b")
	tb := newFakeTB(t, "TestRM")
	rec := recorder.New(tb, echoModel(), recorder.WithDir(dir), recorder.WithMode(recorder.RecordMissing))
	answer(t, rec, "a")
	answer(t, rec, "c")
	tb.end()
	require.False(t, tb.Failed(), tb.errors())
	require.Contains(t, tb.logged(), "1 of 2 recorded interactions were not used")
	_, recs, err := cassettes.ReadAll(filepath.Join(dir, "TestRM.cassette"))
	require.NoError(t, err)
	require.Len(t, recs, 3)
}

func TestCorruptCassette(t *testing.T) {
	path := recordFile(t, echoModel(), "a", "b")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	edited := bytes.Replace(data, []byte("echo 1: b"), []byte("echo 9: b"), 1)
	require.NotEqual(t, data, edited)
	require.NoError(t, os.WriteFile(path, edited, 0o644))

	_, err = recorder.Open(path, nil)
	var ce *cassettes.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 3, ce.Line)
	require.ErrorContains(t, err, path+":3: ")

	tb := newFakeTB(t, "TestCorrupt")
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644))
	dir := filepath.Dir(path)
	require.NoError(t, os.Rename(path, filepath.Join(dir, "TestCorrupt.cassette")))
	require.Nil(t, recorder.New(tb, nil, recorder.WithDir(dir)))
	require.Contains(t, tb.errors(), filepath.Join(dir, "TestCorrupt.cassette")+":3: ")
}

func TestBadInteractionBodies(t *testing.T) {
	hdr := cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"recorder": "1"}}
	good := `{"request":{"model":"m","prompt":"p","messages":[],"options":{}},"response":{"output_json":"{}","usage":{"prompt_tokens":1,"completion_tokens":1,"cost_usd":0}},"latency":"1s"}`
	for _, tc := range []struct {
		name, body, want string
		hdr              cassettes.Header
	}{
		{"unknown class", `{"request":{"model":"m","prompt":"p","messages":[],"options":{}},"error":{"class":"flaky","message":"x"},"latency":"1s"}`, `unknown error class "flaky"`, hdr},
		{"both", `{"request":{"model":"m","prompt":"p","messages":[],"options":{}},"error":{"class":"permanent","message":"x"},"response":{"output_json":"{}","usage":{"prompt_tokens":1,"completion_tokens":1,"cost_usd":0}},"latency":"1s"}`, "both a response and an error", hdr},
		{"neither", `{"request":{"model":"m","prompt":"p","messages":[],"options":{}},"latency":"1s"}`, "neither a response nor an error", hdr},
		{"latency", `{"request":{"model":"m","prompt":"p","messages":[],"options":{}},"response":{"output_json":"{}","usage":{"prompt_tokens":1,"completion_tokens":1,"cost_usd":0}},"latency":"soon"}`, `bad interaction latency "soon"`, hdr},
		{"retry after", `{"request":{"model":"m","prompt":"p","messages":[],"options":{}},"error":{"class":"transient","message":"x","retry_after":"later"},"latency":"1s"}`, `bad retry_after "later"`, hdr},
		{"unknown field", `{"request":{"model":"m","prompt":"p","messages":[],"options":{},"temperature":1},"response":{"output_json":"{}","usage":{"prompt_tokens":1,"completion_tokens":1,"cost_usd":0}},"latency":"1s"}`, `unknown field "temperature"`, hdr},
		{"version", good, `interaction format "2" is not supported; this build reads "1"`, cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"recorder": "2"}}},
		{"no meta", good, `interaction format "" is not supported`, cassettes.Header{Kind: cassettes.KindInteractions}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.cassette")
			recs := []cassettes.Record{{Type: recorder.RecordType, Body: []byte(good)}, {Type: recorder.RecordType, Body: []byte(tc.body)}}
			require.NoError(t, cassettes.WriteFile(ctx, path, tc.hdr, recs))
			_, err := recorder.Open(path, nil)
			require.ErrorContains(t, err, tc.want)
			var ce *cassettes.Error
			require.ErrorAs(t, err, &ce)
			if strings.HasPrefix(tc.want, "interaction format") {
				require.Equal(t, 1, ce.Line)
			} else {
				require.Equal(t, 3, ce.Line)
				require.ErrorContains(t, err, path+":3: ")
			}
		})
	}
}

func TestEventsCassetteIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.cassette")
	s := ledger.NewMemStore()
	_, err := s.Append(ctx, "r1", "t1", &ledger.RunStarted{})
	require.NoError(t, err)
	evs, err := s.Events(ctx, "r1", 0)
	require.NoError(t, err)
	require.NoError(t, cassettes.WriteEvents(ctx, path, evs))
	_, err = recorder.Open(path, nil)
	require.ErrorContains(t, err, path+":1:")
	require.ErrorContains(t, err, "cassette holds events, not interactions")
}

func TestRecordedErrorsReplayWithTheirClass(t *testing.T) {
	cause := errors.New("connection reset by peer")
	liveErrs := map[string]error{
		"transient": &llm.Error{Class: llm.ClassTransient, StatusCode: 429, Message: "rate limited", RetryAfter: 2 * time.Second, Err: cause},
		"permanent": &llm.Error{Class: llm.ClassPermanent, StatusCode: 400, Message: "bad request"},
		"refusal":   &llm.Error{Class: llm.ClassRefusal, Message: "I can't help with that"},
		"truncated": &llm.Error{Class: llm.ClassTruncated, Err: errors.New("finish_reason length")},
		"timeout":   fmt.Errorf("calling model: %w", context.DeadlineExceeded),
		"plain":     errors.New("something odd"),
	}
	live := &fakeModel{CompleteFn: func(_ context.Context, req llm.Request) (llm.Response, error) {
		return llm.Response{}, liveErrs[req.Prompt]
	}}
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	names := []string{"transient", "permanent", "refusal", "truncated", "timeout", "plain"}
	for _, name := range names {
		_, err := rec.Complete(ctx, request(name))
		require.Equal(t, liveErrs[name], err, "record mode returns the live error itself")
	}
	require.NoError(t, rec.Close())

	rec, err = recorder.Open(path, nil)
	require.NoError(t, err)
	want := map[string]struct {
		sentinel error
		class    llm.ErrorClass
		text     string
	}{
		"transient": {llm.ErrTransient, llm.ClassTransient, "model error (transient, HTTP 429): rate limited: connection reset by peer"},
		"permanent": {llm.ErrPermanent, llm.ClassPermanent, "model error (permanent, HTTP 400): bad request"},
		"refusal":   {llm.ErrRefusal, llm.ClassRefusal, "model error (refusal): I can't help with that"},
		"truncated": {llm.ErrTruncated, llm.ClassTruncated, "model error (truncated): finish_reason length"},
		"timeout":   {llm.ErrTimeout, llm.ClassTimeout, "model error (timeout): calling model: context deadline exceeded"},
		"plain":     {llm.ErrPermanent, llm.ClassPermanent, "model error (permanent): something odd"},
	}
	for _, name := range names {
		_, err := rec.Complete(ctx, request(name))
		w := want[name]
		require.ErrorIs(t, err, w.sentinel, name)
		require.Equal(t, w.class, llm.ClassOf(err), name)
		require.EqualError(t, err, w.text, name)
		if me := (*llm.Error)(nil); errors.As(liveErrs[name], &me) {
			require.Equal(t, me.Error(), err.Error(), "%s: the replayed error reads as the live one", name)
		}
	}
	_, err = rec.Complete(ctx, request("transient"))
	require.ErrorIs(t, err, recorder.ErrNoMatch)
	var me *llm.Error
	require.NoError(t, rec.Close())

	// The transient error keeps its status and Retry-After.
	rec, err = recorder.Open(path, nil, recorder.AllowUnused())
	require.NoError(t, err)
	_, err = rec.Complete(ctx, request("transient"))
	require.ErrorAs(t, err, &me)
	require.Equal(t, 429, me.StatusCode)
	require.Equal(t, 2*time.Second, me.RetryAfter)
}

func TestCancelledCallIsNotRecorded(t *testing.T) {
	cctx, cancel := context.WithCancel(ctx)
	live := &fakeModel{CompleteFn: func(ctx context.Context, req llm.Request) (llm.Response, error) {
		cancel()
		return llm.Response{}, ctx.Err()
	}}
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	_, err = rec.Complete(cctx, request("a"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = rec.Complete(cctx, request("b"))
	require.ErrorIs(t, err, context.Canceled, "a cancelled context is refused before the call")
	require.EqualValues(t, 1, live.calls.Load())
	require.NoError(t, rec.Close())
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Empty(t, recs)
}

func TestLatencyIsRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cassette")
	clock := artanatest.SteppingClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1500*time.Millisecond)
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record), recorder.WithClock(clock))
	require.NoError(t, err)
	answer(t, rec, "a")
	require.NoError(t, rec.Close())
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Contains(t, string(recs[0].Body), `"latency":"1.5s"`)

	// With the real clock, latency covers the live call.
	slow := &fakeModel{CompleteFn: func(ctx context.Context, req llm.Request) (llm.Response, error) {
		time.Sleep(20 * time.Millisecond)
		return llm.Response{OutputJSON: "{}"}, nil
	}}
	path = filepath.Join(t.TempDir(), "c.cassette")
	rec, err = recorder.Open(path, slow, recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	answer(t, rec, "a")
	require.NoError(t, rec.Close())
	_, recs, err = cassettes.ReadAll(path)
	require.NoError(t, err)
	var body struct{ Latency string }
	require.NoError(t, json.Unmarshal(recs[0].Body, &body))
	d, err := time.ParseDuration(body.Latency)
	require.NoError(t, err)
	require.GreaterOrEqual(t, d, 20*time.Millisecond)
}

func TestConcurrentUse(t *testing.T) {
	const n = 32
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := fmt.Sprintf("q%d", i%8) // identical requests too
			if _, err := rec.Complete(ctx, request(p)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, rec.Close())

	rec, err = recorder.Open(path, disconnected(t))
	require.NoError(t, err)
	results := make([]string, n)
	for i := range n {
		wg.Go(func() {
			p := fmt.Sprintf("q%d", i%8)
			resp, err := rec.Complete(ctx, request(p))
			if err != nil {
				t.Error(err)
				return
			}
			if !strings.HasSuffix(resp.OutputJSON, ": "+p+`"}`) {
				t.Errorf("request %s answered with %s", p, resp.OutputJSON)
			}
			results[i] = resp.OutputJSON
		})
	}
	wg.Wait()
	require.NoError(t, rec.Close(), "every interaction was used exactly once")
	seen := map[string]bool{}
	for _, r := range results {
		require.False(t, seen[r], "%s replayed twice", r)
		seen[r] = true
	}
}

// TestCloseWaitsForCallsUnderWay: an interaction whose live call is still
// running when Close is called is recorded, and later calls are refused.
func TestCloseWaitsForCallsUnderWay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slow.cassette")
	started, release := make(chan struct{}), make(chan struct{})
	slow := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		close(started)
		<-release
		return llm.Response{OutputJSON: `{"answer":"late"}`}, nil
	}}
	rec, err := recorder.Open(path, slow, recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := rec.Complete(ctx, request("slow")); err != nil {
			t.Error(err)
		}
	})
	<-started
	closed := make(chan error, 1)
	go func() { closed <- rec.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a call was under way", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-closed)
	wg.Wait()
	_, err = rec.Complete(ctx, request("after"))
	require.ErrorIs(t, err, recorder.ErrClosed)
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Contains(t, string(recs[0].Body), "late")
}
