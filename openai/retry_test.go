package openai_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/openai"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	oai "github.com/openai/openai-go/v3"
)

var hello = llm.Request{Model: "gpt-3.5-turbo", Prompt: "Hello, how are you?"}

func TestRetry429ThenSuccess(t *testing.T) {
	srv := newServer(t,
		reply{status: 429, file: "openai-error-429.json", header: map[string]string{"Retry-After": "3"}},
		reply{status: 200, file: "openai-chat-basic.json"},
	)
	sl := &sleeps{}
	m := newModel(t, srv, sl)
	resp, err := m.Complete(context.Background(), hello)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if resp.Usage.CompletionTokens != 31 {
		t.Errorf("usage = %+v, want the 200's", resp.Usage)
	}
	if n := srv.requests(); n != 2 {
		t.Errorf("%d requests, want 2 (one retry)", n)
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Second}, sl.got()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// The retry sends the same body.
	if diff := cmp.Diff(srv.sent(0), srv.sent(1)); diff != "" {
		t.Errorf("retry body differs (-first +retry):\n%s", diff)
	}
}

func TestRetryAfterMillisecondsAndDate(t *testing.T) {
	for _, tc := range []struct {
		header map[string]string
		want   time.Duration
	}{
		{map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, 1500 * time.Millisecond},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{map[string]string{"Retry-After": "garbage"}, 250 * time.Millisecond}, // backoff instead
	} {
		srv := newServer(t, reply{status: 503, body: `{"error":{"message":"overloaded"}}`, header: tc.header},
			reply{status: 200, file: "openai-chat-basic.json"})
		sl := &sleeps{}
		if _, err := newModel(t, srv, sl).Complete(context.Background(), hello); err != nil {
			t.Fatalf("%v: Complete: %v", tc.header, err)
		}
		if diff := cmp.Diff([]time.Duration{tc.want}, sl.got()); diff != "" {
			t.Errorf("%v: waits (-want +got):\n%s", tc.header, diff)
		}
	}
}

