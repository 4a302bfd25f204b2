package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/sqlite"
	"github.com/google/go-cmp/cmp"
)

func openT(t *testing.T, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawDB opens path with the driver directly, bypassing the store's checks.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func execSQL(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "ledger.db")
	s := openT(t, path)
	if _, err := s.Append(context.Background(), "r", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("a -wal file is left after Close: %v", err)
	}
}

func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "we?ird #dir %41", "lédger ?.db")
	s := openT(t, path)
	if _, err := s.Append(context.Background(), "r", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the ledger is not at the path given: %v", err)
	}
}

// assertRefused opens path and checks that it fails with want, names the
// file, and leaves the directory's files exactly as they were.
func assertRefused(t *testing.T, path string, want error, opts ...sqlite.Option) error {
	t.Helper()
	before := dirSnapshot(t, filepath.Dir(path))
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded, want %v", path, want)
	}
	if !errors.Is(err, want) {
		t.Errorf("Open: err = %v, want %v", err, want)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
	sameSnapshot(t, before, dirSnapshot(t, filepath.Dir(path)))
	return err
}

func TestOpenRefusesNonSQLite(t *testing.T) {
	for name, content := range map[string][]byte{
		"text":           []byte("this is a text file, not a ledger\n"),
		"json":           bytes.Repeat([]byte(`{"kind": "run_started"}`+"\n"), 50),
		"short":          []byte("SQLite"),
		"corrupt sqlite": append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xa5}, 4096)...),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			err := assertRefused(t, path, sqlite.ErrNotSQLite)
			if err != nil && !strings.Contains(err.Error(), "not modified") {
				t.Errorf("error %q does not say the file was left alone", err)
			}
		})
	}
}

func TestOpenRefusesDirectory(t *testing.T) {
	_, err := sqlite.Open(context.Background(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Open(directory) = %v, want an error saying it is a directory", err)
	}
}

func TestOpenRefusesIncompatibleTable(t *testing.T) {
	cases := map[string]string{
		"missing column": `CREATE TABLE kernel_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (run_id, seq))`,
		"other types": `CREATE TABLE kernel_events (run_id TEXT NOT NULL, seq TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE,
			tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL,
			timestamp TEXT NOT NULL, payload_json TEXT NOT NULL, PRIMARY KEY (run_id, seq))`,
		"no unique event_id": `CREATE TABLE kernel_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL,
			tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL,
			timestamp TEXT NOT NULL, payload_json TEXT NOT NULL, PRIMARY KEY (run_id, seq))`,
		"extra column": `CREATE TABLE kernel_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
			tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL,
			timestamp TEXT NOT NULL, payload_json TEXT NOT NULL, extra TEXT, PRIMARY KEY (run_id, seq))`,
		"other primary key": `CREATE TABLE kernel_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
			tenant_id TEXT NOT NULL, event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL PRIMARY KEY,
			timestamp TEXT NOT NULL, payload_json TEXT NOT NULL)`,
	}
	for name, create := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.db")
			db := rawDB(t, path)
			execSQL(t, db, create, `CREATE TABLE notes (x)`, `INSERT INTO notes VALUES ('keep me')`)
			db.Close()
			err := assertRefused(t, path, sqlite.ErrIncompatible)
			if err != nil && !strings.Contains(err.Error(), "kernel_events") {
				t.Errorf("error %q does not name the table", err)
			}
			assertRefused(t, path, sqlite.ErrIncompatible, sqlite.ReadOnly())
		})
	}
}

