package artana

import (
	"math"
	"slices"
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
	list := p.fields()
	fields := list.f[:list.n]
	s := fastScanner{b: data}
	s.ws()
	if !s.eat('{') {
		return false
	}
	var seen uint32
	s.ws()
	if !s.eat('}') {
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
			i := slices.IndexFunc(fields, func(f pyField) bool { return f.key == key })
			if i < 0 || seen&(1<<i) != 0 || !s.value(p, &fields[i]) {
				return false // an unknown or repeated key, or an unusual value
			}
			seen |= 1 << i
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return false
		}
	}
	if !s.end() {
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
func (s *fastScanner) value(p Payload, f *pyField) bool {
	switch f.kind {
	case fKind:
		k, ok := s.str()
		return ok && k == string(p.Kind())
	case fStr:
		return s.strTo(f.s)
	case fOutcome:
		v, ok := s.str()
		*f.outcome = ToolOutcome(v)
		return ok
	case fNullStr:
		return s.nullStr(f.sp)
	case fInt:
		return s.int(f.i)
	case fFloat:
		return s.float(f.f)
	case fStrs:
		return s.strs(f.strs)
	case fMsgs:
		*f.msgs = []ChatMessage{}
		return s.pairs("role", "content", func(a, b string) {
			*f.msgs = append(*f.msgs, ChatMessage{Role: a, Content: b})
		})
	case fCalls:
		*f.calls = []ToolCall{}
		return s.pairs("tool_name", "arguments_json", func(a, b string) {
			*f.calls = append(*f.calls, ToolCall{ToolName: a, ArgumentsJSON: b})
		})
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
func (s *fastScanner) pairs(a, b string, add func(a, b string)) bool {
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
