package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// A pyField is one field of a payload: its key, its JSON shape, whether
// the Python original's schema requires it, its default, and a pointer to it.
type pyField struct {
	key      string
	kind     uint8
	required bool   // a decoder fails when it is missing
	def      string // for fStr and fOutcome: the value when missing and not required
	s        *string
	sp       **string
	outcome  *ToolOutcome
	i        *int64
	ip       **int64
	f        *float64
	strs     *[]string
	msgs     *[]ChatMessage
	calls    *[]ToolCall
}

// pyFields holds a payload's fields by value, so that listing them
// allocates nothing on the hashing path.
type pyFields struct {
	n int
	f [8]pyField
}

func fieldList(fs ...pyField) pyFields {
	var l pyFields
	l.n = copy(l.f[:], fs)
	return l
}

const (
	fKind    uint8 = iota // the "kind" discriminator, from Payload.Kind
	fStr                  // a string
	fNullStr              // a string or null
	fOutcome              // a ToolOutcome string
	fInt                  // an integer
	fNullInt              // an integer or null
	fFloat                // a number (Python float; Infinity allowed)
	fStrs                 // a list of strings
	fMsgs                 // a list of {"role","content"}
	fCalls                // a list of {"tool_name","arguments_json"}
	fPolicy               // a replay policy string
)

func kindField() pyField                      { return pyField{key: "kind", kind: fKind} }
func reqStr(k string, s *string) pyField      { return pyField{key: k, kind: fStr, required: true, s: s} }
func defStr(k, def string, s *string) pyField { return pyField{key: k, kind: fStr, def: def, s: s} }
func nullStr(k string, s **string) pyField    { return pyField{key: k, kind: fNullStr, sp: s} }
func reqInt(k string, i *int64) pyField       { return pyField{key: k, kind: fInt, required: true, i: i} }

func (p *RunStarted) fields() pyFields { return fieldList(kindField()) }

func (p *ResumeRequested) fields() pyFields {
	return fieldList(kindField(), nullStr("human_input_json", &p.HumanInputJSON))
}

func (p *PauseRequested) fields() pyFields {
	return fieldList(kindField(), reqStr("reason", &p.Reason), nullStr("context_json", &p.ContextJSON),
		nullStr("step_key", &p.StepKey))
}

func (p *ModelRequested) fields() pyFields {
	return fieldList(kindField(), reqStr("model", &p.Model), reqStr("prompt", &p.Prompt),
		pyField{key: "messages", kind: fMsgs, required: true, msgs: &p.Messages},
		pyField{key: "allowed_tools", kind: fStrs, strs: &p.AllowedTools},
		nullStr("step_key", &p.StepKey))
}

func (p *ModelCompleted) fields() pyFields {
	return fieldList(kindField(), reqStr("model", &p.Model), reqStr("output_json", &p.OutputJSON),
		reqInt("prompt_tokens", &p.PromptTokens), reqInt("completion_tokens", &p.CompletionTokens),
		pyField{key: "cost_usd", kind: fFloat, required: true, f: &p.CostUSD},
		pyField{key: "tool_calls", kind: fCalls, calls: &p.ToolCalls})
}

func (p *ToolRequested) fields() pyFields {
	return fieldList(kindField(), reqStr("tool_name", &p.ToolName), reqStr("arguments_json", &p.ArgumentsJSON),
		reqStr("idempotency_key", &p.IdempotencyKey), defStr("tool_version", DefaultToolVersion, &p.ToolVersion),
		defStr("schema_version", DefaultSchemaVersion, &p.SchemaVersion), nullStr("step_key", &p.StepKey))
}

func (p *ToolCompleted) fields() pyFields {
	return fieldList(kindField(), reqStr("tool_name", &p.ToolName), reqStr("result_json", &p.ResultJSON),
		pyField{key: "outcome", kind: fOutcome, def: string(OutcomeSuccess), outcome: &p.Outcome},
		nullStr("received_idempotency_key", &p.ReceivedIdempotencyKey),
		nullStr("effect_id", &p.EffectID), nullStr("request_id", &p.RequestID),
		nullStr("error_message", &p.ErrorMessage))
}

func (p *ReplayedWithDrift) fields() pyFields {
	return fieldList(kindField(), nullStr("step_key", &p.StepKey), reqStr("model", &p.Model),
		pyField{key: "drift_fields", kind: fStrs, strs: &p.DriftFields},
		reqStr("source_model_requested_event_id", &p.SourceRequestedEventID),
		pyField{key: "source_model_terminal_seq", kind: fNullInt, ip: &p.SourceTerminalSeq},
		pyField{key: "replay_policy", kind: fPolicy, required: true, s: &p.Policy},
		nullStr("fork_run_id", &p.ForkRunID))
}

func (p *WorkflowStepRequested) fields() pyFields {
	return fieldList(kindField(), reqInt("step_index", &p.StepIndex), reqStr("step_name", &p.StepName))
}

func (p *WorkflowStepCompleted) fields() pyFields {
	return fieldList(kindField(), reqInt("step_index", &p.StepIndex), reqStr("step_name", &p.StepName),
		reqStr("result_json", &p.ResultJSON))
}

