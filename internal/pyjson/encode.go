package pyjson

import (
	"cmp"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The encoder of Go values. It writes a value as the Python original writes
// the same value held in a pydantic model, in one of two dialects, driven by
// the Go type: a float64 holding 100 is a float and is written 100.0, an int
// holding 100 is written 100. It follows encoding/json's rules for which
// fields exist and what they are called (json tags, omitempty, omitzero,
// "-", the string option, embedded structs, json.Marshaler and
// encoding.TextMarshaler, []byte as base64, map keys), so that a type
// written for encoding/json logs the same data; only the text differs:
//
//   - dumpsDialect is json.dumps(v, sort_keys=True, separators=(",", ":"))
//     of the value's model_dump(mode="json"): object keys sorted by code
//     point, strings ASCII with \u escapes, floats as repr. It is the form of
//     tool arguments, json_step_serde results and the hashed payload.
//   - recordDialect is the dumps dialect with numbers as encoding/json
//     writes them and Canonicalize then rewrites them: a float64 holding a
//     whole number below 1e21 is an integer (100), others repr; a time.Time
//     and a json.Marshaler write what encoding/json writes, canonicalized.
//     It is Marshal's, the form of the project's own records (recorder
//     cassettes and fingerprints), whose bytes must not change.
//   - modelDialect is model_dump_json(): fields in declaration order, strings
//     raw UTF-8, floats as AppendModelFloat. It is the form of model outputs,
//     pause contexts, human input and pydantic_step_serde results.
//
// Map keys are sorted in both (a Go map has no order). JSON that a
// json.Marshaler (json.RawMessage included) returns is rewritten in the
// dialect: its numbers keep their kind (integer or float) and value. A
// time.Time is written as pydantic writes a datetime
// (2024-01-01T00:00:00.120000Z). NaN and infinities are refused, as
// encoding/json refuses them.

type dialect uint8

const (
	dumpsDialect dialect = iota
	modelDialect
	recordDialect
)

// Dumps returns v as the Python original's json.dumps(v, sort_keys=True,
// separators=(",", ":")) writes the same value (for a pydantic model, its
// model_dump(mode="json")): compact, object keys sorted by code point,
// strings ASCII with lowercase \u escapes (<, > and & literal), floats as
// repr (1e-05, 100.0, 1e+16) and integers as integers. It is the form of
// tool arguments and json_step_serde results. JSON that v holds as text
// (json.RawMessage, a json.Marshaler's output) is rewritten the same way,
// numbers keeping their kind and value.
func Dumps(v any) ([]byte, error) {
	return marshal(v, dumpsDialect)
}

// ModelDumpJSON returns v as pydantic's model_dump_json writes the same
// value: compact, struct fields in declaration order, map keys sorted,
// strings raw UTF-8 (only ", \ and control characters escaped), floats
// 0.00001, 100.0, 1e-7, 1e+16 and integers as integers. JSON that v holds
// as text (json.RawMessage, a json.Marshaler's output) is rewritten as
// CanonicalizeModel rewrites it.
func ModelDumpJSON(v any) ([]byte, error) {
	return marshal(v, modelDialect)
}

// An encoder is the scratch space of one marshal, reused through
// encoderPool so that a call allocates little more than its result.
type encoder struct {
	buf []byte
	s   encodeState
}

var encoderPool = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 512)} }}

func marshal(v any, d dialect) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	e.s = encodeState{d: d}
	b, err := e.s.appendValue(e.buf[:0], v)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= 64<<10 { // a huge buffer is left to the collector
		e.buf = b[:0]
		encoderPool.Put(e)
	}
	return out, err
}

// appendValue appends v in dialect d.
func appendValue(dst []byte, v any, d dialect) ([]byte, error) {
	s := encodeState{d: d}
	return s.appendValue(dst, v)
}

func (s *encodeState) appendValue(dst []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return append(dst, "null"...), nil
	}
	return typeEncoder(rv.Type())(dst, rv, s)
}

type encodeState struct {
	d     dialect
	depth int
}

// maxEncodeDepth bounds pointer, slice, map and interface nesting: a deeper
// value is taken for a cycle.
const maxEncodeDepth = 1000

func (s *encodeState) enter(t reflect.Type) error {
	s.depth++
	if s.depth > maxEncodeDepth {
		return &json.UnsupportedValueError{Str: "nested more than 1000 levels (a cycle?) in " + t.String()}
	}
	return nil
}

