package pyjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var canonicalSamples = []string{
	`{"b":1,"a":[1.5,"é",null]}`, `[]`, `{}`, `"x"`, `1e400`, `-0`, `0.0`, `100`, `1E+2`,
	`{"a":{"c":1e-05,"b":true}}`, ` { "z" : [ { "y" : false , "x" : "\u00e9\ud83d\ude00\n\"\\\/" } ] } `,
	`{"model":"m","messages":[{"role":"system","content":"<b>&amp;</b>\u2028"}],"options":{"temperature":0}}`,
	`{"b":{"d":1,"c":2},"a":{"f":[3,2,1],"e":{}}}`,
}

// TestCanonicalizeFastTakesTheCommonShapes checks the fast path's reach.
func TestCanonicalizeFastTakesTheCommonShapes(t *testing.T) {
	for _, s := range canonicalSamples {
		got, ok := canonicalizeFast(nil, []byte(s))
		if !ok {
			t.Errorf("canonicalizeFast(%s) fell back to the general path", s)
			continue
		}
		want, err := canonicalizeGeneral([]byte(s))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("canonicalizeFast(%s) = %s, general path %s (%v)", s, got, want, err)
		}
	}
	for _, s := range []string{`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `{"\u0061":1}`, `"\ud800"`, "\"\xff\"", `[1,]`, `{"a":1}}`, `01`, `tru`} {
		if got, ok := canonicalizeFast(nil, []byte(s)); ok {
			t.Errorf("canonicalizeFast(%s) = %s, want the general path", s, got)
		}
	}
}

// FuzzCanonicalizeFast checks that whenever the fast path accepts a
// document, the general path gives the same bytes.
func FuzzCanonicalizeFast(f *testing.F) {
	for _, s := range canonicalSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := canonicalizeFast([]byte("prefix"), data)
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("a fallback left %q in dst", got)
			}
			return
		}
		want, err := canonicalizeGeneral(data)
		if err != nil {
			t.Fatalf("fast path accepted %q, general path: %v", data, err)
		}
		if string(got) != "prefix"+string(want) {
			t.Fatalf("%q: fast %s, general %s", data, got[len("prefix"):], want)
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	doc, _ := json.Marshal(map[string]any{
		"model": "gpt-4o", "prompt": strings.Repeat("p", 300), "step_key": "",
		"messages":      []map[string]string{{"role": "system", "content": "You are a student."}, {"role": "user", "content": strings.Repeat("Solve 2 + 2. ", 23)}},
		"output_schema": map[string]any{"type": "object", "properties": map[string]any{"final_answer": map[string]any{"type": "string"}}, "required": []string{"final_answer"}, "additionalProperties": false},
		"options":       map[string]any{"temperature": 0.0},
	})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		var dst []byte
		for b.Loop() {
			var ok bool
			if dst, ok = canonicalizeFast(dst[:0], doc); !ok {
				b.Fatal("fell back")
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := canonicalizeGeneral(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
