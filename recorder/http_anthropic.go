package recorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// APIMessages is the HTTPExchange.API of an Anthropic Messages API call
// (POST .../v1/messages), JSON or streamed.
const APIMessages = "anthropic.messages"

// leftovers collects the members of content blocks, tools and the system
// prompt that the typed request does not hold (cache_control, citations,
// ...), by where they are, so that they are matched too.
type leftovers map[string]map[string]json.RawMessage

// take decodes the members of raw named in known into the pointers given,
// and keeps the others under where. It reports false for raw that is not
// a JSON object or a member that does not decode.
func (l leftovers) take(where string, raw json.RawMessage, known map[string]any) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return false
	}
	for k, v := range obj {
		if p, ok := known[k]; ok {
			if string(v) != "null" && json.Unmarshal(v, p) != nil {
				return false
			}
			continue
		}
		if l[where] == nil {
			l[where] = map[string]json.RawMessage{}
		}
		l[where][k] = v
	}
	return true
}

// messagesRequest parses an Anthropic Messages request body into the typed
// request: the system prompt as a first system message, text blocks as
// content, tool_use blocks as the assistant's tool calls, each
// tool_result block as a tool message, tools, max_tokens, temperature and
// tool_choice. What it does not hold goes to extra (the top-level members
// and, under "blocks", the other members of blocks, tools and system
// parts). ok is false for a body with blocks it does not read (images,
// documents, thinking): the call is then recorded as plain HTTP.
func messagesRequest(body []byte) (req llm.Request, streamed bool, extra json.RawMessage, ok bool) {
	var top chatBody
	if json.Unmarshal(body, &top) != nil || top == nil {
		return req, false, nil, false
	}
	left := leftovers{}
	var rawMsgs []json.RawMessage
	if !top.take("model", &req.Model) || !top.take("messages", &rawMsgs) {
		return req, false, nil, false
	}
	top.take("stream", &streamed)
	if req.Messages, ok = top.messagesSystem(left); !ok {
		return req, false, nil, false
	}
	for i, raw := range rawMsgs {
		msgs, ok := messagesMessage(i, raw, left)
		if !ok {
			return req, false, nil, false
		}
		req.Messages = append(req.Messages, msgs...)
	}
	if req.Tools, ok = top.messagesTools(left); !ok {
		return req, false, nil, false
	}
	top.messagesOptions(&req.Options, left)
	req.Prompt = promptOf(req.Messages)
	if len(left) > 0 {
		b, err := json.Marshal(left)
		if err != nil {
			return req, false, nil, false
		}
		top["blocks"] = b
	}
	if extra, ok = top.extra(); !ok {
		return req, false, nil, false
	}
	return req, streamed, extra, true
}

// messagesSystem takes the system member, a string or a list of text
// blocks, as the leading system message (none without one). It reports
// false for a system member of another form.
func (top chatBody) messagesSystem(left leftovers) ([]ledger.ChatMessage, bool) {
	raw, found := top["system"]
	if !found {
		return nil, true
	}
	var s string
	var parts []json.RawMessage
	switch {
	case json.Unmarshal(raw, &s) == nil:
	case json.Unmarshal(raw, &parts) == nil:
		var b strings.Builder
		for i, p := range parts {
			var typ, text string
			if !left.take(fmt.Sprintf("system[%d]", i), p, map[string]any{"type": &typ, "text": &text}) || typ != "text" {
				return nil, false
			}
			b.WriteString(text)
		}
		s = b.String()
	default:
		return nil, false
	}
	delete(top, "system")
	return []ledger.ChatMessage{{Role: "system", Content: s}}, true
}

