package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

func benchPayload() ledger.Payload {
	return &ledger.ModelCompleted{Model: "gpt-4o-mini", OutputJSON: `{"approved":true,"reason":"` + strings.Repeat("ok ", 40) + `"}`,
		PromptTokens: 120, CompletionTokens: 60, CostUSD: 0.00123}
}

// BenchmarkAppend measures one event per transaction through the store
// against raw pgx single-row inserts of the same row into a table of the
// same shape on the same server, and against a store whose every append
// takes the locked transaction (as the Python store appends: lock, read
// the last event, insert, commit; here the first three in one round trip). The three alternate, one of each per
// iteration, so that all see the same load on the machine; the ratio
// metric is the store's append rate over the raw insert rate (goal: at
// least 0.7):
//
//	go test -run '^$' -bench 'Append$' -benchtime 3000x ./postgres/
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	s := open(b, newURL(b), postgres.WithMaxConns(1))
	locked := open(b, newURL(b), postgres.WithMaxConns(1))
	postgres.AlwaysLock(locked)
	u := newURL(b)
	execSQL(b, u, `CREATE TABLE kernel_events (
		run_id TEXT NOT NULL, seq BIGINT NOT NULL, event_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
		event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL, "timestamp" TIMESTAMPTZ NOT NULL,
		payload_json TEXT NOT NULL, timestamp_text TEXT, PRIMARY KEY (run_id, seq))`)
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	p := benchPayload()
	payload := string(ledger.ColumnForm.Encode(p))
	hash := strings.Repeat("ab", 32)
	ts := time.Now().UTC().Truncate(time.Microsecond)
	// The first append reads the run, and each side's first statement is
	// prepared: do both before timing.
	for _, st := range []*postgres.Store{s, locked} {
		if _, err := st.Append(ctx, "bench", "tenant", p); err != nil {
			b.Fatal(err)
		}
	}
	seq := int64(0)
	raw := func() {
		seq++
		if _, err := pool.Exec(ctx, `INSERT INTO kernel_events (run_id, seq, event_id, tenant_id, event_type, prev_event_hash, event_hash, "timestamp", payload_json)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			"bench", seq, fmt.Sprintf("%032x", seq), "tenant", "model_completed", hash, hash, ts, payload); err != nil {
			b.Fatal(err)
		}
	}
	raw()
	var inStore, inRaw, inLocked time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Append(ctx, "bench", "tenant", p); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		raw()
		t2 := time.Now()
		if _, err := locked.Append(ctx, "bench", "tenant", p); err != nil {
			b.Fatal(err)
		}
		inLocked += time.Since(t2)
		inRaw += t2.Sub(t1)
		inStore += t1.Sub(t0)
	}
	b.ReportMetric(float64(inStore.Microseconds())/float64(b.N), "store-µs/op")
	b.ReportMetric(float64(inRaw.Microseconds())/float64(b.N), "raw-µs/op")
	b.ReportMetric(float64(inLocked.Microseconds())/float64(b.N), "locked-µs/op")
	b.ReportMetric(float64(inRaw)/float64(inStore), "store/raw-rate")
	b.ReportMetric(float64(inRaw)/float64(inLocked), "locked/raw-rate")
}

// BenchmarkAppendWriters measures the aggregate append rate of 1, 4 and
// 16 goroutines, each appending to a run of its own, through one store
// (a pool of 16 connections). Each iteration is a round of 16 appends at
// each level in turn, so that all three see the same load on the machine;
// the metrics are appends per second at each level (goal: rising with the
// writers):
//
//	go test -run '^$' -bench 'AppendWriters' -benchtime 300x ./postgres/
func BenchmarkAppendWriters(b *testing.B) {
	const perRound = 16
	levels := []int{1, 4, 16}
	s := open(b, newURL(b), postgres.WithMaxConns(16))
	ctx := context.Background()
	p := benchPayload()
	// Each writer's first append reads its run; do it before timing.
	for _, writers := range levels {
		for w := range writers {
			if _, err := s.Append(ctx, fmt.Sprintf("w%d-run-%d", writers, w), "t", p); err != nil {
				b.Fatal(err)
			}
		}
	}
	spent := make([]time.Duration, len(levels))
	b.ResetTimer()
	for b.Loop() {
		for i, writers := range levels {
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perRound / writers {
						if _, err := s.Append(ctx, fmt.Sprintf("w%d-run-%d", writers, w), "t", p); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			spent[i] += time.Since(start)
		}
	}
	for i, writers := range levels {
		b.ReportMetric(float64(perRound*b.N)/spent[i].Seconds(), fmt.Sprintf("appends/s@%d", writers))
	}
}

// BenchmarkSharedRun measures the aggregate append rate of 8 goroutines
// appending to one shared run, with the one-statement path (which then
// often loses the race and redoes the append under the lock) and with
// every append in the locked transaction. The two alternate in rounds:
//
//	go test -run '^$' -bench SharedRun -benchtime 100x ./postgres/
func BenchmarkSharedRun(b *testing.B) {
	const writers, each = 8, 4
	ctx := context.Background()
	s := open(b, newURL(b), postgres.WithMaxConns(writers))
	locked := open(b, newURL(b), postgres.WithMaxConns(writers))
	postgres.AlwaysLock(locked)
	p := benchPayload()
	round := func(st *postgres.Store) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if _, err := st.Append(ctx, "shared", "t", p); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	var inStore, inLocked time.Duration
	for b.Loop() {
		inStore += round(s)
		inLocked += round(locked)
	}
	n := float64(writers * each * b.N)
	b.ReportMetric(n/inStore.Seconds(), "store-appends/s")
	b.ReportMetric(n/inLocked.Seconds(), "locked-appends/s")
}
