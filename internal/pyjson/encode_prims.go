package pyjson

// pyString and pyFloatToken are artana's appendPyString and appendPyFloat
// (ensure_ascii strings, json.dumps floats), copied until those move into
// this package.

import (
	"math"
	"unicode/utf8"
)

func pyString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = appendU4Tmp(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendU4Tmp(dst, 0xd800+(r>>10))
			dst = appendU4Tmp(dst, 0xdc00+(r&0x3ff))
		} else {
			dst = appendU4Tmp(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendU4Tmp(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u',
		hexDigitsLower[r>>12&0xf], hexDigitsLower[r>>8&0xf], hexDigitsLower[r>>4&0xf], hexDigitsLower[r&0xf])
}

func pyFloatToken(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	return appendReprFloat(dst, f, 64)
}