type encoderFunc func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error)

var encoderCache sync.Map // reflect.Type -> encoderFunc

// typeEncoder returns the cached encoder of t, building it once. A
// recursive type gets an indirect encoder while its own is being built.
func typeEncoder(t reflect.Type) encoderFunc {
	if f, ok := encoderCache.Load(t); ok {
		return f.(encoderFunc)
	}
	var (
		wg sync.WaitGroup
		f  encoderFunc
	)
	wg.Add(1)
	fi, loaded := encoderCache.LoadOrStore(t, encoderFunc(func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		wg.Wait()
		return f(dst, v, s)
	}))
	if loaded {
		return fi.(encoderFunc)
	}
	f = newTypeEncoder(t, true)
	wg.Done()
	encoderCache.Store(t, f)
	return f
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	numberType        = reflect.TypeFor[json.Number]()
	timeType          = reflect.TypeFor[time.Time]()
)

func newTypeEncoder(t reflect.Type, allowAddr bool) encoderFunc {
	switch t {
	case timeType:
		return timeEncoder
	case numberType:
		return numberEncoder
	}
	if t.Kind() != reflect.Pointer && allowAddr && reflect.PointerTo(t).Implements(marshalerType) {
		return condAddrEncoder(addrMarshalerEncoder, newTypeEncoder(t, false))
	}
	if t.Implements(marshalerType) {
		return marshalerEncoder
	}
	if t.Kind() != reflect.Pointer && allowAddr && reflect.PointerTo(t).Implements(textMarshalerType) {
		return condAddrEncoder(addrTextMarshalerEncoder, newTypeEncoder(t, false))
	}
	if t.Implements(textMarshalerType) {
		return textMarshalerEncoder
	}
	switch t.Kind() {
	case reflect.Bool:
		return boolEncoder
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intEncoder
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintEncoder
	case reflect.Float32:
		return float32Encoder
	case reflect.Float64:
		return float64Encoder
	case reflect.String:
		return stringEncoder
	case reflect.Interface:
		return interfaceEncoder
	case reflect.Struct:
		return newStructEncoder(t)
	case reflect.Map:
		return newMapEncoder(t)
	case reflect.Slice:
		return newSliceEncoder(t)
	case reflect.Array:
		return newArrayEncoder(t)
	case reflect.Pointer:
		return newPtrEncoder(t)
	}
	return func([]byte, reflect.Value, *encodeState) ([]byte, error) {
		return nil, &json.UnsupportedTypeError{Type: t}
	}
}

func condAddrEncoder(canAddr, elseEnc encoderFunc) encoderFunc {
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		if v.CanAddr() {
			return canAddr(dst, v, s)
		}
		return elseEnc(dst, v, s)
	}
}

func marshalerEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return append(dst, "null"...), nil
	}
	m, ok := v.Interface().(json.Marshaler)
	if !ok {
		return append(dst, "null"...), nil
	}
	return appendMarshalerJSON(dst, m, v.Type(), s)
}

func addrMarshalerEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	return appendMarshalerJSON(dst, v.Addr().Interface().(json.Marshaler), v.Type(), s)
}

func appendMarshalerJSON(dst []byte, m json.Marshaler, t reflect.Type, s *encodeState) ([]byte, error) {
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, &json.MarshalerError{Type: t, Err: err}
	}
	if s.d == recordDialect {
		return appendCanonical(dst, b, t)
	}
	out, err := appendText(dst, b, s.d)
	if err != nil {
		return nil, &json.MarshalerError{Type: t, Err: err}
	}
	return out, nil
}

func textMarshalerEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return append(dst, "null"...), nil
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok {
		return append(dst, "null"...), nil
	}
	return appendText2(dst, m, v.Type(), s)
}

func addrTextMarshalerEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	return appendText2(dst, v.Addr().Interface().(encoding.TextMarshaler), v.Type(), s)
}

func appendText2(dst []byte, m encoding.TextMarshaler, t reflect.Type, s *encodeState) ([]byte, error) {
	b, err := m.MarshalText()
	if err != nil {
		return nil, &json.MarshalerError{Type: t, Err: err}
	}
	return appendDialectString(dst, string(b), s.d), nil
}

