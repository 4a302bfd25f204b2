package artanatest_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/google/go-cmp/cmp"
)

// twoLogs runs triage on a deterministic kernel and on one with a real
// clock and random ids, and returns both logs.
func twoLogs(t *testing.T) (det, live []ledger.Event) {
	t.Helper()
	k, _, _ := triageKernel(t)
	if _, err := triage(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	lk := artanatest.NewKernelWithStore(t, ledger.NewMemStore(), artanatest.NewFakeModel(t, artanatest.Reply{Output: verdict{"refund"}}),
		artana.WithTools(refundTools(t, new(atomic.Int64))))
	if _, err := triage(t.Context(), lk); err != nil {
		t.Fatal(err)
	}
	return mustEvents(t, k.Store(), "ticket-1"), mustEvents(t, lk.Store(), "ticket-1")
}

func TestIgnoreVolatile(t *testing.T) {
	det, live := twoLogs(t)
	if diff := cmp.Diff(det, live, artanatest.IgnoreVolatile()); diff != "" {
		t.Errorf("logs differ beyond ids, timestamps and hashes (-det +live):\n%s", diff)
	}
	composed := cmp.Options{artanatest.IgnoreTimestamps(), artanatest.IgnoreIDs(), artanatest.IgnoreHashes()}
	if diff := cmp.Diff(det, live, composed); diff != "" {
		t.Errorf("the three options composed differ from IgnoreVolatile:\n%s", diff)
	}
	// Each option alone leaves the others' fields compared.
	for name, opt := range map[string]cmp.Option{
		"IgnoreTimestamps": artanatest.IgnoreTimestamps(),
		"IgnoreIDs":        artanatest.IgnoreIDs(),
		"IgnoreHashes":     artanatest.IgnoreHashes(),
	} {
		if cmp.Equal(det, live, opt) {
			t.Errorf("%s alone hid a difference of the other volatile fields", name)
		}
	}
	if cmp.Equal(det, live) {
		t.Error("the logs of a deterministic and a random store are equal without options")
	}
}

func TestIgnoreVolatileComparesPayloads(t *testing.T) {
	det, live := twoLogs(t)
	// A payload of another value, and a payload of another type: both are
	// differences, compared through the Payload interface.
	changed := *live[2].Payload.(*ledger.ModelCompleted)
	changed.OutputJSON = `{"label":"spam"}`
	live[2].Payload = &changed
	diff := cmp.Diff(det, live, artanatest.IgnoreVolatile())
	if !strings.Contains(diff, "OutputJSON") || !strings.Contains(diff, "spam") {
		t.Errorf("changed payload field not reported:\n%s", diff)
	}
	live[2].Payload = &ledger.WorkflowStepCompleted{StepName: "x"}
	if cmp.Equal(det, live, artanatest.IgnoreVolatile()) {
		t.Error("payloads of different types compared equal")
	}
	live[2].Payload = det[2].Payload
	live[1].TenantID = "other"
	if cmp.Equal(det, live, artanatest.IgnoreVolatile()) {
		t.Error("IgnoreVolatile hid a tenant difference")
	}
}
