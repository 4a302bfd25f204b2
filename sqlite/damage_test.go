package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/sqlite"
)

// The damaged ledgers in testdata/damaged are made by
// TestGenerateDamagedLedgers from a ledger this package writes:
//
//	ARTANA_GEN_FIXTURES=1 go test ./sqlite -run '^TestGenerateDamagedLedgers$'
const damagedDir = "testdata/damaged"

// fixtureLedger writes a deterministic ledger: runs ticket-3 (3 events),
// ticket-4 (13 events) and ticket-6 (4 events), then closes it.
func fixtureLedger(t testing.TB, path string) {
	t.Helper()
	ctx := context.Background()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := sqlite.Open(ctx, path, sqlite.WithStoreOptions(
		ledger.WithEventClock(func() time.Time { clock = clock.Add(time.Second); return clock }),
		ledger.WithEventIDs(artanatest.SequentialIDs())))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	step := func(run string, n int) {
		for i := range n {
			var p ledger.Payload
			switch i % 6 {
			case 0:
				p = &ledger.RunStarted{}
			case 1:
				p = &ledger.ModelRequested{Model: "gpt-4o-mini", Prompt: "classify " + run,
					Messages: []ledger.ChatMessage{{Role: "user", Content: "I was charged twice"}}}
			case 2:
				p = &ledger.ModelCompleted{Model: "gpt-4o-mini", OutputJSON: `{"label":"refund"}`,
					PromptTokens: 12, CompletionTokens: 3, CostUSD: 0.00012}
			case 3:
				p = &ledger.ToolRequested{ToolName: "refund", ArgumentsJSON: `{"order":"A-17"}`,
					IdempotencyKey: fmt.Sprintf("%s-%d", run, i), ToolVersion: "1.0.0", SchemaVersion: "1"}
			case 4:
				p = &ledger.ToolCompleted{ToolName: "refund", ResultJSON: `{"ok":true}`, Outcome: ledger.OutcomeSuccess}
			case 5:
				p = &ledger.WorkflowStepCompleted{StepIndex: int64(i), StepName: "notify", ResultJSON: "{}"}
			}
			if _, err := s.Append(ctx, run, "acme", p); err != nil {
				t.Fatal(err)
			}
		}
	}
	step("ticket-3", 3)
	step("ticket-4", 13)
	step("ticket-6", 4)
}