// timeEncoder writes a time.Time as pydantic writes a datetime: microseconds
// (six digits, left out when zero), Z for UTC, otherwise ±hh:mm.
func timeEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	t := v.Interface().(time.Time)
	if s.d == recordDialect {
		return appendMarshalerJSON(dst, t, timeType, s)
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return nil, &json.UnsupportedValueError{Str: t.String()}
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		dst = appendPadded(dst, us, 6)
	}
	_, off := t.Zone()
	if off == 0 {
		dst = append(dst, 'Z')
	} else {
		if off < 0 {
			dst = append(dst, '-')
			off = -off
		} else {
			dst = append(dst, '+')
		}
		dst = appendPadded(dst, off/3600, 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, off%3600/60, 2)
	}
	return append(dst, '"'), nil
}

func appendPadded(dst []byte, n, width int) []byte {
	var buf [8]byte
	b := strconv.AppendInt(buf[:0], int64(n), 10)
	for range width - len(b) {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// numberEncoder writes a json.Number as Python writes the value parsed from
// it: an integer as written, any other number as a float.
func numberEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	n := v.String()
	if n == "" {
		n = "0" // as encoding/json
	}
	if s.d == recordDialect {
		sc := Scanner{B: []byte(n)}
		if _, ok := sc.Number(); !ok || sc.I != len(n) {
			return nil, fmt.Errorf("json: invalid number literal %q", n)
		}
		return AppendNumber(dst, n)
	}
	p := textParser{data: []byte(n), d: s.d}
	out, err := p.number(dst)
	if err != nil || p.pos != len(n) {
		return nil, fmt.Errorf("pyjson: invalid number literal %q", n)
	}
	return out, nil
}

func boolEncoder(dst []byte, v reflect.Value, _ *encodeState) ([]byte, error) {
	return strconv.AppendBool(dst, v.Bool()), nil
}

func intEncoder(dst []byte, v reflect.Value, _ *encodeState) ([]byte, error) {
	return strconv.AppendInt(dst, v.Int(), 10), nil
}

func uintEncoder(dst []byte, v reflect.Value, _ *encodeState) ([]byte, error) {
	return strconv.AppendUint(dst, v.Uint(), 10), nil
}

func float64Encoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	return appendFloatValue(dst, v.Float(), 64, s)
}

func float32Encoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	return appendFloatValue(dst, v.Float(), 32, s)
}

func appendFloatValue(dst []byte, f float64, bits int, s *encodeState) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	if s.d == recordDialect {
		var buf [32]byte
		return AppendNumber(dst, string(appendJSONFloat(buf[:0], f, bits)))
	}
	return appendDialectFloat(dst, f, bits, s.d, false), nil
}

func stringEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	return appendDialectString(dst, v.String(), s.d), nil
}

func interfaceEncoder(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
	if v.IsNil() {
		return append(dst, "null"...), nil
	}
	if err := s.enter(v.Type()); err != nil {
		return nil, err
	}
	e := v.Elem()
	dst, err := typeEncoder(e.Type())(dst, e, s)
	s.depth--
	return dst, err
}

func newPtrEncoder(t reflect.Type) encoderFunc {
	elem := typeEncoder(t.Elem())
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if err := s.enter(t); err != nil {
			return nil, err
		}
		dst, err := elem(dst, v.Elem(), s)
		s.depth--
		return dst, err
	}
}

func newSliceEncoder(t reflect.Type) encoderFunc {
	// []byte is base64 text, unless its elements marshal themselves.
	if t.Elem().Kind() == reflect.Uint8 {
		p := reflect.PointerTo(t.Elem())
		if !p.Implements(marshalerType) && !p.Implements(textMarshalerType) {
			return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
				if v.IsNil() {
					return append(dst, "null"...), nil
				}
				return append(base64.StdEncoding.AppendEncode(append(dst, '"'), v.Bytes()), '"'), nil
			}
		}
	}
	arr := newArrayEncoder(t)
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if err := s.enter(t); err != nil {
			return nil, err
		}
		dst, err := arr(dst, v, s)
		s.depth--
		return dst, err
	}
}

func newArrayEncoder(t reflect.Type) encoderFunc {
	elem := typeEncoder(t.Elem())
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		dst = append(dst, '[')
		n := v.Len()
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = elem(dst, v.Index(i), s); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
}

