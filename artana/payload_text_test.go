package artana_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
)

// TestCheckStoredPayload: each way of changing a stored payload text that
// keeps what it decodes to is named, with the key.
func TestCheckStoredPayload(t *testing.T) {
	p := &artana.ToolCompleted{ToolName: "refund", ResultJSON: `{"ok":true}`, Outcome: artana.OutcomeSuccess}
	col := string(artana.ColumnForm.Encode(p))
	can := string(artana.CanonicalForm.Encode(p))
	for _, c := range []struct {
		name, text string
		form       artana.PayloadForm
		want       string
	}{
		{"column", col, artana.ColumnForm, ""},
		{"canonical", can, artana.CanonicalForm, ""},
		{"added", strings.Replace(col, `{"kind"`, `{"approved_by": "cfo", "kind"`, 1), artana.ColumnForm, `unknown key "approved_by"`},
		{"deleted default", strings.Replace(col, `, "effect_id": null`, ``, 1), artana.ColumnForm, `missing key "effect_id"`},
		{"renamed", strings.Replace(can, `"effect_id"`, `"effect_ix"`, 1), artana.CanonicalForm, `key "effect_id" renamed to "effect_ix"`},
		{"duplicate", strings.Replace(col, `{"kind": "tool_completed"`, `{"kind": "tool_completed", "kind": "tool_completed"`, 1), artana.ColumnForm, `key "kind" appears twice`},
		{"escaped", strings.Replace(col, `"refund"`, `"\u0072efund"`, 1), artana.ColumnForm, `key "tool_name": the value is stored as "\u0072efund", written as "refund"`},
		{"reordered", can, artana.ColumnForm, `out of place`},
		{"spacing", strings.Replace(col, `": "`, `":  "`, 1), artana.ColumnForm, `spacing differs at byte`},
	} {
		dec, err := artana.DecodePayload(artana.EventToolCompleted, []byte(c.text))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		e := artana.Event{RunID: "r", Seq: 7, Payload: dec}
		err = c.form.Check(&e, []byte(c.text))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ce *artana.ChainError
		if !errors.As(err, &ce) || ce.Seq != 7 || ce.RunID != "r" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a ChainError at seq 7 naming %s", c.name, err, c.want)
		}
	}
}

// FuzzCheckStoredPayload: for any text a payload decodes from, the check
// passes exactly when the text is the form's encoding, and never panics.
func FuzzCheckStoredPayload(f *testing.F) {
	f.Add(uint8(6), `{"kind": "tool_completed", "tool_name": "t", "result_json": "{}", "outcome": "success", "received_idempotency_key": null, "effect_id": null, "request_id": null, "error_message": null}`, false)
	f.Add(uint8(3), `{"completion_tokens":1,"cost_usd":Infinity,"kind":"model_completed","model":"m","output_json":"{}","prompt_tokens":2,"tool_calls":[]}`, true)
	f.Add(uint8(2), `{"kind": "model_requested", "model": "m", "prompt": "p", "messages": [{"role": "user", "content": "p", "x": 1}], "allowed_tools": []}`, false)
	types := []artana.EventType{artana.EventRunStarted, artana.EventResumeRequested, artana.EventModelRequested,
		artana.EventModelCompleted, artana.EventPauseRequested, artana.EventToolRequested, artana.EventToolCompleted,
		artana.EventWorkflowStepRequested, artana.EventWorkflowStepCompleted}
	f.Fuzz(func(t *testing.T, ti uint8, text string, canonical bool) {
		typ := types[int(ti)%len(types)]
		p, err := artana.DecodePayload(typ, []byte(text))
		if err != nil {
			return
		}
		form := artana.ColumnForm
		if canonical {
			form = artana.CanonicalForm
		}
		e := artana.Event{RunID: "r", Seq: 1, Payload: p}
		err = form.Check(&e, []byte(text))
		if exact := string(form.Encode(p)) == text; exact != (err == nil) {
			t.Fatalf("text %q: exact %v, check %v", text, exact, err)
		}
	})
}
