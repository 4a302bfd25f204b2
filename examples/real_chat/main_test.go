package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/artana/examples/internal/standin"
)

var standinFlag = flag.Bool("standin", false, "rewrite testdata/real_chat.cassette by recording against the local stand-in server")

const committed = "testdata/real_chat.cassette"

// TestMain runs the example's main instead of the tests when the test
// binary is started by TestExitStatus.
func TestMain(m *testing.M) {
	if os.Getenv("ARTANA_REAL_CHAT_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// wantInOrder fails unless every line of want appears in out, in order.
func wantInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (after the lines before it); output:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

var wantLines = []string{
	"Model answered by: ",
	"Run id: ",
	`Live model response: {"approved":true,"reason":"`,
	"Usage: prompt_tokens=",
	"First replayed: false",
	"Second replayed: true",
	"Event types after first: [run_started model_requested model_completed]",
	"Event types after second: [run_started model_requested model_completed]",
}

func TestReplayCommittedCassette(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-cassette", committed}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s", err, stdout.String())
	}
	wantInOrder(t, stdout.String(), wantLines...)
	wantInOrder(t, stdout.String(), "Model answered by: the cassette "+committed+" (replay, no network)")
}

// TestExitStatus runs main itself, as go run does.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name             string
		args             []string
		wantCode         int
		wantOut, wantErr string
	}{
		{"replay, default cassette", nil, 0, "Second replayed: true", ""},
		{"no cassette", []string{"-cassette", filepath.Join(t.TempDir(), "missing.cassette")}, 1, "", "cassette does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "ARTANA_REAL_CHAT_RUN_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantOut) || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant stdout %q, stderr %q",
					code, tc.wantCode, stdout.String(), stderr.String(), tc.wantOut, tc.wantErr)
			}
		})
	}
}

func TestRecordWithoutKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	path := filepath.Join(t.TempDir(), "real_chat.cassette")
	err := run(context.Background(), []string{"-record", "-cassette", path}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "needs OPENAI_API_KEY") {
		t.Fatalf("run -record without a key: %v, want an error naming OPENAI_API_KEY", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cassette was written: %v", err)
	}
}

// decisionAnswer answers the example's one model call.
func decisionAnswer(req standin.Request) (standin.Answer, error) {
	switch {
	case req.Model != "gpt-4o-mini":
		return standin.Answer{}, fmt.Errorf("model %q, want gpt-4o-mini", req.Model)
	case req.ResponseFormat.Type != "json_schema" || req.ResponseFormat.JSONSchema.Name != "Decision" || !req.ResponseFormat.JSONSchema.Strict:
		return standin.Answer{}, fmt.Errorf("response_format %+v, want the strict json_schema Decision", req.ResponseFormat)
	case len(req.Messages) != 1 || req.Messages[0].Content != prompt:
		return standin.Answer{}, fmt.Errorf("messages %+v, want the prompt alone", req.Messages)
	}
	return standin.Answer{Content: `{"approved":true,"reason":"The request is clear and meets the stated criteria."}`}, nil
}

// TestRecordThenReplay records through the example's own -record path
// against the stand-in, then replays the new cassette offline.
func TestRecordThenReplay(t *testing.T) {
	s := standin.Start(t, decisionAnswer)
	path := filepath.Join(t.TempDir(), "real_chat.cassette")
	var live bytes.Buffer
	if err := run(context.Background(), []string{"-record", "-cassette", path}, &live, &bytes.Buffer{}); err != nil {
		t.Fatalf("run -record: %v\n%s", err, live.String())
	}
	wantInOrder(t, live.String(), wantLines...)
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/unreachable/")
	var replay bytes.Buffer
	if err := run(context.Background(), []string{"-cassette", path}, &replay, &bytes.Buffer{}); err != nil {
		t.Fatalf("replay of the new cassette: %v\n%s", err, replay.String())
	}
	wantInOrder(t, replay.String(), wantLines...)
	wantInOrder(t, replay.String(), "meets the stated criteria")
	if s.Calls() != 1 {
		t.Errorf("the endpoint was called %d times, want 1", s.Calls())
	}
}

// TestFailedRecordingKeepsCassette: a recording whose run fails (here,
// the endpoint answers with an output that does not fit Decision) leaves
// the cassette as it was.
func TestFailedRecordingKeepsCassette(t *testing.T) {
	standin.Start(t, func(standin.Request) (standin.Answer, error) {
		return standin.Answer{Content: `{"approved":"yes"}`}, nil
	})
	before, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "real_chat.cassette")
	if err := os.WriteFile(path, before, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"-record", "-cassette", path}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "does not fit") || !strings.Contains(err.Error(), "is unchanged") {
		t.Fatalf("run -record with an answer that does not fit: %v", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the cassette changed (%v)", err)
	}
}

// TestRecordAgainstStandIn rewrites the committed cassette through the
// example's -record path against the local stand-in server. It runs only
// when asked:
//
//	go test ./examples/real_chat -run TestRecordAgainstStandIn -args -standin
func TestRecordAgainstStandIn(t *testing.T) {
	if !*standinFlag {
		t.Skip("rewrites testdata/real_chat.cassette; run with -args -standin")
	}
	standin.Start(t, decisionAnswer)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-record", "-cassette", committed}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("recorded %s:\n%s", committed, out.String())
}
