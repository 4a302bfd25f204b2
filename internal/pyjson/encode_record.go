package pyjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// errRecordFallback is returned by the record dialect for what only
// encoding/json writes exactly (map keys that are not UTF-8, or equal once
// resolved); Marshal then takes encoding/json's path.
var errRecordFallback = errors.New("pyjson: left to encoding/json")

// Marshal returns v as the Python original writes hashed and compared JSON:
// json.dumps(v, sort_keys=True, separators=(",", ":")) with ensure_ascii,
// of v as encoding/json sees it (struct tags and Marshaler implementations
// apply): object keys sorted by code point at every level, no whitespace,
// strings escaped as Python does, integers verbatim and other numbers as
// Python's float repr.
//
// Numbers are taken as encoding/json writes them, not by their Go type: a
// float64 field holding a whole number, which encoding/json writes as 100,
// stays 100, where pydantic writes a float field as 100.0. It is the form
// of the project's own records (recorder fingerprints, cassette bodies),
// whose bytes must not change; values the Python original also logs (tool
// arguments, workflow results) are written with Dumps, which follows the Go
// types. Marshal is the type-driven encoder of Dumps in its record dialect
// and writes what encoding/json followed by Canonicalize writes
// (FuzzMarshalRecord checks it).
func Marshal(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return Canonicalize(raw)
	}
	b, err := marshal(v, recordDialect)
	if err == errRecordFallback {
		return marshalGeneral(v)
	}
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return b, nil
}

// marshalGeneral is Marshal through encoding/json and Canonicalize: the
// reference of the record dialect.
func marshalGeneral(v any) ([]byte, error) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		raw, err = json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("canonical JSON: %w", err)
		}
	}
	return Canonicalize(raw)
}

// appendCanonical appends the canonical form of b, a json.Marshaler's
// output of type t.
func appendCanonical(dst, b []byte, t reflect.Type) ([]byte, error) {
	if out, ok := canonicalizeFast(dst, b); ok {
		return out, nil
	}
	c, err := canonicalizeGeneral(b)
	if err != nil {
		return nil, &json.MarshalerError{Type: t, Err: err}
	}
	return append(dst, c...), nil
}

// appendJSONFloat appends f as encoding/json writes a float of the given
// bits: shortest digits, fixed notation from 1e-6 to below 1e21, else an
// exponent without padding (1e-07 is written 1e-7).
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		if n := len(dst) - start; n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}
