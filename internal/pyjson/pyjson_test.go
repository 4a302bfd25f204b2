package pyjson_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// canonicalString returns s as the hashed JSON writes a string.
func canonicalString(t testing.TB, s string) string {
	t.Helper()
	b, err := pyjson.Marshal(s)
	if err != nil {
		t.Fatalf("pyjson.Marshal(%q): %v", s, err)
	}
	return string(b)
}

func TestCanonicalStrings(t *testing.T) {
	// Each case is what CPython's json.dumps(s) (ensure_ascii=True) writes.
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`"q" \ b`, `"\"q\" \\ b"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"DEL \x7f", `"DEL \u007f"`},
		{"é", `"\u00e9"`},
		{"漢", `"\u6f22"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\ufeff", `"\ufeff"`},
		{"😀", `"\ud83d\ude00"`},
		{"𝄞", `"\ud834\udd1e"`},
		{"👨\u200d👩", `"\ud83d\udc68\u200d\ud83d\udc69"`},
		{"e\u0301", `"e\u0301"`},
		{"<b>&amp;</b> / 'x'", `"<b>&amp;</b> / 'x'"`},
		{"\U0010ffff", `"\udbff\udfff"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
	}
	for _, tc := range tests {
		if got := canonicalString(t, tc.in); got != tc.want {
			t.Errorf("canonical(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestFloat(t *testing.T) {
	// HASH_RECIPE.md §4, "How numbers are written", plus the edge cases.
	tenth, fifth := 0.1, 0.2 // variables: a constant 0.1+0.2 is exactly 0.3
	tests := []struct {
		in   float64
		want string
	}{
		{0.01, "0.01"}, {1e-05, "1e-05"}, {tenth + fifth, "0.30000000000000004"},
		{123456789.125, "123456789.125"}, {0.0, "0.0"}, {1e-07, "1e-07"}, {2.5e-08, "2.5e-08"},
		{1.0 / 3, "0.3333333333333333"}, {100.0, "100.0"}, {1e16, "1e+16"},
		{12345678901234567890.0, "1.2345678901234567e+19"}, {1e22, "1e+22"}, {5e-324, "5e-324"},
		{0.000123, "0.000123"}, {1e15, "1000000000000000.0"}, {1e-4, "0.0001"},
		{math.Copysign(0, -1), "-0.0"}, {-1.5, "-1.5"}, {math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
	}
	for _, tc := range tests {
		if got := pyjson.Float(tc.in); got != tc.want {
			t.Errorf("pyjson.Float(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestMarshal(t *testing.T) {
	type inner struct {
		Z string  `json:"z"`
		A float64 `json:"a"`
	}
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1, "a": []any{true, nil, "é"}}, `{"a":[true,null,"\u00e9"],"b":1}`},
		{inner{Z: "<&>", A: 1e-05}, `{"a":1e-05,"z":"<&>"}`},
		{map[string]any{"outer": map[string]any{"y": 2.5, "x": 100.0}}, `{"outer":{"x":100,"y":2.5}}`},
		{json.RawMessage(`{ "k" : 12345678901234567890123 , "f": 1E400 }`), `{"f":Infinity,"k":12345678901234567890123}`},
		{json.RawMessage(`{"é":1,"e":2,"z":3,"😀":4,"\uffff":5}`), `{"e":2,"z":3,"\u00e9":1,"\uffff":5,"\ud83d\ude00":4}`},
		{"just a string", `"just a string"`},
	}
	for _, tc := range tests {
		got, err := pyjson.Marshal(tc.in)
		if err != nil {
			t.Errorf("pyjson.Marshal(%v): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("pyjson.Marshal(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`{`, `{"a":1} {}`, `nope`, ``} {
		if _, err := pyjson.Canonicalize([]byte(bad)); err == nil {
			t.Errorf("pyjson.Canonicalize(%q) succeeded, want an error", bad)
		}
	}
	if _, err := pyjson.Marshal(make(chan int)); err == nil {
		t.Errorf("pyjson.Marshal(chan) succeeded, want an error")
	}
}

// FuzzCanonicalString checks the string escaper against a decoder round
// trip: the output is pure ASCII JSON that decodes back to the input.
func FuzzCanonicalString(f *testing.F) {
	for _, s := range []string{"", "é", "😀", "\x7f", "\u2028", "<&>", "\x00\"\\", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := canonicalString(t, s)
		for i := 0; i < len(out); i++ {
			if out[i] < 0x20 || out[i] >= 0x7f {
				t.Fatalf("canonical(%q) = %q has byte %#x", s, out, out[i])
			}
		}
		var back string
		if err := json.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("canonical(%q) = %s does not decode: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if !utf8.ValidString(s) {
			// Each invalid byte becomes one U+FFFD.
			want = ""
			for i := 0; i < len(s); {
				r, n := utf8.DecodeRuneInString(s[i:])
				want += string(r)
				i += n
			}
		}
		if back != want {
			t.Fatalf("canonical(%q) = %s decodes to %q", s, out, back)
		}
	})
}

// FuzzPythonFloat checks that every finite double is written in Python's
// notation and parses back to itself.
func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0, 1e-05, 1e16, 100, 0.1 + 0.2, 5e-324, math.MaxFloat64} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		s := pyjson.Float(v)
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(back) != bits {
			t.Fatalf("pyjson.Float(%#x) = %s parses to %v, %v", bits, s, back, err)
		}
		if !strings.ContainsAny(s, ".e") {
			t.Fatalf("pyjson.Float(%#x) = %s has neither a fraction nor an exponent", bits, s)
		}
		if i := strings.IndexByte(s, 'e'); i >= 0 {
			exp := s[i+1:]
			if (exp[0] != '+' && exp[0] != '-') || len(exp) < 3 {
				t.Fatalf("pyjson.Float(%#x) = %s: exponent needs a sign and two digits", bits, s)
			}
		}
	})
}

// FuzzCanonicalizeJSON checks that canonical JSON is valid, ASCII,
// idempotent and means the same as its input.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"é",null]}`, `[]`, `"x"`, `1e400`, `{"a":{"c":1e-05,"b":true}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := pyjson.Canonicalize(data)
		if err != nil {
			return
		}
		if strings.Contains(string(out), "Infinity") {
			return // Python writes an overflowing number as the bare Infinity, which is not JSON
		}
		again, err := pyjson.Canonicalize(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %s -> %s (%v)", out, again, err)
		}
		var a, b any
		if json.Unmarshal(data, &a) != nil {
			return // the input had numbers beyond float64; meaning is checked elsewhere
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("canonical %s is not JSON: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("meaning changed: %s -> %s", data, out)
		}
	})
}
