package artana_test

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/artana-go/go-artana/artana"
)

// canonicalString returns s as the hashed JSON writes a string.
func canonicalString(t testing.TB, s string) string {
	t.Helper()
	b, err := artana.CanonicalJSON(s)
	if err != nil {
		t.Fatalf("CanonicalJSON(%q): %v", s, err)
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

func TestPythonFloat(t *testing.T) {
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
		if got := artana.PythonFloat(tc.in); got != tc.want {
			t.Errorf("PythonFloat(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestPythonFloatVectors compares with CPython's repr on 4,000 doubles
// recorded by testdata/gen_float_repr.py.
func TestPythonFloatVectors(t *testing.T) {
	f, err := os.Open("testdata/python_float_repr.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			continue
		}
		bitsHex, want, ok := strings.Cut(text, " ")
		bits, err := strconv.ParseUint(bitsHex, 16, 64)
		if !ok || err != nil {
			t.Fatalf("python_float_repr.txt:%d: malformed line %q", line, text)
		}
		if got := artana.PythonFloat(math.Float64frombits(bits)); got != want {
			t.Errorf("python_float_repr.txt:%d: PythonFloat(%s) = %s, Python says %s", line, bitsHex, got, want)
		}
		n++
	}
	if n < 4000 {
		t.Fatalf("read %d vectors, want 4000", n)
	}
}

func TestCanonicalJSON(t *testing.T) {
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
		got, err := artana.CanonicalJSON(tc.in)
		if err != nil {
			t.Errorf("CanonicalJSON(%v): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("CanonicalJSON(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`{`, `{"a":1} {}`, `nope`, ``} {
		if _, err := artana.CanonicalizeJSON([]byte(bad)); err == nil {
			t.Errorf("CanonicalizeJSON(%q) succeeded, want an error", bad)
		}
	}
	if _, err := artana.CanonicalJSON(make(chan int)); err == nil {
		t.Errorf("CanonicalJSON(chan) succeeded, want an error")
	}
}

func TestTimestamps(t *testing.T) {
	// HASH_RECIPE.md §3: what Python's fromisoformat(column).isoformat() gives.
	tests := []struct{ column, hashed string }{
		{"2024-02-29T23:59:59+00:00", "2024-02-29T23:59:59+00:00"},
		{"2024-03-01T00:00:00.120000+00:00", "2024-03-01T00:00:00.120000+00:00"},
		{"2024-03-01T00:00:00.000007+00:00", "2024-03-01T00:00:00.000007+00:00"},
		{"2024-03-01T00:00:01.999999+00:00", "2024-03-01T00:00:01.999999+00:00"},
		{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00"},
		{"2024-01-01T00:00:00.123456789+00:00", "2024-01-01T00:00:00.123456+00:00"},
		{"2024-01-01T00:00:00.12+00:00", "2024-01-01T00:00:00.120000+00:00"},
		{"2024-01-01T00:00:00.000000+00:00", "2024-01-01T00:00:00+00:00"},
		{"2024-01-01 00:00:00+00:00", "2024-01-01T00:00:00+00:00"},
		{"2024-01-01T01:00:00+01:00", "2024-01-01T01:00:00+01:00"},
		{"2024-01-01T01:00:00-05:30", "2024-01-01T01:00:00-05:30"},
		{"2024-01-01T00:00:00", "2024-01-01T00:00:00"},
		{"2024-01-01T00:00", "2024-01-01T00:00:00"},
		{"1999-12-31T23:59:59.5+00:00", "1999-12-31T23:59:59.500000+00:00"},
	}
	for _, tc := range tests {
		ts, err := artana.ParseTimestamp(tc.column)
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", tc.column, err)
			continue
		}
		if got := artana.FormatTimestamp(ts); got != tc.hashed {
			t.Errorf("FormatTimestamp(ParseTimestamp(%q)) = %s, want %s", tc.column, got, tc.hashed)
		}
	}
	for _, bad := range []string{"", "2024-01-01", "2024-13-01T00:00:00+00:00", "2024-02-30T00:00:00+00:00",
		"2024-01-01X00:00:00", "2024-01-01T25:00:00", "2024-01-01T00:00:00.+00:00", "2024-01-01T00:00:00 UTC",
		"2024-01-01T00:00:00+0", "abcd-01-01T00:00:00"} {
		if _, err := artana.ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) succeeded, want an error", bad)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	// Defaults are filled, unknown keys ignored, and both forms decode alike.
	p, err := artana.DecodePayload(artana.EventToolRequested, []byte(`{"tool_name":"t","arguments_json":"{}","idempotency_key":"k","extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &artana.ToolRequested{ToolName: "t", ArgumentsJSON: "{}", IdempotencyKey: "k",
		ToolVersion: artana.DefaultToolVersion, SchemaVersion: artana.DefaultSchemaVersion}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("DecodePayload = %+v, want %+v", p, want)
	}
	inf, err := artana.DecodePayload(artana.EventModelCompleted, []byte(`{"kind": "model_completed", "model": "m", "output_json": "{}", "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": Infinity, "tool_calls": []}`))
	if err != nil {
		t.Fatalf("DecodePayload with cost Infinity: %v", err)
	}
	if got := string(artana.CanonicalPayload(inf)); !strings.Contains(got, `"cost_usd":Infinity`) {
		t.Errorf("Infinity cost re-encodes as %s", got)
	}

	bad := []struct {
		typ  artana.EventType
		json string
		want string
	}{
		{"nonsense", `{}`, "unknown event type"},
		{artana.EventRunStarted, `[]`, "cannot unmarshal"},
		{artana.EventRunStarted, `null`, "not a JSON object"},
		{artana.EventRunStarted, `{"kind":"resume_requested"}`, "does not match"},
		{artana.EventModelRequested, `{"model":"m","prompt":"p"}`, `"messages": missing`},
		{artana.EventModelRequested, `{"model":"m","prompt":"p","messages":[{"role":"user"}]}`, `"content": missing`},
		{artana.EventModelRequested, `{"model":"m","prompt":"p","messages":[{"role":"robot","content":""}]}`, "not one of"},
		{artana.EventModelRequested, `{"model":"m","prompt":"p","messages":[1]}`, "list of objects"},
		{artana.EventModelRequested, `{"model":null,"prompt":"p","messages":[]}`, "want a string"},
		{artana.EventModelRequested, `{"model":"m","prompt":"p","messages":[],"allowed_tools":"x"}`, "list of strings"},
		{artana.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1.5,"completion_tokens":0,"cost_usd":0}`, "want an integer"},
		{artana.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":"1"}`, "want a number"},
		{artana.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":-1}`, ">= 0"},
		{artana.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":NaN}`, ">= 0"},
		{artana.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":0,"tool_calls":[{"tool_name":"t"}]}`, `"arguments_json": missing`},
		{artana.EventToolCompleted, `{"tool_name":"t","result_json":"","outcome":"boom"}`, "not one of"},
		{artana.EventWorkflowStepRequested, `{"step_index":-1,"step_name":"s"}`, "negative"},
		{artana.EventWorkflowStepCompleted, `{"step_index":1,"step_name":"s"}`, `"result_json": missing`},
	}
	for _, tc := range bad {
		_, err := artana.DecodePayload(tc.typ, []byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodePayload(%s, %s) = %v, want an error containing %q", tc.typ, tc.json, err, tc.want)
		}
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
func FuzzPythonFloat(f *testing.F) {
	for _, v := range []float64{0, 1e-05, 1e16, 100, 0.1 + 0.2, 5e-324, math.MaxFloat64} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		s := artana.PythonFloat(v)
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(back) != bits {
			t.Fatalf("PythonFloat(%#x) = %s parses to %v, %v", bits, s, back, err)
		}
		if !strings.ContainsAny(s, ".e") {
			t.Fatalf("PythonFloat(%#x) = %s has neither a fraction nor an exponent", bits, s)
		}
		if i := strings.IndexByte(s, 'e'); i >= 0 {
			exp := s[i+1:]
			if (exp[0] != '+' && exp[0] != '-') || len(exp) < 3 {
				t.Fatalf("PythonFloat(%#x) = %s: exponent needs a sign and two digits", bits, s)
			}
		}
	})
}

// FuzzCanonicalizeJSON checks that canonical JSON is valid, ASCII,
// idempotent and means the same as its input.
func FuzzCanonicalizeJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"é",null]}`, `[]`, `"x"`, `1e400`, `{"a":{"c":1e-05,"b":true}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := artana.CanonicalizeJSON(data)
		if err != nil {
			return
		}
		if strings.Contains(string(out), "Infinity") {
			return // Python writes an overflowing number as the bare Infinity, which is not JSON
		}
		again, err := artana.CanonicalizeJSON(out)
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

// FuzzDecodePayload checks that a decoded payload re-encodes to a fixed
// point in both forms.
func FuzzDecodePayload(f *testing.F) {
	for _, ex := range workedExamples {
		f.Add(string(ex.typ), []byte(ex.payload))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		p, err := artana.DecodePayload(artana.EventType(typ), data)
		if err != nil {
			return
		}
		canon := artana.CanonicalPayload(p)
		for _, form := range [][]byte{canon, artana.PayloadJSON(p)} {
			q, err := artana.DecodePayload(artana.EventType(typ), form)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", form, err)
			}
			if got := artana.CanonicalPayload(q); string(got) != string(canon) {
				t.Fatalf("not a fixed point: %s -> %s", canon, got)
			}
		}
	})
}
