package recorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// chatRequest parses an OpenAI Chat Completions request body into the
// typed request, whether it is streamed, and the members of the body the
// typed request does not hold (as a canonical JSON object, nil if none).
// ok is false for a body that is not a Chat Completions request the
// recorder understands; the call is then recorded as plain HTTP.
func chatRequest(body []byte) (req llm.Request, streamed bool, extra json.RawMessage, ok bool) {
	var top chatBody
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return req, false, nil, false
	}
	if !top.take("model", &req.Model) || !top.take("messages", new([]json.RawMessage)) {
		return req, false, nil, false
	}
	if req.Messages, ok = chatMessages(body); !ok {
		return req, false, nil, false
	}
	top.take("stream", &streamed)
	if !top.tools(&req) {
		return req, false, nil, false
	}
	top.responseFormat(&req)
	top.options(&req.Options)
	req.Prompt = promptOf(req.Messages)
	if extra, ok = top.extra(); !ok {
		return req, false, nil, false
	}
	return req, streamed, extra, true
}

// chatBody is a Chat Completions request body, member by member. Parsing
// takes the members the typed request holds out of it; what remains is the
// request's extra.
type chatBody map[string]json.RawMessage

// take decodes the member key into v and removes it. It reports false,
// leaving the member, when it is missing, null or not of v's type.
func (top chatBody) take(key string, v any) bool {
	raw, found := top[key]
	if !found || string(raw) == "null" {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false
	}
	delete(top, key)
	return true
}

// chatMessages returns the typed messages of a Chat Completions request
// body, or false if one of them is not a message the recorder understands.
func chatMessages(body []byte) ([]ledger.ChatMessage, bool) {
	var msgs []chatMessage
	if err := json.Unmarshal(body, &struct {
		Messages *[]chatMessage `json:"messages"`
	}{&msgs}); err != nil {
		return nil, false
	}
	var out []ledger.ChatMessage
	for _, m := range msgs {
		cm, ok := m.message()
		if !ok {
			return nil, false
		}
		out = append(out, cm)
	}
	return out, true
}

