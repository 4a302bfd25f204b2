package pyjson

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// A Scanner reads JSON values from B, starting at I, in the common shapes
// only: each method reports false for anything unusual (invalid UTF-8, a
// lone surrogate, an unexpected token...), and the caller then falls back
// to encoding/json, which gives the same result or explains the error.
//
// With Reuse set, it decodes for a reader that only looks at the values
// before it decodes the next input, as a verifier does: strings are views
// of B (or, when they had escapes, of Arena), and Strs, NullStr and the
// lists built with Pairs reuse the memory of the previous values, so that
// decoding allocates nothing once the arena has grown to the size of the
// largest input. B must then not change while the values are in use.
type Scanner struct {
	B     []byte
	I     int
	Reuse bool
	Arena []byte // with Reuse: the text of strings that had escapes
}

// Reset returns an empty list to decode into: list itself, emptied, with
// Reuse.
func Reset[T any](s *Scanner, list []T) []T {
	if s.Reuse && list != nil {
		return list[:0]
	}
	return []T{}
}

// view returns b as a string without copying it.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Name parses a JSON string that is only compared, never kept, such as a
// key: without escapes it is a view of B, whatever Reuse says.
func (s *Scanner) Name() (string, bool) {
	if s.I < len(s.B) && s.B[s.I] == '"' {
		for j := s.I + 1; j < len(s.B); j++ {
			c := s.B[j]
			if c == '"' {
				v := view(s.B[s.I+1 : j])
				s.I = j + 1
				return v, true
			}
			if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
		}
	}
	return s.Str()
}

func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

func (s *Scanner) Eat(c byte) bool {
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

func (s *Scanner) End() bool { s.WS(); return s.I == len(s.B) }

func (s *Scanner) StrTo(dst *string) bool {
	v, ok := s.Str()
	*dst = v
	return ok
}

func (s *Scanner) NullStr(dst **string) bool {
	if s.Literal("null") {
		*dst = nil
		return true
	}
	v, ok := s.Str()
	if s.Reuse && *dst != nil {
		**dst = v
	} else {
		*dst = &v
	}
	return ok
}

func (s *Scanner) Literal(lit string) bool {
	if len(s.B)-s.I >= len(lit) && string(s.B[s.I:s.I+len(lit)]) == lit {
		s.I += len(lit)
		return true
	}
	return false
}

// Str parses a JSON string. It gives up on invalid UTF-8 and lone
// surrogates, which encoding/json would replace with U+FFFD.
func (s *Scanner) Str() (string, bool) {
	if !s.Eat('"') {
		return "", false
	}
	start := s.I
	for s.I < len(s.B) { // fast scan: no escapes, ASCII only
		c := s.B[s.I]
		if c == '"' {
			var v string
			if s.Reuse {
				v = view(s.B[start:s.I])
			} else {
				v = string(s.B[start:s.I])
			}
			s.I++
			return v, true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		s.I++
	}
	var out []byte
	if s.Reuse {
		out = s.Arena[len(s.Arena):] // the arena's spare room; copied into it at the end
	}
	out, end, err := unquote(append(out, s.B[start:s.I]...), s.B, s.I, strictStrings)
	if err != nil {
		return "", false
	}
	s.I = end
	if s.Reuse {
		s.Arena = append(s.Arena, out...)
		return view(s.Arena[len(s.Arena)-len(out):]), true
	}
	return string(out), true
}

// number returns the text of a JSON number literal.
func (s *Scanner) Number() (string, bool) {
	start := s.I
	s.Eat('-')
	digits := func() int {
		n := 0
		for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
			s.I++
			n++
		}
		return n
	}
	if s.Eat('0') {
		// no further integer digits allowed
	} else if digits() == 0 {
		return "", false
	}
	if s.Eat('.') && digits() == 0 {
		return "", false
	}
	if s.Eat('e') || s.Eat('E') {
		if !s.Eat('+') {
			s.Eat('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return view(s.B[start:s.I]), true // only parsed, never kept
}

func (s *Scanner) Int(dst *int64) bool {
	lit, ok := s.Number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	*dst = v
	return err == nil
}

func (s *Scanner) Float(dst *float64) bool {
	lit, ok := s.Number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(lit, 64)
	*dst = v
	return err == nil || math.IsInf(v, 0)
}

func (s *Scanner) Strs(dst *[]string) bool {
	*dst = Reset(s, *dst)
	if !s.Eat('[') {
		return false
	}
	s.WS()
	if s.Eat(']') {
		return true
	}
	for {
		s.WS()
		v, ok := s.Str()
		if !ok {
			return false
		}
		*dst = append(*dst, v)
		s.WS()
		if s.Eat(',') {
			continue
		}
		return s.Eat(']')
	}
}

// Pairs parses a list of objects that each hold exactly the string fields
// a and b, in any order.
func (s *Scanner) Pairs(a, b string, add func(a, b string)) bool {
	if !s.Eat('[') {
		return false
	}
	s.WS()
	if s.Eat(']') {
		return true
	}
	for {
		s.WS()
		if !s.Eat('{') {
			return false
		}
		var va, vb string
		var seenA, seenB bool
		for {
			s.WS()
			k, ok := s.Name()
			if !ok {
				return false
			}
			s.WS()
			if !s.Eat(':') {
				return false
			}
			s.WS()
			v, ok := s.Str()
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
			s.WS()
			if s.Eat(',') {
				continue
			}
			if !s.Eat('}') {
				return false
			}
			break
		}
		if !seenA || !seenB {
			return false
		}
		add(va, vb)
		s.WS()
		if s.Eat(',') {
			continue
		}
		return s.Eat(']')
	}
}