// flipIndexEntry changes the run id of the index entry (ticket-4, 13) of
// idx_kernel_events_run_seq to ticket-5: one byte, in the index only. Reads
// of ticket-4 then end at seq 12 and a phantom run ticket-5 appears, while
// the table still holds 13 rows of ticket-4.
func flipIndexEntry(t testing.TB, path string) {
	t.Helper()
	db := rawDB(t.(*testing.T), path)
	var root, pageSize int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'idx_kernel_events_run_seq'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := data[(root-1)*pageSize : root*pageSize]
	at := bytes.Index(page, []byte("ticket-4\x0d"))
	if at < 0 || page[0] != 0x0a {
		t.Fatalf("index entry (ticket-4, 13) not found in the index's leaf page %d", root)
	}
	page[at+len("ticket-")] = '5'
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// payloadTexts lists the payload_json edits of payload_text.db, one per
// run: the run, the seq, the edit and what verify must name.
var payloadTexts = []struct {
	run  string
	seq  int64
	old  string
	new  string
	want string
}{
	{"ticket-3", 3, `"cost_usd": 0.00012`, `"cost_usd": 0.00012, "approved_by": "cfo@example.com"`, `unknown key "approved_by"`},
	{"ticket-4", 4, `"tool_version"`, `"tool_versoin"`, `key "tool_version" renamed to "tool_versoin"`},
	{"ticket-4", 5, `, "effect_id": null`, ``, `missing key "effect_id"`},
	{"ticket-6", 2, `"role": "user", "content"`, `"content": "I was charged twice", "role": "user", "x"`, `key "messages"`},
}

// TestGenerateDamagedLedgers writes testdata/damaged (see damagedDir) when
// ARTANA_GEN_FIXTURES is set, and otherwise checks that the committed files
// are what it would write.
func TestGenerateDamagedLedgers(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	fixtureLedger(t, clean)

	flipped := filepath.Join(dir, "index_flip.db")
	copyFile(t, clean, flipped)
	flipIndexEntry(t, flipped)

	texts := filepath.Join(dir, "payload_text.db")
	copyFile(t, clean, texts)
	db := rawDB(t, texts)
	for _, c := range payloadTexts {
		var pl string
		if err := db.QueryRow(`SELECT payload_json FROM kernel_events WHERE run_id = ? AND seq = ?`, c.run, c.seq).Scan(&pl); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(pl, c.old) {
			t.Fatalf("run %s seq %d: %q not in %s", c.run, c.seq, c.old, pl)
		}
		execSQL(t, db, fmt.Sprintf(`UPDATE kernel_events SET payload_json = '%s' WHERE run_id = '%s' AND seq = %d`,
			strings.Replace(pl, c.old, c.new, 1), c.run, c.seq))
	}
	execSQL(t, db, `PRAGMA wal_checkpoint(TRUNCATE)`, `PRAGMA journal_mode = DELETE`, `VACUUM`, `PRAGMA journal_mode = WAL`)
	db.Close()
	os.Remove(texts + "-wal")
	os.Remove(texts + "-shm")

	for _, name := range []string{"index_flip.db", "payload_text.db"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		committed := filepath.Join(damagedDir, name)
		if os.Getenv("ARTANA_GEN_FIXTURES") != "" {
			if err := os.MkdirAll(damagedDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(committed, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(committed)
		if err != nil {
			t.Fatalf("%v; write it with: ARTANA_GEN_FIXTURES=1 go test ./sqlite -run '^TestGenerateDamagedLedgers$'", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes; rewrite it with: ARTANA_GEN_FIXTURES=1 go test ./sqlite -run '^TestGenerateDamagedLedgers$'", committed)
		}
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// tempCopy copies a committed fixture into a temporary directory.
func tempCopy(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(name))
	copyFile(t, name, p)
	return p
}

func verifyEach(t *testing.T, s *sqlite.Store) map[string]sqlite.RunCheck {
	t.Helper()
	got := map[string]sqlite.RunCheck{}
	err := s.VerifyEach(context.Background(), nil, func(c sqlite.RunCheck) error {
		got[c.RunID] = c
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestVerifyIndexFlip: one byte changed in the (run_id, seq) index makes
// reads of ticket-4 end at seq 12 with a valid chain, and invents a run;
// verify compares what reads find with the table and names both runs.
func TestVerifyIndexFlip(t *testing.T) {
	path := tempCopy(t, filepath.Join(damagedDir, "index_flip.db"))
	s := openT(t, path, sqlite.ReadOnly())
	ctx := context.Background()
	err := s.Verify(ctx, "ticket-4")
	if !errors.Is(err, sqlite.ErrDamaged) || !strings.Contains(err.Error(), `run "ticket-4"`) ||
		!strings.Contains(err.Error(), "table holds 13 rows of the run, reads through the index find 12") {
		t.Errorf("Verify(ticket-4) = %v, want ErrDamaged naming the run and the row counts", err)
	}
	got := verifyEach(t, s)
	for run, want := range map[string]bool{"ticket-3": true, "ticket-4": false, "ticket-5": false, "ticket-6": true} {
		c, ok := got[run]
		if !ok {
			t.Errorf("VerifyEach did not report run %s", run)
			continue
		}
		if (c.Err == nil) != want {
			t.Errorf("run %s: err = %v, want ok=%v", run, c.Err, want)
		}
		if c.Err != nil && !errors.Is(c.Err, sqlite.ErrDamaged) {
			t.Errorf("run %s: err = %v, want ErrDamaged", run, c.Err)
		}
	}
}

// TestVerifyPayloadText: payload texts that decode to the same payload
// (a key added, renamed, deleted with its default, members reordered)
// are reported with run, seq and key.
func TestVerifyPayloadText(t *testing.T) {
	path := tempCopy(t, filepath.Join(damagedDir, "payload_text.db"))
	s := openT(t, path, sqlite.ReadOnly())
	got := verifyEach(t, s)
	seen := map[string]bool{}
	for _, c := range payloadTexts {
		if seen[c.run] {
			continue // the first bad event of a run is reported
		}
		seen[c.run] = true
		err := got[c.run].Err
		var ce *ledger.ChainError
		if !errors.As(err, &ce) {
			t.Errorf("run %s: err = %v, want a ChainError", c.run, err)
		} else if d := cmp.Diff(ledger.ChainError{RunID: c.run, Seq: c.seq, Reason: ce.Reason}, *ce); d != "" || !strings.Contains(ce.Reason, c.want) {
			t.Errorf("run %s: err = %v, want a ChainError naming %s (-want +got):\n%s", c.run, err, c.want, d)
		}
		if err := s.Verify(context.Background(), c.run); !errors.Is(err, ledger.ErrChainBroken) {
			t.Errorf("Verify(%s) = %v, want ErrChainBroken", c.run, err)
		}
	}
}

// TestOpenRefusesDamagedFile: a file whose b-tree pages are broken is
// refused by Open with ErrDamaged, SQLite's finding and what to do, and
// verify reports the same.
func TestOpenRefusesDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.db")
	fixtureLedger(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Page 2 is the table's root: make its cell count claim more cells
	// than the page holds.
	const pageSize = 4096
	if data[pageSize] != 0x0d && data[pageSize] != 0x05 {
		t.Fatalf("page 2 is not a table b-tree page (type %#x)", data[pageSize])
	}
	data[pageSize+3], data[pageSize+4] = 0x0f, 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]sqlite.Option{nil, {sqlite.ReadOnly()}} {
		_, err := sqlite.Open(context.Background(), path, opts...)
		if !errors.Is(err, sqlite.ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore it from a backup") {
			t.Errorf("Open = %v, want ErrDamaged naming the file and what to do", err)
		}
		t.Log(err)
	}
	s := openT(t, path, sqlite.ReadOnly(), sqlite.SkipFileCheck())
	if err := s.Verify(context.Background(), "ticket-4"); !errors.Is(err, sqlite.ErrDamaged) {
		t.Errorf("Verify = %v, want ErrDamaged", err)
	}
}

// TestSwappedIndexEntries swaps two entries of a (run_id, seq) index (two
// cell pointers of its leaf page): the index then holds exactly the
// table's entries, in the wrong order, so reads through it find a run's
// rows out of order (or miss them). Verify must report it, and its fast
// path, from the pages or through SQLite, must not prove the file sound.
func TestSwappedIndexEntries(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	fixtureLedger(t, clean)
	for _, index := range []string{"idx_kernel_events_run_seq", "sqlite_autoindex_kernel_events_2"} {
		t.Run(index, func(t *testing.T) {
			db := rawDB(t, clean)
			var root, pageSize int64
			if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = ?`, index).Scan(&root); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
				t.Fatal(err)
			}
			db.Close()
			data, err := os.ReadFile(clean)
			if err != nil {
				t.Fatal(err)
			}
			page := data[(root-1)*pageSize : root*pageSize]
			if page[0] != 0x0a || int(page[3])<<8|int(page[4]) < 8 {
				t.Fatalf("page %d of %s is not a leaf page with the fixture's entries", root, index)
			}
			// The entries of (ticket-4, 3) and (ticket-4, 4): cells 5 and 6.
			a, b := 8+2*5, 8+2*6
			page[a], page[a+1], page[b], page[b+1] = page[b], page[b+1], page[a], page[a+1]
			path := filepath.Join(dir, index+".db")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if pages, rows := fastProves(path); pages || rows {
				t.Errorf("the fast path proves the file sound: from its pages %v, through SQLite %v", pages, rows)
			}
			problems, err := verifyReport(path)
			if err != nil || len(problems) == 0 {
				t.Errorf("verify: %v, %v; want the swapped entries reported", problems, err)
			}
		})
	}
}
