package main

import (
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
)

const committed = "testdata/cassettes/TestRealChat.cassette"

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

// TestRecordWithoutKey: recording without OPENAI_API_KEY fails before any
// network call, naming the key, and leaves the cassette.
func TestRecordWithoutKey(t *testing.T) { exampletest.RecordWithoutKey(t, "TestRealChat", committed) }

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

// TestRealChat runs the example on the model of recorder.New: the committed
// cassette, replayed; or, with the record switch, the live endpoint,
// recorded into that cassette (against the local stand-in server with
// -args -standin):
//
//	OPENAI_API_KEY=sk-... go test ./examples/real_chat -run '^TestRealChat$' -artana.record='^TestRealChat$'
func TestRealChat(t *testing.T) {
	model, answeredBy := exampletest.Model(t, decisionAnswer)
	exampletest.WantInOrder(t, exampletest.MustProve(t, prove, model, answeredBy), wantLines...)
}

// TestRecordThenReplay records the example against the stand-in, then
// replays the new cassette through the command, offline.
func TestRecordThenReplay(t *testing.T) {
	exampletest.RecordThenReplay(t, prove, run, decisionAnswer, wantLines, "meets the stated criteria")
}

// TestProveFails: an answer the example cannot use fails the run.
func TestProveFails(t *testing.T) {
	exampletest.ProveFails(t, prove, `{"approved":"yes"}`, "does not fit")
}
