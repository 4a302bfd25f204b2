package artana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// CanonicalPayload returns the payload's hashed JSON form, exactly as the
// seed's payload_to_canonical_json writes it: every field present, keys
// sorted at every level, no whitespace, ASCII only.
func CanonicalPayload(p Payload) []byte { return p.appendCanonical(nil) }

// SeedPayloadJSON returns the payload in the form the seed stores in its
// payload_json column: json.dumps with the default ", " and ": " separators
// and keys in declaration order ("kind" first), ASCII only.
func SeedPayloadJSON(p Payload) []byte { return p.appendSeed(nil) }

// A pyField is one payload field, in a form both writers understand.
type pyField struct {
	key   string
	kind  uint8
	s     string
	sp    *string
	i     int64
	f     float64
	strs  []string
	msgs  []ChatMessage
	calls []ToolCallRecord
}

const (
	fStr uint8 = iota
	fNullStr
	fInt
	fFloat
	fStrs
	fMsgs
	fCalls
)

func str(k, s string) pyField { return pyField{key: k, kind: fStr, s: s} }
func nullStr(k string, s *string) pyField {
	return pyField{key: k, kind: fNullStr, sp: s}
}
func integer(k string, i int64) pyField { return pyField{key: k, kind: fInt, i: i} }

// fieldsOf lists a payload's fields in the seed's declaration order.
func fieldsOf(p Payload, buf []pyField) []pyField {
	kind := str("kind", string(p.Kind()))
	switch p := p.(type) {
	case *RunStarted:
		return append(buf, kind)
	case *ResumeRequested:
		return append(buf, kind, nullStr("human_input_json", p.HumanInputJSON))
	case *PauseRequested:
		return append(buf, kind, str("reason", p.Reason), nullStr("context_json", p.ContextJSON),
			nullStr("step_key", p.StepKey))
	case *ModelRequested:
		return append(buf, kind, str("model", p.Model), str("prompt", p.Prompt),
			pyField{key: "messages", kind: fMsgs, msgs: p.Messages},
			pyField{key: "allowed_tools", kind: fStrs, strs: p.AllowedTools},
			nullStr("step_key", p.StepKey))
	case *ModelCompleted:
		return append(buf, kind, str("model", p.Model), str("output_json", p.OutputJSON),
			integer("prompt_tokens", p.PromptTokens), integer("completion_tokens", p.CompletionTokens),
			pyField{key: "cost_usd", kind: fFloat, f: p.CostUSD},
			pyField{key: "tool_calls", kind: fCalls, calls: p.ToolCalls})
	case *ToolRequested:
		return append(buf, kind, str("tool_name", p.ToolName), str("arguments_json", p.ArgumentsJSON),
			str("idempotency_key", p.IdempotencyKey), str("tool_version", p.ToolVersion),
			str("schema_version", p.SchemaVersion), nullStr("step_key", p.StepKey))
	case *ToolCompleted:
		return append(buf, kind, str("tool_name", p.ToolName), str("result_json", p.ResultJSON),
			str("outcome", string(p.Outcome)),
			nullStr("received_idempotency_key", p.ReceivedIdempotencyKey),
			nullStr("effect_id", p.EffectID), nullStr("request_id", p.RequestID),
			nullStr("error_message", p.ErrorMessage))
	case *WorkflowStepRequested:
		return append(buf, kind, integer("step_index", p.StepIndex), str("step_name", p.StepName))
	case *WorkflowStepCompleted:
		return append(buf, kind, integer("step_index", p.StepIndex), str("step_name", p.StepName),
			str("result_json", p.ResultJSON))
	}
	panic(fmt.Sprintf("artana: unknown payload type %T", p))
}

