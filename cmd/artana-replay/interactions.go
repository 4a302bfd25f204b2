package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/artana-go/go-artana/cassettes"
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
// checking its chain, and calls fn with each.
func readInteractions(ctx context.Context, path string, fn func(interaction) error) error {
	return eachRecord(ctx, path, (*cassettes.Reader).Next, func(rec cassettes.Record) error {
		var body struct {
			Request struct {
				Model   string `json:"model"`
				StepKey string `json:"step_key"`
			} `json:"request"`
			Response *struct {
				Usage struct {
					PromptTokens     int64   `json:"prompt_tokens"`
					CompletionTokens int64   `json:"completion_tokens"`
					CostUSD          float64 `json:"cost_usd"`
				} `json:"usage"`
			} `json:"response"`
			Error *struct {
				Class   string `json:"class"`
				Message string `json:"message"`
			} `json:"error"`
			Stream *struct {
				Deltas []json.RawMessage `json:"deltas"`
			} `json:"stream"`
		}
		in := interaction{Line: rec.Line, Type: rec.Type}
		if rec.Type == "tool" {
			var t struct {
				Tool         string `json:"tool"`
				Arguments    string `json:"arguments_json"`
				Outcome      string `json:"outcome"`
				ErrorMessage string `json:"error_message"`
			}
			if json.Unmarshal(rec.Body, &t) == nil {
				in.Tool, in.Arguments, in.Outcome = t.Tool, t.Arguments, t.Outcome
				if t.ErrorMessage != "" {
					in.Error = t.Outcome + ": " + t.ErrorMessage
				}
			}
			return fn(in)
		}
		if json.Unmarshal(rec.Body, &body) == nil {
			in.Model, in.StepKey = body.Request.Model, body.Request.StepKey
			if body.Response != nil {
				in.PromptTokens = body.Response.Usage.PromptTokens
				in.CompletionTokens = body.Response.Usage.CompletionTokens
				in.CostUSD = jsonFloat(body.Response.Usage.CostUSD)
			}
			if body.Error != nil {
				in.Error = fmt.Sprintf("%s: %s", body.Error.Class, body.Error.Message)
			}
			if body.Stream != nil {
				in.Streamed, in.Deltas, in.Stream = true, len(body.Stream.Deltas), body.Stream.Deltas
			}
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