// messagesMessage returns the typed messages of messages[i]: one message
// with its text and tool calls, followed by one tool message per
// tool_result block. It reports false for a message with blocks the
// recorder does not type (images, documents, thinking), which is then
// recorded as plain HTTP.
func messagesMessage(i int, raw json.RawMessage, left leftovers) ([]ledger.ChatMessage, bool) {
	var role string
	var content json.RawMessage
	if !left.take(fmt.Sprintf("messages[%d]", i), raw, map[string]any{"role": &role, "content": &content}) {
		return nil, false
	}
	var s string
	if json.Unmarshal(content, &s) == nil {
		return []ledger.ChatMessage{{Role: role, Content: s}}, true
	}
	var blocks []json.RawMessage
	if json.Unmarshal(content, &blocks) != nil {
		return nil, false
	}
	msg := ledger.ChatMessage{Role: role}
	var results []ledger.ChatMessage
	for j, blk := range blocks {
		where := fmt.Sprintf("messages[%d].content[%d]", i, j)
		var typ, text, id, name, toolUseID string
		var input, resultContent json.RawMessage
		if !left.take(where, blk, map[string]any{"type": &typ, "text": &text, "id": &id, "name": &name,
			"input": &input, "tool_use_id": &toolUseID, "content": &resultContent}) {
			return nil, false
		}
		switch typ {
		case "text":
			msg.Content += text
		case "tool_use":
			args, err := pyjson.Canonicalize(orEmptyObject(input))
			if err != nil {
				return nil, false
			}
			msg.ToolCalls = append(msg.ToolCalls, ledger.ToolCall{ID: id, ToolName: name, ArgumentsJSON: string(args)})
		case "tool_result":
			text, ok := blockText(resultContent)
			if !ok {
				return nil, false
			}
			results = append(results, ledger.ChatMessage{Role: "tool", ToolCallID: toolUseID, Content: text})
		default:
			return nil, false // images, documents, thinking: plain HTTP
		}
	}
	var out []ledger.ChatMessage
	if msg.Content != "" || len(msg.ToolCalls) > 0 || len(results) == 0 {
		out = append(out, msg)
	}
	return append(out, results...), true
}

// messagesTools takes the tools member as typed tool definitions (nil
// without one). It reports false for a tool the recorder does not type.
func (top chatBody) messagesTools(left leftovers) ([]llm.ToolDefinition, bool) {
	var rawTools []json.RawMessage
	if !top.take("tools", &rawTools) {
		return nil, true
	}
	var defs []llm.ToolDefinition
	for i, raw := range rawTools {
		var def llm.ToolDefinition
		var schema json.RawMessage
		if !left.take(fmt.Sprintf("tools[%d]", i), raw, map[string]any{"name": &def.Name, "description": &def.Description, "input_schema": &schema}) {
			return nil, false
		}
		def.Schema = canonicalRaw(schema)
		defs = append(defs, def)
	}
	return defs, true
}

// messagesOptions takes the options the typed request holds: max_tokens,
// temperature and a tool_choice of a known type.
func (top chatBody) messagesOptions(o *llm.Options, left leftovers) {
	var n int64
	if top.take("max_tokens", &n) {
		o.MaxTokens = &n
	}
	var f float64
	if top.take("temperature", &f) {
		o.Temperature = &f
	}
	raw, found := top["tool_choice"]
	if !found {
		return
	}
	var tc struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &tc) != nil {
		return
	}
	choice := map[string]string{"auto": llm.ToolChoiceAuto, "any": llm.ToolChoiceRequired, "none": llm.ToolChoiceNone, "tool": tc.Name}[tc.Type]
	if choice != "" {
		o.ToolChoice = choice
		left.take("tool_choice", raw, map[string]any{"type": new(string), "name": new(string)})
		delete(top, "tool_choice")
	}
}

func orEmptyObject(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return json.RawMessage("{}")
	}
	return raw
}

// blockText reads a tool_result's content: a string or text blocks.
func blockText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", false
		}
		b.WriteString(*p.Text)
	}
	return b.String(), true
}

type messagesUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

// usage counts every prompt token, cached or not, as PromptTokens, as
// OpenAI does; CachedPromptTokens are the ones read from the cache.
func (u *messagesUsage) usage() llm.Usage {
	return llm.Usage{
		PromptTokens:       u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens,
		CompletionTokens:   u.OutputTokens,
		CachedPromptTokens: u.CacheReadInputTokens,
	}
}

