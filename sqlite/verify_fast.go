package sqlite

import (
	"context"
	"database/sql"
	"unsafe"

	"github.com/artana-go/go-artana/artana/ledger"
)

// storedRow selects a row as one text, so that reading it costs one string
// instead of one per column: the rowid, the seq and the byte lengths of the
// text columns (-1 for a NULL prev_event_hash), then the columns. It is
// NULL when a column does not have the type the writers give it; such a
// row is read the usual way.
const storedRow = `CASE WHEN typeof(seq) = 'integer' AND typeof(event_id) = 'text' AND typeof(run_id) = 'text'` +
	` AND typeof(tenant_id) = 'text' AND typeof(event_type) = 'text' AND typeof(prev_event_hash) IN ('text', 'null')` +
	` AND typeof(event_hash) = 'text' AND typeof(timestamp) = 'text' AND typeof(payload_json) = 'text'` +
	` THEN printf('%d %d %d %d %d %d %d %d %d %d ', rowid, seq, length(CAST(event_id AS BLOB)), length(CAST(run_id AS BLOB)),` +
	` length(CAST(tenant_id AS BLOB)), length(CAST(event_type AS BLOB)), COALESCE(length(CAST(prev_event_hash AS BLOB)), -1),` +
	` length(CAST(event_hash AS BLOB)), length(CAST(timestamp AS BLOB)), length(CAST(payload_json AS BLOB)))` +
	` || event_id || run_id || tenant_id || event_type || COALESCE(prev_event_hash, '') || event_hash || timestamp || payload_json END`

// verifyRunStored is verifyRun for a run whose rows are all as the
// writers write them, reading each row as one string and verifying it from
// its stored text (ledger.StoredVerifier.NextStored). It reports ok false
// at the first row it cannot take that way (a row of another shape, a
// broken chain, a read error), having called onEvent n times; verifyRun
// then reads the run again the usual way, which explains what is wrong.
func (s *Store) verifyRunStored(ctx context.Context, runID string, want *rowDigest, onEvent func()) (n int64, ok bool, err error) {
	if s.closed.Load() || ctx.Err() != nil {
		return 0, false, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+storedRow+` FROM kernel_events WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return 0, false, nil
	}
	defer rows.Close()
	var (
		v   ledger.StoredVerifier
		got rowDigest
		row sql.NullString
		e   = ledger.StoredEvent{Form: ledger.ColumnForm}
	)
	for rows.Next() {
		if err := rows.Scan(&row); err != nil || !row.Valid {
			return n, false, nil
		}
		rowid, ok := splitStoredRow(row.String, &e)
		if !ok {
			return n, false, nil
		}
		if handled, err := v.NextStored(&e); !handled || err != nil {
			return n, false, nil
		}
		got.add(rowid, e.Seq)
		n++
		if onEvent != nil {
			onEvent()
		}
	}
	if rows.Err() != nil {
		return n, false, nil
	}
	if want == nil {
		want = &rowDigest{}
	}
	if got != *want {
		return 0, true, s.digestErr(runID, want, &got)
	}
	return n, true, nil
}

// splitStoredRow splits a storedRow text into e and returns the rowid.
func splitStoredRow(row string, e *ledger.StoredEvent) (rowid int64, ok bool) {
	var nums [10]int64
	row, ok = splitInts(row, nums[:])
	if !ok {
		return 0, false
	}
	i := 0
	field := func(n int64) (string, bool) {
		if n < 0 || n > int64(len(row)-i) {
			return "", false
		}
		f := row[i : i+int(n)]
		i += int(n)
		return f, true
	}
	prevLen := nums[6]
	if prevLen == 0 {
		return 0, false // '' rather than NULL: the usual read explains
	}
	if prevLen < 0 {
		prevLen = 0
	}
	var typ, payload string
	ok1 := true
	for _, f := range []struct {
		dst *string
		n   int64
	}{{&e.ID, nums[2]}, {&e.RunID, nums[3]}, {&e.TenantID, nums[4]}, {&typ, nums[5]}, {&e.PrevHash, prevLen},
		{&e.Hash, nums[7]}, {&e.Timestamp, nums[8]}, {&payload, nums[9]}} {
		if *f.dst, ok = field(f.n); !ok {
			ok1 = false
			break
		}
	}
	if !ok1 || i != len(row) {
		return 0, false
	}
	// The payload is only read: a view of the row's text.
	e.Seq, e.Type, e.Payload = nums[1], ledger.EventType(typ), unsafe.Slice(unsafe.StringData(payload), len(payload))
	return nums[0], true
}

// tableDigestsFast is tableDigests with the sums computed by SQLite, one
// row per run. It reports false when a row has a seq that is not an
// integer, or on any error: tableDigests then reads the table row by row,
// which explains it.
func (s *Store) tableDigestsFast(ctx context.Context, runID string) (map[string]*rowDigest, bool) {
	q := `SELECT run_id, ` + digestColumns + ` FROM kernel_events NOT INDEXED`
	var args []any
	if runID != "" {
		q += ` WHERE run_id = ?`
		args = append(args, runID)
	}
	rows, err := s.db.QueryContext(ctx, q+` GROUP BY run_id`, args...)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	out := make(map[string]*rowDigest)
	for rows.Next() {
		var (
			run sql.NullString
			g   rowDigest
			bad int64
		)
		if err := rows.Scan(&run, &g.n, &g.rowids, &g.seqs, &g.mix, &bad); err != nil || bad != 0 {
			return nil, false
		}
		// Run ids that differ in SQLite's type (5 and '5') are one run here,
		// as for the readers.
		d := out[run.String]
		if d == nil {
			d = new(rowDigest)
			out[run.String] = d
		}
		d.n, d.rowids, d.seqs, d.mix = d.n+g.n, d.rowids+g.rowids, d.seqs+g.seqs, d.mix+g.mix
	}
	if rows.Err() != nil {
		return nil, false
	}
	return out, true
}

// splitInts reads len(nums) decimal integers, each followed by a space,
// from the start of row, and returns the rest.
func splitInts(row string, nums []int64) (string, bool) {
	i := 0
	for k := range nums {
		neg := false
		if i < len(row) && row[i] == '-' {
			neg, i = true, i+1
		}
		start := i
		var v int64
		for i < len(row) && row[i] >= '0' && row[i] <= '9' && i-start < 18 {
			v = v*10 + int64(row[i]-'0')
			i++
		}
		if i == start || i >= len(row) || row[i] != ' ' {
			return "", false
		}
		i++
		if neg {
			v = -v
		}
		nums[k] = v
	}
	return row[i:], true
}
