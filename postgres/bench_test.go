package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

func benchPayload() artana.Payload {
	return &artana.ModelCompleted{Model: "gpt-4o-mini", OutputJSON: `{"approved":true,"reason":"` + strings.Repeat("ok ", 40) + `"}`,
		PromptTokens: 120, CompletionTokens: 60, CostUSD: 0.00123}
}

// BenchmarkAppend measures one event per transaction through the store
// against raw pgx single-row inserts of the same row into a table of the
// same shape on the same server. The two alternate, one of each per
// iteration, so that both see the same load on the machine; the ratio
// metric is the store's append rate over the raw insert rate (goal: at
// least 0.7):
//
//	go test -run '^$' -bench 'Append$' -benchtime 3000x ./postgres/
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	s := open(b, newURL(b), postgres.WithMaxConns(1))
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
	payload := string(artana.PayloadJSON(p))
	hash := strings.Repeat("ab", 32)
	ts := time.Now().UTC().Truncate(time.Microsecond)
	// The first append reads the run, and each side's first statement is
	// prepared: do both before timing.
	if _, err := s.Append(ctx, "bench", "tenant", p); err != nil {
		b.Fatal(err)
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
	var inStore, inRaw time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Append(ctx, "bench", "tenant", p); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		raw()
		inRaw += time.Since(t1)
		inStore += t1.Sub(t0)
	}
	b.ReportMetric(float64(inStore.Microseconds())/float64(b.N), "store-µs/op")
	b.ReportMetric(float64(inRaw.Microseconds())/float64(b.N), "raw-µs/op")
	b.ReportMetric(float64(inRaw)/float64(inStore), "store/raw-rate")
}

// BenchmarkAppendWriters measures the aggregate append rate of 1, 4 and
// 16 goroutines, each appending to a run of its own, through one store:
//
//	go test -run '^$' -bench 'AppendWriters' -benchtime 4000x ./postgres/
func BenchmarkAppendWriters(b *testing.B) {
	for _, writers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := open(b, newURL(b), postgres.WithMaxConns(int32(writers)))
			ctx := context.Background()
			p := benchPayload()
			// Each writer's first append reads its run; do it before timing.
			for w := range writers {
				if _, err := s.Append(ctx, fmt.Sprintf("run-%d", w), "t", p); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := b.N / writers
			if per == 0 {
				per = 1
			}
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						if _, err := s.Append(ctx, fmt.Sprintf("run-%d", w), "t", p); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(per*writers)/time.Since(start).Seconds(), "appends/s")
		})
	}
}