func newMapEncoder(t reflect.Type) encoderFunc {
	switch t.Key().Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !t.Key().Implements(textMarshalerType) {
			return func([]byte, reflect.Value, *encodeState) ([]byte, error) {
				return nil, &json.UnsupportedTypeError{Type: t}
			}
		}
	}
	elem := typeEncoder(t.Elem())
	type kv struct {
		key string
		val reflect.Value
	}
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if err := s.enter(t); err != nil {
			return nil, err
		}
		kvs := make([]kv, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := mapKeyString(it.Key())
			if err != nil {
				return nil, err
			}
			kvs = append(kvs, kv{k, it.Value()})
		}
		slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.key, b.key) })
		if s.d == recordDialect {
			for i, e := range kvs {
				if !utf8.ValidString(e.key) || i > 0 && kvs[i-1].key == e.key {
					// encoding/json writes such keys as \ufffd or twice;
					// Marshal leaves them to it.
					return nil, errRecordFallback
				}
			}
		}
		dst = append(dst, '{')
		for i, e := range kvs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendDialectString(dst, e.key, s.d)
			dst = append(dst, ':')
			var err error
			if dst, err = elem(dst, e.val, s); err != nil {
				return nil, err
			}
		}
		s.depth--
		return append(dst, '}'), nil
	}
}

// mapKeyString is encoding/json's resolveKeyName.
func mapKeyString(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", &json.UnsupportedTypeError{Type: k.Type()}
}

// A field is one JSON member of a struct, found as encoding/json finds it.
type field struct {
	name      string
	nameDumps []byte // "name": in the dumps dialect
	nameModel []byte // "name": in the model dialect
	tag       bool
	index     []int
	typ       reflect.Type
	omitEmpty bool
	omitZero  bool
	quoted    bool
	isZero    func(reflect.Value) bool
	enc       encoderFunc
}

func newStructEncoder(t reflect.Type) encoderFunc {
	fields := typeFields(t)
	// The dumps dialect sorts keys; names are unique after typeFields.
	sorted := slices.Clone(fields)
	slices.SortFunc(sorted, func(a, b field) int { return strings.Compare(a.name, b.name) })
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		fs := fields
		if s.d != modelDialect {
			fs = sorted
		}
		dst = append(dst, '{')
		first := true
	next:
		for i := range fs {
			f := &fs[i]
			fv := v
			for _, j := range f.index {
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						continue next
					}
					fv = fv.Elem()
				}
				fv = fv.Field(j)
			}
			if f.omitEmpty && isEmptyValue(fv) || f.omitZero && (f.isZero == nil && fv.IsZero() || f.isZero != nil && f.isZero(fv)) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if s.d != modelDialect {
				dst = append(dst, f.nameDumps...)
			} else {
				dst = append(dst, f.nameModel...)
			}
			var err error
			if dst, err = f.enc(dst, fv, s); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// typeFields returns the JSON fields of struct type t in declaration order,
// by encoding/json's rules: exported fields and the exported fields of
// embedded structs, names from json tags, Go's rules for hidden embedded
// fields except that tagged fields win.
func typeFields(t reflect.Type) []field {
	fields := dominantFields(allFields(t))
	slices.SortFunc(fields, func(a, b field) int { return slices.Compare(a.index, b.index) })
	for i := range fields {
		f := &fields[i]
		f.nameDumps = append(AppendString(nil, f.name), ':')
		f.nameModel = append(AppendModelString(nil, f.name), ':')
		f.enc = typeEncoder(f.typ)
		if f.quoted {
			f.enc = quotedEncoder(f.typ, f.enc)
		}
	}
	return fields
}

// allFields returns every JSON field of struct type t and of the structs
// it embeds, breadth first, names not yet deduplicated. A field reached
// through two embedded structs of the same type at one depth is listed
// twice, so that dominantFields drops it as ambiguous.
func allFields(t reflect.Type) []field {
	current := []field{}
	next := []field{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []field

	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := 0; i < f.typ.NumField(); i++ {
				index := append(slices.Clip(f.index), i)
				fld, embedded, ok := structField(f.typ.Field(i), index)
				switch {
				case !ok:
				case embedded:
					nextCount[fld.typ]++
					if nextCount[fld.typ] == 1 {
						next = append(next, fld)
					}
				default:
					fields = append(fields, fld)
					if count[f.typ] > 1 {
						fields = append(fields, fields[len(fields)-1])
					}
				}
			}
		}
	}
	return fields
}

