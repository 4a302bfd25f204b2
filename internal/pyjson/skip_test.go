package pyjson

import (
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	`{}`, ` [ ] `, `{"a":[1,-2.5e+3,true,false,null,"x\u00e9\ud800\n\"",{"b":{}}]}`, `"\xff"`, `0`, `-0.0E-0`,
	`01`, `1.`, `.5`, `-`, `1e`, `"\x01"`, `"\u12G4"`, `"\q"`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`,
	`tru`, `nul`, `"abc`, `{"a":1}}`, ``, ` `, `[[[[]]]]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

func TestValid(t *testing.T) {
	for _, s := range validSeeds {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// FuzzValid: Valid agrees with json.Valid on every input.
func FuzzValid(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	doc := []byte(`{"latency":"2.752211ms","request":{"messages":[{"content":"` + strings.Repeat("Respond only as JSON. ", 20) + `","role":"user"}],"model":"gpt-4o-mini","options":{"temperature":0},"output_name":"Decision","output_schema":{"additionalProperties":false,"properties":{"approved":{"type":"boolean"},"reason":{"type":"string"}},"required":["approved","reason"],"type":"object"}},"response":{"output_json":"{\"approved\":true}","usage":{"completion_tokens":26,"cost_usd":4.245e-05,"prompt_tokens":179}}}`)
	b.Run("pyjson", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			Valid(doc)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			json.Valid(doc)
		}
	})
}
