package pyjson

import (
	"strconv"
	"unicode/utf8"
)

// This file holds the second way the Python original writes JSON: pydantic's
// model_dump_json, used for model outputs (output_json), pause contexts
// (context_json), human input (human_input_json) and pydantic_step_serde
// results. Measured on the Python original's pydantic 2:
//
//   - strings are raw UTF-8: only ", \ and U+0000-U+001F are escaped (\b \f
//     \n \r \t short, the others \u00XX in lowercase hex); DEL, U+2028,
//     U+2029 and <, >, & are written as they are;
//   - floats have the shortest digits that round-trip, in fixed notation when
//     1e-5 <= |x| < 1e16 (0.00001, 100.0), otherwise d[.ddd]e±X with no
//     padding of the exponent (1e-7, 2.5e-8, 1e+16), where repr writes 1e-07.

// AppendModelString appends s as a JSON string literal as pydantic's
// model_dump_json writes it. Invalid UTF-8 bytes are written as U+FFFD.
func AppendModelString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendASCIIEscape(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendModelFloat appends a finite f as pydantic's model_dump_json writes
// a float (0.00001, 100.0, 1e-7, 1e+16). The caller rejects NaN and ±Inf.
func AppendModelFloat(dst []byte, f float64) []byte {
	return appendFloatNotation(dst, f, 64, -5, false)
}

// appendReprFloat appends a finite f as Python's repr (0.0001, 1e-05,
// 100.0, 1e+16). bits is 32 for a float32, whose shortest digits are
// those of the float32.
func appendReprFloat(dst []byte, f float64, bits int) []byte {
	return appendFloatNotation(dst, f, bits, -4, true)
}

// appendFloatNotation writes the shortest round-trip digits of a finite f in
// fixed notation when minExp <= exponent < 16 (whole numbers keep ".0"),
// otherwise as d[.ddd]e±X, the exponent padded to two digits if padExp.
// It does not allocate.
func appendFloatNotation(dst []byte, f float64, bits, minExp int, padExp bool) []byte {
	var buf [32]byte
	// [-]d[.ddd]e±XX[X]
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	i++ // 'e'
	negExp := e[i] == '-'
	exp := 0
	for i++; i < len(e); i++ {
		exp = exp*10 + int(e[i]-'0')
	}
	if negExp {
		exp = -exp
	}
	return appendNotation(dst, digits[:nd], exp, minExp, padExp)
}

// appendNotation writes the decimal d[0].d[1:] × 10^exp (d without
// leading or trailing zeros, or "0") as appendFloatNotation does.
func appendNotation(dst, d []byte, exp, minExp int, padExp bool) []byte {
	nd := len(d)
	if exp >= minExp && exp < 16 {
		decpt := exp + 1
		switch {
		case decpt <= 0:
			dst = append(dst, '0', '.')
			for range -decpt {
				dst = append(dst, '0')
			}
			dst = append(dst, d...)
		case decpt >= nd:
			dst = append(dst, d...)
			for range decpt - nd {
				dst = append(dst, '0')
			}
			dst = append(dst, '.', '0')
		default:
			dst = append(dst, d[:decpt]...)
			dst = append(dst, '.')
			dst = append(dst, d[decpt:]...)
		}
		return dst
	}
	dst = append(dst, d[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, d[1:]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if padExp && exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}