// messagesResponse reads a Messages API JSON answer into the typed
// response: text blocks joined, tool_use blocks as tool calls, the usage.
func messagesResponse(body []byte) (llm.Response, bool) {
	var m struct {
		Content []struct {
			Type  string          `json:"type"`
			Text  string          `json:"text"`
			ID    string          `json:"id"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		Usage *messagesUsage `json:"usage"`
	}
	if json.Unmarshal(body, &m) != nil || m.Content == nil {
		return llm.Response{}, false
	}
	var text strings.Builder
	var resp llm.Response
	for _, c := range m.Content {
		switch c.Type {
		case "text":
			text.WriteString(c.Text)
		case "tool_use":
			args, err := pyjson.Canonicalize(orEmptyObject(c.Input))
			if err != nil {
				return llm.Response{}, false
			}
			resp.ToolCalls = append(resp.ToolCalls, ledger.ToolCall{ID: c.ID, ToolName: c.Name, ArgumentsJSON: string(args)})
		}
	}
	resp.OutputJSON = outputJSON(text.String(), false, len(resp.ToolCalls))
	if m.Usage != nil {
		resp.Usage = m.Usage.usage()
	}
	return resp, true
}

// messagesStream reads the events of a streamed Messages API answer into
// deltas (text, thinking as reasoning, tool_use blocks as tool-call
// fragments, the usage at message_delta), the joined response, and the
// error it ended with (an "error" event, or no message_stop).
func messagesStream(events []sseEvent) (deltas []RecordedDelta, resp llm.Response, streamErr *llm.Error, ok bool) {
	deltas = []RecordedDelta{}
	st := messagesStreamState{calls: map[int]int{}}
	for _, ev := range events {
		var e messagesEvent
		if json.Unmarshal(ev.data, &e) != nil {
			return nil, resp, nil, false
		}
		var d llm.Delta
		if e.Type == "error" {
			streamErr = httpError(500, "", ev.data)
			streamErr.StatusCode = 0
		} else {
			d = st.delta(&e)
		}
		if !d.IsZero() {
			deltas = append(deltas, RecordedDelta{At: ev.at, Delta: d})
		}
		if streamErr != nil {
			break
		}
	}
	if streamErr == nil && !st.stopped {
		streamErr = &llm.Error{Class: llm.ClassTransient, Message: "the event stream ended without message_stop"}
	}
	return deltas, joinedMessagesResponse(deltas), streamErr, true
}

// messagesEvent is one event of a streamed Messages API answer.
type messagesEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		Usage *messagesUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"content_block"`
	Delta *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		Thinking    string `json:"thinking"`
	} `json:"delta"`
	Usage *messagesUsage `json:"usage"`
}

// messagesStreamState is what reading a Messages stream keeps between
// events.
type messagesStreamState struct {
	calls   map[int]int // content block index -> tool call index
	usage   messagesUsage
	stopped bool // message_stop came
}

// delta returns the delta the event e carries (zero for none).
func (st *messagesStreamState) delta(e *messagesEvent) llm.Delta {
	var d llm.Delta
	switch e.Type {
	case "message_start":
		if e.Message != nil && e.Message.Usage != nil {
			st.usage = *e.Message.Usage
		}
	case "content_block_start":
		if b := e.ContentBlock; b != nil && b.Type == "tool_use" {
			st.calls[e.Index] = len(st.calls)
			d.ToolCalls = []llm.ToolCallDelta{{Index: st.calls[e.Index], ID: b.ID, ToolName: b.Name}}
		}
	case "content_block_delta":
		if x := e.Delta; x != nil {
			switch x.Type {
			case "text_delta":
				d.Text = x.Text
			case "thinking_delta":
				d.Reasoning = x.Thinking
			case "input_json_delta":
				if i, isCall := st.calls[e.Index]; isCall && x.PartialJSON != "" {
					d.ToolCalls = []llm.ToolCallDelta{{Index: i, ArgumentsJSON: x.PartialJSON}}
				}
			}
		}
	case "message_delta":
		if e.Usage != nil {
			st.usage.OutputTokens = e.Usage.OutputTokens
			u := st.usage.usage()
			d.Usage = &u
		}
	case "message_stop":
		st.stopped = true
	}
	return d
}

// joinedMessagesResponse is the response the deltas of a Messages stream
// make: the text as output, the tool calls with canonical arguments, the
// last usage.
func joinedMessagesResponse(deltas []RecordedDelta) llm.Response {
	ds := make([]llm.Delta, len(deltas))
	for i, d := range deltas {
		ds[i] = d.Delta
	}
	j := llm.JoinDeltas(ds)
	var resp llm.Response
	resp.OutputJSON = outputJSON(j.Text, false, len(j.ToolCalls))
	for _, c := range j.ToolCalls {
		args := c.ArgumentsJSON
		if b, err := pyjson.Canonicalize(orEmptyObject(json.RawMessage(args))); err == nil {
			args = string(b)
		}
		resp.ToolCalls = append(resp.ToolCalls, ledger.ToolCall{ID: c.ID, ToolName: c.ToolName, ArgumentsJSON: args})
	}
	if j.Usage != nil {
		resp.Usage = *j.Usage
	}
	return resp
}
