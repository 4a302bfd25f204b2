// Package pyjson writes and reads JSON exactly as the Python original of
// artana does with CPython's json module: ensure_ascii string escaping,
// float repr, canonical (sorted, compact) documents, and a scanner for the
// common shapes of stored payloads.
package pyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the one place that writes the JSON that gets hashed. It
// reproduces CPython's json.dumps with ensure_ascii=True: every non-ASCII code
// point and DEL escaped as \uXXXX in lowercase hex (astral code points as
// UTF-16 surrogate pairs), the short escapes for \b \f \n \r \t, and <, >, &
// left literal. Floats are written as Python's repr.

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal exactly as CPython's
// json.dumps with ensure_ascii writes it: every non-ASCII code point and
// DEL as lowercase \uXXXX, astral code points as surrogate pairs, short
// escapes for \b \f \n \r \t, and <, > and & literal. Invalid UTF-8 bytes
// are written as \ufffd, as encoding/json does; payload validation rejects
// such text before it reaches a store.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(load8(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			dst = appendASCIIEscape(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendU4(dst, 0xd800+(r>>10))
			dst = appendU4(dst, 0xdc00+(r&0x3ff))
		} else {
			dst = appendU4(dst, r) // includes utf8.RuneError for invalid bytes
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// load8 returns the 8 bytes of s at i as a little-endian word.
func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// plain8 reports whether each of the 8 bytes of x is one AppendString
// writes as it is: 0x20 to 0x7e but '"' and '\\'. It tests them at once:
// a high bit (non-ASCII), a byte below 0x20, a byte equal to '"', '\\'
// or DEL (the bit tricks' exact tests for "some byte is less than n" and
// "some byte is zero").
func plain8(x uint64) bool {
	bad := x | (x-0x20*lsb8)&^x
	q := x ^ ('"' * lsb8)
	b := x ^ ('\\' * lsb8)
	d := x ^ (0x7f * lsb8)
	bad |= (q-lsb8)&^q | (b-lsb8)&^b | (d-lsb8)&^d
	return bad&msb8 == 0
}

// appendASCIIEscape appends the escape both dialects write for the ASCII
// byte c: the short forms for '"', '\\' and \n \r \t \b \f, \u00XX for
// any other (control characters and, in json.dumps's form, DEL).
func appendASCIIEscape(dst []byte, c byte) []byte {
	switch c {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return appendU4(dst, rune(c))
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// AppendFloat appends f as CPython's json.dumps writes a float: repr for
// finite values, and the bare tokens Infinity, -Infinity and NaN otherwise.
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	return appendRepr(dst, f)
}

// appendRepr appends Python's repr of a finite float: the shortest digits
// that round-trip, in fixed notation when the decimal exponent is in
// [-4, 16), otherwise d[.ddd]e±XX; whole numbers keep ".0".
func appendRepr(dst []byte, f float64) []byte { return appendReprFloat(dst, f, 64) }

// Float returns the text CPython's json.dumps writes for f: repr(f) for
// finite values (1e-05, 0.0, 100.0, 1e+16), Infinity, -Infinity or NaN
// otherwise.
func Float(f float64) string { return string(AppendFloat(nil, f)) }

// Canonicalize rewrites a JSON document in the canonical form described at
// Marshal. It fails on invalid JSON.
func Canonicalize(data []byte) ([]byte, error) {
	if out, ok := canonicalizeFast(nil, data); ok {
		return out, nil
	}
	return canonicalizeGeneral(data)
}

// canonicalizeGeneral is Canonicalize through encoding/json: the
// reference for canonicalizeFast, and the path that explains errors.
func canonicalizeGeneral(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("canonical JSON: trailing data after the document")
	}
	return appendCanonicalValue(nil, v)
}

func appendCanonicalValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if v {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case string:
		return AppendString(dst, v), nil
	case json.Number:
		return AppendNumber(dst, string(v))
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendCanonicalValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, CompareKeys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendCanonicalValue(dst, v[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	return nil, fmt.Errorf("canonical JSON: unexpected %T", v)
}

// AppendNumber writes a JSON number literal as Python would after parsing
// it: integers verbatim (Python ints are unbounded), everything else as a
// float repr.
func AppendNumber(dst []byte, lit string) ([]byte, error) {
	if !strings.ContainsAny(lit, ".eE") {
		return append(dst, lit...), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, fmt.Errorf("canonical JSON: number %s: %w", lit, err)
	}
	return AppendFloat(dst, f), nil
}

// CompareKeys orders strings by code point, as Python's sort_keys does.
// Byte order of valid UTF-8 is code point order.
func CompareKeys(a, b string) int { return strings.Compare(a, b) }
