package pyjson

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// recordValue adds to fuzzValue the kinds whose text the record dialect
// takes from encoding/json: times, json.Number, quoted floats and strings,
// bytes, maps with integer keys.
type recordValue struct {
	fuzzValue
	T   time.Time          `json:"t"`
	TP  *time.Time         `json:"tp,omitempty"`
	Num json.Number        `json:"num"`
	QF  float64            `json:"qf,string"`
	QS  string             `json:"qs,string"`
	QF4 float32            `json:"qf4,string"`
	Raw []byte             `json:"raw"`
	IM  map[int]string     `json:"im"`
	FM  map[string]float64 `json:"fm"`
	F4  []float32          `json:"f4"`
	Any any                `json:"any"`
}

var recordSeeds = []string{
	`{"s":"a\u2028b<>&","f":100,"p":1e16,"m":{"b":1,"a":[1.5,"x",1e21,1e20,-0]},"l":[null,true,1e-7,1e-6],"q":"3","b":"true"}`,
	`{"r":{"z":1.0,"a":-0},"n":{"s":"é","f":5e-324},"e":"<&>","f32":0.1,"qf":"1e-7","qs":"\"é<\u2028\"","qf4":"0.1"}`,
	`{"t":"2024-01-02T03:04:05.123456789+01:00","num":"1E2","raw":"AP8=","im":{"2":"b","10":"a"},"fm":{"x":0.5,"y":3},"f4":[1e22,3.4e38,1e-7,16777217]}`,
	`{"any":{"k":[1,2.50,"\ud83d\ude00"]},"num":"-0","fm":{"z":-0.0,"a":1e300}}`,
}

// FuzzMarshalRecord: Marshal, the type-driven encoder in the record
// dialect, writes byte for byte what encoding/json followed by
// Canonicalize writes (Marshal's former body), or fails where it fails.
func FuzzMarshalRecord(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s), 0.0, float32(0), "")
	}
	f.Add([]byte(`{}`), 1e21, float32(1e21), "\xff")
	f.Add([]byte(`{}`), -1e-7, float32(-1e-6), "\u2028")
	f.Fuzz(func(t *testing.T, data []byte, x float64, y float32, s string) {
		var v recordValue
		if json.Unmarshal(data, &v) != nil {
			v = recordValue{}
		}
		v.QF, v.QF4, v.S = x, y, v.S+s
		if v.FM == nil {
			v.FM = map[string]float64{}
		}
		v.FM[s] = x
		v.F4 = append(v.F4, y)
		checkRecord(t, v)
		var a any
		if json.Unmarshal(data, &a) == nil {
			checkRecord(t, a)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&a) == nil {
			checkRecord(t, a)
		}
	})
}

func checkRecord(t *testing.T, v any) {
	t.Helper()
	got, err := Marshal(v)
	want, werr := marshalGeneral(v)
	if (err != nil) != (werr != nil) {
		t.Fatalf("Marshal(%#v): error %v, encoding/json + Canonicalize: %v", v, err, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%#v):\n got %s\nwant %s (encoding/json + Canonicalize)", v, got, want)
	}
}

func TestMarshalRecord(t *testing.T) {
	for _, s := range recordSeeds {
		var v recordValue
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		checkRecord(t, v)
	}
	for _, v := range []any{
		nil, 0.0, math.Copysign(0, -1), 1e20, 1e21, 123456789.0, float32(0.1), []float32{1e-7, 3e38},
		map[string]int{"\xff": 1, "\xfe": 2}, map[string]any{"a": math.NaN()}, json.Number("01"), json.Number(""),
		json.RawMessage(`{"b":1,"a":2.50}`), struct{ F float64 }{math.Inf(1)},
	} {
		checkRecord(t, v)
	}
	if b, err := Marshal(map[string]any{"a": math.NaN()}); err == nil {
		t.Errorf("Marshal of NaN = %s, want an error", b)
	}
}

func BenchmarkMarshalRecord(b *testing.B) {
	temp := 0.0
	v := struct {
		Model    string              `json:"model"`
		Messages []map[string]string `json:"messages"`
		T        *float64            `json:"temperature,omitempty"`
		Schema   json.RawMessage     `json:"schema"`
	}{"gpt-4o", []map[string]string{{"role": "user", "content": "Problem 001. Solve 2 + 2 and answer with the number only."}}, &temp,
		json.RawMessage(`{"type":"object","properties":{"final_answer":{"type":"string"}}}`)}
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Marshal(v)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marshalGeneral(v)
		}
	})
}