// structField returns the JSON field of struct field sf, at index in the
// outer struct. It reports embedded for an untagged embedded struct, whose
// fields are the outer struct's (fld then holds the struct type to look
// into), and !ok for a field JSON leaves out.
func structField(sf reflect.StructField, index []int) (fld field, embedded, ok bool) {
	if sf.Anonymous {
		t := sf.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if !sf.IsExported() && t.Kind() != reflect.Struct {
			return field{}, false, false
		}
	} else if !sf.IsExported() {
		return field{}, false, false
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return field{}, false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if !isValidTag(name) {
		name = ""
	}
	ft := sf.Type
	if ft.Name() == "" && ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
		return field{name: ft.Name(), index: index, typ: ft}, true, true
	}
	quoted := false
	if hasOpt(opts, "string") {
		switch ft.Kind() {
		case reflect.Bool,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64,
			reflect.String:
			quoted = true
		}
	}
	fld = field{
		name:      name,
		tag:       name != "",
		index:     index,
		typ:       sf.Type,
		omitEmpty: hasOpt(opts, "omitempty"),
		omitZero:  hasOpt(opts, "omitzero"),
		quoted:    quoted,
	}
	if fld.name == "" {
		fld.name = sf.Name
	}
	if fld.omitZero {
		fld.isZero = zeroFunc(sf.Type)
	}
	return fld, false, true
}

// dominantFields keeps, of the fields sharing a name, the dominant one:
// the shallowest, a tagged one before an untagged one at its depth, and
// none when two share its depth and tagging. It returns the fields sorted
// by name.
func dominantFields(fields []field) []field {
	slices.SortFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tag != b.tag {
			if a.tag {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		fi := fields[i]
		for advance = 1; i+advance < len(fields) && fields[i+advance].name == fi.name; advance++ {
		}
		if advance == 1 {
			out = append(out, fi)
			continue
		}
		// The first is dominant unless two share its depth and tagging.
		if len(fields[i+1].index) == len(fi.index) && fields[i+1].tag == fi.tag {
			continue
		}
		out = append(out, fi)
	}
	return slices.Clone(out)
}

// quotedEncoder writes a field with the string option as encoding/json
// does: the value's JSON text inside a JSON string.
func quotedEncoder(t reflect.Type, enc encoderFunc) encoderFunc {
	if t.Kind() == reflect.Pointer {
		elem := quotedEncoder(t.Elem(), typeEncoder(t.Elem()))
		return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
			if v.IsNil() {
				return append(dst, "null"...), nil
			}
			return elem(dst, v.Elem(), s)
		}
	}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) ||
		t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) || t == timeType {
		return enc // encoding/json ignores the option for these
	}
	if t.Kind() == reflect.String && t != numberType {
		return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
			var inner []byte
			if s.d == recordDialect {
				inner, _ = json.Marshal(v.String()) // encoding/json's escapes, kept as text
			} else {
				inner = appendDialectString(nil, v.String(), s.d)
			}
			return appendDialectString(dst, string(inner), s.d), nil
		}
	}
	if k := t.Kind(); k == reflect.Float32 || k == reflect.Float64 {
		return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
			if s.d != recordDialect {
				dst = append(dst, '"')
				dst, err := enc(dst, v, s)
				if err != nil {
					return nil, err
				}
				return append(dst, '"'), nil
			}
			f := v.Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, t.Bits())}
			}
			dst = append(dst, '"')
			return append(appendJSONFloat(dst, f, t.Bits()), '"'), nil
		}
	}
	return func(dst []byte, v reflect.Value, s *encodeState) ([]byte, error) {
		dst = append(dst, '"')
		dst, err := enc(dst, v, s)
		if err != nil {
			return nil, err
		}
		return append(dst, '"'), nil
	}
}

func zeroFunc(t reflect.Type) func(reflect.Value) bool {
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		return func(v reflect.Value) bool {
			return v.IsNil() || (v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil()) || v.Interface().(isZeroer).IsZero()
		}
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.IsNil() || v.Interface().(isZeroer).IsZero() }
	case t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.Interface().(isZeroer).IsZero() }
	case reflect.PointerTo(t).Implements(isZeroerType):
		return func(v reflect.Value) bool {
			if !v.CanAddr() {
				v2 := reflect.New(v.Type()).Elem()
				v2.Set(v)
				v = v2
			}
			return v.Addr().Interface().(isZeroer).IsZero()
		}
	}
	return nil
}

func hasOpt(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