func TestRetry5xxThenSuccess(t *testing.T) {
	srv := newServer(t,
		reply{status: 502, body: "<html>Bad Gateway</html>"}, // a proxy's page, not JSON
		reply{status: 500, body: `{"error":{"message":"The server had an error","type":"server_error"}}`},
		reply{status: 200, file: "openai-chat-basic.json"},
	)
	sl := &sleeps{}
	m := newModel(t, srv, sl, openai.WithRetries(3, 100*time.Millisecond, 150*time.Millisecond))
	if _, err := m.Complete(context.Background(), hello); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if n := srv.requests(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	// Exponential backoff, capped at the maximum.
	if diff := cmp.Diff([]time.Duration{100 * time.Millisecond, 150 * time.Millisecond}, sl.got()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestBackoffGrowsAndJitters(t *testing.T) {
	srv := newServer(t, reply{status: 503, body: `{"error":{"message":"busy"}}`})
	sl := &sleeps{}
	var asked []time.Duration
	m, err := openai.New(openai.WithBaseURL(srv.URL+"/v1"), openai.WithAPIKey(testKey),
		openai.WithSleep(sl.sleep),
		openai.WithRetries(4, 10*time.Millisecond, 50*time.Millisecond),
		openai.WithJitter(func(d time.Duration) time.Duration { asked = append(asked, d); return d / 2 }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Complete(context.Background(), hello)
	wantClass(t, err, llm.ClassTransient)
	ms := time.Millisecond
	if diff := cmp.Diff([]time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms}, asked); diff != "" {
		t.Errorf("backoffs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{5 * ms, 10 * ms, 20 * ms, 25 * ms}, sl.got()); diff != "" {
		t.Errorf("jittered waits (-want +got):\n%s", diff)
	}
}

func TestDefaultJitterWithinBounds(t *testing.T) {
	srv := newServer(t, reply{status: 503, body: `{"error":{"message":"busy"}}`})
	sl := &sleeps{}
	m, err := openai.New(openai.WithBaseURL(srv.URL+"/v1"), openai.WithAPIKey(testKey),
		openai.WithSleep(sl.sleep), openai.WithRetries(5, 100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = m.Complete(context.Background(), hello)
	backoff := 100 * time.Millisecond
	for i, d := range sl.got() {
		if d < backoff/2 || d > backoff {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, d, backoff/2, backoff)
		}
		backoff = min(2*backoff, time.Second)
	}
}

func TestStatusClasses(t *testing.T) {
	for _, tc := range []struct {
		status int
		class  llm.ErrorClass
	}{
		{400, llm.ClassPermanent}, {401, llm.ClassPermanent}, {403, llm.ClassPermanent},
		{404, llm.ClassPermanent}, {422, llm.ClassPermanent},
		{408, llm.ClassTransient}, {409, llm.ClassTransient}, {429, llm.ClassTransient},
		{500, llm.ClassTransient}, {502, llm.ClassTransient}, {503, llm.ClassTransient}, {504, llm.ClassTransient},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := newServer(t, reply{status: tc.status, body: `{"error":{"message":"status test","type":"x","code":"y"}}`})
			m := newModel(t, srv, &sleeps{}, openai.WithRetries(1, time.Millisecond, time.Millisecond))
			_, err := m.Complete(context.Background(), hello)
			me := wantClass(t, err, tc.class)
			if me.StatusCode != tc.status {
				t.Errorf("StatusCode = %d, want %d", me.StatusCode, tc.status)
			}
			want := 1
			if tc.class == llm.ClassTransient {
				want = 2
			}
			if n := srv.requests(); n != want {
				t.Errorf("%d requests, want %d", n, want)
			}
		})
	}
}

func TestHungServerHitsDeadline(t *testing.T) {
	srv := newServer(t, reply{hang: true})
	m := newModel(t, srv, &sleeps{})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.Complete(ctx, hello)
	me := wantClass(t, err, llm.ClassTimeout)
	if !errors.Is(err, llm.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, ErrModelTimeout / DeadlineExceeded) = false for %v", err)
	}
	if !strings.Contains(me.Message, "deadline") {
		t.Errorf("message %q should say the deadline passed", me.Message)
	}
	if n := srv.requests(); n != 1 {
		t.Errorf("%d requests, want 1: the caller's deadline ends the call", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v; the deadline was not honoured", d)
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	srv := newServer(t, reply{hang: true}, reply{status: 200, file: "openai-chat-basic.json"})
	sl := &sleeps{}
	m := newModel(t, srv, sl, openai.WithAttemptTimeout(50*time.Millisecond))
	if _, err := m.Complete(context.Background(), hello); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if n := srv.requests(); n != 2 {
		t.Errorf("%d requests, want 2: a timed-out attempt is retried", n)
	}

	srv = newServer(t, reply{hang: true})
	m = newModel(t, srv, &sleeps{}, openai.WithAttemptTimeout(20*time.Millisecond), openai.WithRetries(1, time.Millisecond, time.Millisecond))
	_, err := m.Complete(context.Background(), hello)
	me := wantClass(t, err, llm.ClassTimeout)
	if !strings.Contains(me.Message, "WithAttemptTimeout") || !strings.Contains(me.Message, "2 attempts") {
		t.Errorf("message %q should name the option and the attempts", me.Message)
	}
}

func TestRetryStopsBeforeDeadline(t *testing.T) {
	srv := newServer(t, reply{status: 429, file: "openai-error-429.json", header: map[string]string{"Retry-After": "60"}})
	sl := &sleeps{}
	m := newModel(t, srv, sl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := m.Complete(ctx, hello)
	me := wantClass(t, err, llm.ClassTransient)
	checkModelError(t, me, 429, time.Minute, "context deadline")
	if d := cmp.Diff(waited{Requests: 1}, waitedOf(srv, sl), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("a wait past the deadline is pointless (-want +got):\n%s", d)
	}
}

func TestCanceledDuringWait(t *testing.T) {
	srv := newServer(t, reply{status: 503, body: `{"error":{"message":"busy"}}`})
	ctx, cancel := context.WithCancel(context.Background())
	m := newModel(t, srv, &sleeps{}, openai.WithSleep(func(context.Context, time.Duration) error {
		cancel()
		return context.Canceled
	}))
	_, err := m.Complete(ctx, hello)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled in the chain", err)
	}
	wantClass(t, err, llm.ClassPermanent)
}

func TestConnectionReset(t *testing.T) {
	srv := newServer(t, reply{reset: true})
	m := newModel(t, srv, &sleeps{}, openai.WithRetries(1, time.Millisecond, time.Millisecond))
	_, err := m.Complete(context.Background(), hello)
	me := wantClass(t, err, llm.ClassTransient)
	if !strings.Contains(me.Message, srv.URL) {
		t.Errorf("message %q should name the endpoint", me.Message)
	}
	if n := srv.requests(); n < 2 {
		t.Errorf("%d requests, want the reset retried", n)
	}

	srv = newServer(t, reply{reset: true}, reply{status: 200, file: "openai-chat-basic.json"})
	if _, err := newModel(t, srv, &sleeps{}).Complete(context.Background(), hello); err != nil {
		t.Errorf("reset then 200: %v", err)
	}
}

func TestServerDown(t *testing.T) {
	srv := newServer(t, reply{status: 200, file: "openai-chat-basic.json"})
	m := newModel(t, srv, &sleeps{}, openai.WithRetries(0, time.Millisecond, time.Millisecond))
	srv.Close()
	_, err := m.Complete(context.Background(), hello)
	wantClass(t, err, llm.ClassTransient) // connection refused: the server may come back
}

func TestBadOutput(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `this is not json`,
		"no choices":     `{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[]}`,
		"not json doc":   `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"four"},"finish_reason":"stop"}]}`,
		"empty":          `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}`,
		"unnamed tool":   `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
		"custom tool":    `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"custom","custom":{"name":"x","input":"y"}}]},"finish_reason":"tool_calls"}]}`,
		"content filter": `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, reply{status: 200, body: body})
			m := newModel(t, srv, &sleeps{})
			req := hello
			req.OutputSchema = []byte(mathSchema)
			_, err := m.Complete(context.Background(), req)
			want := llm.ClassPermanent
			if name == "content filter" {
				want = llm.ClassRefusal
			}
			wantClass(t, err, want)
			if n := srv.requests(); n != 1 {
				t.Errorf("%d requests; bad output is not retried", n)
			}
		})
	}
}

