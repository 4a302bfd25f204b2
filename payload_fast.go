package artana

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast decodes the common shape of a payload, a flat JSON object of
// known keys, straight into p without building a map. It reports false for
// anything unusual (an unknown or repeated key, a missing field, Infinity,
// a lone surrogate, invalid JSON...), and DecodePayload then takes the
// general path, which gives the same result or explains the error.
// FuzzDecodeFast checks that both paths agree.
func decodeFast(p Payload, data []byte) bool {
	s := fastScanner{b: data}
	s.ws()
	if !s.eat('{') {
		return false
	}
	var seen uint32
	s.ws()
	if s.eat('}') {
		return s.end() && fastComplete(p, seen)
	}
	for {
		s.ws()
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		bit, ok := s.field(p, key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return s.end() && fastComplete(p, seen)
		}
		return false
	}
}

// Bits for the fields of a payload, shared across payload types.
const (
	bKind uint32 = 1 << iota
	bModel
	bPrompt
	bMessages
	bAllowedTools
	bStepKey
	bOutputJSON
	bPromptTokens
	bCompletionTokens
	bCost
	bToolCalls
	bToolName
	bArguments
	bIdempotency
	bToolVersion
	bSchemaVersion
	bResultJSON
	bOutcome
	bReceivedKey
	bEffectID
	bRequestID
	bErrorMessage
	bReason
	bContextJSON
	bHumanInput
	bStepIndex
	bStepName
)

// fastComplete reports whether every required field was present, and fills
// the defaults of the optional ones that were not.
func fastComplete(p Payload, seen uint32) bool {
	has := func(bits uint32) bool { return seen&bits == bits }
	switch p := p.(type) {
	case *RunStarted, *ResumeRequested:
		return true
	case *PauseRequested:
		return has(bReason)
	case *ModelRequested:
		if !has(bAllowedTools) {
			p.AllowedTools = []string{}
		}
		return has(bModel | bPrompt | bMessages)
	case *ModelCompleted:
		if !has(bToolCalls) {
			p.ToolCalls = []ToolCallRecord{}
		}
		return has(bModel | bOutputJSON | bPromptTokens | bCompletionTokens | bCost)
	case *ToolRequested:
		if !has(bToolVersion) {
			p.ToolVersion = DefaultToolVersion
		}
		if !has(bSchemaVersion) {
			p.SchemaVersion = DefaultSchemaVersion
		}
		return has(bToolName | bArguments | bIdempotency)
	case *ToolCompleted:
		if !has(bOutcome) {
			p.Outcome = OutcomeSuccess
		}
		return has(bToolName | bResultJSON)
	case *WorkflowStepRequested:
		return has(bStepIndex | bStepName)
	case *WorkflowStepCompleted:
		return has(bStepIndex | bStepName | bResultJSON)
	}
	return false
}

type fastScanner struct {
	b []byte
	i int
}

func (s *fastScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *fastScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *fastScanner) end() bool { s.ws(); return s.i == len(s.b) }

// field decodes the value of key into p and returns the key's bit.
func (s *fastScanner) field(p Payload, key string) (uint32, bool) {
	if key == "kind" {
		k, ok := s.str()
		return bKind, ok && k == string(p.Kind())
	}
	switch p := p.(type) {
	case *ResumeRequested:
		if key == "human_input_json" {
			return bHumanInput, s.nullStr(&p.HumanInputJSON)
		}
	case *PauseRequested:
		switch key {
		case "reason":
			return bReason, s.strTo(&p.Reason)
		case "context_json":
			return bContextJSON, s.nullStr(&p.ContextJSON)
		case "step_key":
			return bStepKey, s.nullStr(&p.StepKey)
		}
	case *ModelRequested:
		switch key {
		case "model":
			return bModel, s.strTo(&p.Model)
		case "prompt":
			return bPrompt, s.strTo(&p.Prompt)
		case "messages":
			return bMessages, s.pairs("role", "content", func(a, b string) {
				p.Messages = append(p.Messages, ChatMessage{Role: a, Content: b})
			}, func() { p.Messages = []ChatMessage{} })
		case "allowed_tools":
			return bAllowedTools, s.strs(&p.AllowedTools)
		case "step_key":
			return bStepKey, s.nullStr(&p.StepKey)
		}
	case *ModelCompleted:
		switch key {
		case "model":
			return bModel, s.strTo(&p.Model)
		case "output_json":
			return bOutputJSON, s.strTo(&p.OutputJSON)
		case "prompt_tokens":
			return bPromptTokens, s.int(&p.PromptTokens)
		case "completion_tokens":
			return bCompletionTokens, s.int(&p.CompletionTokens)
		case "cost_usd":
			return bCost, s.float(&p.CostUSD)
		case "tool_calls":
			return bToolCalls, s.pairs("tool_name", "arguments_json", func(a, b string) {
				p.ToolCalls = append(p.ToolCalls, ToolCallRecord{ToolName: a, ArgumentsJSON: b})
			}, func() { p.ToolCalls = []ToolCallRecord{} })
		}
	case *ToolRequested:
		switch key {
		case "tool_name":
			return bToolName, s.strTo(&p.ToolName)
		case "arguments_json":
			return bArguments, s.strTo(&p.ArgumentsJSON)
		case "idempotency_key":
			return bIdempotency, s.strTo(&p.IdempotencyKey)
		case "tool_version":
			return bToolVersion, s.strTo(&p.ToolVersion)
		case "schema_version":
			return bSchemaVersion, s.strTo(&p.SchemaVersion)
		case "step_key":
			return bStepKey, s.nullStr(&p.StepKey)
		}
	case *ToolCompleted:
		switch key {
		case "tool_name":
			return bToolName, s.strTo(&p.ToolName)
		case "result_json":
			return bResultJSON, s.strTo(&p.ResultJSON)
		case "outcome":
			v, ok := s.str()
			p.Outcome = ToolOutcome(v)
			return bOutcome, ok
		case "received_idempotency_key":
			return bReceivedKey, s.nullStr(&p.ReceivedIdempotencyKey)
		case "effect_id":
			return bEffectID, s.nullStr(&p.EffectID)
		case "request_id":
			return bRequestID, s.nullStr(&p.RequestID)
		case "error_message":
			return bErrorMessage, s.nullStr(&p.ErrorMessage)
		}
	case *WorkflowStepRequested:
		switch key {
		case "step_index":
			return bStepIndex, s.int(&p.StepIndex)
		case "step_name":
			return bStepName, s.strTo(&p.StepName)
		}
	case *WorkflowStepCompleted:
		switch key {
		case "step_index":
			return bStepIndex, s.int(&p.StepIndex)
		case "step_name":
			return bStepName, s.strTo(&p.StepName)
		case "result_json":
			return bResultJSON, s.strTo(&p.ResultJSON)
		}
	}
	return 0, false // an unknown key: the general path ignores it
}

