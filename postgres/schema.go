package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The ledger table: the Python original's kernel_events columns, with the
// timestamp as TIMESTAMPTZ, plus timestamp_text, NULL unless the timestamp
// is not UTC (an imported event whose offset, or lack of one, the hash
// needs). run_id sorts bytewise, as in the other stores.
const createEvents = `CREATE TABLE IF NOT EXISTS kernel_events (
    run_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    prev_event_hash TEXT,
    event_hash TEXT NOT NULL,
    "timestamp" TIMESTAMPTZ NOT NULL,
    payload_json TEXT NOT NULL,
    timestamp_text TEXT,
    PRIMARY KEY (run_id, seq)
)`

// The run leases of AcquireLease.
const createLeases = `CREATE TABLE IF NOT EXISTS kernel_run_leases (
    run_id TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
)`

// schemaLock is the advisory lock that serialises the creation of the
// tables by processes opening one database at once.
const schemaLock = 0x61727461_00000001

type column struct {
	name, typ string
	notNull   bool
}

func (c column) String() string {
	s := c.name + " " + c.typ
	if c.notNull {
		s += " NOT NULL"
	}
	return s
}

// ledgerColumns are the columns a kernel_events table must have, in any
// order; types that are equivalent for the ledger are listed together.
var ledgerColumns = []struct {
	name    string
	types   []string
	notNull bool
}{
	{"run_id", []string{"text"}, true},
	{"seq", []string{"bigint", "integer"}, true},
	{"event_id", []string{"text"}, true},
	{"tenant_id", []string{"text"}, true},
	{"event_type", []string{"text"}, true},
	{"prev_event_hash", []string{"text"}, false},
	{"event_hash", []string{"text"}, true},
	{"timestamp", []string{"timestamp with time zone"}, true},
	{"payload_json", []string{"text"}, true},
}

// init checks the schema and, unless read-only, creates the tables, in one
// transaction that holds schemaLock. Nothing is created if the check fails.
func (s *Store) init(ctx context.Context) error {
	err := s.inTx(ctx, s.pool, func(tx pgx.Tx) error {
		if !s.readOnly {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
				return err
			}
		}
		var oid *uint32
		if err := tx.QueryRow(ctx, `SELECT to_regclass('kernel_events')::oid`).Scan(&oid); err != nil {
			return err
		}
		if oid == nil {
			if s.readOnly {
				var schema string
				_ = tx.QueryRow(ctx, `SELECT coalesce(current_schema(), '(none)')`).Scan(&schema)
				return fmt.Errorf("%w in schema %q: the database is not an artana ledger (a read-only open creates nothing)", ErrNoLedger, schema)
			}
			for _, q := range []string{createEvents, createLeases} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("create the ledger's tables: %w", err)
				}
			}
			if err := tx.QueryRow(ctx, `SELECT to_regclass('kernel_events')::oid`).Scan(&oid); err != nil {
				return err
			}
		} else if !s.readOnly {
			if _, err := tx.Exec(ctx, createLeases); err != nil {
				return fmt.Errorf("create the kernel_run_leases table: %w", err)
			}
		}
		return s.checkSchema(ctx, tx, *oid)
	})
	if err != nil {
		if errors.Is(err, ErrIncompatible) || errors.Is(err, ErrNoLedger) {
			return err
		}
		return connErr(err)
	}
	cols := `run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, "timestamp", payload_json`
	s.columns = cols + `, NULL::text`
	if s.tsText {
		s.columns = cols + `, timestamp_text`
	}
	if s.tsText {
		s.insertSQ = `INSERT INTO kernel_events (` + cols + `, timestamp_text)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM (SELECT pg_advisory_xact_lock(` +
			fmt.Sprint(lockClass) + `, hashtext($1))) AS l`
	} else {
		s.insertSQ = `INSERT INTO kernel_events (` + cols + `)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM (SELECT pg_advisory_xact_lock(` +
			fmt.Sprint(lockClass) + `, hashtext($1))) AS l`
	}
	return nil
}

