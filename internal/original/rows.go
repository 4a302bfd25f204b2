package original

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/isotime"
)

// row is one kernel_events row of a ledger the Python original wrote, as
// artana/testdata/dump_seed_rows.py dumps it (one JSON object per line).
type row struct {
	RunID     string  `json:"run_id"`
	Seq       int64   `json:"seq"`
	EventID   string  `json:"event_id"`
	TenantID  string  `json:"tenant_id"`
	EventType string  `json:"event_type"`
	PrevHash  *string `json:"prev_event_hash"`
	Hash      string  `json:"event_hash"`
	Timestamp string  `json:"timestamp"`
	Payload   string  `json:"payload_json"`
}

// ReadRows returns the events of each run in a dumped ledger, and the
// stored payload_json column of each event.
func ReadRows(t testing.TB, path string) (runs map[string][]ledger.Event, columns map[*ledger.Event]string, order []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runs = map[string][]ledger.Event{}
	payloads := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		prev := ""
		if r.PrevHash != nil {
			prev = *r.PrevHash
		}
		if _, ok := runs[r.RunID]; !ok {
			order = append(order, r.RunID)
		}
		e := EventFromColumns(t, r.EventID, r.RunID, r.TenantID, r.Seq, ledger.EventType(r.EventType), prev, r.Hash, r.Timestamp, r.Payload)
		runs[r.RunID] = append(runs[r.RunID], e)
		payloads[r.RunID] = append(payloads[r.RunID], r.Payload)
	}
	columns = map[*ledger.Event]string{}
	for id, events := range runs {
		for i := range events {
			columns[&events[i]] = payloads[id][i]
		}
	}
	return runs, columns, order
}

// EventFromColumns builds an event from stored columns, the way a store
// reads a row; it fails the test when the payload or timestamp does not decode.
func EventFromColumns(t testing.TB, id, run, tenant string, seq int64, typ ledger.EventType, prev, hash, ts, payload string) ledger.Event {
	t.Helper()
	p, err := ledger.DecodePayload(typ, []byte(payload))
	if err != nil {
		t.Fatalf("DecodePayload: %v", err)
	}
	when, err := isotime.Parse(ts)
	if err != nil {
		t.Fatalf("isotime.Parse: %v", err)
	}
	return ledger.Event{ID: id, RunID: run, TenantID: tenant, Seq: seq, Type: typ, PrevHash: prev,
		Hash: hash, Timestamp: when, Payload: p}
}
