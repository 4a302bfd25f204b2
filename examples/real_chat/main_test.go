package main

import (
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
)

const committed = "testdata/real_chat.cassette"

// TestMain runs the example's main instead of the tests when the test
// binary is started by TestExitStatus.
func TestMain(m *testing.M) { exampletest.Main(m, main) }

var wantLines = []string{
	"Model answered by: ",
	"Run id: ",
	`Live model response: {"approved":true,"reason":"`,
	"Usage: prompt_tokens=",
	"First answered from the log: false",
	"Second answered from the log: true",
	"Event types after first: [run_started model_requested model_completed]",
	"Event types after second: [run_started model_requested model_completed]",
}

func TestReplayCommittedCassette(t *testing.T) {
	stdout, _ := exampletest.MustRun(t, run, "-cassette", committed)
	exampletest.WantInOrder(t, stdout, wantLines...)
	exampletest.WantInOrder(t, stdout, "Model answered by: the cassette "+committed+" (replay, no network)")
}

// TestExitStatus runs main itself, as go run does.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Second answered from the log: true") }

func TestRecordWithoutKey(t *testing.T) { exampletest.RecordWithoutKey(t, run) }

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
	exampletest.RecordThenReplay(t, run, decisionAnswer, wantLines, "meets the stated criteria")
}

// TestFailedRecordingKeepsCassette: a recording whose run fails (here,
// the endpoint answers with an output that does not fit Decision) leaves
// the cassette as it was.
func TestFailedRecordingKeepsCassette(t *testing.T) {
	exampletest.FailedRecordingKeepsCassette(t, run, committed, func(standin.Request) (standin.Answer, error) {
		return standin.Answer{Content: `{"approved":"yes"}`}, nil
	}, "does not fit")
}

// TestRecordAgainstStandIn rewrites the committed cassette through the
// example's -record path against the local stand-in server. It runs only
// when asked:
//
//	go test ./examples/real_chat -run TestRecordAgainstStandIn -args -standin
func TestRecordAgainstStandIn(t *testing.T) {
	exampletest.RecordAgainstStandIn(t, run, committed, decisionAnswer)
}
