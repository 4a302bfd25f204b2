package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/postgres"
	"github.com/jackc/pgx/v5"
)

// terminateOthers kills the server processes of every connection to the
// test's database but admin's (only those waiting for a lock, if waiting)
// and returns their process ids. A process that was killed can linger a
// moment, still shown as waiting: the caller counts distinct ids.
func terminateOthers(t *testing.T, admin *pgx.Conn, waiting bool) []int64 {
	t.Helper()
	q := `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle in transaction'`
	if waiting {
		q += ` AND wait_event_type = 'Lock'`
	}
	// MATERIALIZED: the filter runs first, so that no other process is
	// killed.
	rows, err := admin.Query(context.Background(), `WITH victims AS MATERIALIZED (`+q+`)
		SELECT pid FROM victims WHERE pg_terminate_backend(pid)`)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// TestConnectionLoss kills the store's connections on the server: an
// append whose connection dies while it waits is reported as failed or
// (once the server process is gone and the event is certainly not there)
// redone on a new connection, never half-written and never doubled; the
// next call reconnects.
func TestConnectionLoss(t *testing.T) {
	ctx := context.Background()
	u := newURL(t)
	s := open(t, u)
	if _, err := s.Append(ctx, "r", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	// Idle connections killed: the next append goes through.
	if n := len(terminateOthers(t, admin, false)); n == 0 {
		t.Fatal("the store had no connection to kill")
	}
	e, err := s.Append(ctx, "r", "t", &ledger.RunStarted{})
	if err != nil || e.Seq != 2 {
		t.Fatalf("Append after its connections were killed = seq %d, %v", e.Seq, err)
	}

	// A connection killed while its append waits for the run's lock.
	killed, err := appendKilledWhileWaiting(t, s, admin, u)
	if !errors.Is(err, postgres.ErrConnection) || !strings.Contains(err.Error(), "nothing was appended") {
		t.Errorf("Append whose connections died: %v, want ErrConnection, nothing appended", err)
	}
	if killed != 3 {
		t.Errorf("killed %d connections of the append, want 3 (it tries three)", killed)
	}
	events := assertGapless(t, s, "r")
	if len(events) != 2 {
		t.Errorf("a failed append left %d events, want 2", len(events))
	}
	// The next call reconnects.
	e, err = s.Append(ctx, "r", "t", &ledger.RunStarted{})
	if err != nil || e.Seq != int64(len(events)+1) {
		t.Fatalf("Append after the failure = seq %d, %v", e.Seq, err)
	}
	assertGapless(t, s, "r")
}

// appendKilledWhileWaiting appends to run "r" of s while a connection of
// its own (to u) holds the run's lock, and kills (through admin) every
// connection that waits for the lock until the append gives up (it tries
// three connections); then it lets the lock go. It returns the number of
// connections killed and the append's error.
func appendKilledWhileWaiting(t *testing.T, s *postgres.Store, admin *pgx.Conn, u string) (killed int, appendErr error) {
	t.Helper()
	ctx := context.Background()
	locker, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext('r'))`, 0x61727461); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := s.Append(ctx, "r", "t", &ledger.PauseRequested{Reason: "waits"})
		done <- err
	}()
	pids := map[int64]bool{}
wait:
	for deadline := time.Now().Add(20 * time.Second); ; {
		select {
		case appendErr = <-done:
			break wait
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the append neither failed nor succeeded")
		}
		for _, pid := range terminateOthers(t, admin, true) {
			pids[pid] = true
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	return len(pids), appendErr
}

// TestServerDown points a store at a server that is not there: appends
// and reads fail with ErrConnection, quickly, naming the server without
// its password.
func TestServerDown(t *testing.T) {
	newURL(t) // skips without a server
	_, err := postgres.Open(context.Background(), "postgres://u:secret-pw@127.0.0.1:1/db?connect_timeout=2")
	if !errors.Is(err, postgres.ErrConnection) {
		t.Errorf("Open of a server that is not there: %v", err)
	}
}