func appendPayload(dst []byte, p Payload, canonical bool) []byte {
	var buf [8]pyField
	fields := fieldsOf(p, buf[:0])
	if canonical { // insertion sort: at most eight keys
		for i := 1; i < len(fields); i++ {
			for j := i; j > 0 && fields[j].key < fields[j-1].key; j-- {
				fields[j], fields[j-1] = fields[j-1], fields[j]
			}
		}
	}
	comma, colon := ", ", ": "
	if canonical {
		comma, colon = ",", ":"
	}
	dst = append(dst, '{')
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			dst = append(dst, comma...)
		}
		dst = appendPyString(dst, f.key)
		dst = append(dst, colon...)
		switch f.kind {
		case fStr:
			dst = appendPyString(dst, f.s)
		case fNullStr:
			if f.sp == nil {
				dst = append(dst, "null"...)
			} else {
				dst = appendPyString(dst, *f.sp)
			}
		case fInt:
			dst = strconv.AppendInt(dst, f.i, 10)
		case fFloat:
			dst = appendPyFloat(dst, f.f)
		case fStrs:
			dst = append(dst, '[')
			for j, s := range f.strs {
				if j > 0 {
					dst = append(dst, comma...)
				}
				dst = appendPyString(dst, s)
			}
			dst = append(dst, ']')
		case fMsgs:
			dst = append(dst, '[')
			for j, m := range f.msgs {
				if j > 0 {
					dst = append(dst, comma...)
				}
				if canonical {
					dst = append(dst, `{"content":`...)
					dst = appendPyString(dst, m.Content)
					dst = append(dst, `,"role":`...)
					dst = appendPyString(dst, m.Role)
				} else {
					dst = append(dst, `{"role": `...)
					dst = appendPyString(dst, m.Role)
					dst = append(dst, `, "content": `...)
					dst = appendPyString(dst, m.Content)
				}
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		case fCalls:
			dst = append(dst, '[')
			for j, c := range f.calls {
				if j > 0 {
					dst = append(dst, comma...)
				}
				if canonical {
					dst = append(dst, `{"arguments_json":`...)
					dst = appendPyString(dst, c.ArgumentsJSON)
					dst = append(dst, `,"tool_name":`...)
					dst = appendPyString(dst, c.ToolName)
				} else {
					dst = append(dst, `{"tool_name": `...)
					dst = appendPyString(dst, c.ToolName)
					dst = append(dst, `, "arguments_json": `...)
					dst = appendPyString(dst, c.ArgumentsJSON)
				}
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
	}
	return append(dst, '}')
}

func (p *RunStarted) appendCanonical(dst []byte) []byte      { return appendPayload(dst, p, true) }
func (p *ResumeRequested) appendCanonical(dst []byte) []byte { return appendPayload(dst, p, true) }
func (p *PauseRequested) appendCanonical(dst []byte) []byte  { return appendPayload(dst, p, true) }
func (p *ModelRequested) appendCanonical(dst []byte) []byte  { return appendPayload(dst, p, true) }
func (p *ModelCompleted) appendCanonical(dst []byte) []byte  { return appendPayload(dst, p, true) }
func (p *ToolRequested) appendCanonical(dst []byte) []byte   { return appendPayload(dst, p, true) }
func (p *ToolCompleted) appendCanonical(dst []byte) []byte   { return appendPayload(dst, p, true) }
func (p *WorkflowStepRequested) appendCanonical(dst []byte) []byte {
	return appendPayload(dst, p, true)
}
func (p *WorkflowStepCompleted) appendCanonical(dst []byte) []byte {
	return appendPayload(dst, p, true)
}
func (p *RunStarted) appendSeed(dst []byte) []byte            { return appendPayload(dst, p, false) }
func (p *ResumeRequested) appendSeed(dst []byte) []byte       { return appendPayload(dst, p, false) }
func (p *PauseRequested) appendSeed(dst []byte) []byte        { return appendPayload(dst, p, false) }
func (p *ModelRequested) appendSeed(dst []byte) []byte        { return appendPayload(dst, p, false) }
func (p *ModelCompleted) appendSeed(dst []byte) []byte        { return appendPayload(dst, p, false) }
func (p *ToolRequested) appendSeed(dst []byte) []byte         { return appendPayload(dst, p, false) }
func (p *ToolCompleted) appendSeed(dst []byte) []byte         { return appendPayload(dst, p, false) }
func (p *WorkflowStepRequested) appendSeed(dst []byte) []byte { return appendPayload(dst, p, false) }
func (p *WorkflowStepCompleted) appendSeed(dst []byte) []byte { return appendPayload(dst, p, false) }

// NewPayload returns a zero payload of type t, or nil if t is not one of the
// nine event types.
func NewPayload(t EventType) Payload {
	switch t {
	case EventRunStarted:
		return &RunStarted{}
	case EventResumeRequested:
		return &ResumeRequested{}
	case EventPauseRequested:
		return &PauseRequested{}
	case EventModelRequested:
		return &ModelRequested{}
	case EventModelCompleted:
		return &ModelCompleted{}
	case EventToolRequested:
		return &ToolRequested{}
	case EventToolCompleted:
		return &ToolCompleted{}
	case EventWorkflowStepRequested:
		return &WorkflowStepRequested{}
	case EventWorkflowStepCompleted:
		return &WorkflowStepCompleted{}
	}
	return nil
}

// DecodePayload parses a payload of type t from JSON in either the canonical
// or the seed's column form, validating it as the seed's schema does: a
// missing required field or a wrongly typed one is an error, a missing field
// that has a default takes it, unknown keys are ignored, and "kind", when
// present, must equal t. Python's bare Infinity is accepted for cost_usd.
func DecodePayload(t EventType, data []byte) (Payload, error) {
	p := NewPayload(t)
	if p == nil {
		return nil, fmt.Errorf("unknown event type %q", t)
	}
	if !decodeFast(p, data) {
		var err error
		if p, err = decodeGeneral(t, data); err != nil {
			return nil, err
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeGeneral decodes a payload of any shape through encoding/json and
// explains what is wrong with a bad one. It does not validate.
func decodeGeneral(t EventType, data []byte) (Payload, error) {
	p := NewPayload(t)
	obj, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("%s payload: %w", t, err)
	}
	d := fieldDecoder{obj: obj}
	if kind, ok := d.optString("kind"); ok && kind != string(t) {
		return nil, fmt.Errorf("%s payload: kind %q does not match the event type", t, kind)
	}
	switch p := p.(type) {
	case *RunStarted:
	case *ResumeRequested:
		p.HumanInputJSON = d.nullString("human_input_json")
	case *PauseRequested:
		p.Reason = d.string("reason")
		p.ContextJSON = d.nullString("context_json")
		p.StepKey = d.nullString("step_key")
	case *ModelRequested:
		p.Model = d.string("model")
		p.Prompt = d.string("prompt")
		p.Messages = d.messages("messages")
		p.AllowedTools = d.strings("allowed_tools")
		p.StepKey = d.nullString("step_key")
	case *ModelCompleted:
		p.Model = d.string("model")
		p.OutputJSON = d.string("output_json")
		p.PromptTokens = d.int("prompt_tokens")
		p.CompletionTokens = d.int("completion_tokens")
		p.CostUSD = d.float("cost_usd")
		p.ToolCalls = d.toolCalls("tool_calls")
	case *ToolRequested:
		p.ToolName = d.string("tool_name")
		p.ArgumentsJSON = d.string("arguments_json")
		p.IdempotencyKey = d.string("idempotency_key")
		p.ToolVersion = d.stringDefault("tool_version", DefaultToolVersion)
		p.SchemaVersion = d.stringDefault("schema_version", DefaultSchemaVersion)
		p.StepKey = d.nullString("step_key")
	case *ToolCompleted:
		p.ToolName = d.string("tool_name")
		p.ResultJSON = d.string("result_json")
		p.Outcome = ToolOutcome(d.stringDefault("outcome", string(OutcomeSuccess)))
		p.ReceivedIdempotencyKey = d.nullString("received_idempotency_key")
		p.EffectID = d.nullString("effect_id")
		p.RequestID = d.nullString("request_id")
		p.ErrorMessage = d.nullString("error_message")
	case *WorkflowStepRequested:
		p.StepIndex = d.int("step_index")
		p.StepName = d.string("step_name")
	case *WorkflowStepCompleted:
		p.StepIndex = d.int("step_index")
		p.StepName = d.string("step_name")
		p.ResultJSON = d.string("result_json")
	}
	if d.err != nil {
		return nil, fmt.Errorf("%s payload: %w", t, d.err)
	}
	return p, nil
}

// decodeObject parses a JSON object into its raw members. Bare Infinity,
// -Infinity and NaN tokens (which Python's json module reads and writes) are
// turned into strings first so that encoding/json accepts the document.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	err := json.Unmarshal(data, &obj)
	if err != nil {
		if fixed, ok := quoteNonFinite(data); ok {
			obj = nil
			err = json.Unmarshal(fixed, &obj)
		}
	}
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// quoteNonFinite rewrites bare Infinity, -Infinity and NaN tokens outside
// strings as JSON strings. It reports whether it changed anything.
func quoteNonFinite(data []byte) ([]byte, bool) {
	var out []byte
	changed := false
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			out = append(out, c)
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				matched, changed = true, true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out, changed
}

// fieldDecoder reads typed fields from a decoded object, keeping the first error.
type fieldDecoder struct {
	obj map[string]json.RawMessage
	err error
}

func (d *fieldDecoder) fail(key, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("field %q: %s", key, fmt.Sprintf(format, args...))
	}
}

func (d *fieldDecoder) raw(key string, required bool) (json.RawMessage, bool) {
	v, ok := d.obj[key]
	if !ok && required {
		d.fail(key, "missing")
	}
	return v, ok
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (d *fieldDecoder) optString(key string) (string, bool) {
	v, ok := d.raw(key, false)
	if !ok {
		return "", false
	}
	var s string
	if isNull(v) || json.Unmarshal(v, &s) != nil {
		d.fail(key, "want a string, got %s", v)
		return "", false
	}
	return s, true
}

func (d *fieldDecoder) string(key string) string {
	if _, ok := d.raw(key, true); !ok {
		return ""
	}
	s, _ := d.optString(key)
	return s
}

func (d *fieldDecoder) stringDefault(key, def string) string {
	if _, ok := d.raw(key, false); !ok {
		return def
	}
	s, _ := d.optString(key)
	return s
}

func (d *fieldDecoder) nullString(key string) *string {
	v, ok := d.raw(key, false)
	if !ok || isNull(v) {
		return nil
	}
	s, ok := d.optString(key)
	if !ok {
		return nil
	}
	return &s
}

func (d *fieldDecoder) int(key string) int64 {
	v, ok := d.raw(key, true)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		d.fail(key, "want an integer, got %s", v)
	}
	return n
}

func (d *fieldDecoder) float(key string) float64 {
	v, ok := d.raw(key, true)
	if !ok {
		return 0
	}
	lit := string(bytes.TrimSpace(v))
	switch lit {
	case `"Infinity"`:
		return math.Inf(1)
	case `"-Infinity"`:
		return math.Inf(-1)
	case `"NaN"`:
		return math.NaN()
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil || lit[0] == '"' {
		d.fail(key, "want a number, got %s", v)
		return 0
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		d.fail(key, "want a number, got %s", v)
	}
	return f
}

func (d *fieldDecoder) strings(key string) []string {
	v, ok := d.raw(key, false)
	if !ok {
		return []string{}
	}
	var out []string
	if isNull(v) || json.Unmarshal(v, &out) != nil {
		d.fail(key, "want a list of strings, got %s", v)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func (d *fieldDecoder) objects(key string, required bool) []map[string]json.RawMessage {
	v, ok := d.raw(key, required)
	if !ok {
		return nil
	}
	var out []map[string]json.RawMessage
	if isNull(v) || json.Unmarshal(v, &out) != nil {
		d.fail(key, "want a list of objects, got %s", v)
		return nil
	}
	for i, o := range out {
		if o == nil {
			d.fail(key, "element %d is not an object", i)
		}
	}
	return out
}

func (d *fieldDecoder) messages(key string) []ChatMessage {
	objs := d.objects(key, true)
	out := make([]ChatMessage, 0, len(objs))
	for i, o := range objs {
		sub := fieldDecoder{obj: o}
		m := ChatMessage{Role: sub.string("role"), Content: sub.string("content")}
		if sub.err != nil {
			d.fail(key, "element %d: %v", i, sub.err)
		}
		out = append(out, m)
	}
	return out
}

func (d *fieldDecoder) toolCalls(key string) []ToolCallRecord {
	objs := d.objects(key, false)
	out := make([]ToolCallRecord, 0, len(objs))
	for i, o := range objs {
		sub := fieldDecoder{obj: o}
		c := ToolCallRecord{ToolName: sub.string("tool_name"), ArgumentsJSON: sub.string("arguments_json")}
		if sub.err != nil {
			d.fail(key, "element %d: %v", i, sub.err)
		}
		out = append(out, c)
	}
	return out
}
