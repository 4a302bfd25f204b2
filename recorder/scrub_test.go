package recorder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/secrets"
	"github.com/artana-go/go-artana/recorder"
	"github.com/stretchr/testify/require"
)

// Fake credentials, in the shapes the default scrubber knows.
var fakeSecrets = []string{
	"sk-proj-Abc123Def456Ghi789Jkl012",
	"sk-ant-api03-ZZZZZZZZZZZZZZZZZZZZ",
	"tok.en-VALUE_12345678",
	"AIzaSyA1234567890abcdefghijklmnopqrstuv",
	"AKIAABCDEFGHIJKLMNOP",
	"ghp_abcdefghijklmnopqrstuvwxyz0123456789",
	"xoxb-1234567890-abcdefghij",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpM",
	"hunter2-secret-value",
	"s3cr3t-client-value",
	// A bare key of 8 to 15 characters after "sk-": openai scrubbed it
	// from its errors while recorder wrote it to cassettes.
	"sk-abc123def456",
}

func TestRedactSecrets(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"key sk-proj-Abc123Def456Ghi789Jkl012 here", "key [REDACTED] here"},
		{"short key sk-abc123def456 here", "short key [REDACTED] here"},
		{"Authorization: Bearer tok.en-VALUE_12345678", "Authorization: Bearer [REDACTED]"},
		{"authorization=Basic dXNlcjpwYXNz", "authorization=Basic [REDACTED]"},
		{"Authorization: sk-not-long", "Authorization: [REDACTED]"},
		{`{"api_key": "hunter2-secret-value"}`, `{"api_key": "[REDACTED]"}`},
		{"https://x.test/v1?api-key=hunter2-secret-value&q=1", "https://x.test/v1?api-key=[REDACTED]&q=1"},
		{"client_secret=s3cr3t-client-value", "client_secret=[REDACTED]"},
		{"google AIzaSyA1234567890abcdefghijklmnopqrstuv", "google [REDACTED]"},
		{"aws AKIAABCDEFGHIJKLMNOP", "aws [REDACTED]"},
		{"gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [REDACTED]"},
		{"slack xoxb-1234567890-abcdefghij", "slack [REDACTED]"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpM", "jwt [REDACTED]"},
		// Ordinary text is left alone.
		{"The bearer of bad news asked for a task-list.", "The bearer of bad news asked for a task-list."},
		{"What is the password policy? sk-short", "What is the password policy? sk-short"},
		{"Classify: refund please", "Classify: refund please"},
	} {
		require.Equal(t, tc.want, secrets.Redact(tc.in), tc.in)
	}
}

