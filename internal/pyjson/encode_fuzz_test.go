package pyjson

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

type fuzzEmbedded struct {
	E  string `json:"e"`
	E2 *int   `json:"e2,omitempty"`
}

// fuzzValue has fields of most kinds the encoder treats differently.
type fuzzValue struct {
	S    string          `json:"s"`
	I    int64           `json:"i,omitempty"`
	U    uint8           `json:"u"`
	F    float64         `json:"f"`
	F32  float32         `json:"f32,omitempty"`
	B    bool            `json:"b,string"`
	P    *float64        `json:"p"`
	M    map[string]any  `json:"m"`
	L    []any           `json:"l"`
	R    json.RawMessage `json:"r,omitempty"`
	N    *fuzzValue      `json:"n,omitempty"`
	Q    int             `json:"q,string"`
	Skip int             `json:"-"`
	fuzzEmbedded
}

// fuzzExact holds no floats: for it the model dialect writes what
// encoding/json writes (without HTML escaping), byte for byte, whenever the
// strings hold no U+2028, U+2029 or invalid UTF-8.
type fuzzExact struct {
	S  string            `json:"s"`
	I  int64             `json:"i,omitempty"`
	B  bool              `json:"b"`
	Ss []string          `json:"ss"`
	M  map[string]string `json:"m,omitempty"`
	N  *fuzzExact        `json:"n,omitempty"`
	fuzzEmbedded
}

// FuzzMarshal checks both dialects against encoding/json on values decoded
// from the fuzzer's JSON: the same data (numbers equal as numbers), the
// dumps dialect pure ASCII and equal to the model dialect's text rewritten
// (so the two agree on every number's kind), and for float-free values
// byte-identical output where the escaping rules coincide.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{
		`{"s":"a\u2028b","f":100,"p":1e16,"m":{"b":1,"a":[1.5,"x"]},"l":[null,true,1e-7],"q":"3","b":"true"}`,
		`{"r":{"z":1.0,"a":-0},"n":{"s":"é","f":5e-324},"e":"<&>","f32":0.1}`,
		`{"ss":["\u0000","\u007f"],"m":{"k":"v"},"i":-9007199254740993}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v fuzzValue
		if json.Unmarshal(data, &v) == nil {
			checkAgainstEncodingJSON(t, v)
		}
		var x fuzzExact
		if json.Unmarshal(data, &x) == nil {
			want := encodingJSON(t, x)
			if bytes.Contains(want, []byte(`\u2028`)) || bytes.Contains(want, []byte(`\u2029`)) || bytes.Contains(want, []byte(`\ufffd`)) {
				return
			}
			got, err := ModelDumpJSON(x)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("ModelDumpJSON:\n got %s\nwant %s (encoding/json)", got, want)
			}
		}
	})
}

func encodingJSON(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func checkAgainstEncodingJSON(t *testing.T, v fuzzValue) {
	if hasNonFinite(reflect.ValueOf(v)) {
		return
	}
	want := encodingJSON(t, v)
	var probe any
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.UseNumber()
	if dec.Decode(&probe) == nil && hasHugeNumber(probe) {
		return // raw JSON with 1e400: null for pydantic, Infinity for json.dumps, by design
	}
	model, err := ModelDumpJSON(v)
	if err != nil {
		t.Fatalf("ModelDumpJSON: %v (encoding/json: %s)", err, want)
	}
	dumps, err := Dumps(v)
	if err != nil {
		t.Fatalf("Dumps: %v (encoding/json: %s)", err, want)
	}
	for i, c := range dumps {
		if c >= utf8.RuneSelf || c == 0x7f {
			t.Fatalf("Marshal wrote byte %#x at %d: %s", c, i, dumps)
		}
	}
	again, err := appendText(nil, model, dumpsDialect)
	if err != nil || !bytes.Equal(again, dumps) {
		t.Fatalf("model form rewritten: %s, %v\nMarshal: %s", again, err, dumps)
	}
	w, m, d := decodeNumbers(t, want), decodeNumbers(t, model), decodeNumbers(t, dumps)
	if !reflect.DeepEqual(m, w) {
		t.Fatalf("ModelDumpJSON %s\nencoding/json %s", model, want)
	}
	if !reflect.DeepEqual(d, w) {
		t.Fatalf("Dumps %s\nencoding/json %s", dumps, want)
	}
}

// decodeNumbers decodes JSON with every number as a float64 string, so
// that 100 and 100.0 compare equal.
func decodeNumbers(t *testing.T, data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	var norm func(any) any
	norm = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil && !math.IsInf(f, 0) {
				t.Fatalf("number %s: %v", v, err)
			}
			if f == 0 {
				// The integer -0 is Python's 0, and encoding/json writes
				// the float -0.0 as -0.
				f = 0
			}
			return strconv.FormatFloat(f, 'g', -1, 64)
		case string:
			// A quoted number (the string option) compares by value too.
			if f, err := strconv.ParseFloat(v, 64); err == nil && strings.ContainsAny(v, "0123456789") {
				return "quoted:" + strconv.FormatFloat(f, 'g', -1, 64)
			}
			return v
		case []any:
			for i := range v {
				v[i] = norm(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = norm(v[k])
			}
		}
		return v
	}
	return norm(v)
}

func hasNonFinite(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNonFinite(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if hasNonFinite(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if hasNonFinite(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if hasNonFinite(it.Value()) {
				return true
			}
		}
	}
	return false
}

// FuzzCanonicalizeModel checks the rewriting of JSON text against
// encoding/json: it accepts exactly the documents json.Valid accepts, keeps
// their data, and is idempotent in both dialects.
func FuzzCanonicalizeModel(f *testing.F) {
	for _, s := range []string{
		` {"b": 1.50, "a": [1, 2E3, -0, 1e400, "\u00e9\u2028\ud83d\ude00"], "b": 2} `,
		`"\ud800\u0041"`, `[1,]`, `{"a":{"a":{}}}`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		model, err := CanonicalizeModel(data)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("CanonicalizeModel(%q): %v, json.Valid %v", data, err, valid)
		}
		if err != nil {
			return
		}
		if bytes.Contains(data, []byte("e")) || bytes.Contains(data, []byte("E")) {
			// 1e400 is null in the model form; compare only what is finite.
			var probe any
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			_ = dec.Decode(&probe)
			if hasHugeNumber(probe) {
				return
			}
		}
		if w, m := decodeNumbers(t, data), decodeNumbers(t, model); !reflect.DeepEqual(w, m) {
			t.Fatalf("CanonicalizeModel(%s) = %s: data differs", data, model)
		}
		if again, err := CanonicalizeModel(model); err != nil || !bytes.Equal(again, model) {
			t.Fatalf("not idempotent: %s -> %s, %v", model, again, err)
		}
		dumps, err := appendText(nil, data, dumpsDialect)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := appendText(nil, dumps, dumpsDialect); err != nil || !bytes.Equal(again, dumps) {
			t.Fatalf("dumps form not idempotent: %s -> %s, %v", dumps, again, err)
		}
	})
}

func hasHugeNumber(v any) bool {
	switch v := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		return math.IsInf(f, 0)
	case []any:
		for _, e := range v {
			if hasHugeNumber(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if hasHugeNumber(e) {
				return true
			}
		}
	}
	return false
}