// setDefault gives a field that was missing from a decoded object the
// value the Python original's schema gives it.
func (f *pyField) setDefault() {
	switch f.kind {
	case fStr:
		*f.s = f.def
	case fOutcome:
		*f.outcome = ToolOutcome(f.def)
	case fNullStr:
		*f.sp = nil
	case fNullInt:
		*f.ip = nil
	case fStrs:
		*f.strs = []string{}
	case fMsgs:
		*f.msgs = []ChatMessage{}
	case fCalls:
		*f.calls = []ToolCall{}
	}
}

// appendPayload writes p in its canonical (sorted, compact) or its ledger
// column (declaration order, ", " and ": ") form.
func appendPayload(dst []byte, p Payload, canonical bool) []byte {
	list := p.fields()
	fields := list.f[:list.n]
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
		dst = pyjson.AppendString(dst, f.key)
		dst = append(dst, colon...)
		switch f.kind {
		case fKind:
			dst = pyjson.AppendString(dst, string(p.Kind()))
		case fStr:
			dst = pyjson.AppendString(dst, *f.s)
		case fOutcome:
			dst = pyjson.AppendString(dst, string(*f.outcome))
		case fNullStr:
			if *f.sp == nil {
				dst = append(dst, "null"...)
			} else {
				dst = pyjson.AppendString(dst, **f.sp)
			}
		case fInt:
			dst = strconv.AppendInt(dst, *f.i, 10)
		case fNullInt:
			if *f.ip == nil {
				dst = append(dst, "null"...)
			} else {
				dst = strconv.AppendInt(dst, **f.ip, 10)
			}
		case fPolicy:
			dst = pyjson.AppendString(dst, *f.s)
		case fFloat:
			dst = pyjson.AppendFloat(dst, *f.f)
		case fStrs:
			dst = append(dst, '[')
			for j, s := range *f.strs {
				if j > 0 {
					dst = append(dst, comma...)
				}
				dst = pyjson.AppendString(dst, s)
			}
			dst = append(dst, ']')
		case fMsgs:
			dst = append(dst, '[')
			for j := range *f.msgs {
				if j > 0 {
					dst = append(dst, comma...)
				}
				dst = appendMessage(dst, &(*f.msgs)[j], canonical)
			}
			dst = append(dst, ']')
		case fCalls:
			dst = append(dst, '[')
			for j, c := range *f.calls {
				if j > 0 {
					dst = append(dst, comma...)
				}
				if canonical {
					dst = append(dst, `{"arguments_json":`...)
					dst = pyjson.AppendString(dst, c.ArgumentsJSON)
					if c.ID != "" {
						dst = append(dst, `,"tool_call_id":`...)
						dst = pyjson.AppendString(dst, c.ID)
					}
					dst = append(dst, `,"tool_name":`...)
					dst = pyjson.AppendString(dst, c.ToolName)
				} else {
					dst = append(dst, `{"tool_name": `...)
					dst = pyjson.AppendString(dst, c.ToolName)
					dst = append(dst, `, "arguments_json": `...)
					dst = pyjson.AppendString(dst, c.ArgumentsJSON)
					if c.ID != "" {
						dst = append(dst, `, "tool_call_id": `...)
						dst = pyjson.AppendString(dst, c.ID)
					}
				}
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
	}
	return append(dst, '}')
}

// appendMessage writes one message. The fields the Python original's
// messages lack (tool_call_id, name, tool_calls) are left out when empty,
// as the newest Python artana leaves them out when null, so a message
// without them is written exactly as the Python original writes it.
func appendMessage(dst []byte, m *ChatMessage, canonical bool) []byte {
	if !canonical {
		dst = append(dst, `{"role": `...)
		dst = pyjson.AppendString(dst, m.Role)
		dst = append(dst, `, "content": `...)
		dst = pyjson.AppendString(dst, m.Content)
		if m.ToolCallID != "" {
			dst = append(dst, `, "tool_call_id": `...)
			dst = pyjson.AppendString(dst, m.ToolCallID)
		}
		if m.Name != "" {
			dst = append(dst, `, "name": `...)
			dst = pyjson.AppendString(dst, m.Name)
		}
		if len(m.ToolCalls) > 0 {
			dst = append(dst, `, "tool_calls": [`...)
			for i, c := range m.ToolCalls {
				if i > 0 {
					dst = append(dst, ", "...)
				}
				dst = append(dst, `{"id": `...)
				dst = pyjson.AppendString(dst, c.ID)
				dst = append(dst, `, "type": "function", "function": {"name": `...)
				dst = pyjson.AppendString(dst, c.ToolName)
				dst = append(dst, `, "arguments": `...)
				dst = pyjson.AppendString(dst, c.ArgumentsJSON)
				dst = append(dst, "}}"...)
			}
			dst = append(dst, ']')
		}
		return append(dst, '}')
	}
	// Sorted: content, name, role, tool_call_id, tool_calls.
	dst = append(dst, `{"content":`...)
	dst = pyjson.AppendString(dst, m.Content)
	if m.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = pyjson.AppendString(dst, m.Name)
	}
	dst = append(dst, `,"role":`...)
	dst = pyjson.AppendString(dst, m.Role)
	if m.ToolCallID != "" {
		dst = append(dst, `,"tool_call_id":`...)
		dst = pyjson.AppendString(dst, m.ToolCallID)
	}
	if len(m.ToolCalls) > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		for i, c := range m.ToolCalls {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"function":{"arguments":`...)
			dst = pyjson.AppendString(dst, c.ArgumentsJSON)
			dst = append(dst, `,"name":`...)
			dst = pyjson.AppendString(dst, c.ToolName)
			dst = append(dst, `},"id":`...)
			dst = pyjson.AppendString(dst, c.ID)
			dst = append(dst, `,"type":"function"}`...)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// newPayload returns a zero payload of type t, or nil if t is not one of the
// nine event types.
func newPayload(t EventType) Payload {
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
	case EventReplayedWithDrift:
		return &ReplayedWithDrift{}
	}
	return nil
}

// DecodePayload parses a payload of type t from JSON in either the canonical
// or the Python original's column form, validating it as the Python original's schema does: a
// missing required field or a wrongly typed one is an error, a missing field
// that has a default takes it, unknown keys are ignored, and "kind", when
// present, must equal t. Python's bare Infinity is accepted for cost_usd.
func DecodePayload(t EventType, data []byte) (Payload, error) {
	p := newPayload(t)
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
	p := newPayload(t)
	obj, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("%s payload: %w", t, err)
	}
	d := fieldDecoder{obj: obj}
	if kind, ok := d.optString("kind"); ok && kind != string(t) {
		return nil, fmt.Errorf("%s payload: kind %q does not match the event type", t, kind)
	}
	list := p.fields()
	for i := range list.n {
		d.decode(&list.f[i])
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

// decode fills f from the object, or gives it its default when it is
// missing and not required.
func (d *fieldDecoder) decode(f *pyField) {
	if f.kind == fKind {
		return // checked by decodeGeneral
	}
	if _, ok := d.obj[f.key]; !ok && !f.required {
		f.setDefault()
		return
	}
	switch f.kind {
	case fStr:
		*f.s = d.string(f.key)
	case fOutcome:
		*f.outcome = ToolOutcome(d.string(f.key))
	case fNullStr:
		*f.sp = d.nullString(f.key)
	case fInt:
		*f.i = d.int(f.key)
	case fNullInt:
		if v := d.obj[f.key]; isNull(v) {
			*f.ip = nil
		} else {
			n := d.int(f.key)
			*f.ip = &n
		}
	case fPolicy:
		*f.s = d.string(f.key)
	case fFloat:
		*f.f = d.float(f.key)
	case fStrs:
		*f.strs = d.strings(f.key)
	case fMsgs:
		*f.msgs = d.messages(f.key)
	case fCalls:
		*f.calls = d.toolCalls(f.key)
	}
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
		m := ChatMessage{Role: sub.string("role"), Content: sub.string("content"),
			ToolCallID: derefOr(sub.nullString("tool_call_id"), ""), Name: derefOr(sub.nullString("name"), "")}
		m.ToolCalls = sub.messageToolCalls("tool_calls")
		if sub.err != nil {
			d.fail(key, "element %d: %v", i, sub.err)
		}
		out = append(out, m)
	}
	return out
}

func (d *fieldDecoder) toolCalls(key string) []ToolCall {
	objs := d.objects(key, false)
	out := make([]ToolCall, 0, len(objs))
	for i, o := range objs {
		sub := fieldDecoder{obj: o}
		c := ToolCall{ToolName: sub.string("tool_name"), ArgumentsJSON: sub.string("arguments_json"),
			ID: derefOr(sub.nullString("tool_call_id"), "")}
		if sub.err != nil {
			d.fail(key, "element %d: %v", i, sub.err)
		}
		out = append(out, c)
	}
	return out
}

// messageToolCalls reads the tool_calls of a message: null, missing or a
// list of {"id","type":"function","function":{"name","arguments"}}.
func (d *fieldDecoder) messageToolCalls(key string) []ToolCall {
	if v, ok := d.obj[key]; !ok || isNull(v) {
		return nil
	}
	objs := d.objects(key, false)
	var out []ToolCall
	for i, o := range objs {
		sub := fieldDecoder{obj: o}
		c := ToolCall{ID: sub.string("id")}
		if typ := sub.stringDefault("type", "function"); sub.err == nil && typ != "function" {
			sub.fail("type", "want \"function\", got %q", typ)
		}
		if raw, ok := sub.raw("function", true); ok {
			fn, err := decodeObject(raw)
			if err != nil {
				sub.fail("function", "%v", err)
			} else {
				f := fieldDecoder{obj: fn}
				c.ToolName, c.ArgumentsJSON = f.string("name"), f.string("arguments")
				if f.err != nil {
					sub.fail("function", "%v", f.err)
				}
			}
		}
		if sub.err != nil {
			d.fail(key, "element %d: %v", i, sub.err)
		}
		out = append(out, c)
	}
	return out
}