func (s *fastScanner) strTo(dst *string) bool {
	v, ok := s.str()
	*dst = v
	return ok
}

func (s *fastScanner) nullStr(dst **string) bool {
	if s.literal("null") {
		*dst = nil
		return true
	}
	v, ok := s.str()
	*dst = &v
	return ok
}

func (s *fastScanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// str parses a JSON string. It gives up on invalid UTF-8 and lone
// surrogates, which encoding/json would replace with U+FFFD.
func (s *fastScanner) str() (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) { // fast scan: no escapes, ASCII only
		c := s.b[s.i]
		if c == '"' {
			v := string(s.b[start:s.i])
			s.i++
			return v, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		s.i++
	}
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return "", false
			}
			out = append(out, s.b[s.i:s.i+n]...)
			s.i += n
		case c != '\\':
			out = append(out, c)
			s.i++
		default:
			if s.i+1 >= len(s.b) {
				return "", false
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					if !s.literal(`\u`) {
						return "", false
					}
					r2, ok := s.hex4()
					if !ok {
						return "", false
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", false
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", false
			}
		}
	}
	return "", false
}

func (s *fastScanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// number returns the text of a JSON number literal.
func (s *fastScanner) number() (string, bool) {
	start := s.i
	s.eat('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.eat('0') {
		// no further integer digits allowed
	} else if digits() == 0 {
		return "", false
	}
	if s.eat('.') && digits() == 0 {
		return "", false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return string(s.b[start:s.i]), true
}

func (s *fastScanner) int(dst *int64) bool {
	lit, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	*dst = v
	return err == nil
}

func (s *fastScanner) float(dst *float64) bool {
	lit, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(lit, 64)
	*dst = v
	return err == nil || math.IsInf(v, 0)
}

func (s *fastScanner) strs(dst *[]string) bool {
	*dst = []string{}
	if !s.eat('[') {
		return false
	}
	s.ws()
	if s.eat(']') {
		return true
	}
	for {
		s.ws()
		v, ok := s.str()
		if !ok {
			return false
		}
		*dst = append(*dst, v)
		s.ws()
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}

// pairs parses a list of objects that each hold exactly the string fields
// a and b, in any order.
func (s *fastScanner) pairs(a, b string, add func(a, b string), empty func()) bool {
	empty()
	if !s.eat('[') {
		return false
	}
	s.ws()
	if s.eat(']') {
		return true
	}
	for {
		s.ws()
		if !s.eat('{') {
			return false
		}
		var va, vb string
		var seenA, seenB bool
		for {
			s.ws()
			k, ok := s.str()
			if !ok {
				return false
			}
			s.ws()
			if !s.eat(':') {
				return false
			}
			s.ws()
			v, ok := s.str()
			if !ok {
				return false
			}
			switch {
			case k == a && !seenA:
				va, seenA = v, true
			case k == b && !seenB:
				vb, seenB = v, true
			default:
				return false
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if !s.eat('}') {
				return false
			}
			break
		}
		if !seenA || !seenB {
			return false
		}
		add(va, vb)
		s.ws()
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}
