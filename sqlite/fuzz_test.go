package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/sqlite"
)

// FuzzRow stores arbitrary event_type, timestamp and payload_json columns
// and reads them back: reading never panics, and a row that reads without
// error re-encodes to a payload that reads back the same.
func FuzzRow(f *testing.F) {
	f.Add("model_completed", "2024-02-29T23:59:59+00:00",
		`{"kind": "model_completed", "model": "m", "output_json": "{}", "prompt_tokens": 1, "completion_tokens": 0, "cost_usd": 1e-05, "tool_calls": []}`)
	f.Add("pause_requested", "2024-03-01 00:00:00.12Z", `{"reason": "caf\u00e9 \ud83d\ude00", "context_json": null}`)
	f.Add("tool_completed", "bad", `{"kind": "tool_completed", "tool_name": "t", "result_json": "", "outcome": "unknown_outcome"}`)
	path := filepath.Join(f.TempDir(), "fuzz.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		f.Fatal(err)
	}
	_ = s.Close()
	f.Fuzz(func(t *testing.T, typ, ts, payload string) {
		ctx := context.Background()
		s := openT(t, path)
		db := rawDB(t, path)
		execSQL(t, db, `DELETE FROM kernel_events`)
		if _, err := db.Exec(`INSERT INTO kernel_events VALUES ('r', 1, 'id', 't', ?, NULL, 'h', ?, ?)`, typ, ts, payload); err != nil {
			t.Fatal(err)
		}
		events, err := s.Events(ctx, "r", 0)
		if err != nil {
			return
		}
		p := events[0].Payload
		again, err := ledger.DecodePayload(p.Kind(), ledger.ColumnForm.Encode(p))
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v\n%s", err, ledger.ColumnForm.Encode(p))
		}
		if a, b := ledger.CanonicalForm.Encode(p), ledger.CanonicalForm.Encode(again); string(a) != string(b) {
			t.Fatalf("payload changed on a round trip:\n%s\n%s", a, b)
		}
		if got := isotime.Format(events[0].Timestamp); got == "" {
			t.Fatalf("empty timestamp for %q", ts)
		}
	})
}
