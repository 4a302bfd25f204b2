package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/recorder"
)

// An interaction is the part of a recorded model interaction (package
// recorder) that ls, show and stats print.
type interaction struct {
	Line             int       `json:"line"`
	Type             string    `json:"type"`
	Model            string    `json:"model,omitempty"`
	StepKey          string    `json:"step_key,omitempty"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CostUSD          jsonFloat `json:"cost_usd"`
	Error            string    `json:"error,omitempty"`
	// A tool execution recorded by recorder.Recorder.Tools.
	Tool      string `json:"tool,omitempty"`
	Arguments string `json:"arguments_json,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	// Streamed marks an interaction recorded from a streamed call;
	// Deltas counts its deltas and Stream holds them (show --full).
	Streamed bool              `json:"streamed,omitempty"`
	Deltas   int               `json:"deltas,omitempty"`
	Stream   []json.RawMessage `json:"stream,omitempty"`
}

// readInteractions streams the records of an interactions cassette,
// checking its chain and decoding each with package recorder (a record it
// would refuse to replay is an error naming the line), and calls fn with
// each.
func readInteractions(ctx context.Context, path string, fn func(interaction) error) error {
	return eachRecord(ctx, path, (*cassettes.Reader).Next, func(rec cassettes.Record) error {
		e, err := recorder.DecodeRecord(rec)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		in := interaction{Line: rec.Line, Type: rec.Type}
		if t := e.Tool; t != nil {
			in.Tool, in.Arguments, in.Outcome = t.Tool, t.ArgumentsJSON, string(t.Outcome)
			if t.ErrorMessage != "" {
				in.Error = string(t.Outcome) + ": " + t.ErrorMessage
			}
			return fn(in)
		}
		x := e.Interaction
		in.Model, in.StepKey = x.Request.Model, x.Request.StepKey
		in.PromptTokens, in.CompletionTokens = x.Response.Usage.PromptTokens, x.Response.Usage.CompletionTokens
		in.CostUSD = jsonFloat(x.Response.Usage.CostUSD)
		if x.Err != nil {
			in.Error = fmt.Sprintf("%s: %s", x.Err.Class, x.Err.Message)
		}
		if x.Streamed {
			// The deltas as recorded, for show --full.
			var body struct {
				Stream struct {
					Deltas []json.RawMessage `json:"deltas"`
				} `json:"stream"`
			}
			if err := json.Unmarshal(rec.Body, &body); err != nil {
				return fmt.Errorf("%s:%d: %w", path, rec.Line, err)
			}
			in.Streamed, in.Deltas, in.Stream = true, len(x.Deltas), body.Stream.Deltas
		}
		return fn(in)
	})
}

// interactionsNote says what an interactions cassette is.
func interactionsNote(f cassetteFile, n, tools int) string {
	what := plural(int64(n), "model interaction")
	if tools > 0 {
		what += " and " + plural(int64(tools), "tool execution")
	}
	return fmt.Sprintf("%s: interactions cassette: %s recorded by package recorder, which answers a test's model calls from it (a replay); list them with: artana-replay show %s",
		f.path, what, shellQuote(f.path))
}

// interactionsHeading is the first line show prints of an interactions
// cassette.
func interactionsHeading(f cassetteFile) string {
	return f.path + ": interactions cassette: model interactions recorded by package recorder, which answers a test's model calls from it (a replay)"
}

// countInteractions counts the model interactions and the tool
// executions of an interactions cassette.
func countInteractions(ctx context.Context, f cassetteFile) (models, tools int, err error) {
	err = readInteractions(ctx, f.path, func(in interaction) error {
		if in.Tool != "" {
			tools++
		} else {
			models++
		}
		return nil
	})
	return models, tools, err
}
