package artanatest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
)

// AssertDriftedOnly fails the test unless the run runID of store holds at
// least one replayed_with_drift event (a step replayed or forked under
// ReplayAllowPromptDrift or ReplayForkOnDrift) and every such event names
// only drift fields among fields ("prompt", "messages"; "tool_version",
// "schema_version" for a changed tool). It is the check that a replay,
// after an edit of the prompt say, drifted in what the edit changed and
// nowhere else. Each failure names the event's seq, its step key and the
// fields the test did not expect.
func AssertDriftedOnly(t testing.TB, store ledger.Store, runID string, fields ...string) {
	t.Helper()
	if len(fields) == 0 {
		t.Errorf("artanatest: AssertDriftedOnly: no fields given; name the request fields the replay may drift in (prompt, messages, tool_version, schema_version)")
		return
	}
	events, err := store.Events(t.Context(), runID, 0)
	if err != nil {
		t.Errorf("artanatest: AssertDriftedOnly: read run %q: %v", runID, err)
		return
	}
	if len(events) == 0 {
		t.Errorf("artanatest: AssertDriftedOnly: run %q has no events; check the run id", runID)
		return
	}
	drifts := 0
	for _, e := range events {
		d, ok := e.Payload.(*ledger.ReplayedWithDrift)
		if !ok {
			continue
		}
		drifts++
		var unexpected []string
		for _, f := range d.DriftFields {
			if !slices.Contains(fields, f) {
				unexpected = append(unexpected, f)
			}
		}
		if len(unexpected) > 0 {
			step := d.Model
			if d.StepKey != nil {
				step = fmt.Sprintf("step %q (%s)", *d.StepKey, d.Model)
			}
			t.Errorf("artanatest: AssertDriftedOnly: run %q seq %d: %s drifted in %s, which the test does not expect (expected only %s)",
				runID, e.Seq, step, strings.Join(unexpected, ", "), strings.Join(fields, ", "))
		}
	}
	if drifts == 0 {
		t.Errorf("artanatest: AssertDriftedOnly: run %q has no replayed_with_drift event: the replay did not drift (or ran with ReplayStrict)", runID)
	}
}