// checkSchema verifies that the table has the ledger's columns, that any
// other column can be left NULL, that (run_id, seq) is the primary key and
// that event_id is unique. It records the primary key's index name and
// whether timestamp_text is there.
func (s *Store) checkSchema(ctx context.Context, tx pgx.Tx, oid uint32) error {
	cols, err := tableColumns(ctx, tx, oid)
	if err != nil {
		return err
	}
	if s.tsText, err = checkColumns(cols); err != nil {
		return err
	}
	pk, uniqueID, err := tableIndexes(ctx, tx, oid)
	if err != nil {
		return err
	}
	if pk == "" {
		return incompatible("the primary key is not (run_id, seq)")
	}
	if !uniqueID {
		return incompatible("event_id is not UNIQUE")
	}
	s.pkIndex = pk
	return nil
}

// incompatible is the error of a table that is not a ledger's.
func incompatible(format string, args ...any) error {
	return fmt.Errorf("%w: %s; this table is not an artana ledger (or was changed by hand), so it was left unmodified: use another database or schema (search_path in the URL)",
		ErrIncompatible, fmt.Sprintf(format, args...))
}

// tableColumn is a column of the table, as the catalog describes it.
type tableColumn struct {
	column
	hasDefault bool
}

// tableColumns returns the columns of the table oid, in order.
func tableColumns(ctx context.Context, tx pgx.Tx, oid uint32) ([]tableColumn, error) {
	rows, err := tx.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod), attnotnull, atthasdef
		FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, oid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []tableColumn
	for rows.Next() {
		var c tableColumn
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.hasDefault); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// checkColumns checks the table's columns against the ledger's: each
// there with its type and nullability, timestamp_text (optional) a
// nullable text, any other column able to be left NULL. It reports
// whether timestamp_text is there.
func checkColumns(cols []tableColumn) (tsText bool, err error) {
	got := make(map[string]column)
	for _, c := range cols {
		got[c.name] = c.column
	}
	known := map[string]bool{"timestamp_text": true}
	for _, want := range ledgerColumns {
		known[want.name] = true
		c, ok := got[want.name]
		wantText := want.name + " " + strings.Join(want.types, " or ")
		if want.notNull {
			wantText += " NOT NULL"
		}
		if !ok {
			return false, incompatible("column %s is missing (want %s)", want.name, wantText)
		}
		typeOK := false
		for _, t := range want.types {
			typeOK = typeOK || c.typ == t
		}
		if !typeOK || c.notNull != want.notNull {
			return false, incompatible("column %s, want %s", c, wantText)
		}
	}
	if c, ok := got["timestamp_text"]; ok {
		if c.typ != "text" || c.notNull {
			return false, incompatible("column %s, want timestamp_text text (NULL allowed)", c)
		}
		tsText = true
	}
	for _, c := range cols {
		if !known[c.name] && c.notNull && !c.hasDefault {
			return false, incompatible("extra column %s has no default and cannot be left NULL, so an append would fail", c.column)
		}
	}
	return tsText, nil
}

// tableIndexes returns the name of the table's primary key index when the
// key is (run_id, seq), and whether a full unique index covers event_id.
func tableIndexes(ctx context.Context, tx pgx.Tx, oid uint32) (pk string, uniqueID bool, err error) {
	rows, err := tx.Query(ctx, `SELECT ic.relname, i.indisprimary, i.indisunique, i.indpred IS NOT NULL,
			array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(n, o)
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = $1`, oid)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name                     string
			primary, unique, partial bool
			cols                     []string
		)
		if err := rows.Scan(&name, &primary, &unique, &partial, &cols); err != nil {
			return "", false, err
		}
		key := strings.Join(cols, ",")
		if primary && key == "run_id,seq" {
			pk = name
		}
		if unique && !partial && key == "event_id" {
			uniqueID = true
		}
	}
	return pk, uniqueID, rows.Err()
}
