package main

import (
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
)

const committed = "testdata/cassettes/TestDurableChat.cassette"

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

// TestRecordWithoutKey: recording without OPENAI_API_KEY fails before any
// network call, naming the key, and leaves the cassette.
func TestRecordWithoutKey(t *testing.T) {
	exampletest.RecordWithoutKey(t, "TestDurableChat", committed)
}

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

// TestDurableChat runs the example on the model of recorder.New: the committed
// cassette, replayed; or, with the record switch, the live endpoint,
// recorded into that cassette (against the local stand-in server with
// -args -standin):
//
//	OPENAI_API_KEY=sk-... go test ./examples/durable_chat -run '^TestDurableChat$' -artana.record='^TestDurableChat$'
func TestDurableChat(t *testing.T) {
	model, answeredBy := exampletest.Model(t, decisionAnswer)
	exampletest.WantInOrder(t, exampletest.MustProve(t, prove, model, answeredBy), wantLines...)
}

// TestRecordThenReplay records the example against the stand-in, then
// replays the new cassette through the command, offline.
func TestRecordThenReplay(t *testing.T) {
	exampletest.RecordThenReplay(t, prove, run, decisionAnswer, wantLines, "Balance check passed")
}

// TestProveFails: an answer the example cannot use fails the run.
func TestProveFails(t *testing.T) {
	exampletest.ProveFails(t, prove, `{"approved":"yes"}`, "does not fit")
}
