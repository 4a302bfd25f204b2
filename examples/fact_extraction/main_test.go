package main

import (
	"fmt"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/exampletest"
	"github.com/artana-go/go-artana/examples/internal/standin"
)

const committed = "testdata/fact_extraction.cassette"

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

func TestRecordWithoutKey(t *testing.T) { exampletest.RecordWithoutKey(t, run) }

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

// TestRecordThenReplay records through the example's own -record path
// against the stand-in, then replays the new cassette offline.
func TestRecordThenReplay(t *testing.T) {
	exampletest.RecordThenReplay(t, run, factsAnswer, wantLines, "University of Leipzig")
}

// TestFailedRecordingKeepsCassette: a recording whose run fails (here,
// the model extracts nothing) leaves the cassette as it was.
func TestFailedRecordingKeepsCassette(t *testing.T) {
	exampletest.FailedRecordingKeepsCassette(t, run, committed, func(standin.Request) (standin.Answer, error) {
		return standin.Answer{Content: `{"triplets":[]}`}, nil
	}, "extracted no triplets")
}

// TestRecordAgainstStandIn rewrites the committed cassette through the
// example's -record path against the local stand-in server. It runs only
// when asked:
//
//	go test ./examples/fact_extraction -run TestRecordAgainstStandIn -args -standin
func TestRecordAgainstStandIn(t *testing.T) {
	exampletest.RecordAgainstStandIn(t, run, committed, factsAnswer)
}
