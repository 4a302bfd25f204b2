package recorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// The fast path of decodeInteraction: the members of an interaction body
// that a model call records (request without "http", response, error,
// latency) read with the payload scanner, without encoding/json. It gives
// up (false) on anything else: a "stream" or "http" member, null, a
// duplicate or unknown key, a number out of range, text the scanner does
// not take (invalid UTF-8, lone surrogates). decodeWire then decodes the
// body with encoding/json, which gives the same result or the error.
// FuzzFastInteraction checks both agree.

// decodeWire decodes an interaction body into its recorded form. Its
// strings may be views of body, which must not change afterwards.
func decodeWire(body []byte) (wireInteraction, error) {
	if w, ok := fastWire(body); ok {
		return w, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var w wireInteraction
	if err := dec.Decode(&w); err != nil {
		return wireInteraction{}, fmt.Errorf("bad interaction body: %w", err)
	}
	return w, nil
}

// A fastDecoder reads a body that fastWire accepts.
type fastDecoder struct{ pyjson.Scanner }

func fastWire(body []byte) (wireInteraction, bool) {
	// Reuse: strings are views of body (or, with escapes, of the arena,
	// which is never reset); no list of the scanner's own is used.
	d := fastDecoder{pyjson.Scanner{B: body, Reuse: true}}
	var w wireInteraction
	var seen uint8
	ok := d.object(&seen, func(key string) bool {
		switch key {
		case "request":
			return d.request(&w.Request)
		case "response":
			w.Response = new(wireResponse)
			return d.response(w.Response)
		case "error":
			w.Error = new(wireError)
			return d.wireError(w.Error)
		case "latency":
			return d.StrTo(&w.Latency)
		}
		return false // stream, http, unknown
	}, "request", "response", "error", "latency")
	if !ok || !d.End() {
		return wireInteraction{}, false
	}
	return w, true
}

// object reads a JSON object whose keys are among keys, each at most once
// (seen records them), calling member with the scanner at each value.
func (d *fastDecoder) object(seen *uint8, member func(key string) bool, keys ...string) bool {
	d.WS()
	if !d.Eat('{') {
		return false
	}
	d.WS()
	if d.Eat('}') {
		return true
	}
	for {
		k, ok := d.Name()
		if !ok {
			return false
		}
		bit := -1
		for i, want := range keys {
			if k == want {
				bit = i
				break
			}
		}
		if bit < 0 || *seen&(1<<bit) != 0 {
			return false
		}
		*seen |= 1 << bit
		d.WS()
		if !d.Eat(':') {
			return false
		}
		d.WS()
		if !member(k) {
			return false
		}
		d.WS()
		if d.Eat(',') {
			d.WS()
			continue
		}
		return d.Eat('}')
	}
}

// list reads a JSON array, calling elem with the scanner at each element.
func (d *fastDecoder) list(elem func() bool) bool {
	if !d.Eat('[') {
		return false
	}
	d.WS()
	if d.Eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		d.WS()
		if d.Eat(',') {
			d.WS()
			continue
		}
		return d.Eat(']')
	}
}

// raw reads any JSON value but null, copied as encoding/json copies a
// json.RawMessage.
func (d *fastDecoder) raw(dst *json.RawMessage) bool {
	start := d.I
	if d.Literal("null") || !d.Skip() {
		return false
	}
	*dst = bytes.Clone(d.B[start:d.I])
	return true
}

// int64 reads an integer as encoding/json reads it into an int64.
func (d *fastDecoder) int64(dst *int64) bool {
	lit, ok := d.Number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	*dst = v
	return err == nil
}

// float64 reads a number as encoding/json reads it into a float64 (out
// of range is its error).
func (d *fastDecoder) float64(dst *float64) bool {
	lit, ok := d.Number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(lit, 64)
	*dst = v
	return err == nil
}

func (d *fastDecoder) bool(dst *bool) bool {
	switch {
	case d.Literal("true"):
		*dst = true
	case d.Literal("false"):
		*dst = false
	default:
		return false
	}
	return true
}

