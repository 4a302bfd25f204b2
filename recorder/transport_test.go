package recorder_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/recorder"
)

// wire reads a real wire body from openai/testdata/wire.
func wire(t testing.TB, name string) []byte {
	t.Helper()
	dir := filepath.Join("..", "openai", "testdata", "wire")
	if strings.HasPrefix(name, "anthropic-") {
		dir = filepath.Join("testdata", "wire")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeKey is sent in every credential header; it must reach no cassette.
const fakeKey = "sk-proj-FAKEfakeFAKEfake0123456789abcdefghij"

// wireServer answers each request with the next of the given response
// bodies (.sse ones as event streams), with headers a client needs and
// some it must not get back.
func wireServer(t testing.TB, bodies ...string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		name := bodies[next%len(bodies)]
		next++
		mu.Unlock()
		status := http.StatusOK
		switch {
		case strings.HasPrefix(name, "openai-error-400"):
			status = http.StatusBadRequest
		case strings.HasPrefix(name, "anthropic-error-529"):
			status = 529
		}
		ct := "application/json"
		if strings.HasSuffix(name, ".sse") {
			ct = "text/event-stream; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("X-Request-Id", "req_"+strings.TrimSuffix(name, filepath.Ext(name)))
		w.Header().Set("Set-Cookie", "__cf_bm="+fakeKey)
		w.Header().Set("Openai-Organization", "org-secret")
		w.WriteHeader(status)
		w.Write(wire(t, name))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// post sends body to url with the fake key in every credential header,
// and returns the status, headers and body the client got.
func post(t testing.TB, c *http.Client, url string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+fakeKey)
	req.Header.Set("api-key", fakeKey)
	req.Header.Set("x-api-key", fakeKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b, nil
}

type exchange struct {
	status      int
	contentType string
	requestID   string
	cookie      string
	body        string
}

func got(resp *http.Response, body []byte) exchange {
	return exchange{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Request-Id"), resp.Header.Get("Set-Cookie"), string(body)}
}

// A wireCall is a request body and the server's answer, both wire fixtures.
type wireCall struct{ req, resp string }

func wireAnswers(calls []wireCall) []string {
	var resps []string
	for _, c := range calls {
		resps = append(resps, c.resp)
	}
	return resps
}

// recordThrough posts each call's request to url through a transport
// recording into path, and returns what the client got.
func recordThrough(t *testing.T, path, url string, calls []wireCall) []exchange {
	t.Helper()
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	var live []exchange
	for _, c := range calls {
		resp, body, err := post(t, tr.Client(), url, wire(t, c.req))
		if err != nil {
			t.Fatalf("%s: %v", c.req, err)
		}
		live = append(live, got(resp, body))
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return live
}

// replayThrough posts the calls again through a transport replaying path
// and checks that each gets what it got live.
func replayThrough(t *testing.T, path, url string, calls []wireCall, live []exchange) {
	t.Helper()
	tr, err := recorder.OpenTransport(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		resp, body, err := post(t, tr.Client(), url, wire(t, c.req))
		if err != nil {
			t.Fatalf("replay %s: %v", c.req, err)
		}
		if g := got(resp, body); g != live[i] {
			t.Errorf("replay %s:\n got %+v\nwant %+v", c.req, g, live[i])
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTransportRecordsAndReplaysChatCalls(t *testing.T) {
	calls := []wireCall{
		{"openai-chat-basic.request.json", "openai-chat-basic.json"},
		{"openai-chat-json-schema.request.json", "openai-chat-json-schema.json"},
		{"openai-chat-tool-loop-turn1.request.json", "openai-chat-tool-loop-turn1.json"},
		{"openai-chat-tool-loop-turn2.request.json", "openai-chat-tool-loop-turn2.json"},
		{"openai-chat-stream.request.json", "openai-chat-stream.sse"},
		{"openai-chat-stream-tool-calls.request.json", "openai-chat-stream-tool-calls.sse"},
		{"openai-error-400.request.json", "openai-error-400.json"},
	}
	srv := wireServer(t, wireAnswers(calls)...)
	path := filepath.Join(t.TempDir(), "chat.cassette")
	live := recordThrough(t, path, srv.URL+"/v1/chat/completions", calls)
	srv.Close()

	for i, c := range calls {
		if live[i].body != string(wire(t, c.resp)) {
			t.Errorf("%s: live body differs from the server's", c.resp)
		}
		if live[i].cookie != "" {
			t.Errorf("%s: the client got Set-Cookie %q; only kept headers pass", c.resp, live[i].cookie)
		}
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{fakeKey, "FAKEfakeFAKE", "org-secret"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the cassette holds %q", secret)
		}
	}

	checkRecordedChatCalls(t, path)

	// Replay, the server stopped.
	replayThrough(t, path, srv.URL+"/v1/chat/completions", calls, live)
}

// recordedCall is a recorded interaction in outline: what
// TestTransportRecordsAndReplaysChatCalls checks of each.
type recordedCall struct {
	API, Model   string
	Messages     []recordedMessage
	Tools        []string // the offered tools' names
	OutputName   string
	Schema       bool // an output schema was recorded
	Streamed     bool
	Deltas       int
	Output       bool     // the answer has an output
	ToolCalls    []string // the answer's tool calls' names
	PromptTokens bool     // the answer has a prompt token count
	ErrStatus    int
	ErrClass     string
}

type recordedMessage struct {
	Role       string
	ToolCalls  []string // names
	ToolCallID string
}

func outline(in recorder.Interaction) recordedCall {
	c := recordedCall{
		Model:        in.Request.Model,
		OutputName:   in.Request.OutputName,
		Schema:       len(in.Request.OutputSchema) > 0,
		Streamed:     in.Streamed,
		Deltas:       len(in.Deltas),
		Output:       in.Response.OutputJSON != "",
		ToolCalls:    toolNames(in.Response.ToolCalls),
		PromptTokens: in.Response.Usage.PromptTokens > 0,
	}
	if in.HTTP != nil {
		c.API = in.HTTP.API
	}
	for _, m := range in.Request.Messages {
		c.Messages = append(c.Messages, recordedMessage{Role: m.Role, ToolCalls: toolNames(m.ToolCalls), ToolCallID: m.ToolCallID})
	}
	for _, d := range in.Request.Tools {
		c.Tools = append(c.Tools, d.Name)
	}
	if in.Err != nil {
		c.ErrStatus, c.ErrClass = in.Err.StatusCode, string(in.Err.Class)
	}
	return c
}

func toolNames(calls []ledger.ToolCall) []string {
	var names []string
	for _, c := range calls {
		names = append(names, c.ToolName)
	}
	return names
}

// checkRecordedChatCalls checks the typed interactions the calls of
// TestTransportRecordsAndReplaysChatCalls left in the cassette at path.
func checkRecordedChatCalls(t *testing.T, path string) {
	t.Helper()
	const tool = "secret_retrieval_tool"
	system, user := recordedMessage{Role: "system"}, recordedMessage{Role: "user"}
	want := []recordedCall{
		{API: recorder.APIChat, Model: "gpt-3.5-turbo", Messages: []recordedMessage{user}, Output: true, PromptTokens: true},
		{API: recorder.APIChat, Model: "gpt-4o-2024-08-06", Messages: []recordedMessage{system, user}, OutputName: "math_schema", Schema: true, Output: true, PromptTokens: true},
		{API: recorder.APIChat, Model: "gpt-4o", Messages: []recordedMessage{system, user}, Tools: []string{tool}, ToolCalls: []string{tool, tool}, PromptTokens: true},
		{API: recorder.APIChat, Model: "gpt-4o", Messages: []recordedMessage{system, user,
			{Role: "assistant", ToolCalls: []string{tool, tool}},
			{Role: "tool", ToolCallID: "call_v6LacIrChvs6ITVpIZqy5tFc"},
			{Role: "tool", ToolCallID: "call_onyWzk4mLTGKzW9cthmf4Llq"},
		}, Tools: []string{tool}, Output: true, PromptTokens: true},
		{API: recorder.APIChat, Model: "gpt-3.5-turbo", Messages: []recordedMessage{user}, Streamed: true, Deltas: 14, Output: true, PromptTokens: true},
		{API: recorder.APIChat, Model: "gpt-4o", Messages: []recordedMessage{system, user}, Tools: []string{tool}, Streamed: true, Deltas: 13, ToolCalls: []string{tool, tool}, PromptTokens: true},
		{API: recorder.APIChat, Model: "gpt-5-mini", Messages: []recordedMessage{user}, ErrStatus: 400, ErrClass: "permanent"},
	}
	var got []recordedCall
	for _, in := range readInteractions(t, path) {
		got = append(got, outline(in))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded calls (-want +got):\n%s", diff)
	}
}

// readInteractions returns the interactions of the cassette at path.
func readInteractions(t *testing.T, path string) []recorder.Interaction {
	t.Helper()
	_, recs, err := cassettes.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var ins []recorder.Interaction
	for i, rec := range recs {
		e, err := recorder.DecodeRecord(rec)
		if err != nil || e.Interaction == nil {
			t.Fatalf("record %d: %+v, %v", i, e, err)
		}
		ins = append(ins, *e.Interaction)
	}
	return ins
}

// checkRecordedAnthropicCalls checks the typed interactions the calls of
// TestTransportAnthropicMessages left in the cassette at path.
func checkRecordedAnthropicCalls(t *testing.T, path string) {
	t.Helper()
	const tool = "secret_retrieval_tool"
	system, user := recordedMessage{Role: "system"}, recordedMessage{Role: "user"}
	turn2 := func(id1, id2 string) []recordedMessage {
		return []recordedMessage{system, user,
			{Role: "assistant", ToolCalls: []string{tool, tool}},
			{Role: "tool", ToolCallID: id1},
			{Role: "tool", ToolCallID: id2},
		}
	}
	weather := func(id string) []recordedMessage {
		return []recordedMessage{user, {Role: "assistant", ToolCalls: []string{"weather"}}, {Role: "tool", ToolCallID: id}}
	}
	const sonnet, haiku = "claude-sonnet-4-0", "claude-3-5-haiku-20241022"
	want := []recordedCall{
		{API: recorder.APIMessages, Model: sonnet, Messages: []recordedMessage{system, user}, Tools: []string{tool}, Output: true, ToolCalls: []string{tool, tool}, PromptTokens: true},
		{API: recorder.APIMessages, Model: sonnet, Messages: turn2("toolu_01BUvqBj8Yb34pNAbCJJY1oc", "toolu_01VPuQJ1LonDBYXrr8pqPkqQ"), Tools: []string{tool}, Output: true, PromptTokens: true},
		{API: recorder.APIMessages, Model: sonnet, Messages: []recordedMessage{system, user}, Tools: []string{tool}, Streamed: true, Deltas: 14, Output: true, ToolCalls: []string{tool, tool}, PromptTokens: true},
		{API: recorder.APIMessages, Model: sonnet, Messages: turn2("toolu_015cUijgET79LXjgeYQerN2h", "toolu_01XZTimPexA7h3EVKesnKt5T"), Tools: []string{tool}, Streamed: true, Deltas: 16, Output: true, PromptTokens: true},
		{API: recorder.APIMessages, Model: haiku, Messages: weather("toolu_01TYBwp3UmcWbnmtjzUzsuVc"), Tools: []string{"weather"}, ErrStatus: 529, ErrClass: "transient"},
		{API: recorder.APIMessages, Model: haiku, Messages: weather("toolu_01Fz8thWa34ANXwjNcmWuovG"), Tools: []string{"weather"}, Streamed: true, ErrClass: "transient"},
	}
	ins := readInteractions(t, path)
	var got []recordedCall
	for _, in := range ins {
		got = append(got, outline(in))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded calls (-want +got):\n%s", diff)
	}
	if len(ins) != len(want) {
		return
	}
	// What the outline leaves out.
	if got := ins[0].Response.Usage.PromptTokens; got != 416 {
		t.Errorf("turn 1: %d prompt tokens, want 416", got)
	}
	for _, c := range [][]ledger.ToolCall{ins[0].Response.ToolCalls, ins[2].Response.ToolCalls} {
		for _, call := range c {
			if !strings.HasPrefix(call.ArgumentsJSON, `{"password":"`) {
				t.Errorf("tool call recorded with arguments %s", call.ArgumentsJSON)
			}
		}
	}
	if got := ins[1].Request.Messages[2].ToolCalls[1].ID; got != "toolu_01VPuQJ1LonDBYXrr8pqPkqQ" {
		t.Errorf("turn 2's second tool call has id %q", got)
	}
	if got := ins[1].Request.Messages[4].Content; got != "Life before Death" {
		t.Errorf("turn 2's second tool result is %q", got)
	}
	if ins[0].Request.Prompt == "" {
		t.Error("turn 1 recorded without its prompt")
	}
	if !strings.Contains(string(ins[1].HTTP.Extra), "cache_control") {
		t.Errorf("extra %s lacks the cache_control members", ins[1].HTTP.Extra)
	}
	if !strings.Contains(ins[5].Err.Message, "Overloaded") {
		t.Errorf("overloaded stream recorded with the error %q", ins[5].Err.Message)
	}
}

func TestTransportMissNamesTheField(t *testing.T) {
	srv := wireServer(t, "openai-chat-tool-loop-turn1.json")
	path := filepath.Join(t.TempDir(), "miss.cassette")
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	body := wire(t, "openai-chat-tool-loop-turn1.request.json")
	if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", body); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	tr, err = recorder.OpenTransport(path, nil, recorder.AllowUnused())
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(body, []byte("retrieve the secrets"), []byte("retrieve the passwords"), 1)
	_, _, err = post(t, tr.Client(), srv.URL+"/v1/chat/completions", changed)
	var miss *recorder.MissError
	if !errors.As(err, &miss) || !errors.Is(err, recorder.ErrNoMatch) {
		t.Fatalf("err = %v, want a *MissError", err)
	}
	for _, want := range []string{
		"Messages[1].Content:",
		`-"Please retrieve the secrets associated`,
		`+"Please retrieve the passwords associated`,
		"re-record with:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the miss report lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(miss.Diff, "Tools") || strings.Contains(miss.Diff, "HTTP") {
		t.Errorf("the diff names unchanged fields:\n%s", miss.Diff)
	}
	// A client may hide the transport's error: Close reports the miss too.
	if err := tr.Close(); !errors.As(err, &miss) || !strings.Contains(err.Error(), "Messages[1].Content:") {
		t.Errorf("Close = %v, want the miss", err)
	}
}

func TestTransportPlainHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_plain")
		io.WriteString(w, `{"path":"`+r.URL.Path+`","query":"`+r.URL.RawQuery+`"}`)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "plain.cassette")
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	get := func(c *http.Client, url string) (string, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("x-api-key", fakeKey)
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Request-Id") + " " + string(b), nil
	}
	liveModels, err := get(tr.Client(), srv.URL+"/v1/models?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	resp, liveMsg, err := post(t, tr.Client(), srv.URL+"/v1/messages", []byte(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte("FAKEfake")) {
		t.Errorf("the cassette holds the key")
	}

	tr, err = recorder.OpenTransport(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := get(tr.Client(), srv.URL+"/v1/models?limit=2"); err != nil || g != liveModels {
		t.Errorf("replayed GET = %q, %v; want %q", g, err, liveModels)
	}
	// Same JSON, other key order: the canonical body matches.
	if _, g, err := post(t, tr.Client(), srv.URL+"/v1/messages", []byte(`{"messages":[{"content":"hi","role":"user"}],"max_tokens":10,"model":"claude"}`)); err != nil || string(g) != string(liveMsg) {
		t.Errorf("replayed POST = %q, %v; want %q", g, err, liveMsg)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	tr, err = recorder.OpenTransport(path, nil, recorder.AllowUnused())
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(tr.Client(), srv.URL+"/v1/models?limit=3")
	if !errors.Is(err, recorder.ErrNoMatch) || !strings.Contains(err.Error(), `HTTP.Query:`) || !strings.Contains(err.Error(), `+"limit=3"`) {
		t.Errorf("err = %v, want a miss on HTTP.Query", err)
	}
	tr.Close()
}

func TestNewTransportReplaysInTests(t *testing.T) {
	dir := t.TempDir()
	srv := wireServer(t, "openai-chat-basic.json")
	body := wire(t, "openai-chat-basic.request.json")
	rec, err := recorder.OpenTransport(filepath.Join(dir, "TestNewTransportReplaysInTests.cassette"), nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	_, live, err := post(t, rec.Client(), srv.URL+"/v1/chat/completions", body)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	tr := recorder.NewTransport(t, nil, recorder.WithDir(dir))
	if tr.Mode() != recorder.Replay {
		t.Fatalf("mode %v", tr.Mode())
	}
	_, b, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", body)
	if err != nil || !bytes.Equal(b, live) {
		t.Fatalf("replay = %q, %v", b, err)
	}
}

func TestTransportLogRun(t *testing.T) {
	calls := []struct{ req, resp string }{
		{"openai-chat-tool-loop-turn1.request.json", "openai-chat-tool-loop-turn1.json"},
		{"openai-chat-tool-loop-turn2.request.json", "openai-chat-tool-loop-turn2.json"},
		{"openai-chat-json-schema.request.json", "openai-chat-json-schema.json"},
		{"openai-chat-stream.request.json", "openai-chat-stream.sse"},
	}
	var resps []string
	for _, c := range calls {
		resps = append(resps, c.resp)
	}
	resps = append(resps, "openai-chat-basic.json") // the embeddings call's answer
	srv := wireServer(t, resps...)
	path := filepath.Join(t.TempDir(), "log.cassette")
	run := artana.Run{ID: "agent-1", Tenant: artana.Tenant{ID: "acme"}}
	logged := func(mode recorder.Mode) []ledger.Event {
		store := ledger.NewMemStore()
		tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(mode), recorder.LogRun(store, run))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", wire(t, c.req)); err != nil {
				t.Fatal(err)
			}
		}
		// Not understood: not logged.
		if _, _, err := post(t, tr.Client(), srv.URL+"/v1/embeddings", []byte(`{"input":"x","model":"e"}`)); err != nil {
			t.Fatal(err)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		evs, err := store.Events(t.Context(), run.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.VerifyChain(evs); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	live := logged(recorder.Record)
	srv.Close()
	replayed := logged(recorder.Replay)

	var types []string
	for _, e := range live {
		types = append(types, string(e.Type))
	}
	want := "run_started model_requested model_completed model_requested model_completed model_requested model_completed model_requested model_completed"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("logged %s\nwant   %s", got, want)
	}
	if len(replayed) != len(live) {
		t.Fatalf("replay logged %d events, live %d", len(replayed), len(live))
	}
	for i := range live {
		if !reflect.DeepEqual(live[i].Payload, replayed[i].Payload) {
			t.Errorf("event %d: live %+v, replayed %+v", i+1, live[i].Payload, replayed[i].Payload)
		}
	}
	c1 := live[2].Payload.(*ledger.ModelCompleted)
	if c1.OutputJSON != "" || len(c1.ToolCalls) != 2 || c1.ToolCalls[0].ID != "call_v6LacIrChvs6ITVpIZqy5tFc" || c1.PromptTokens != 75 {
		t.Errorf("turn 1 logged as %+v", c1)
	}
	r2 := live[3].Payload.(*ledger.ModelRequested)
	if len(r2.Messages) != 5 || r2.Messages[3].ToolCallID == "" || !slices.Equal(r2.AllowedTools, []string{"secret_retrieval_tool"}) {
		t.Errorf("turn 2 requested as %+v", r2)
	}
	if c := live[6].Payload.(*ledger.ModelCompleted); c.OutputJSON != `{"final_answer":"4"}` {
		t.Errorf("structured output logged as %q", c.OutputJSON)
	}
	if c := live[8].Payload.(*ledger.ModelCompleted); !strings.HasPrefix(c.OutputJSON, `"1`) || c.CompletionTokens == 0 {
		t.Errorf("stream logged as %+v", c)
	}
}

func TestTransportAnthropicMessages(t *testing.T) {
	calls := []wireCall{
		{"anthropic-messages-tool-loop-turn1.request.json", "anthropic-messages-tool-loop-turn1.json"},
		{"anthropic-messages-tool-loop-turn2.request.json", "anthropic-messages-tool-loop-turn2.json"},
		{"anthropic-messages-stream-tool-loop-turn1.request.json", "anthropic-messages-stream-tool-loop-turn1.sse"},
		{"anthropic-messages-stream-tool-loop-turn2.request.json", "anthropic-messages-stream-tool-loop-turn2.sse"},
		{"anthropic-error-529.request.json", "anthropic-error-529.json"},
		{"anthropic-messages-stream-error-overloaded.request.json", "anthropic-messages-stream-error-overloaded.sse"},
	}
	srv := wireServer(t, wireAnswers(calls)...)
	path := filepath.Join(t.TempDir(), "anthropic.cassette")
	live := recordThrough(t, path, srv.URL+"/v1/messages", calls)
	srv.Close()
	if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte("FAKEfake")) {
		t.Errorf("the cassette holds the key")
	}
	checkRecordedAnthropicCalls(t, path)

	replayThrough(t, path, srv.URL+"/v1/messages", calls, live)

	// One word of the prompt changed: a typed miss.
	tr, err := recorder.OpenTransport(path, nil, recorder.AllowUnused())
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(wire(t, calls[0].req), []byte("each of these"), []byte("all of these"), 1)
	_, _, err = post(t, tr.Client(), srv.URL+"/v1/messages", changed)
	if err == nil || !strings.Contains(err.Error(), "Messages[1].Content:") || !strings.Contains(err.Error(), `+"Please retrieve the secrets associated with all of these`) {
		t.Errorf("err = %v, want a miss on Messages[1].Content", err)
	}
	tr.Close()
}

// TestTransportEchoedKeys: an endpoint that echoes the credentials it got
// (in the body, an event stream and a kept header), keys of no known shape
// among them, still writes none of them.
func TestTransportEchoedKeys(t *testing.T) {
	const hexKey = "0123456789abcdef0123456789abcdef" // an Azure-style api-key
	const plainKey = "local-proxy-key-9f8e7d"         // no known shape
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		echo := r.Header.Get("Authorization") + " " + r.Header.Get("api-key") + " " + r.Header.Get("x-api-key")
		w.Header().Set("X-Request-Id", echo)
		if r.URL.Query().Get("stream") != "" {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"choices":[{"delta":{"content":"`+echo+`"}}]}`+"\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"`+echo+`"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "echo.cassette")
	send := func(c *http.Client, stream bool) string {
		body := `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
		url := srv.URL + "/v1/chat/completions"
		if stream {
			body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
			url += "?stream=1"
		}
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fakeKey)
		req.Header.Set("api-key", hexKey)
		req.Header.Set("x-api-key", plainKey)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("X-Request-Id") + "|" + string(b)
	}
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	live := []string{send(tr.Client(), false), send(tr.Client(), true)}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{fakeKey, hexKey, plainKey} {
		if bytes.Contains(raw, []byte(k)) {
			t.Errorf("the cassette holds %q", k)
		}
		for _, l := range live {
			if strings.Contains(l, k) {
				t.Errorf("the client got %q live: the answer it gets is the one recorded", k)
			}
		}
	}
	tr, err = recorder.OpenTransport(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := []string{send(tr.Client(), false), send(tr.Client(), true)}; !slices.Equal(got, live) {
		t.Errorf("replay = %q, want %q", got, live)
	}
}

func TestTransportRecordMissingAndUnused(t *testing.T) {
	srv := wireServer(t, "openai-chat-basic.json", "openai-chat-json-schema.json")
	path := filepath.Join(t.TempDir(), "missing.cassette")
	basic, schema := wire(t, "openai-chat-basic.request.json"), wire(t, "openai-chat-json-schema.request.json")
	open := func(opts ...recorder.Option) *recorder.Transport {
		tr, err := recorder.OpenTransport(path, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	tr := open(recorder.WithMode(recorder.Record))
	if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", basic); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	// RecordMissing: the first call replays, the second is recorded and appended.
	tr = open(recorder.WithMode(recorder.RecordMissing))
	for _, b := range [][]byte{basic, schema} {
		if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, recs, err := cassettes.ReadAll(path); err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v; want 2", len(recs), err)
	}
	// Strict replay: a call the code no longer makes fails Close, named.
	srv.Close()
	tr = open()
	if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", basic); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); !errors.Is(err, recorder.ErrUnused) || !strings.Contains(err.Error(), `line 3: model "gpt-4o-2024-08-06"`) {
		t.Errorf("Close = %v, want the unused interaction named", err)
	}
}

// TestTransportConcurrent replays calls made at once, each answered by its
// own interaction (run with -race).
func TestTransportConcurrent(t *testing.T) {
	names := []string{"openai-chat-basic", "openai-chat-json-schema", "openai-chat-tool-loop-turn1", "openai-chat-tool-loop-turn2"}
	var resps []string
	for _, n := range names {
		resps = append(resps, n+".json")
	}
	srv := wireServer(t, resps...)
	path := filepath.Join(t.TempDir(), "concurrent.cassette")
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", wire(t, n+".request.json")); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	tr, err = recorder.OpenTransport(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			_, body, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", wire(t, n+".request.json"))
			if err != nil || !bytes.Equal(body, wire(t, n+".json")) {
				t.Errorf("%s: %v", n, err)
			}
		})
	}
	wg.Wait()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRecordRefusesBadHTTPMembers(t *testing.T) {
	const req = `"request":{"messages":[],"model":"","options":{},"prompt":""`
	const resp = `"response":{"output_json":"","usage":{"completion_tokens":0,"cost_usd":0,"prompt_tokens":0}}`
	for _, c := range []struct{ body, want string }{
		{`{"latency":"1s",` + req + `,"http":{"method":"GET","path":"/"}},` + resp + `}`, "no HTTP response"},
		{`{"http":{"status":200},"latency":"1s",` + req + `},` + resp + `}`, `request has no "http" member`},
		{`{"http":{"status":200},"latency":"1s",` + req + `,"http":{"path":"/"}},` + resp + `}`, "names neither an API nor a method"},
		{`{"http":{"status":42},"latency":"1s",` + req + `,"http":{"method":"GET"}},` + resp + `}`, "not an HTTP status code"},
		{`{"http":{"status":200,"body_base64":"%%%"},"latency":"1s",` + req + `,"http":{"method":"GET"}},` + resp + `}`, "body_base64"},
		{`{"http":{"status":200,"body":"x","body_base64":"eA=="},"latency":"1s",` + req + `,"http":{"method":"GET"}},` + resp + `}`, "both body and body_base64"},
		{`{"http":{"status":200},"latency":"1s",` + req + `,"http":{"method":"GET","body":{},"body_text":"x"}},` + resp + `}`, "both body and body_text"},
	} {
		_, err := recorder.DecodeRecord(cassettes.Record{Type: "interaction", Line: 7, Body: []byte(c.body)})
		if err == nil || !strings.Contains(err.Error(), "line 7: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DecodeRecord(%s) = %v, want an error naming line 7 and %q", c.body, err, c.want)
		}
	}
}

func TestTransportLogRunFailure(t *testing.T) {
	srv := wireServer(t, "openai-chat-basic.json")
	store := ledger.NewMemStore()
	store.Close()
	tr, err := recorder.OpenTransport(filepath.Join(t.TempDir(), "c.cassette"), nil,
		recorder.WithMode(recorder.Record), recorder.LogRun(store, artana.Run{ID: "r", Tenant: artana.Tenant{ID: "t"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, _, err = post(t, tr.Client(), srv.URL+"/v1/chat/completions", wire(t, "openai-chat-basic.request.json"))
	if err == nil || !strings.Contains(err.Error(), `log the call to run "r"`) || !strings.Contains(err.Error(), "the client got no answer") {
		t.Errorf("err = %v, want the log failure named", err)
	}
}

// TestNewTransportMissFailsTheTest: a client that hides the transport's
// error (langchaingo does) still fails the test, with the field diff and
// the command that re-records it.
func TestNewTransportMissFailsTheTest(t *testing.T) {
	dir := t.TempDir()
	srv := wireServer(t, "openai-chat-basic.json")
	body := wire(t, "openai-chat-basic.request.json")
	rec, err := recorder.OpenTransport(filepath.Join(dir, "TestAgent.cassette"), nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := post(t, rec.Client(), srv.URL+"/v1/chat/completions", body); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	ft := newFakeTB(t, "TestAgent")
	tr := recorder.NewTransport(ft, nil, recorder.WithDir(dir))
	changed := bytes.Replace(body, []byte("how are you"), []byte("how are they"), 1)
	if _, _, err := post(t, tr.Client(), srv.URL+"/v1/chat/completions", changed); err == nil {
		t.Fatal("a changed prompt replayed")
	}
	ft.end()
	for _, want := range []string{
		"1 request(s) had no recorded interaction",
		"Messages[0].Content:",
		`+"Hello, how are they?"`,
		"-artana.record='^TestAgent$'",
	} {
		if !strings.Contains(ft.errors(), want) {
			t.Errorf("the test's failure lacks %q:\n%s", want, ft.errors())
		}
	}
}
