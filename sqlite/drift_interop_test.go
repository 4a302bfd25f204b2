package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
)

const verifyEachWithSeed = `
import asyncio, json, sqlite3, sys
from artana.store import SQLiteStore

async def main(path):
    con = sqlite3.connect(path)
    run_ids = [r[0] for r in con.execute("SELECT DISTINCT run_id FROM kernel_events ORDER BY run_id")]
    con.close()
    store = SQLiteStore(path)
    out = {}
    for run_id in run_ids:
        try:
            events = await store.get_events_for_run(run_id)
            out[run_id] = {"verified": await store.verify_run_chain(run_id), "events": len(events)}
        except Exception as e:
            out[run_id] = {"error": type(e).__name__ + ": " + str(e)[:200]}
    await store.close()
    json.dump(out, sys.stdout)

asyncio.run(main(sys.argv[1]))
`

// TestPythonReadsFork: a fork is an ordinary run to the Python original,
// which verifies it; its parent, which holds a replayed_with_drift event
// (an event type the original does not know), it refuses to load.
func TestPythonReadsFork(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fork.db")
	s := openT(t, path)
	tenant := artana.Tenant{ID: "org"}
	model := func(out string) *artanatest.FakeModel {
		return artanatest.NewFakeModel(t, artanatest.Reply{OutputJSON: out})
	}
	type answer struct {
		OK bool `json:"ok"`
	}
	k := artana.New(s, model(`{"ok":true}`))
	run, err := k.StartRun(ctx, tenant, "parent")
	if err != nil {
		t.Fatal(err)
	}
	step := artana.ModelStep{Model: "m", Prompt: "Ok?", StepKey: "ask"}
	if _, err := artana.StepModel[answer](ctx, k, run, step); err != nil {
		t.Fatal(err)
	}
	step.Prompt, step.ReplayPolicy = "Is it ok?", artana.ReplayForkOnDrift
	res, err := artana.StepModel[answer](ctx, artana.New(s, model(`{"ok":false}`)), run, step)
	if err != nil {
		t.Fatal(err)
	}
	cmd := seedPython(t, verifyEachWithSeed, path)
	s.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	type verified struct {
		Verified bool   `json:"verified"`
		Events   int    `json:"events"`
		Error    string `json:"error"`
	}
	var got map[string]verified
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	if d := cmp.Diff(verified{Verified: true, Events: 3}, got[res.RunID]); d != "" {
		t.Errorf("python on the fork %q (-want +got):\n%s", res.RunID, d)
	}
	if p := got["parent"]; p.Verified || !strings.Contains(p.Error, "replayed_with_drift") {
		t.Errorf("python on the parent: %+v, want it to refuse the replayed_with_drift event", p)
	}
}
