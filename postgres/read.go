package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Events returns the run's events with seq > afterSeq; see ledger.Store.
// The events are not verified; use Verify for that.
func (s *Store) Events(ctx context.Context, runID string, afterSeq int64) ([]ledger.Event, error) {
	events := []ledger.Event{}
	err := s.Scan(ctx, runID, afterSeq, func(e ledger.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// Scan calls fn with each of the run's events with seq > afterSeq, in seq
// order, as they arrive from the server, without holding the run in
// memory. It stops at the first error fn returns and returns that error.
// The events come from one snapshot of the table.
func (s *Store) Scan(ctx context.Context, runID string, afterSeq int64, fn func(ledger.Event) error) error {
	return s.scan(ctx, runID, `SELECT `+s.columns+` FROM kernel_events WHERE run_id = $1 AND seq > $2 ORDER BY seq`,
		ignoreText(fn), runID, afterSeq)
}

func ignoreText(fn func(ledger.Event) error) func(ledger.Event, []byte) error {
	return func(e ledger.Event, _ []byte) error { return fn(e) }
}

// ScanAll calls fn with every event of the ledger, ordered by run id
// (bytewise) and then seq, streaming. It stops at the first error fn
// returns and returns that error.
func (s *Store) ScanAll(ctx context.Context, fn func(ledger.Event) error) error {
	return s.scan(ctx, "", `SELECT `+s.columns+` FROM kernel_events ORDER BY run_id COLLATE "C", seq`, ignoreText(fn))
}

// scan calls fn with each event the query returns and its payload_json
// text.
func (s *Store) scan(ctx context.Context, runID, query string, fn func(ledger.Event, []byte) error, args ...any) error {
	fail := func(err error) error {
		return &Error{Op: "read", Ledger: s.ledger, RunID: runID, Err: connErr(err)}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	var rows pgx.Rows
	var err error
	for try := 0; try < 3; try++ {
		rows, err = s.pool.Query(ctx, query, args...)
		if err == nil || !pgconn.SafeToRetry(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return s.readErr(fail(err))
	}
	defer rows.Close()
	for rows.Next() {
		e, text, err := s.decodeRow(rows)
		if err != nil {
			return err
		}
		if err := fn(e, text); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.readErr(fail(err))
	}
	return nil
}

// readErr reports ErrClosed for a read that failed because Close ran.
func (s *Store) readErr(err error) error {
	if s.closed.Load() {
		return ledger.ErrClosed
	}
	return err
}

// decodeRow reads one kernel_events row: the timestamp from its
// TIMESTAMPTZ (or timestamp_text, when set), the payload through
// ledger.DecodePayload.
func (s *Store) decodeRow(rows pgx.Rows) (ledger.Event, []byte, error) {
	var (
		e            ledger.Event
		typ, pl      string
		prev, tsText *string
		ts           time.Time
	)
	if err := rows.Scan(&e.RunID, &e.Seq, &e.ID, &e.TenantID, &typ, &prev, &e.Hash, &ts, &pl, &tsText); err != nil {
		return e, nil, &Error{Op: "read", Ledger: s.ledger, RunID: e.RunID,
			Err: fmt.Errorf("bad row after seq %d: %w", e.Seq, err)}
	}
	e.Type = ledger.EventType(typ)
	fail := func(err error) (ledger.Event, []byte, error) {
		return e, nil, &Error{Op: "read", Ledger: s.ledger, RunID: e.RunID, Seq: e.Seq,
			Err: fmt.Errorf("%w; the row is damaged or was not written by artana", err)}
	}
	if prev != nil {
		if *prev == "" {
			return fail(errors.New("prev_event_hash is an empty string, want NULL or a hash"))
		}
		e.PrevHash = *prev
	}
	e.Timestamp = ts.UTC()
	if tsText != nil {
		t, err := isotime.Parse(*tsText)
		if err != nil {
			return fail(fmt.Errorf("column timestamp_text: %w", err))
		}
		if !t.Equal(e.Timestamp) {
			return fail(fmt.Errorf("column timestamp_text %q is not the instant of column timestamp (%s)",
				*tsText, isotime.Format(e.Timestamp)))
		}
		e.Timestamp = t
	}
	var err error
	text := []byte(pl)
	if e.Payload, err = ledger.DecodePayload(e.Type, text); err != nil {
		return fail(fmt.Errorf("column payload_json: %w", err))
	}
	return e, text, nil
}

// Verify checks the run's hash chain, streaming it from the ledger, and
// that every payload_json text is exactly what its payload encodes to
// (ledger.PayloadForm.Check). It returns nil for a valid (or empty) run;
// otherwise an error wrapping the *ledger.ChainError of the first bad
// event, or the error of a row that cannot be read.
func (s *Store) Verify(ctx context.Context, runID string) error {
	var v ledger.ChainVerifier
	return s.scan(ctx, runID, `SELECT `+s.columns+` FROM kernel_events WHERE run_id = $1 ORDER BY seq`,
		func(e ledger.Event, text []byte) error {
			if err := v.Next(&e); err != nil {
				return fmt.Errorf("verify %s: %w", s.ledger, err)
			}
			if err := ledger.ColumnForm.Check(&e, text); err != nil {
				return fmt.Errorf("verify %s: %w", s.ledger, err)
			}
			return nil
		}, runID)
}

// Runs lists every run of the ledger ordered by run id (bytewise), with
// its event count, tenant, the timestamps of its first and last events and
// its last hash; see ledger.Store.
func (s *Store) Runs(ctx context.Context) ([]ledger.RunInfo, error) {
	fail := func(err error) ([]ledger.RunInfo, error) {
		return nil, s.readErr(&Error{Op: "list runs of", Ledger: s.ledger, Err: connErr(err)})
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if s.closed.Load() {
		return nil, ledger.ErrClosed
	}
	tsf, tsl := "NULL::text", "NULL::text"
	if s.tsText {
		tsf, tsl = "f.timestamp_text", "l.timestamp_text"
	}
	rows, err := s.pool.Query(ctx, `
		SELECT r.run_id, r.n, f.tenant_id, f."timestamp", `+tsf+`, l."timestamp", `+tsl+`, l.event_hash
		FROM (SELECT run_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM kernel_events GROUP BY run_id) AS r
		JOIN kernel_events AS f ON f.run_id = r.run_id AND f.seq = r.lo
		JOIN kernel_events AS l ON l.run_id = r.run_id AND l.seq = r.hi
		ORDER BY r.run_id COLLATE "C"`)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	runs := []ledger.RunInfo{}
	for rows.Next() {
		var (
			r                 ledger.RunInfo
			first, last       time.Time
			firstTxt, lastTxt *string
		)
		if err := rows.Scan(&r.RunID, &r.Events, &r.TenantID, &first, &firstTxt, &last, &lastTxt, &r.LastHash); err != nil {
			return fail(err)
		}
		r.First, r.Last = first.UTC(), last.UTC()
		for _, x := range []struct {
			dst *time.Time
			txt *string
		}{{&r.First, firstTxt}, {&r.Last, lastTxt}} {
			if x.txt != nil {
				t, err := isotime.Parse(*x.txt)
				if err != nil {
					return nil, &Error{Op: "list runs of", Ledger: s.ledger, RunID: r.RunID, Err: fmt.Errorf("column timestamp_text: %w", err)}
				}
				*x.dst = t
			}
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return runs, nil
}