// TestNoSecretsInErrorsOrLogs makes the endpoint echo the key back in
// every way it can, and checks that no error text, error chain or log line
// carries it or an Authorization header.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	echo := fmt.Sprintf(`{"error":{"message":"Incorrect API key provided: %s (Authorization: Bearer %s)","type":"invalid_request_error","code":"invalid_api_key"}}`, testKey, testKey)
	for name, replies := range map[string][]reply{
		"401 echoing the key": {{status: 401, body: echo}},
		"429 echoing the key": {{status: 429, body: echo}},
		"refusal quoting key": {{status: 200, body: `{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"no, ` + testKey + `"},"finish_reason":"stop"}]}`}},
		"connection reset":    {{reset: true}},
		"hung":                {{hang: true}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, replies...)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			m := newModel(t, srv, &sleeps{}, openai.WithLogger(logger),
				openai.WithAttemptTimeout(30*time.Millisecond),
				openai.WithRetries(1, time.Millisecond, time.Millisecond),
				// The key also sits in the URL's user info and query.
				openai.WithBaseURL(strings.Replace(srv.URL, "http://", "http://user:"+testKey+"@", 1)+"/v1?api-key="+testKey))
			_, err := m.Complete(context.Background(), hello)
			if err == nil {
				t.Fatal("Complete succeeded; want an error")
			}
			if got := srv.authAt(0); got != "Bearer "+testKey {
				t.Fatalf("the server got Authorization %q; the key was not sent, so the test proves nothing", got)
			}
			var texts []string
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
			}
			texts = append(texts, logs.String())
			for _, s := range texts {
				if strings.Contains(s, testKey) || strings.Contains(s, testKey[:20]) {
					t.Errorf("the key leaked into %q", s)
				}
			}
			if e, ok := errors.AsType[*oai.Error](err); ok {
				t.Errorf("the error chain holds the SDK's *openai.Error (with the request and its headers): %v", e)
			}
			if name == "429 echoing the key" && !strings.Contains(logs.String(), "retrying") {
				t.Errorf("no retry was logged: %s", logs.String())
			}
		})
	}
}

// TestRetryAfterBeyondTheLimit: a Retry-After longer than
// WithMaxRetryAfter is not slept through; the transient error comes back at
// once with RetryAfter set, and its message appears once.
func TestRetryAfterBeyondTheLimit(t *testing.T) {
	srv := newServer(t,
		reply{status: 429, file: "openai-error-429.json", header: map[string]string{"Retry-After": "86400"}},
		reply{status: 200, file: "openai-chat-basic.json"},
	)
	sl := &sleeps{}
	_, err := newModel(t, srv, sl, openai.WithMaxRetryAfter(time.Minute)).Complete(context.Background(), hello)
	me := wantClass(t, err, llm.ClassTransient)
	checkModelError(t, me, 429, 24*time.Hour)
	if d := cmp.Diff(waited{Requests: 1}, waitedOf(srv, sl), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("want 1 request and no wait (-want +got):\n%s", d)
	}
	if !strings.Contains(err.Error(), "WithMaxRetryAfter") {
		t.Errorf("error %q does not say how to allow the wait", err)
	}
	if apiErr := me.Err.Error(); strings.Count(err.Error(), apiErr) != 1 {
		t.Errorf("error %q repeats the endpoint's message %q", err, apiErr)
	}
}

// waited is what a call cost in requests sent and waits between them.
type waited struct {
	Requests int
	Waits    []time.Duration
}

func waitedOf(srv *fakeServer, sl *sleeps) waited { return waited{srv.requests(), sl.got()} }
