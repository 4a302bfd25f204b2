package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
)

// writeDrifted writes a ledger with a run, a replay of it whose prompt
// drifted (allow_prompt_drift) and a fork of it (fork_on_drift).
func writeDrifted(t *testing.T) (path, forkID string) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "drift.db")
	store, err := fixedStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tenant := artana.Tenant{ID: "org"}
	answer := func(out string) *artanatest.FakeModel {
		return artanatest.NewFakeModel(t, artanatest.Reply{OutputJSON: out})
	}
	k := artana.New(store, answer(`{"approved":true,"reason":"ok"}`))
	run, err := k.StartRun(ctx, tenant, "drifty")
	if err != nil {
		t.Fatal(err)
	}
	step := artana.ModelStep{Model: "gpt-4o", Prompt: "Approve?", StepKey: "decide"}
	if _, err := artana.StepModel[decision](ctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	step.Prompt, step.ReplayPolicy = "Approve, please?", artana.ReplayAllowPromptDrift
	if _, err := artana.StepModel[decision](ctx, artana.New(store, nil), run, step); err != nil {
		t.Fatal(err)
	}
	step.Prompt, step.ReplayPolicy = "Approve now?", artana.ReplayForkOnDrift
	r, err := artana.StepModel[decision](ctx, artana.New(store, answer(`{"approved":false,"reason":"forked"}`)), run, step)
	if err != nil {
		t.Fatal(err)
	}
	return path, r.RunID
}

func TestShowDiffLsDrift(t *testing.T) {
	path, forkID := writeDrifted(t)
	if testing.Verbose() {
		for _, a := range [][]string{{"show", path, "drifty"}, {"ls", path}, {"diff", path + "#drifty", path + "#" + forkID}} {
			o, _, _ := runCLI(t, a...)
			t.Log(o)
		}
	}

	out, _, err := runCLI(t, "show", path, "drifty")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replayed_with_drift", "↳ drifted in prompt, messages; answer reused from seq 3 (allow_prompt_drift)",
		"↳ drifted in prompt, messages; forked into run " + forkID + " (fork_on_drift)"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, "show", path, forkID)
	if err != nil || !strings.Contains(out, "run "+forkID+" (fork of drifty)") {
		t.Errorf("show fork: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "show", "--json", path, "drifty")
	if err != nil {
		t.Fatal(err)
	}
	var shown struct {
		Events []eventLine `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	if got := shown.Events[3].Drift; got == nil {
		t.Errorf("json event 4 %+v has no drift", shown.Events[3])
	} else {
		want := *got // the source event's id is the log's
		want.Fields, want.Policy, want.ReusedSeq, want.ForkRunID = []string{"prompt", "messages"}, "allow_prompt_drift", new(int64(3)), ""
		if d := cmp.Diff(&want, got); d != "" {
			t.Errorf("json drift (-want +got):\n%s", d)
		}
	}

	out, _, err = runCLI(t, "ls", path)
	if err != nil || !strings.Contains(out, forkID+" (fork of drifty)") {
		t.Errorf("ls: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "ls", "--json", path)
	if err != nil || !strings.Contains(out, `"fork_of": "drifty"`) {
		t.Errorf("ls --json: %v\n%s", err, out)
	}

	out, _, err = runCLI(t, "diff", path+"#drifty", path+"#"+forkID)
	if err == nil {
		t.Error("diff of a run and its fork found no difference")
	}
	for _, want := range []string{"B is a fork of A: it starts with a copy of A's first 1 event; A seq 5 (replayed_with_drift) names the fork",
		`first divergence: model step "decide"`, `allow_prompt_drift of "decide" (prompt, messages drifted)`} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, "diff", "--json", path+"#"+forkID, path+"#drifty")
	if !strings.Contains(out, `"fork": {`) || !strings.Contains(out, `"prefix_events": 1`) {
		t.Errorf("diff --json:\n%s", out)
	}
}
