package schema

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// The fast path of a Codec, for output types that are flat structs
// of strings, bools, ints and float64s (the common structured output): the
// output is read with the payload scanner in one pass, checking what the
// codec's schema and encoding/json check, without decoding it three times
// (into an any for the schema, through the validator, into T). It gives up
// (false) on anything else, a document the codec would refuse included,
// and the codec then decodes it or explains why not. FuzzFastOutput checks
// that whatever it takes, the codec takes and decodes alike.

// A flatPlan is how the fast path reads one output type.
type flatPlan struct {
	fields []flatField
}

type flatField struct {
	name     string
	index    int
	kind     reflect.Kind
	required bool
}

var flatPlans sync.Map // reflect.Type -> *flatPlan (nil: no fast path)

// planFor returns the fast path's plan of c's type, or nil when it has none.
func planFor(c *Codec) *flatPlan {
	if p, ok := flatPlans.Load(c.Type); ok {
		return p.(*flatPlan)
	}
	p := newFlatPlan(c)
	flatPlans.Store(c.Type, p)
	return p
}

// newFlatPlan returns the plan of c's type if it is a struct of exported,
// plainly tagged string, bool, int, int64 and float64 fields, and only if
// the codec's schema is exactly the one the plan checks: an object of
// those properties and types, the fields without omitempty required, no
// additional properties.
func newFlatPlan(c *Codec) *flatPlan {
	t := c.Type
	if c.resolved == nil || t.Kind() != reflect.Struct || t.NumField() == 0 {
		return nil
	}
	p := &flatPlan{}
	props := map[string]any{}
	required := []any{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous {
			return nil
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || opts != "" && opts != "omitempty" || strings.ContainsAny(name, `"\`) {
			return nil
		}
		if name == "" {
			name = sf.Name
		}
		var typ string
		switch sf.Type {
		case reflect.TypeFor[string]():
			typ = "string"
		case reflect.TypeFor[bool]():
			typ = "boolean"
		case reflect.TypeFor[int](), reflect.TypeFor[int64]():
			typ = "integer"
		case reflect.TypeFor[float64]():
			typ = "number"
		default:
			return nil
		}
		if _, dup := props[name]; dup {
			return nil
		}
		props[name] = map[string]any{"type": typ}
		f := flatField{name: name, index: i, kind: sf.Type.Kind(), required: opts == ""}
		if f.required {
			required = append(required, name)
		}
		p.fields = append(p.fields, f)
	}
	want := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		want["required"] = required
	}
	var got map[string]any
	if json.Unmarshal(c.Schema, &got) != nil || !reflect.DeepEqual(got, want) {
		return nil
	}
	return p
}

// FastDecode decodes raw into dst, a pointer to a value of c's type, as
// Decode does (without useNumber), if the fast path takes raw; it reports
// false otherwise, leaving *dst as the zero value, and the caller then
// calls Decode.
func (c *Codec) FastDecode(raw string, dst any) bool {
	p := planFor(c)
	if p == nil {
		return false
	}
	v := reflect.ValueOf(dst).Elem()
	s := pyjson.Scanner{B: []byte(raw)}
	if !p.read(&s, v) || !s.End() {
		v.SetZero()
		return false
	}
	return true
}

func (p *flatPlan) read(s *pyjson.Scanner, v reflect.Value) bool {
	var seen uint64
	if len(p.fields) > 64 {
		return false
	}
	s.WS()
	if !s.Eat('{') {
		return false
	}
	s.WS()
	if !s.Eat('}') {
		for {
			k, ok := s.Name()
			if !ok {
				return false
			}
			i := -1
			for j := range p.fields {
				if p.fields[j].name == k {
					i = j
					break
				}
			}
			if i < 0 || seen&(1<<i) != 0 {
				return false
			}
			seen |= 1 << i
			s.WS()
			if !s.Eat(':') {
				return false
			}
			s.WS()
			if !p.fields[i].read(s, v.Field(p.fields[i].index)) {
				return false
			}
			s.WS()
			if s.Eat(',') {
				s.WS()
				continue
			}
			if !s.Eat('}') {
				return false
			}
			break
		}
	}
	for i, f := range p.fields {
		if f.required && seen&(1<<i) == 0 {
			return false
		}
	}
	return true
}

func (f *flatField) read(s *pyjson.Scanner, v reflect.Value) bool {
	switch f.kind {
	case reflect.String:
		str, ok := s.Str()
		v.SetString(str)
		return ok
	case reflect.Bool:
		switch {
		case s.Literal("true"):
			v.SetBool(true)
		case s.Literal("false"):
			v.SetBool(false)
		default:
			return false
		}
		return true
	case reflect.Int, reflect.Int64:
		lit, ok := s.Number()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(lit, 10, v.Type().Bits())
		v.SetInt(n)
		return err == nil
	case reflect.Float64:
		lit, ok := s.Number()
		if !ok {
			return false
		}
		x, err := strconv.ParseFloat(lit, 64)
		v.SetFloat(x)
		return err == nil
	}
	return false
}
