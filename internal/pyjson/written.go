package pyjson

import "encoding/binary"

// Written parses a JSON string that is exactly the text AppendString
// writes for the string it decodes to, and returns the text between its
// quotes as it stands, escapes undecoded (a view of B, whatever Reuse
// says). It reports false for any other string: one with a byte AppendString
// escapes (a control character, DEL, non-ASCII), an escape it does not
// write (\/, \u0041, \u000a for \n, uppercase hex), a lone surrogate, or an
// unterminated string. A verifier that only needs to know that a stored
// string is in the writer's form, and to copy its text, need not decode it.
//
// The text it returns is ASCII, and what it decodes to is valid UTF-8; it
// equals the decoded string when it has no backslash.
func (s *Scanner) Written() (string, bool) {
	if !s.Eat('"') {
		return "", false
	}
	b, start := s.B, s.I
	i := start
	for {
		for i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			return "", false
		}
		switch c := b[i]; {
		case c == '"':
			s.I = i + 1
			return view(b[start:i]), true
		case c == '\\':
			n := writtenEscape(b, i)
			if n == 0 {
				return "", false
			}
			i += n
		case c >= 0x20 && c < 0x7f:
			i++
		default:
			return "", false
		}
	}
}

// writtenEscape returns the length of the escape at b[i] (a backslash) when
// it is one AppendString writes, else 0.
func writtenEscape(b []byte, i int) int {
	if i+1 >= len(b) {
		return 0
	}
	switch b[i+1] {
	case '"', '\\', 'n', 'r', 't', 'b', 'f':
		return 2
	case 'u':
	default:
		return 0
	}
	r, ok := lowerHex4(b, i+2)
	switch {
	case !ok:
		return 0
	case r < 0x80:
		// \u00XX only for the ASCII bytes that have no short escape and
		// are not written as they are: control characters and DEL.
		switch r {
		case '\b', '\t', '\n', '\f', '\r':
			return 0
		case 0x7f:
			return 6
		}
		if r < 0x20 {
			return 6
		}
		return 0
	case r >= 0xd800 && r < 0xdc00: // must be followed by its low half
		if i+12 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
			return 0
		}
		if lo, ok := lowerHex4(b, i+8); !ok || lo < 0xdc00 || lo >= 0xe000 {
			return 0
		}
		return 12
	case r >= 0xdc00 && r < 0xe000: // a lone low surrogate
		return 0
	}
	return 6
}

// lowerHex4 reads the four lowercase hex digits at b[i:].
func lowerHex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
