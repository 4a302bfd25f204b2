package artana_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
)

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
	if got := string(artana.CanonicalForm.Encode(inf)); !strings.Contains(got, `"cost_usd":Infinity`) {
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
		canon := artana.CanonicalForm.Encode(p)
		for _, form := range [][]byte{canon, artana.ColumnForm.Encode(p)} {
			q, err := artana.DecodePayload(artana.EventType(typ), form)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", form, err)
			}
			if got := artana.CanonicalForm.Encode(q); string(got) != string(canon) {
				t.Fatalf("not a fixed point: %s -> %s", canon, got)
			}
		}
	})
}