// tools takes the tools member into req.Tools, keeping the tools' strict
// flags, which the typed definitions do not hold, as "tools.strict". It
// reports false for a tools member that is not a list of functions.
func (top chatBody) tools(req *llm.Request) bool {
	raw, found := top["tools"]
	if !found {
		return true
	}
	var tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
			Strict      *bool           `json:"strict"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &tools) != nil {
		return false
	}
	delete(top, "tools")
	var strict []*bool
	anyStrict := false
	for _, t := range tools {
		if t.Type != "function" {
			return false
		}
		req.Tools = append(req.Tools, llm.ToolDefinition{Name: t.Function.Name, Description: t.Function.Description, Schema: canonicalRaw(t.Function.Parameters)})
		strict = append(strict, t.Function.Strict)
		anyStrict = anyStrict || t.Function.Strict != nil
	}
	if anyStrict {
		b, _ := json.Marshal(strict)
		top["tools.strict"] = b
	}
	return true
}

// responseFormat takes a json_schema response_format into req's output
// name and schema, keeping its strict flag as "response_format.strict".
// Any other response_format stays in the extra.
func (top chatBody) responseFormat(req *llm.Request) {
	var rf struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
			Strict *bool           `json:"strict"`
		} `json:"json_schema"`
	}
	raw, found := top["response_format"]
	if !found || json.Unmarshal(raw, &rf) != nil || rf.Type != "json_schema" {
		return
	}
	req.OutputName, req.OutputSchema = rf.JSONSchema.Name, canonicalRaw(rf.JSONSchema.Schema)
	delete(top, "response_format")
	if rf.JSONSchema.Strict != nil {
		top["response_format.strict"] = []byte(strconv.FormatBool(*rf.JSONSchema.Strict))
	}
}

// options takes the sampling and tool options the typed request holds.
func (top chatBody) options(o *llm.Options) {
	var f float64
	if top.take("temperature", &f) {
		o.Temperature = &f
	}
	var n int64
	if top.take("max_completion_tokens", &n) || top.take("max_tokens", &n) {
		o.MaxTokens = &n
	}
	var seed int64
	if top.take("seed", &seed) {
		o.Seed = &seed
	}
	top.take("reasoning_effort", &o.ReasoningEffort)
	var par bool
	if top.take("parallel_tool_calls", &par) {
		o.ParallelToolCalls = &par
	}
	top.toolChoice(o)
}

// toolChoice takes a tool_choice given as a mode ("auto", "none",
// "required") or as one named function; any other form stays in the extra.
func (top chatBody) toolChoice(o *llm.Options) {
	raw, found := top["tool_choice"]
	if !found {
		return
	}
	var s string
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &s) == nil && s != "" {
		o.ToolChoice = s
		delete(top, "tool_choice")
	} else if json.Unmarshal(raw, &named) == nil && named.Type == "function" && named.Function.Name != "" {
		o.ToolChoice = named.Function.Name
		delete(top, "tool_choice")
	}
}

// extra returns the members left, as a canonical JSON object, or nil if
// none are.
func (top chatBody) extra() (json.RawMessage, bool) {
	if len(top) == 0 {
		return nil, true
	}
	b, err := json.Marshal(map[string]json.RawMessage(top))
	if err != nil {
		return nil, false
	}
	extra, err := pyjson.Canonicalize(b)
	if err != nil {
		return nil, false
	}
	return extra, true
}

// canonicalRaw returns the canonical form of a JSON document, or raw.
func canonicalRaw(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if b, err := pyjson.Canonicalize(raw); err == nil {
		return b
	}
	return raw
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// message returns m as a ChatMessage; false when its content is neither
// a string nor a list of text parts.
func (m chatMessage) message() (ledger.ChatMessage, bool) {
	cm := ledger.ChatMessage{Role: m.Role, Name: m.Name, ToolCallID: m.ToolCallID}
	switch c := bytes.TrimSpace(m.Content); {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		if json.Unmarshal(c, &cm.Content) != nil {
			return cm, false
		}
	case c[0] == '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if json.Unmarshal(c, &parts) != nil {
			return cm, false
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return cm, false // images, audio: recorded as plain HTTP
			}
			b.WriteString(*p.Text)
		}
		cm.Content = b.String()
	default:
		return cm, false
	}
	for _, tc := range m.ToolCalls {
		cm.ToolCalls = append(cm.ToolCalls, ledger.ToolCall{ID: tc.ID, ToolName: tc.Function.Name, ArgumentsJSON: tc.Function.Arguments})
	}
	return cm, true
}

type chatUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func (u *chatUsage) usage() llm.Usage {
	out := llm.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
	if u.PromptTokensDetails != nil {
		out.CachedPromptTokens = u.PromptTokensDetails.CachedTokens
	}
	return out
}

// chatResponse reads a Chat Completions JSON answer into the typed
// response: the first choice's content (or refusal) and tool calls, and
// the usage. ok is false for a body it cannot read.
func chatResponse(body []byte, structured bool) (llm.Response, bool) {
	var cc struct {
		Choices []struct {
			Message chatMessage `json:"message"`
		} `json:"choices"`
		Usage *chatUsage `json:"usage"`
	}
	if json.Unmarshal(body, &cc) != nil || len(cc.Choices) == 0 {
		return llm.Response{}, false
	}
	m, ok := cc.Choices[0].Message.message()
	if !ok {
		return llm.Response{}, false
	}
	resp := llm.Response{OutputJSON: outputJSON(m.Content, structured, len(m.ToolCalls)), ToolCalls: m.ToolCalls}
	if cc.Usage != nil {
		resp.Usage = cc.Usage.usage()
	}
	return resp, true
}

// httpError reads a failed call's answer ({"error":{"message":...}}, as
// OpenAI and Anthropic send it) into the recorded error.
func httpError(status int, retryAfter string, body []byte) *llm.Error {
	e := &llm.Error{Class: llm.ClassPermanent, StatusCode: status}
	if status == 408 || status == 409 || status == 429 || status >= 500 {
		e.Class = llm.ClassTransient
	}
	var w struct {
		Error json.RawMessage `json:"error"`
	}
	var msg struct {
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(body, &w) == nil && json.Unmarshal(w.Error, &msg) == nil && msg.Message != "":
		e.Message = msg.Message
	case json.Unmarshal(w.Error, &e.Message) == nil && e.Message != "":
	default:
		e.Message = fmt.Sprintf("HTTP %d: %s", status, quoteShort(string(body), 200))
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}

// An sseEvent is one "data:" payload of an event stream and when it was
// read, from the start of the call.
type sseEvent struct {
	at   time.Duration
	data []byte
}

// chatStream reads the events of a streamed Chat Completions answer into
// deltas, the joined response, and the error the stream ended with (an
// {"error":...} event, or no [DONE]), nil if it ended well. ok is false
// when an event is not a chunk the recorder can read.
func chatStream(events []sseEvent, structured bool) (deltas []RecordedDelta, resp llm.Response, streamErr *llm.Error, ok bool) {
	deltas = []RecordedDelta{}
	done := false
	for _, ev := range events {
		if string(ev.data) == "[DONE]" {
			done = true
			break
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content          *string `json:"content"`
					Refusal          *string `json:"refusal"`
					ReasoningContent *string `json:"reasoning_content"`
					ToolCalls        []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
			Usage *chatUsage      `json:"usage"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(ev.data, &chunk) != nil {
			return nil, resp, nil, false
		}
		if len(chunk.Error) > 0 && string(chunk.Error) != "null" {
			streamErr = httpError(500, "", ev.data)
			streamErr.StatusCode = 0
			break
		}
		var d llm.Delta
		for _, c := range chunk.Choices[:min(1, len(chunk.Choices))] {
			if c.Delta.Content != nil {
				d.Text = *c.Delta.Content
			}
			if c.Delta.ReasoningContent != nil {
				d.Reasoning = *c.Delta.ReasoningContent
			}
			for _, tc := range c.Delta.ToolCalls {
				if tc.Index < 0 {
					return nil, resp, nil, false // not a stream the recorder can type; its bytes still replay
				}
				d.ToolCalls = append(d.ToolCalls, llm.ToolCallDelta{Index: tc.Index, ID: tc.ID, ToolName: tc.Function.Name, ArgumentsJSON: tc.Function.Arguments})
			}
		}
		if chunk.Usage != nil {
			u := chunk.Usage.usage()
			d.Usage = &u
		}
		if !d.IsZero() {
			deltas = append(deltas, RecordedDelta{At: ev.at, Delta: d})
		}
	}
	if streamErr == nil && !done {
		streamErr = &llm.Error{Class: llm.ClassTransient, Message: "the event stream ended without data: [DONE]"}
	}
	ds := make([]llm.Delta, len(deltas))
	for i, d := range deltas {
		ds[i] = d.Delta
	}
	j := llm.JoinDeltas(ds)
	resp.OutputJSON = outputJSON(j.Text, structured, len(j.ToolCalls))
	for _, c := range j.ToolCalls {
		resp.ToolCalls = append(resp.ToolCalls, ledger.ToolCall{ID: c.ID, ToolName: c.ToolName, ArgumentsJSON: c.ArgumentsJSON})
	}
	if j.Usage != nil {
		resp.Usage = *j.Usage
	}
	return deltas, resp, streamErr, true
}

// outputJSON returns the output of an answer as openai.Model returns it:
// for a structured request, the content's JSON document; else the content
// as a JSON string; "" for a turn of tool calls with no content (or with a
// remark that is not the structured output).
func outputJSON(content string, structured bool, toolCalls int) string {
	trimmed := strings.TrimSpace(content)
	switch {
	case trimmed == "" && toolCalls > 0:
		return ""
	case structured && json.Valid([]byte(trimmed)):
		return trimmed
	case structured && toolCalls > 0:
		return ""
	}
	b, _ := json.Marshal(content)
	return string(b)
}

// promptOf returns the prompt the kernel logs for a conversation: the
// content of the last user message or, without one, every message as
// "role: content" lines.
func promptOf(msgs []ledger.ChatMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	lines := make([]string, len(msgs))
	for i, m := range msgs {
		lines[i] = m.Role + ": " + m.Content
	}
	return strings.Join(lines, "\n")
}
