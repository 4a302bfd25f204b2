package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
)

// TestCheckStoredPayload: each way of changing a stored payload text that
// keeps what it decodes to is named, with the key.
func TestCheckStoredPayload(t *testing.T) {
	p := &ledger.ToolCompleted{ToolName: "refund", ResultJSON: `{"ok":true}`, Outcome: ledger.OutcomeSuccess}
	col := string(ledger.ColumnForm.Encode(p))
	can := string(ledger.CanonicalForm.Encode(p))
	for _, c := range []struct {
		name, text string
		form       ledger.PayloadForm
		want       string
	}{
		{"column", col, ledger.ColumnForm, ""},
		{"canonical", can, ledger.CanonicalForm, ""},
		{"added", strings.Replace(col, `{"kind"`, `{"approved_by": "cfo", "kind"`, 1), ledger.ColumnForm, `unknown key "approved_by"`},
		{"deleted default", strings.Replace(col, `, "effect_id": null`, ``, 1), ledger.ColumnForm, `missing key "effect_id"`},
		{"renamed", strings.Replace(can, `"effect_id"`, `"effect_ix"`, 1), ledger.CanonicalForm, `key "effect_id" renamed to "effect_ix"`},
		{"duplicate", strings.Replace(col, `{"kind": "tool_completed"`, `{"kind": "tool_completed", "kind": "tool_completed"`, 1), ledger.ColumnForm, `key "kind" appears twice`},
		{"escaped", strings.Replace(col, `"refund"`, `"\u0072efund"`, 1), ledger.ColumnForm, `key "tool_name": the value is stored as "\u0072efund", written as "refund"`},
		{"reordered", can, ledger.ColumnForm, `out of place`},
		{"spacing", strings.Replace(col, `": "`, `":  "`, 1), ledger.ColumnForm, `spacing differs at byte`},
	} {
		dec, err := ledger.DecodePayload(ledger.EventToolCompleted, []byte(c.text))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		e := ledger.Event{RunID: "r", Seq: 7, Payload: dec}
		err = c.form.Check(&e, []byte(c.text))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ce *ledger.ChainError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a ChainError", c.name, err)
			continue
		}
		if d := cmp.Diff(ledger.ChainError{RunID: "r", Seq: 7, Reason: ce.Reason}, *ce); d != "" {
			t.Errorf("%s: the ChainError is not at seq 7 of run r (-want +got):\n%s", c.name, d)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v does not name %s", c.name, err, c.want)
		}
	}
}

// FuzzCheckStoredPayload: for any text a payload decodes from, the check
// passes exactly when the text is the form's encoding, and never panics.
func FuzzCheckStoredPayload(f *testing.F) {
	f.Add(uint8(6), `{"kind": "tool_completed", "tool_name": "t", "result_json": "{}", "outcome": "success", "received_idempotency_key": null, "effect_id": null, "request_id": null, "error_message": null}`, false)
	f.Add(uint8(3), `{"completion_tokens":1,"cost_usd":Infinity,"kind":"model_completed","model":"m","output_json":"{}","prompt_tokens":2,"tool_calls":[]}`, true)
	f.Add(uint8(2), `{"kind": "model_requested", "model": "m", "prompt": "p", "messages": [{"role": "user", "content": "p", "x": 1}], "allowed_tools": []}`, false)
	types := []ledger.EventType{ledger.EventRunStarted, ledger.EventResumeRequested, ledger.EventModelRequested,
		ledger.EventModelCompleted, ledger.EventPauseRequested, ledger.EventToolRequested, ledger.EventToolCompleted,
		ledger.EventWorkflowStepRequested, ledger.EventWorkflowStepCompleted}
	f.Fuzz(func(t *testing.T, ti uint8, text string, canonical bool) {
		typ := types[int(ti)%len(types)]
		p, err := ledger.DecodePayload(typ, []byte(text))
		if err != nil {
			return
		}
		form := ledger.ColumnForm
		if canonical {
			form = ledger.CanonicalForm
		}
		e := ledger.Event{RunID: "r", Seq: 1, Payload: p}
		err = form.Check(&e, []byte(text))
		if exact := string(form.Encode(p)) == text; exact != (err == nil) {
			t.Fatalf("text %q: exact %v, check %v", text, exact, err)
		}
	})
}
