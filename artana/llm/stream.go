package llm

import (
	"context"
	"encoding/json"
	"slices"
)

// A Delta is one piece of a streamed model answer, as it arrives: a
// fragment of the output text, of the model's reasoning, of one or more
// tool calls, or, at the end, the usage. A streaming Model delivers the
// pieces in order; JoinDeltas puts them back together.
type Delta struct {
	// Text is the next fragment of the output as the model writes it.
	Text string `json:"text,omitempty"`
	// Reasoning is the next fragment of the model's reasoning ("thinking"),
	// for endpoints that stream it (Ollama, vLLM, DeepSeek). It is
	// delivered but never logged: the event log holds the answer only.
	Reasoning string `json:"reasoning,omitempty"`
	// ToolCalls are fragments of tool calls. Fragments of one call share
	// its Index; the first fragment of a call carries its ID and ToolName,
	// and the ArgumentsJSON of its fragments, joined, is the call's
	// arguments.
	ToolCalls []ToolCallDelta `json:"tool_calls,omitempty"`
	// Usage is set on the last delta, when the provider reports usage.
	Usage *Usage `json:"usage,omitempty"`
}

// A ToolCallDelta is a fragment of a tool call in a Delta.
type ToolCallDelta struct {
	Index         int    `json:"index"`                    // which call of the answer, from 0
	ID            string `json:"id,omitempty"`             // the provider's call id, on the first fragment
	ToolName      string `json:"tool_name,omitempty"`      // on the first fragment
	ArgumentsJSON string `json:"arguments_json,omitempty"` // the next fragment of the arguments
}

// IsZero reports whether d carries nothing.
func (d Delta) IsZero() bool {
	return d.Text == "" && d.Reasoning == "" && len(d.ToolCalls) == 0 && d.Usage == nil
}

// A StreamingModel is a Model that can deliver its answer as it is
// generated. Stream does what Complete does and, in addition, calls yield
// with each piece of the answer as it arrives, in order; the response it
// returns is the whole answer, the same a Complete call with the same
// answer returns.
//
// If yield returns an error, Stream stops and returns that error (it may
// be wrapped). A stream that fails after some deltas were delivered
// returns a *Error whose Partial holds them; a provider retries a
// failed call only while no delta has been delivered, so that yield never
// sees a piece twice.
type StreamingModel interface {
	Model
	Stream(ctx context.Context, req Request, yield func(Delta) error) (Response, error)
}

// Stream calls m.Stream if m is a StreamingModel. Otherwise it calls
// m.Complete and delivers the whole answer as one delta (Response.Delta):
// a model that cannot stream still serves a streamed step.
func Stream(ctx context.Context, m Model, req Request, yield func(Delta) error) (Response, error) {
	if sm, ok := m.(StreamingModel); ok {
		return sm.Stream(ctx, req, yield)
	}
	resp, err := m.Complete(ctx, req)
	if err != nil {
		return resp, err
	}
	if err := yield(resp.Delta()); err != nil {
		return Response{}, err
	}
	return resp, nil
}

// Delta returns the whole answer as one delta: the output text, every
// tool call whole (Index i for the i-th call) and the usage. The output
// text is the string itself when OutputJSON is a JSON string (a text
// answer), and OutputJSON otherwise (structured output, which is JSON as
// the model writes it). It is what a step's delta callback receives when
// the model cannot stream and when the step is answered from the log.
func (resp Response) Delta() Delta {
	d := Delta{Text: outputText(resp.OutputJSON)}
	for i, c := range resp.ToolCalls {
		d.ToolCalls = append(d.ToolCalls, ToolCallDelta{Index: i, ID: c.ID, ToolName: c.ToolName, ArgumentsJSON: c.ArgumentsJSON})
	}
	u := resp.Usage
	d.Usage = &u
	return d
}

// outputText is the text of an output as the model wrote it.
func outputText(outputJSON string) string {
	if len(outputJSON) > 0 && outputJSON[0] == '"' {
		var s string
		if json.Unmarshal([]byte(outputJSON), &s) == nil {
			return s
		}
	}
	return outputJSON
}

// JoinDeltas joins the pieces of a stream into one delta: the text and
// reasoning concatenated, one ToolCallDelta per call index (in index
// order) with the call's id, name and whole arguments, and the last usage
// reported. For a complete text stream it equals the Response.Delta of the
// streamed answer, but for the usage's cost, which a provider may compute
// only on the whole answer. It is how a caller reads the partial output
// of a stream that broke off (Error.Partial).
func JoinDeltas(deltas []Delta) Delta {
	var text, reasoning []byte
	var calls []ToolCallDelta
	var out Delta
	for _, d := range deltas {
		text = append(text, d.Text...)
		reasoning = append(reasoning, d.Reasoning...)
		for _, c := range d.ToolCalls {
			i := slices.IndexFunc(calls, func(x ToolCallDelta) bool { return x.Index == c.Index })
			if i < 0 {
				calls = append(calls, ToolCallDelta{Index: c.Index})
				i = len(calls) - 1
			}
			j := &calls[i]
			if c.ID != "" {
				j.ID = c.ID
			}
			j.ToolName += c.ToolName
			j.ArgumentsJSON += c.ArgumentsJSON
		}
		if d.Usage != nil {
			u := *d.Usage
			out.Usage = &u
		}
	}
	slices.SortStableFunc(calls, func(a, b ToolCallDelta) int { return a.Index - b.Index })
	out.Text, out.Reasoning, out.ToolCalls = string(text), string(reasoning), calls
	return out
}

// Clone returns a deep copy of d, which shares no memory with d.
func (d Delta) Clone() Delta {
	d.ToolCalls = slices.Clone(d.ToolCalls)
	if d.Usage != nil {
		u := *d.Usage
		d.Usage = &u
	}
	return d
}
