package pyjson

// maxSkipDepth is encoding/json's limit on nesting: Valid refuses deeper
// documents, as json.Valid does.
const maxSkipDepth = 10000

// Valid reports whether data is one JSON value, with white space around it
// allowed, exactly as json.Valid does (strings may hold invalid UTF-8 and
// lone surrogate escapes; nesting deeper than 10000 is refused), without
// its per-byte state machine.
func Valid(data []byte) bool {
	s := Scanner{B: data}
	s.WS()
	return s.Skip() && s.End()
}

// Skip checks the JSON value at I and moves past it, reporting false for
// anything json.Valid refuses. White space before the value is not
// skipped.
func (s *Scanner) Skip() bool { return s.skip(0) }

func (s *Scanner) skip(depth int) bool {
	if s.I >= len(s.B) {
		return false
	}
	switch c := s.B[s.I]; c {
	case '"':
		return s.skipString()
	case '{', '[':
		if depth++; depth > maxSkipDepth {
			return false
		}
		s.I++
		s.WS()
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if s.Eat(end) {
			return true
		}
		for {
			if c == '{' {
				if !s.skipString() {
					return false
				}
				s.WS()
				if !s.Eat(':') {
					return false
				}
				s.WS()
			}
			if !s.skip(depth) {
				return false
			}
			s.WS()
			if s.Eat(',') {
				s.WS()
				continue
			}
			return s.Eat(end)
		}
	case 't':
		return s.Literal("true")
	case 'f':
		return s.Literal("false")
	case 'n':
		return s.Literal("null")
	}
	_, ok := s.Number()
	return ok
}

// skipString moves past the JSON string at I: any byte but '"', '\\' and
// control characters, and the escapes \" \\ \/ \b \f \n \r \t \uXXXX.
func (s *Scanner) skipString() bool {
	if !s.Eat('"') {
		return false
	}
	for s.I < len(s.B) {
		b := s.B[s.I:]
		n := 0
		for n < len(b) && plainStringByte[b[n]] {
			n++
		}
		s.I += n
		if n == len(b) {
			return false
		}
		switch b[n] {
		case '"':
			s.I++
			return true
		case '\\':
		default:
			return false // a control character
		}
		if s.I+1 >= len(s.B) {
			return false
		}
		switch s.B[s.I+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.I += 2
		case 'u':
			s.I += 2
			if _, ok := hex4(s.B, s.I); !ok {
				return false
			}
			s.I += 4
		default:
			return false
		}
	}
	return false
}

// plainStringByte is true for the bytes a JSON string holds as they are:
// all but '"', '\\' and control characters.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
