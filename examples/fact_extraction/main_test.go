package main

import (
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
)

const committed = "testdata/cassettes/TestFactExtraction.cassette"

// TestMain runs the example's main instead of the tests when the test
// binary is started by TestExitStatus.
func TestMain(m *testing.M) { exampletest.Main(m, main) }

var wantLines = []string{
	"Model answered by: ",
	"Run id: ",
	"Extracted triplets:",
	`  1. ("Berlin" -- "is the capital of" --> "Germany")`,
	`  5. ("Angela Merkel" -- "studied" --> "physics")`,
	`  9. ("Brussels" -- "is the de facto capital of" --> "European Union")`,
	"Usage: prompt_tokens=",
}

func TestReplayCommittedCassette(t *testing.T) {
	stdout, _ := exampletest.MustRun(t, run, "-cassette", committed)
	exampletest.WantInOrder(t, stdout, wantLines...)
	exampletest.WantInOrder(t, stdout, "Model answered by: the cassette "+committed+" (replay, no network)")
}

// TestExitStatus runs main itself, as go run does.
func TestExitStatus(t *testing.T) { exampletest.ExitStatus(t, "Extracted triplets:") }

// TestRecordWithoutKey: recording without OPENAI_API_KEY fails before any
// network call, naming the key, and leaves the cassette.
func TestRecordWithoutKey(t *testing.T) {
	exampletest.RecordWithoutKey(t, "TestFactExtraction", committed)
}

// factsAnswer answers the example's one model call with the triplets of
// the sample article.
func factsAnswer(req standin.Request) (standin.Answer, error) {
	switch {
	case req.Model != "gpt-4o-mini":
		return standin.Answer{}, fmt.Errorf("model %q, want gpt-4o-mini", req.Model)
	case req.ResponseFormat.Type != "json_schema" || req.ResponseFormat.JSONSchema.Name != "ExtractedFacts" || !req.ResponseFormat.JSONSchema.Strict:
		return standin.Answer{}, fmt.Errorf("response_format %+v, want the strict json_schema ExtractedFacts", req.ResponseFormat)
	case len(req.Messages) != 1 || req.Messages[0].Content != prompt:
		return standin.Answer{}, fmt.Errorf("messages %+v, want the prompt alone", req.Messages)
	}
	return standin.Answer{Content: `{"triplets":[` +
		`{"subject":"Berlin","predicate":"is the capital of","object":"Germany"},` +
		`{"subject":"Berlin","predicate":"was divided during","object":"the Cold War"},` +
		`{"subject":"the Berlin Wall","predicate":"fell in","object":"1989"},` +
		`{"subject":"Angela Merkel","predicate":"grew up in","object":"East Germany"},` +
		`{"subject":"Angela Merkel","predicate":"studied","object":"physics"},` +
		`{"subject":"Angela Merkel","predicate":"studied at","object":"University of Leipzig"},` +
		`{"subject":"Angela Merkel","predicate":"became Chancellor of","object":"Germany"},` +
		`{"subject":"European Union","predicate":"has its roots in","object":"European Coal and Steel Community"},` +
		`{"subject":"Brussels","predicate":"is the de facto capital of","object":"European Union"},` +
		`{"subject":"European Coal and Steel Community","predicate":"was founded in","object":"1951"}]}`}, nil
}

// TestFactExtraction runs the example on the model of recorder.New: the committed
// cassette, replayed; or, with the record switch, the live endpoint,
// recorded into that cassette (against the local stand-in server with
// -args -standin):
//
//	OPENAI_API_KEY=sk-... go test ./examples/fact_extraction -run '^TestFactExtraction$' -artana.record='^TestFactExtraction$'
func TestFactExtraction(t *testing.T) {
	model, answeredBy := exampletest.Model(t, factsAnswer)
	exampletest.WantInOrder(t, exampletest.MustProve(t, prove, model, answeredBy), wantLines...)
}

// TestRecordThenReplay records the example against the stand-in, then
// replays the new cassette through the command, offline.
func TestRecordThenReplay(t *testing.T) {
	exampletest.RecordThenReplay(t, prove, run, factsAnswer, wantLines, "University of Leipzig")
}

// TestProveFails: an answer the example cannot use fails the run.
func TestProveFails(t *testing.T) {
	exampletest.ProveFails(t, prove, `{"triplets":[]}`, "extracted no triplets")
}