func (d *fastDecoder) request(r *wireRequest) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "model":
			return d.StrTo(&r.Model)
		case "prompt":
			return d.StrTo(&r.Prompt)
		case "messages":
			r.Messages = []ledger.ChatMessage{}
			return d.list(func() bool {
				r.Messages = append(r.Messages, ledger.ChatMessage{})
				return d.message(&r.Messages[len(r.Messages)-1])
			})
		case "output_name":
			return d.StrTo(&r.OutputName)
		case "output_schema":
			return d.raw(&r.OutputSchema)
		case "tools":
			r.Tools = []llm.ToolDefinition{}
			return d.list(func() bool {
				r.Tools = append(r.Tools, llm.ToolDefinition{})
				return d.tool(&r.Tools[len(r.Tools)-1])
			})
		case "options":
			return d.options(&r.Options)
		case "step_key":
			return d.StrTo(&r.StepKey)
		}
		return false
	}, "model", "prompt", "messages", "output_name", "output_schema", "tools", "options", "step_key")
}

func (d *fastDecoder) message(m *ledger.ChatMessage) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "role":
			return d.StrTo(&m.Role)
		case "content":
			return d.StrTo(&m.Content)
		case "tool_call_id":
			return d.StrTo(&m.ToolCallID)
		case "name":
			return d.StrTo(&m.Name)
		case "tool_calls":
			return d.toolCalls(&m.ToolCalls)
		}
		return false
	}, "role", "content", "tool_call_id", "name", "tool_calls")
}

func (d *fastDecoder) toolCalls(dst *[]ledger.ToolCall) bool {
	*dst = []ledger.ToolCall{}
	return d.list(func() bool {
		*dst = append(*dst, ledger.ToolCall{})
		c := &(*dst)[len(*dst)-1]
		var seen uint8
		return d.object(&seen, func(key string) bool {
			switch key {
			case "id":
				return d.StrTo(&c.ID)
			case "tool_name":
				return d.StrTo(&c.ToolName)
			case "arguments_json":
				return d.StrTo(&c.ArgumentsJSON)
			}
			return false
		}, "id", "tool_name", "arguments_json")
	})
}

func (d *fastDecoder) tool(t *llm.ToolDefinition) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "name":
			return d.StrTo(&t.Name)
		case "description":
			return d.StrTo(&t.Description)
		case "schema":
			return d.raw(&t.Schema)
		}
		return false
	}, "name", "description", "schema")
}

func (d *fastDecoder) options(o *llm.Options) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "temperature":
			o.Temperature = new(float64)
			return d.float64(o.Temperature)
		case "max_tokens":
			o.MaxTokens = new(int64)
			return d.int64(o.MaxTokens)
		case "seed":
			o.Seed = new(int64)
			return d.int64(o.Seed)
		case "reasoning_effort":
			return d.StrTo(&o.ReasoningEffort)
		case "tool_choice":
			return d.StrTo(&o.ToolChoice)
		case "parallel_tool_calls":
			o.ParallelToolCalls = new(bool)
			return d.bool(o.ParallelToolCalls)
		}
		return false
	}, "temperature", "max_tokens", "seed", "reasoning_effort", "tool_choice", "parallel_tool_calls")
}

func (d *fastDecoder) response(r *wireResponse) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "output_json":
			return d.StrTo(&r.OutputJSON)
		case "usage":
			return d.usage(&r.Usage)
		case "tool_calls":
			return d.toolCalls(&r.ToolCalls)
		}
		return false
	}, "output_json", "usage", "tool_calls")
}

func (d *fastDecoder) usage(u *llm.Usage) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "prompt_tokens":
			return d.int64(&u.PromptTokens)
		case "completion_tokens":
			return d.int64(&u.CompletionTokens)
		case "cached_prompt_tokens":
			return d.int64(&u.CachedPromptTokens)
		case "cost_usd":
			return d.float64(&u.CostUSD)
		}
		return false
	}, "prompt_tokens", "completion_tokens", "cached_prompt_tokens", "cost_usd")
}

func (d *fastDecoder) wireError(e *wireError) bool {
	var seen uint8
	return d.object(&seen, func(key string) bool {
		switch key {
		case "class":
			return d.StrTo((*string)(&e.Class))
		case "status":
			var n int64
			ok := d.int64(&n)
			e.Status = int(n)
			return ok
		case "message":
			return d.StrTo(&e.Message)
		case "retry_after":
			return d.StrTo(&e.RetryAfter)
		}
		return false
	}, "class", "status", "message", "retry_after")
}
