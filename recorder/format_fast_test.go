package recorder

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/google/go-cmp/cmp"
)

// slowWire is decodeWire without its fast path: encoding/json.
func slowWire(body []byte) (wireInteraction, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var w wireInteraction
	err := dec.Decode(&w)
	return w, err
}

// fastSeeds are interaction bodies in the writer's form and near it.
var fastSeeds = []string{
	`{"latency":"250ms","request":{"messages":[{"content":"hi","role":"user"}],"model":"m","options":{"temperature":0.5},"prompt":"hi","step_key":"s"},"response":{"output_json":"{}","tool_calls":[{"arguments_json":"{}","tool_name":"t"}],"usage":{"completion_tokens":1,"cost_usd":0.1,"prompt_tokens":2}}}`,
	`{"error":{"class":"transient","message":"slow down","retry_after":"2s","status":429},"latency":"1s","request":{"messages":[],"model":"m","options":{},"prompt":""}}`,
	`{"latency":"1s","request":{"messages":[{"content":"","name":"n","role":"assistant","tool_call_id":"c","tool_calls":[]}],"model":"m","options":{"max_tokens":5,"parallel_tool_calls":false,"reasoning_effort":"low","seed":-1,"temperature":1e-7,"tool_choice":"auto"},"output_name":"O","output_schema":{"type":"object"},"prompt":"","tools":[{"description":"d","name":"n","schema":{}}]},"response":{"output_json":"","tool_calls":[{"arguments_json":"{\"a\":1}","id":"call_1","tool_name":"t"}],"usage":{"cached_prompt_tokens":3,"completion_tokens":0,"cost_usd":0,"prompt_tokens":0}}}`,
	` { "latency" : "1s" , "request" : { "messages" : [ ] , "model" : "m\u00e9\ud83d\ude00" , "options" : { } , "prompt" : "\n" } , "response" : { } } `,
	`{"latency":"1s","request":{"messages":null,"model":"m","options":{},"prompt":""},"response":{"output_json":"","usage":{"completion_tokens":0,"cost_usd":0,"prompt_tokens":0}}}`,
	`{"latency":"1s","Request":{"model":"m"},"response":{}}`,
	`{"latency":"1s","latency":"2s","request":{},"response":{}}`,
	`{"latency":"1s","request":{"options":{"temperature":1e999,"max_tokens":1.5}},"response":{}}`,
	`{"latency":"1s","request":{"model":"\ud800"},"response":{}} x`,
	`{"latency":"1s","request":{"output_schema":{"a":[1,2,{"b":null}]} },"error":{"class":"x","status":99999999999999999999}}`,
}

// TestFastWire: on every committed interactions cassette and the seeds,
// the fast path decodes what encoding/json decodes, and takes the bodies
// the writer writes.
func TestFastWire(t *testing.T) {
	bodies := append([]string(nil), fastSeeds...)
	paths, _ := filepath.Glob("../examples/*/testdata/cassettes/*.cassette")
	more, _ := filepath.Glob("testdata/cassettes/*.cassette")
	more2, _ := filepath.Glob("../cmd/artana-replay/testdata/*.cassette")
	fastTaken := 0
	for _, p := range append(append(paths, more...), more2...) {
		hdr, recs, err := cassettes.ReadAll(p)
		if err != nil || hdr.Kind != cassettes.KindInteractions {
			continue
		}
		for _, rec := range recs {
			if rec.Type == recordType {
				bodies = append(bodies, string(rec.Body))
				if !bytes.Contains(rec.Body, []byte(`"http":`)) && !bytes.Contains(rec.Body, []byte(`"stream":`)) {
					if _, ok := fastWire(rec.Body); !ok {
						t.Errorf("%s:%d: the fast path refuses a body the writer wrote", p, rec.Line)
					}
					fastTaken++
				}
			}
		}
	}
	if fastTaken == 0 {
		t.Fatal("no committed cassette body without http or stream members")
	}
	for _, b := range bodies {
		checkFastWire(t, []byte(b))
	}
}

func checkFastWire(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := fastWire(body)
	if !ok {
		return
	}
	slow, err := slowWire(body)
	if err != nil {
		t.Fatalf("fast path took %s, encoding/json refuses it: %v", body, err)
	}
	if d := cmp.Diff(slow, fast); d != "" {
		t.Fatalf("fast path decodes %s differently (-encoding/json +fast):\n%s", body, d)
	}
}

// FuzzFastInteraction: whatever the fast path decodes, encoding/json
// decodes the same.
func FuzzFastInteraction(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastWire(t, body)
	})
}

// TestDecodeErrors: the errors of a bad interaction body, which the fast
// path leaves to encoding/json, name what is wrong; the recorder's load
// names the cassette and line.
func TestDecodeErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"latency":"1s","request":{"model":"m","colour":"red"},"response":{}}`:                  `unknown field "colour"`,
		`{"latency":"1s","request":{"model":"m","options":{"temperature":1e999}},"response":{}}`: "bad interaction body",
		`{"latency":"1s","request":{"model":"m","messages":[{"role":1}]},"response":{}}`:         "bad interaction body",
		`{"latency":"soon","request":{"model":"m"},"response":{}}`:                               `bad interaction latency "soon"`,
	} {
		_, err := decodeInteraction([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeInteraction(%s) = %v, want an error with %q", body, err, want)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.cassette")
	body := json.RawMessage(`{"latency":"1s","request":{"messages":[],"model":"m","options":{"max_tokens":1.5},"prompt":""},"response":{"output_json":"","usage":{"completion_tokens":0,"cost_usd":0,"prompt_tokens":0}}}`)
	if err := cassettes.WriteFile(t.Context(), path, header(), []cassettes.Record{{Type: recordType, Body: body}}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	if err == nil || !strings.Contains(err.Error(), path+":2:") || !strings.Contains(err.Error(), "max_tokens") {
		t.Errorf("Open of a cassette with a bad interaction = %v, want %s:2 and the field", err, path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
