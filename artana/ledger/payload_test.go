package ledger_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
)

func TestDecodePayload(t *testing.T) {
	// Defaults are filled, unknown keys ignored, and both forms decode alike.
	p, err := ledger.DecodePayload(ledger.EventToolRequested, []byte(`{"tool_name":"t","arguments_json":"{}","idempotency_key":"k","extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &ledger.ToolRequested{ToolName: "t", ArgumentsJSON: "{}", IdempotencyKey: "k",
		ToolVersion: ledger.DefaultToolVersion, SchemaVersion: ledger.DefaultSchemaVersion}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("DecodePayload = %+v, want %+v", p, want)
	}
	inf, err := ledger.DecodePayload(ledger.EventModelCompleted, []byte(`{"kind": "model_completed", "model": "m", "output_json": "{}", "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": Infinity, "tool_calls": []}`))
	if err != nil {
		t.Fatalf("DecodePayload with cost Infinity: %v", err)
	}
	if got := string(ledger.CanonicalForm.Encode(inf)); !strings.Contains(got, `"cost_usd":Infinity`) {
		t.Errorf("Infinity cost re-encodes as %s", got)
	}

	bad := []struct {
		typ  ledger.EventType
		json string
		want string
	}{
		{"nonsense", `{}`, "unknown event type"},
		{ledger.EventRunStarted, `[]`, "cannot unmarshal"},
		{ledger.EventRunStarted, `null`, "not a JSON object"},
		{ledger.EventRunStarted, `{"kind":"resume_requested"}`, "does not match"},
		{ledger.EventModelRequested, `{"model":"m","prompt":"p"}`, `"messages": missing`},
		{ledger.EventModelRequested, `{"model":"m","prompt":"p","messages":[{"role":"user"}]}`, `"content": missing`},
		{ledger.EventModelRequested, `{"model":"m","prompt":"p","messages":[{"role":"robot","content":""}]}`, "not one of"},
		{ledger.EventModelRequested, `{"model":"m","prompt":"p","messages":[1]}`, "list of objects"},
		{ledger.EventModelRequested, `{"model":null,"prompt":"p","messages":[]}`, "want a string"},
		{ledger.EventModelRequested, `{"model":"m","prompt":"p","messages":[],"allowed_tools":"x"}`, "list of strings"},
		{ledger.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1.5,"completion_tokens":0,"cost_usd":0}`, "want an integer"},
		{ledger.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":"1"}`, "want a number"},
		{ledger.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":-1}`, ">= 0"},
		{ledger.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":NaN}`, ">= 0"},
		{ledger.EventModelCompleted, `{"model":"m","output_json":"","prompt_tokens":1,"completion_tokens":0,"cost_usd":0,"tool_calls":[{"tool_name":"t"}]}`, `"arguments_json": missing`},
		{ledger.EventToolCompleted, `{"tool_name":"t","result_json":"","outcome":"boom"}`, "not one of"},
		{ledger.EventWorkflowStepRequested, `{"step_index":-1,"step_name":"s"}`, "negative"},
		{ledger.EventWorkflowStepCompleted, `{"step_index":1,"step_name":"s"}`, `"result_json": missing`},
	}
	for _, tc := range bad {
		_, err := ledger.DecodePayload(tc.typ, []byte(tc.json))
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
		p, err := ledger.DecodePayload(ledger.EventType(typ), data)
		if err != nil {
			return
		}
		canon := ledger.CanonicalForm.Encode(p)
		for _, form := range [][]byte{canon, ledger.ColumnForm.Encode(p)} {
			q, err := ledger.DecodePayload(ledger.EventType(typ), form)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", form, err)
			}
			if got := ledger.CanonicalForm.Encode(q); string(got) != string(canon) {
				t.Fatalf("not a fixed point: %s -> %s", canon, got)
			}
		}
	})
}