func TestSecretsNeverReachTheCassette(t *testing.T) {
	// The secrets as they appear in text: bare where their shape gives
	// them away, labelled otherwise.
	all := strings.Join(fakeSecrets[:2], " ") + " Authorization: Bearer " + fakeSecrets[2] + " " +
		strings.Join(fakeSecrets[3:8], " ") + " password=" + fakeSecrets[8] + ` "client_secret": "` + fakeSecrets[9] + `" ` + fakeSecrets[10]
	live := &fakeModel{CompleteFn: func(_ context.Context, req llm.Request) (llm.Response, error) {
		if req.StepKey == "fail" {
			return llm.Response{}, &llm.Error{Class: llm.ClassPermanent, StatusCode: 401,
				Message: "Incorrect API key provided: sk-proj-Abc123Def456Ghi789Jkl012", Err: errors.New("Authorization: Bearer tok.en-VALUE_12345678")}
		}
		return llm.Response{
			OutputJSON: `{"answer":"use api_key=hunter2-secret-value"}`,
			ToolCalls:  []ledger.ToolCall{{ToolName: "call", ArgumentsJSON: `{"token":"ghp_abcdefghijklmnopqrstuvwxyz0123456789"}`}},
		}, nil
	}}
	req := request("my keys: " + all)
	req.Prompt = "prompt with Bearer tok.en-VALUE_12345678"
	req.Tools = []llm.ToolDefinition{{Name: "call", Description: "Pass client_secret=s3cr3t-client-value", Schema: []byte(`{}`)}}
	failing := request("again " + all)
	failing.StepKey = "fail"

	for _, mode := range []recorder.Mode{recorder.Record, recorder.RecordMissing} {
		path := filepath.Join(t.TempDir(), "c.cassette")
		rec, err := recorder.Open(path, live, recorder.WithMode(mode))
		require.NoError(t, err)
		resp, err := rec.Complete(ctx, req)
		require.NoError(t, err)
		require.Contains(t, resp.OutputJSON, "hunter2", "the caller gets the live response as it is")
		_, err = rec.Complete(ctx, failing)
		require.Error(t, err)
		require.NoError(t, rec.Close())

		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, s := range fakeSecrets {
			require.NotContains(t, string(data), s, "%v mode wrote a secret", mode)
		}
		require.Contains(t, string(data), secrets.Marker)

		// The request, with its secrets, still matches: it is scrubbed
		// before matching.
		rec, err = recorder.Open(path, nil)
		require.NoError(t, err)
		resp, err = rec.Complete(ctx, req)
		require.NoError(t, err)
		require.Equal(t, `{"answer":"use api_key=[REDACTED]"}`, resp.OutputJSON)
		_, err = rec.Complete(ctx, failing)
		require.ErrorIs(t, err, llm.ErrPermanent)
		require.NotContains(t, err.Error(), "sk-proj")
		require.NoError(t, rec.Close())
	}
}

func TestScrubbersRunInOrder(t *testing.T) {
	var order []string
	first := func(in *recorder.Interaction) error {
		order = append(order, "first")
		in.Request.Prompt = strings.ReplaceAll(in.Request.Prompt, "Alice", "PERSON")
		in.Request.Messages[1].Content = strings.ReplaceAll(in.Request.Messages[1].Content, "Alice", "PERSON")
		return nil
	}
	second := func(in *recorder.Interaction) error {
		order = append(order, "second")
		require.NotContains(t, in.Request.Messages[1].Content, "Alice", "the first scrubber ran before")
		in.Response.OutputJSON = strings.ReplaceAll(in.Response.OutputJSON, "Alice", "PERSON")
		return nil
	}
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record), recorder.WithScrubbers(first, second))
	require.NoError(t, err)
	original := request("Hello Alice")
	resp, err := rec.Complete(ctx, original)
	require.NoError(t, err)
	require.Equal(t, "Hello Alice", original.Messages[1].Content, "the caller's request is not modified")
	require.Contains(t, resp.OutputJSON, "Alice")
	require.NoError(t, rec.Close())
	require.Equal(t, []string{"first", "second", "first", "second"}, order, "once on the request, once on the interaction")

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(data), "Alice")
	require.Contains(t, string(data), "echo 1: Hello PERSON")
}

func TestScrubberErrorRecordsNothing(t *testing.T) {
	boom := errors.New("cannot scrub")
	calls := 0
	failSecond := func(in *recorder.Interaction) error {
		calls++
		if calls == 2 { // the interaction, after the live call
			return boom
		}
		return nil
	}
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, echoModel(), recorder.WithMode(recorder.Record), recorder.WithScrubbers(failSecond))
	require.NoError(t, err)
	_, err = rec.Complete(ctx, request("a"))
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "scrub interaction: cannot scrub (nothing recorded)")
	_, err = rec.Complete(ctx, request("b")) // calls == 3: the request scrub passes
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	_, recs, err := cassettes.ReadAll(path)
	require.NoError(t, err)
	require.Len(t, recs, 1)

	failAll := func(*recorder.Interaction) error { return boom }
	rec, err = recorder.Open(path, nil, recorder.WithScrubbers(failAll), recorder.AllowUnused())
	require.NoError(t, err)
	_, err = rec.Complete(ctx, request("b"))
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "scrub request")
}
