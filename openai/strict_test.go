package openai_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/openai"
)

func TestStrictSchema(t *testing.T) {
	for name, tc := range map[string]struct{ in, want, err string }{
		"already strict stays byte for byte": {in: mathSchema, want: mathSchema},
		"optional becomes nullable and required": {
			in:   `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"]}`,
			want: `{"additionalProperties":false,"properties":{"a":{"type":"string"},"b":{"type":["integer","null"]}},"required":["a","b"],"type":"object"}`,
		},
		"nested, arrays, defs, enums, refs": {
			in:   `{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"x":{"enum":["p","q"]}}}},"ref":{"$ref":"#/$defs/D"}},"$defs":{"D":{"type":"object","properties":{}}}}`,
			want: `{"$defs":{"D":{"additionalProperties":false,"properties":{},"required":[],"type":"object"}},"additionalProperties":false,"properties":{"items":{"items":{"additionalProperties":false,"properties":{"x":{"anyOf":[{"enum":["p","q",null]},{"type":"null"}]}},"required":["x"],"type":"object"},"type":["array","null"]},"ref":{"anyOf":[{"$ref":"#/$defs/D"},{"type":"null"}]}},"required":["items","ref"],"type":"object"}`,
		},
		"anyOf branches": {
			in:   `{"anyOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"type":"string"}]}`,
			want: `{"anyOf":[{"additionalProperties":false,"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"},{"type":"string"}]}`,
		},
		"map":                  {in: `{"type":"object","additionalProperties":{"type":"string"}}`, err: "#: has an additionalProperties schema"},
		"open object deep":     {in: `{"type":"object","properties":{"m":{"type":"object","additionalProperties":true}},"required":["m"]}`, err: "#/properties/m allows additional properties"},
		"not json":             {in: `{"type"`, err: "not valid JSON"},
		"trailing":             {in: `{} {}`, err: "not valid JSON"},
		"non-object unchanged": {in: `{"type":"string"}`, want: `{"type":"string"}`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := openai.StrictSchema(json.RawMessage(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.err, "#: ")) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("StrictSchema(%s)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzStrictSchema checks that StrictSchema never panics, returns valid
// JSON and is idempotent.
func FuzzStrictSchema(f *testing.F) {
	f.Add(mathSchema)
	f.Add(`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":["integer"]}},"required":["a"]}`)
	f.Add(`{"anyOf":[{"type":"object","properties":{"a":{"enum":[1,2]}}},{"$ref":"#"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := openai.StrictSchema(json.RawMessage(in))
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("StrictSchema(%q) = %q, not JSON", in, out)
		}
		again, err := openai.StrictSchema(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", in, out, again, err)
		}
	})
}