func TestOpenAcceptsEmptyFileAndOtherTables(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db := rawDB(t, other)
	execSQL(t, db, `CREATE TABLE notes (x)`)
	db.Close()
	for _, path := range []string{empty, other} {
		s := openT(t, path)
		if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestOpenOptionErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	for name, opt := range map[string]sqlite.Option{
		"sync":    sqlite.WithSynchronous("OFF"),
		"timeout": sqlite.WithBusyTimeout(-time.Second),
	} {
		if _, err := sqlite.Open(context.Background(), path, opt); err == nil {
			t.Errorf("%s: Open succeeded, want an error", name)
		}
	}
	if _, err := sqlite.Open(context.Background(), ""); err == nil {
		t.Errorf("Open(\"\") succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused Open created the file")
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "x.db")
	if _, err := sqlite.Open(ctx, missing, sqlite.ReadOnly()); err == nil || !strings.Contains(err.Error(), "no such ledger") {
		t.Errorf("ReadOnly open of a missing file: %v, want 'no such ledger'", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("ReadOnly open created the directory")
	}

	noTable := filepath.Join(dir, "notable.db")
	db := rawDB(t, noTable)
	execSQL(t, db, `CREATE TABLE notes (x)`)
	db.Close()
	assertRefused(t, noTable, sqlite.ErrIncompatible, sqlite.ReadOnly())

	path := filepath.Join(dir, "ledger.db")
	w := openT(t, path)
	e1, err := w.Append(ctx, "r", "t", &ledger.RunStarted{})
	if err != nil {
		t.Fatal(err)
	}
	// While a writer is open (a -wal file exists), a reader sees its later appends.
	live := openT(t, path, sqlite.ReadOnly())
	e2, err := w.Append(ctx, "r", "t", &ledger.PauseRequested{Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if events, err := live.Events(ctx, "r", 0); err != nil {
		t.Errorf("live reader: %v", err)
	} else if d := cmp.Diff([]ledger.Event{e1, e2}, events); d != "" {
		t.Errorf("live reader: want both appends (-appended +read):\n%s", d)
	}
	live.Close()
	w.Close()

	before := dirSnapshot(t, dir)
	s := openT(t, path, sqlite.ReadOnly())
	if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); !errors.Is(err, sqlite.ErrReadOnly) {
		t.Errorf("Append on a read-only store: %v, want ErrReadOnly", err)
	}
	if err := s.Import(ctx, []ledger.Event{e1}); !errors.Is(err, sqlite.ErrReadOnly) {
		t.Errorf("Import on a read-only store: %v, want ErrReadOnly", err)
	}
	if err := s.Verify(ctx, "r"); err != nil {
		t.Errorf("Verify: %v", err)
	}
	runs, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for _, r := range runs {
		counts = append(counts, r.Events)
	}
	if d := cmp.Diff([]int64{2}, counts); d != "" {
		t.Errorf("Runs' event counts (-want +got):\n%s", d)
	}
	s.Close()
	sameSnapshot(t, before, dirSnapshot(t, dir))
}

func TestBusyTimeout(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s := openT(t, path, sqlite.WithBusyTimeout(100*time.Millisecond))
	// Another connection holds the write lock.
	db := rawDB(t, path)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(ctx, "r", "t", &ledger.RunStarted{})
	if err == nil || !strings.Contains(err.Error(), "busy timeout") || !strings.Contains(err.Error(), path) {
		t.Errorf("Append while another writer holds the lock: %v; want a busy timeout error naming the file", err)
	}
	// A cancelled wait returns the context's error.
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	slow := openT(t, path, sqlite.WithBusyTimeout(5*time.Second))
	if _, err := slow.Append(cctx, "r", "t", &ledger.RunStarted{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append with an expiring context while locked: %v, want DeadlineExceeded", err)
	}
	// Once the lock is released, the waiting append goes through.
	done, started := make(chan error, 1), make(chan struct{})
	go func() {
		close(started)
		_, err := slow.Append(ctx, "r", "t", &ledger.RunStarted{})
		done <- err
	}()
	<-started
	select {
	case err := <-done:
		t.Fatalf("the waiting Append returned %v while the lock was held", err)
	default:
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Append after the lock was released: %v", err)
	}
	for _, st := range []*sqlite.Store{s, slow} {
		if events, err := st.Events(ctx, "r", 0); err != nil || len(events) != 1 {
			t.Errorf("%d events, %v; want exactly the one append that succeeded", len(events), err)
		}
	}
}
