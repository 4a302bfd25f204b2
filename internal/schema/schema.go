// Package schema derives the JSON Schema of a Go type with jsonschema-go
// (the schema a model step sends for its output type and a tool offers for
// its arguments) and decodes JSON into the type strictly.
package schema

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// A Codec decodes JSON into one Go type strictly: the document must
// satisfy the JSON Schema derived from the type (required properties
// present, types right, no additional properties), and encoding/json must
// decode it without unknown fields or trailing data.
type Codec struct {
	Type reflect.Type
	// Name is the short name of the type, e.g. "Decision" ("output" for
	// a type without a name or schema).
	Name string
	// Schema is the JSON Schema, rendered; nil for a raw type (Raw).
	Schema json.RawMessage
	// NumbersAlike reports whether Decode gives the same value with and
	// without useNumber (see numbersDecodeAlike), so that a value decoded
	// once serves both.
	NumbersAlike bool
	resolved     *jsonschema.Resolved
}

// For derives the JSON Schema of t with jsonschema-go: objects for
// structs, properties named by json tags, fields without omitempty
// required, no additional properties, and the jsonschema tag as a property
// description. A raw type (json.RawMessage, an empty interface) has none.
func For(t reflect.Type) (*Codec, error) {
	if isRawOutput(t) {
		return &Codec{Type: t, Name: "output"}, nil // NumbersAlike is false: an interface
	}
	s, err := jsonschema.ForType(t, nil)
	if err != nil {
		return nil, fmt.Errorf("derive JSON Schema of %s: %w", t, err)
	}
	rendered, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("render JSON Schema of %s: %w", t, err)
	}
	resolved, err := s.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("resolve JSON Schema of %s: %w", t, err)
	}
	name := t.Name()
	for u := t; name == "" && u.Kind() == reflect.Pointer; u = u.Elem() {
		name = u.Elem().Name()
	}
	if name == "" {
		name = "output"
	}
	return &Codec{Type: t, Name: name, Schema: rendered, NumbersAlike: numbersDecodeAlike(t), resolved: resolved}, nil
}

// Raw reports whether the codec takes any JSON document as it is (see
// isRawOutput).
func (c *Codec) Raw() bool { return c.resolved == nil }

// isRawOutput reports whether t takes any JSON document as it is:
// json.RawMessage and the empty interface. Such a type has no schema.
func isRawOutput(t reflect.Type) bool {
	return t == reflect.TypeFor[json.RawMessage]() || t.Kind() == reflect.Interface && t.NumMethod() == 0
}

// Decode decodes data into dst, a pointer to a value of c.Type. With
// useNumber, numbers in interface values are json.Number.
func (c *Codec) Decode(data []byte, dst any, useNumber bool) error {
	if c.resolved == nil { // a raw output: any JSON document
		if err := json.Unmarshal(data, dst); err != nil {
			return fmt.Errorf("not a JSON document: %w", err)
		}
		return nil
	}
	var instance any
	if err := json.Unmarshal(data, &instance); err != nil {
		return fmt.Errorf("not a JSON document: %w", err)
	}
	if err := c.resolved.Validate(instance); err != nil {
		return err
	}
	return c.DecodeValid(data, dst, useNumber)
}

// DecodeValid is Decode for data that Decode has just accepted: it skips
// the schema, which says the same of the same bytes.
func (c *Codec) DecodeValid(data []byte, dst any, useNumber bool) error {
	if c.resolved == nil {
		return c.Decode(data, dst, useNumber)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if useNumber {
		dec.UseNumber()
	}
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// A Cache holds one Codec per type, so a schema is derived once per
// kernel or registry rather than per step.
type Cache struct {
	m sync.Map // reflect.Type -> *Codec
}

// Get returns the Codec of t, derived on first use.
func (cc *Cache) Get(t reflect.Type) (*Codec, error) {
	if c, ok := cc.m.Load(t); ok {
		return c.(*Codec), nil
	}
	c, err := For(t)
	if err != nil {
		return nil, err
	}
	actual, _ := cc.m.LoadOrStore(t, c)
	return actual.(*Codec), nil
}

// numbersDecodeAlike reports whether encoding/json decodes a document into
// a t the same with and without UseNumber: nothing reachable in t is an
// interface (UseNumber only changes the numbers decoded into interface
// values), and no type in t decodes itself (its UnmarshalJSON could, or
// could keep state between calls).
func numbersDecodeAlike(t reflect.Type) bool { return holdsNoInterface(t, map[reflect.Type]bool{}) }

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func holdsNoInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true // a recursive type: its other paths decide
	}
	seen[t] = true
	if p := reflect.PointerTo(t); t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType) ||
		p.Implements(jsonUnmarshalerType) || p.Implements(textUnmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return false
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsNoInterface(t.Elem(), seen)
	case reflect.Map:
		return holdsNoInterface(t.Key(), seen) && holdsNoInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if !holdsNoInterface(t.Field(i).Type, seen) {
				return false
			}
		}
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}
