package ledger

import (
	"slices"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// decodeFast decodes the common shape of a payload, a flat JSON object of
// known keys, straight into p without building a map. It reports false for
// anything unusual (an unknown or repeated key, a missing field, Infinity,
// a lone surrogate, invalid JSON...), and DecodePayload then takes the
// general path, which gives the same result or explains the error.
// FuzzDecodeFast checks that both paths agree.
func decodeFast(p Payload, data []byte) bool {
	s := pyjson.Scanner{B: data}
	return decodeWith(&s, p)
}

// decodeFastReuse is decodeFast into a payload that is decoded into again
// and again, for a verifier that only reads it before the next event: its
// strings point into data, or into *arena for those with escapes, and its
// lists and optional strings keep their memory (pyjson.Scanner.Reuse). It
// allocates nothing once the arena and the lists have grown to the size of
// the largest event.
func decodeFastReuse(p Payload, data []byte, arena *[]byte) bool {
	s := pyjson.Scanner{B: data, Reuse: true, Arena: (*arena)[:0]}
	ok := decodeWith(&s, p)
	*arena = s.Arena
	return ok
}

func decodeWith(s *pyjson.Scanner, p Payload) bool {
	list := p.fields()
	fields := list.f[:list.n]
	s.WS()
	if !s.Eat('{') {
		return false
	}
	var seen uint32
	s.WS()
	if !s.Eat('}') {
		for {
			s.WS()
			key, ok := s.Name()
			if !ok {
				return false
			}
			s.WS()
			if !s.Eat(':') {
				return false
			}
			s.WS()
			i := slices.IndexFunc(fields, func(f pyField) bool { return f.key == key })
			if i < 0 || seen&(1<<i) != 0 || !value(s, p, &fields[i]) {
				return false // an unknown or repeated key, or an unusual value
			}
			seen |= 1 << i
			s.WS()
			if s.Eat(',') {
				continue
			}
			if s.Eat('}') {
				break
			}
			return false
		}
	}
	if !s.End() {
		return false
	}
	for i := range fields {
		if seen&(1<<i) == 0 {
			if fields[i].required {
				return false
			}
			fields[i].setDefault()
		}
	}
	return true
}

// value decodes the value of field f of p.
func value(s *pyjson.Scanner, p Payload, f *pyField) bool {
	switch f.kind {
	case fKind:
		k, ok := s.Name()
		return ok && k == string(p.Kind())
	case fStr:
		return s.StrTo(f.s)
	case fOutcome:
		v, ok := s.Str()
		*f.outcome = ToolOutcome(v)
		return ok
	case fNullStr:
		return s.NullStr(f.sp)
	case fInt:
		return s.Int(f.i)
	case fNullInt:
		if s.Literal("null") {
			*f.ip = nil
			return true
		}
		if s.Reuse && *f.ip != nil {
			return s.Int(*f.ip)
		}
		var n int64
		*f.ip = &n
		return s.Int(&n)
	case fPolicy:
		v, ok := s.Str()
		*f.s = v
		return ok
	case fFloat:
		return s.Float(f.f)
	case fStrs:
		return s.Strs(f.strs)
	case fMsgs:
		*f.msgs = pyjson.Reset(s, *f.msgs)
		return s.Pairs("role", "content", func(a, b string) {
			*f.msgs = append(*f.msgs, ChatMessage{Role: a, Content: b})
		})
	case fCalls:
		*f.calls = pyjson.Reset(s, *f.calls)
		return s.Pairs("tool_name", "arguments_json", func(a, b string) {
			*f.calls = append(*f.calls, ToolCall{ToolName: a, ArgumentsJSON: b})
		})
	}
	return false
}
