package main

import (
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
)

const committed = "testdata/durable_chat.cassette"

// TestMain runs the example's main instead of the tests when the test
// binary is started by TestExitStatus.
func TestMain(m *testing.M) { exampletest.Main(m, main) }

var wantLines = []string{
	"Model answered by: ",
	"First chat answered from the log: false",
	"Second chat answered from the log: true",
	"Model calls: 1",
	"Tool calls: 1",
	`Decision: {"approved":true,"reason":"`,
	`Tool results: [{"account_id":"acc_1","amount":"10","status":"submitted"}]`,
	"Logged prompt: Transfer 10 from acc_1. My email is [REDACTED_EMAIL]",
	"Event types: [run_started model_requested model_completed tool_requested tool_completed]",
}

func TestReplayCommittedCassette(t *testing.T) {
	stdout, _ := exampletest.MustRun(t, run, "-cassette", committed)
	exampletest.WantInOrder(t, stdout, wantLines...)
	exampletest.WantInOrder(t, stdout, "Model answered by: the cassette "+committed+" (replay, no network)")
}

// TestExitStatus runs main itself, as go run does.
func TestExitStatus(t *testing.T) {
	exampletest.ExitStatus(t, "Second chat answered from the log: true")
}

func TestRecordWithoutKey(t *testing.T) { exampletest.RecordWithoutKey(t, run) }

// decisionAnswer answers the example's one model call: a decision and a
// call of submit_transfer, as the seed's DemoModelPort does. It refuses a
// request that carries the e-mail address: the scrubber must have removed
// it before the call.
func decisionAnswer(req standin.Request) (standin.Answer, error) {
	const scrubbed = "Transfer 10 from acc_1. My email is [REDACTED_EMAIL]"
	switch {
	case req.Model != "gpt-4o-mini":
		return standin.Answer{}, fmt.Errorf("model %q, want gpt-4o-mini", req.Model)
	case req.ResponseFormat.Type != "json_schema" || req.ResponseFormat.JSONSchema.Name != "TransferDecision":
		return standin.Answer{}, fmt.Errorf("response_format %+v, want the json_schema TransferDecision", req.ResponseFormat)
	case len(req.Messages) != 1 || req.Messages[0].Content != scrubbed:
		return standin.Answer{}, fmt.Errorf("messages %+v, want the scrubbed prompt alone", req.Messages)
	case len(req.Tools) != 1 || req.Tools[0].Function.Name != "submit_transfer":
		return standin.Answer{}, fmt.Errorf("tools %+v, want submit_transfer", req.Tools)
	}
	return standin.Answer{
		Content:   `{"approved":true,"reason":"Balance check passed; submitting the transfer of 10 from acc_1."}`,
		ToolCalls: []standin.ToolCall{{Name: "submit_transfer", Arguments: `{"account_id":"acc_1","amount":"10"}`}},
	}, nil
}

// TestRecordThenReplay records through the example's own -record path
// against the stand-in, then replays the new cassette offline.
func TestRecordThenReplay(t *testing.T) {
	exampletest.RecordThenReplay(t, run, decisionAnswer, wantLines, "Balance check passed")
}

// TestFailedRecordingKeepsCassette: a recording whose run fails (here,
// the endpoint answers with an output that does not fit TransferDecision) leaves
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
//	go test ./examples/durable_chat -run TestRecordAgainstStandIn -args -standin
func TestRecordAgainstStandIn(t *testing.T) {
	exampletest.RecordAgainstStandIn(t, run, committed, decisionAnswer)
}
