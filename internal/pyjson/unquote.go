package pyjson

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// A stringMode says what unquote does with the two things JSON's grammar
// allows in a string but a Go string cannot carry as written: invalid UTF-8
// and surrogate escapes that do not form a pair (\ud800).
type stringMode uint8

const (
	// strictStrings reports them (errStringUTF8, errStringSurrogate). The
	// fast paths (Scanner, canonicalizeFast) decode in this mode: they
	// leave such strings to encoding/json, which gives the same result or
	// explains the error.
	strictStrings stringMode = iota
	// lenientStrings replaces each invalid byte and each unpaired
	// surrogate escape with U+FFFD, as encoding/json decodes them. The
	// rewriting of JSON text (CanonicalizeModel) decodes in this mode: it
	// accepts every document json.Valid accepts and has no fallback.
	lenientStrings
)

// The errors of unquote. Only strictStrings reports the last two.
var (
	errStringControl   = errors.New("control character in a string")
	errStringEscape    = errors.New("invalid escape in a string")
	errStringU4        = errors.New(`invalid \u escape in a string`)
	errStringEnd       = errors.New("unterminated string")
	errStringUTF8      = errors.New("invalid UTF-8 in a string")
	errStringSurrogate = errors.New("unpaired surrogate escape in a string")
)

// unquote decodes a JSON string. b[i:] is the rest of its text: i is just
// after the opening quote, or after a stretch without escapes that the
// caller already appended to dst. It appends the decoded text to dst and
// returns dst and the index just after the closing quote; on an error, the
// index of the byte at fault (the backslash of a bad escape) and one of the
// errString errors.
func unquote(dst, b []byte, i int, mode stringMode) ([]byte, int, error) {
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return dst, i + 1, nil
		case c < 0x20:
			return dst, i, errStringControl
		case c < utf8.RuneSelf && c != '\\':
			dst = append(dst, c)
			i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				if mode == strictStrings {
					return dst, i, errStringUTF8
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
				i++
				continue
			}
			dst = append(dst, b[i:i+n]...)
			i += n
		default: // an escape
			if i+1 >= len(b) {
				return dst, len(b), errStringEnd
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, n, err := unquoteU(b, i, mode)
				if err != nil {
					return dst, i, err
				}
				dst = utf8.AppendRune(dst, r)
				i += n
				continue
			default:
				return dst, i, errStringEscape
			}
			i += 2
		}
	}
	return dst, len(b), errStringEnd
}

// unquoteU decodes the \u escape at b[i] and, when it is the first half of
// a surrogate pair, the \u escape of the second half after it. It returns
// the rune and the length of the text it decoded. A surrogate escape not
// followed by its other half decodes alone (to U+FFFD, or errStringSurrogate
// in strictStrings), as encoding/json decodes it.
func unquoteU(b []byte, i int, mode stringMode) (rune, int, error) {
	r, ok := hex4(b, i+2)
	if !ok {
		return 0, 0, errStringU4
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
		if lo, ok := hex4(b, i+8); ok {
			if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
				return pair, 12, nil
			}
		}
	}
	if mode == strictStrings {
		return 0, 0, errStringSurrogate
	}
	return utf8.RuneError, 6, nil
}

// hex4 decodes the four hexadecimal digits at b[i].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || len(b)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
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
	return r, true
}
