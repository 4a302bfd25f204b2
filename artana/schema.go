package artana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// A strictCodec decodes JSON into one Go type strictly: the document must
// satisfy the JSON Schema derived from the type (required properties
// present, types right, no additional properties), and encoding/json must
// decode it without unknown fields or trailing data.
type strictCodec struct {
	typ      reflect.Type
	name     string          // short name of the type, e.g. "Decision"
	schema   json.RawMessage // the JSON Schema, rendered
	resolved *jsonschema.Resolved
}

// newStrictCodec derives the JSON Schema of t with jsonschema-go.
func newStrictCodec(t reflect.Type) (*strictCodec, error) {
	if isRawOutput(t) {
		return &strictCodec{typ: t, name: "output"}, nil
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
	return &strictCodec{typ: t, name: name, schema: rendered, resolved: resolved}, nil
}

// isRawOutput reports whether t takes any JSON document as it is:
// json.RawMessage and the empty interface. Such a type has no schema.
func isRawOutput(t reflect.Type) bool {
	return t == reflect.TypeFor[json.RawMessage]() || t.Kind() == reflect.Interface && t.NumMethod() == 0
}

// decode decodes data into dst, a pointer to a value of c.typ. With
// useNumber, numbers in interface values are json.Number.
func (c *strictCodec) decode(data []byte, dst any, useNumber bool) error {
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
	return c.decodeValid(data, dst, useNumber)
}

// decodeValid is decode for data that decode has just accepted: it skips
// the schema, which says the same of the same bytes.
func (c *strictCodec) decodeValid(data []byte, dst any, useNumber bool) error {
	if c.resolved == nil {
		return c.decode(data, dst, useNumber)
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

// codecCache holds one strictCodec per type, so a schema is derived once per
// kernel or registry rather than per step.
type codecCache struct {
	m sync.Map // reflect.Type -> *strictCodec
}

func (cc *codecCache) get(t reflect.Type) (*strictCodec, error) {
	if c, ok := cc.m.Load(t); ok {
		return c.(*strictCodec), nil
	}
	c, err := newStrictCodec(t)
	if err != nil {
		return nil, err
	}
	actual, _ := cc.m.LoadOrStore(t, c)
	return actual.(*strictCodec), nil
}

// SchemaFor returns the JSON Schema that StepModel sends for output type T
// and that RegisterTool derives for argument type A: objects for structs,
// properties named by json tags, fields without omitempty required, no
// additional properties, and the jsonschema tag as a property description.
func SchemaFor[T any]() (json.RawMessage, error) {
	c, err := newStrictCodec(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	return c.schema, nil
}
