package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/isotime"
	"github.com/artana-go/go-artana/postgres"
	"github.com/artana-go/go-artana/sqlite"
)

func TestStoreConformance(t *testing.T) {
	needServer(t)
	artanatest.TestStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		return open(t, newURL(t), postgres.WithStoreOptions(opts...))
	})
}

// TestSkipMessage checks the message of a test run without a server.
func TestSkipMessage(t *testing.T) {
	if dbURL != "" {
		t.Skip("a server is configured")
	}
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		newURL(ft)
	}()
	if !strings.Contains(ft.skipped, envURL) || strings.Contains(ft.skipped, "/tmp") {
		t.Errorf("skip message %q does not name %s (or names a machine path)", ft.skipped, envURL)
	}
}

type fakeTB struct {
	testing.TB
	skipped string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	panic("skip")
}

// sampleEvents appends one event of each kind to run in s, with a fixed
// clock and ids, and returns them.
func appendSamples(t *testing.T, s ledger.Store, run string) []ledger.Event {
	t.Helper()
	ctx := context.Background()
	var out []ledger.Event
	for _, p := range []ledger.Payload{
		&ledger.RunStarted{},
		&ledger.ModelRequested{Model: "m", Prompt: "Café 漢字 😀 \"q\"\n", Messages: []ledger.ChatMessage{{Role: "user", Content: "hï"}},
			AllowedTools: []string{"lookup"}, StepKey: new("s1")},
		&ledger.ModelCompleted{Model: "m", OutputJSON: `{"a":"é"}`, PromptTokens: 3, CompletionTokens: 2, CostUSD: 1e-05,
			ToolCalls: []ledger.ToolCall{{ToolName: "lookup", ArgumentsJSON: `{"q":1}`}}},
		&ledger.ToolRequested{ToolName: "lookup", ArgumentsJSON: `{"q":1}`, IdempotencyKey: "k"},
		&ledger.ToolCompleted{ToolName: "lookup", ResultJSON: `{"r":2}`, Outcome: "success", ReceivedIdempotencyKey: new("k")},
		&ledger.PauseRequested{Reason: "review"},
		&ledger.WorkflowStepRequested{StepIndex: 0, StepName: "w"},
		&ledger.WorkflowStepCompleted{StepIndex: 0, StepName: "w", ResultJSON: "{}"},
	} {
		e, err := s.Append(ctx, run, "tenant-東京", p)
		if err != nil {
			t.Fatalf("Append %s: %v", p.Kind(), err)
		}
		out = append(out, e)
	}
	return out
}

// TestHashesMatchOtherStores appends the same events, with the same clock
// and ids, to the PostgreSQL, SQLite, cassette and memory stores: every
// hash is the same, and reading back gives the same events.
func TestHashesMatchOtherStores(t *testing.T) {
	pg := open(t, newURL(t), postgres.WithStoreOptions(artanatest.Deterministic()...))
	lite, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"), sqlite.WithStoreOptions(artanatest.Deterministic()...))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	cas, err := cassettes.OpenStore(t.TempDir(), artanatest.Deterministic()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cas.Close()
	mem := ledger.NewMemStore(artanatest.Deterministic()...)
	want := appendSamples(t, mem, "run-ü")
	for name, s := range map[string]ledger.Store{"postgres": pg, "sqlite": lite, "cassettes": cas} {
		got := appendSamples(t, s, "run-ü")
		read, err := s.Events(context.Background(), "run-ü", 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(hashes(want), hashes(got)); d != "" {
			t.Errorf("%s: appended hashes, want the memory store's (-want +got):\n%s", name, d)
		}
		if d := cmp.Diff(hashes(want), hashes(read)); d != "" {
			t.Errorf("%s: hashes read back, want the memory store's (-want +got):\n%s", name, d)
		}
		for i := range want {
			if read[i].ComputeHash() != want[i].Hash {
				t.Errorf("%s: seq %d read back hashes to %s, want %s", name, i+1, read[i].ComputeHash(), want[i].Hash)
			}
		}
	}
}

// TestImportKeepsOffsets imports events whose timestamps are not UTC (one
// with an offset, one without), as ledgers of the Python original may
// hold: they read back with the same text, so the same hash.
func TestImportKeepsOffsets(t *testing.T) {
	s := open(t, newURL(t))
	var events []ledger.Event
	var prev string
	for i, ts := range []string{"2026-01-02T03:04:05.123456+02:00", "2026-01-02T03:04:06", "2026-01-02T01:04:07+00:00"} {
		tm, err := isotime.Parse(ts)
		if err != nil {
			t.Fatal(err)
		}
		e := ledger.Event{ID: rand.Text(), RunID: "offsets", TenantID: "t", Seq: int64(i + 1), Type: ledger.EventRunStarted,
			PrevHash: prev, Timestamp: tm, Payload: &ledger.RunStarted{}}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		events = append(events, e)
	}
	if err := s.Import(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	got := assertGapless(t, s, "offsets")
	if d := cmp.Diff(identities(events), identities(got)); d != "" {
		t.Errorf("read back, want what was imported (-want +got):\n%s", d)
	}
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var firsts []string
	for _, r := range runs {
		firsts = append(firsts, isotime.Format(r.First))
	}
	if d := cmp.Diff([]string{"2026-01-02T03:04:05.123456+02:00"}, firsts); d != "" {
		t.Errorf("Runs' first timestamps (-want +got):\n%s", d)
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	src := ledger.NewMemStore()
	a := appendSamples(t, src, "a")
	b := appendSamples(t, src, "b")
	s := open(t, newURL(t))
	// All or nothing: a broken event at the end of b imports nothing.
	bad := append([]ledger.Event{}, b...)
	bad[len(bad)-1].Hash = strings.Repeat("0", 64)
	err := s.Import(ctx, append(append([]ledger.Event{}, a...), bad...))
	if !errors.Is(err, ledger.ErrChainBroken) || !strings.Contains(err.Error(), `run "b" seq 8`) {
		t.Errorf("Import of a broken chain: %v", err)
	}
	if runs, _ := s.Runs(ctx); len(runs) != 0 {
		t.Fatalf("a failed import left %d runs", len(runs))
	}
	// Interleaved runs import, keeping everything.
	var mixed []ledger.Event
	for i := range a {
		mixed = append(mixed, a[i], b[i])
	}
	if err := s.Import(ctx, mixed); err != nil {
		t.Fatal(err)
	}
	for run, want := range map[string][]ledger.Event{"a": a, "b": b} {
		got := assertGapless(t, s, run)
		if d := cmp.Diff(identities(want), identities(got)); d != "" {
			t.Errorf("run %s read back, want what was imported (-want +got):\n%s", run, d)
		}
	}
	// Importing a run again does not continue its chain.
	if err := s.Import(ctx, a[:1]); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("Import of a run already there: %v", err)
	}
	// Appends continue an imported run.
	e, err := s.Append(ctx, "a", "tenant-東京", &ledger.RunStarted{})
	if err != nil {
		t.Fatalf("Append after Import: %v", err)
	}
	type link struct {
		Seq      int64
		PrevHash string
	}
	if d := cmp.Diff(link{int64(len(a) + 1), a[len(a)-1].Hash}, link{e.Seq, e.PrevHash}); d != "" {
		t.Errorf("Append after Import, want the imported chain continued (-want +got):\n%s", d)
	}
	// An event id already in the ledger fails the whole import.
	dup := ledger.Event{ID: a[0].ID, RunID: "c", TenantID: "t", Seq: 1, Type: ledger.EventRunStarted,
		Timestamp: time.Now().UTC().Truncate(time.Microsecond), Payload: &ledger.RunStarted{}}
	dup.Hash = dup.ComputeHash()
	if err := s.Import(ctx, []ledger.Event{dup}); err == nil || !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("Import of a duplicate event id: %v", err)
	}
	assertLen(t, s, "c", 0)
}

func assertLen(t *testing.T, s ledger.Store, run string, want int) {
	t.Helper()
	events, err := s.Events(context.Background(), run, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != want {
		t.Errorf("run %q has %d events, want %d", run, len(events), want)
	}
}

// TestExportRoundTrip copies runs from PostgreSQL to cassettes and to
// SQLite and back into new schemas: every hash is equal.
func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	pg := open(t, newURL(t))
	want := map[string][]ledger.Event{"a": appendSamples(t, pg, "a"), "b/ü": appendSamples(t, pg, "b/ü")}
	var all []ledger.Event
	if err := pg.ScanAll(ctx, func(e ledger.Event) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	cas, err := cassettes.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cas.Close()
	for name, via := range map[string]interface {
		ledger.Store
		Import(context.Context, []ledger.Event) error
	}{"sqlite": lite, "cassettes": cas} {
		if err := via.Import(ctx, all); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var back []ledger.Event
		for run := range want {
			evs, err := via.Events(ctx, run, 0)
			if err != nil {
				t.Fatal(err)
			}
			back = append(back, evs...)
		}
		pg2 := open(t, newURL(t))
		if err := pg2.Import(ctx, back); err != nil {
			t.Fatalf("%s back to PostgreSQL: %v", name, err)
		}
		for run, evs := range want {
			got := assertGapless(t, pg2, run)
			if d := cmp.Diff(identities(evs), identities(got)); d != "" {
				t.Errorf("%s: run %q back in PostgreSQL (-want +got):\n%s", name, run, d)
			}
		}
	}
}

// TestIncompatibleTable refuses tables of another shape, saying what
// differs, and leaves them as they were.
func TestIncompatibleTable(t *testing.T) {
	const good = `run_id TEXT NOT NULL, seq BIGINT NOT NULL, event_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
		event_type TEXT NOT NULL, prev_event_hash TEXT, event_hash TEXT NOT NULL, "timestamp" TIMESTAMPTZ NOT NULL,
		payload_json TEXT NOT NULL`
	for _, tc := range []struct {
		name, table, want string
	}{
		{"missing column", `run_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (run_id, seq)`, "column event_id is missing"},
		{"text timestamp", strings.Replace(good, `"timestamp" TIMESTAMPTZ`, `"timestamp" TEXT`, 1) + `, PRIMARY KEY (run_id, seq)`,
			"column timestamp text NOT NULL, want timestamp timestamp with time zone NOT NULL"},
		{"jsonb payload", strings.Replace(good, "payload_json TEXT", "payload_json JSONB", 1) + `, PRIMARY KEY (run_id, seq)`,
			"column payload_json jsonb NOT NULL, want payload_json text NOT NULL"},
		{"no primary key", good, "the primary key is not (run_id, seq)"},
		{"event_id not unique", strings.Replace(good, "event_id TEXT NOT NULL UNIQUE", "event_id TEXT NOT NULL", 1) + `, PRIMARY KEY (run_id, seq)`,
			"event_id is not UNIQUE"},
		{"required extra column", good + `, shard INT NOT NULL, PRIMARY KEY (run_id, seq)`, "extra column shard integer NOT NULL has no default"},
		{"prev not null", strings.Replace(good, "prev_event_hash TEXT", "prev_event_hash TEXT NOT NULL", 1) + `, PRIMARY KEY (run_id, seq)`,
			"column prev_event_hash text NOT NULL, want prev_event_hash text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newURL(t)
			execSQL(t, u, `CREATE TABLE kernel_events (`+tc.table+`)`, `CREATE TABLE other (x int)`)
			before := queryInt(t, u, `SELECT count(*) FROM pg_attribute WHERE attrelid = 'kernel_events'::regclass AND attnum > 0`)
			_, err := postgres.Open(context.Background(), u)
			if !errors.Is(err, postgres.ErrIncompatible) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v\nwant ErrIncompatible saying %q", err, tc.want)
			}
			after := queryInt(t, u, `SELECT count(*) FROM pg_attribute WHERE attrelid = 'kernel_events'::regclass AND attnum > 0`)
			leases := queryInt(t, u, `SELECT count(*) FROM pg_class WHERE relname = 'kernel_run_leases' AND relnamespace = current_schema()::regnamespace`)
			if before != after || leases != 0 {
				t.Errorf("the refused schema changed: %d columns before, %d after, %d leases tables", before, after, leases)
			}
		})
	}
	// The Python original's shape (no timestamp_text, integer seq, an extra
	// nullable column) is accepted and written to.
	u := newURL(t)
	execSQL(t, u, `CREATE TABLE kernel_events (`+strings.Replace(good, "seq BIGINT", "seq INTEGER", 1)+`, note TEXT, PRIMARY KEY (run_id, seq))`)
	s := open(t, u)
	appendSamples(t, s, "r")
	assertGapless(t, s, "r")
	ts, _ := isotime.Parse("2026-01-02T03:04:05+02:00")
	e := ledger.Event{ID: rand.Text(), RunID: "z", TenantID: "t", Seq: 1, Type: ledger.EventRunStarted, Timestamp: ts, Payload: &ledger.RunStarted{}}
	e.Hash = e.ComputeHash()
	if err := s.Import(context.Background(), []ledger.Event{e}); err == nil || !strings.Contains(err.Error(), "no timestamp_text column") {
		t.Errorf("Import of a non-UTC timestamp into a table without timestamp_text: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	u := newURL(t)
	_, err := postgres.Open(ctx, u, postgres.ReadOnly())
	if !errors.Is(err, postgres.ErrNoLedger) {
		t.Fatalf("read-only Open of an empty schema: %v, want ErrNoLedger", err)
	}
	if n := queryInt(t, u, `SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace`); n != 0 {
		t.Errorf("a read-only Open created %d relations", n)
	}
	w := open(t, u)
	appendSamples(t, w, "r")
	r := open(t, u, postgres.ReadOnly())
	assertGapless(t, r, "r")
	if _, err := r.Append(ctx, "r", "tenant-東京", &ledger.RunStarted{}); !errors.Is(err, postgres.ErrReadOnly) {
		t.Errorf("Append on a read-only store: %v", err)
	}
	if _, err := r.AcquireLease(ctx, "r", "me", time.Second); !errors.Is(err, postgres.ErrReadOnly) {
		t.Errorf("AcquireLease on a read-only store: %v", err)
	}
	if err := r.Import(ctx, nil); err == nil {
		t.Errorf("Import on a read-only store succeeded")
	}
}

// TestPasswordNeverShown opens with a wrong password and with a bad URL:
// no error, and no String, shows the password.
func TestPasswordNeverShown(t *testing.T) {
	u := newURL(t)
	wrong := withParam(u, "connect_timeout", "5")
	p := mustParse(wrong)
	p.User = url.UserPassword(p.User.Username(), "hunter2-wrong")
	_, err := postgres.Open(context.Background(), p.String())
	if err == nil || strings.Contains(err.Error(), "hunter2") || !errors.Is(err, postgres.ErrConnection) {
		t.Errorf("Open with a wrong password: %v", err)
	}
	if !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("the error does not name the server: %v", err)
	}
	s := open(t, u)
	if pw, ok := mustParse(u).User.Password(); ok && strings.Contains(s.String(), pw) {
		t.Errorf("String() = %s shows the password", s.String())
	}
	for _, bad := range []string{"postgres://u:hunter2@host:notaport/db", "postgres://u:hunter2@/db?password=hunter2&sslmode=bogus"} {
		if _, err := postgres.Open(context.Background(), bad); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): %v", "…", err)
		}
	}
	if got := postgres.Redact("postgres://u:hunter2@h/db?password=hunter2"); strings.Contains(got, "hunter2") {
		t.Errorf("Redact = %s", got)
	}
}

// TestLeases acquires, renews, releases and takes over run leases.
func TestLeases(t *testing.T) {
	ctx := context.Background()
	u := newURL(t)
	a, b := open(t, u), open(t, u)
	la := acquire(t, a, "worker-a", time.Minute, 1, "AcquireLease")
	if _, err := b.AcquireLease(ctx, "run", "worker-b", time.Minute); !errors.Is(err, postgres.ErrLeaseHeld) || !strings.Contains(err.Error(), `"worker-a" holds it until`) {
		t.Errorf("AcquireLease of a held run: %v", err)
	}
	again, err := a.AcquireLease(ctx, "run", "worker-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(la, again, cmpopts.IgnoreFields(postgres.Lease{}, "Expires")); d != "" || again.Expires.Before(la.Expires) {
		t.Errorf("re-acquire by the holder, want the same lease, not shortened (expires %v, was %v) (-want +got):\n%s", again.Expires, la.Expires, d)
	}
	r, err := a.RenewLease(ctx, la, 2*time.Minute)
	if err != nil || !r.Expires.After(la.Expires) {
		t.Errorf("RenewLease = %+v, %v", r, err)
	}
	if err := a.ReleaseLease(ctx, r); err != nil {
		t.Fatal(err)
	}
	lb := acquire(t, b, "worker-b", 100*time.Millisecond, 2, "AcquireLease after release")
	if err := a.ReleaseLease(ctx, r); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("release of a lease given up: %v", err)
	}
	time.Sleep(150 * time.Millisecond) // let b's lease expire
	lc := acquire(t, a, "worker-a", time.Minute, 3, "takeover of an expired lease")
	if _, err := b.RenewLease(ctx, lb, time.Minute); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("renewal of a lease taken over: %v", err)
	}
	if err := b.ReleaseLease(ctx, lb); !errors.Is(err, postgres.ErrLeaseLost) {
		t.Errorf("release of a lease taken over: %v", err)
	}
	if _, err := a.RenewLease(ctx, lc, time.Minute); err != nil {
		t.Errorf("the new holder's renewal: %v", err)
	}
	for _, bad := range []struct {
		run, owner string
		ttl        time.Duration
	}{{"", "o", time.Second}, {"r", "", time.Second}, {"r", "o", 0}} {
		if _, err := a.AcquireLease(ctx, bad.run, bad.owner, bad.ttl); err == nil {
			t.Errorf("AcquireLease(%q, %q, %v) succeeded", bad.run, bad.owner, bad.ttl)
		}
	}
	raceForLease(t, a)
}

// acquire acquires the lease of run "run" in s for owner, and checks that
// it got the lease with the given token.
func acquire(t *testing.T, s *postgres.Store, owner string, ttl time.Duration, token int64, what string) postgres.Lease {
	t.Helper()
	l, err := s.AcquireLease(context.Background(), "run", owner, ttl)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if d := cmp.Diff(postgres.Lease{RunID: "run", Owner: owner, Token: token}, l, cmpopts.IgnoreFields(postgres.Lease{}, "Expires")); d != "" {
		t.Fatalf("%s (-want +got):\n%s", what, d)
	}
	return l
}

// raceForLease has 8 workers race for the lease of one run in a: exactly
// one wins.
func raceForLease(t *testing.T, a *postgres.Store) {
	ctx := context.Background()
	won := make(chan string, 8)
	for i := range 8 {
		go func() {
			owner := string(rune('A' + i))
			if _, err := a.AcquireLease(ctx, "raced", owner, time.Minute); err == nil {
				won <- owner
			} else if !errors.Is(err, postgres.ErrLeaseHeld) {
				t.Errorf("racer %s: %v", owner, err)
				won <- ""
			} else {
				won <- ""
			}
		}()
	}
	n := 0
	for range 8 {
		if <-won != "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 racers acquired the lease, want 1", n)
	}
}

func mustParse(u string) *url.URL {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p
}

// TestVerifyFindsTampering changes rows behind the store's back: Verify
// names the run and seq.
func TestVerifyFindsTampering(t *testing.T) {
	u := newURL(t)
	s := open(t, u)
	appendSamples(t, s, "r")
	if err := s.Verify(context.Background(), "r"); err != nil {
		t.Fatal(err)
	}
	// An extra key in the stored text: the hash still matches, the text does not.
	execSQL(t, u, `UPDATE kernel_events SET payload_json = replace(payload_json, '"kind": "pause_requested"', '"kind": "pause_requested", "x": 1') WHERE seq = 6`)
	if err := s.Verify(context.Background(), "r"); !errors.Is(err, ledger.ErrChainBroken) || !strings.Contains(err.Error(), "seq 6") {
		t.Errorf("Verify after an extra key: %v", err)
	}
	execSQL(t, u, `UPDATE kernel_events SET event_hash = repeat('0', 64) WHERE seq = 3`)
	if err := s.Verify(context.Background(), "r"); !errors.Is(err, ledger.ErrChainBroken) || !strings.Contains(err.Error(), "seq 3") {
		t.Errorf("Verify after a changed hash: %v", err)
	}
}

// TestKernelOnStore runs the kernel's scenarios on the PostgreSQL store:
// the same guarantees as on the other stores, and the same log, hash for
// hash, as on a MemStore.
func TestKernelOnStore(t *testing.T) {
	needServer(t)
	artanatest.TestKernelStore(t, func(t *testing.T, opts ...ledger.StoreOption) ledger.Store {
		return open(t, newURL(t), postgres.WithStoreOptions(opts...))
	})
}

// TestKernelsOnTwoStores drives one run from two kernels on two Store
// values (two connection pools, as two hosts would have): each kernel's
// incremental index sees the other's appends, and each store's next
// append after the other's goes after it.
func TestKernelsOnTwoStores(t *testing.T) {
	ctx := context.Background()
	u := newURL(t)
	s1, s2 := open(t, u), open(t, u)
	reply := func(l string) *artanatest.FakeModel {
		m := artanatest.NewFakeModel(t)
		m.CompleteFn = func(context.Context, llm.Request) (llm.Response, error) {
			return llm.Response{OutputJSON: `{"label":"` + l + `"}`}, nil
		}
		return m
	}
	a := artanatest.NewKernelWithStore(t, s1, reply("a"))
	b := artanatest.NewKernelWithStore(t, s2, reply("b"))
	tenant := artana.Tenant{ID: "acme", BudgetUSD: 1}
	run, err := a.StartRun(ctx, tenant, "shared")
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		Label string `json:"label"`
	}
	for i := range 6 {
		k := []*artana.Kernel{a, b}[i%2]
		res, err := artana.StepModel[out](ctx, k, run, artana.ModelStep{Model: "m", Prompt: fmt.Sprint("turn ", i), StepKey: fmt.Sprint("t", i)})
		if err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		if d := cmp.Diff(stepOutcome{Label: []string{"a", "b"}[i%2]}, stepOutcome{res.Output.Label, res.FromLog}); d != "" {
			t.Fatalf("turn %d, want it answered by kernel %s's model (-want +got):\n%s", i, []string{"a", "b"}[i%2], d)
		}
	}
	for i := range 6 {
		k := []*artana.Kernel{b, a}[i%2] // the other kernel
		res, err := artana.StepModel[out](ctx, k, run, artana.ModelStep{Model: "m", Prompt: fmt.Sprint("turn ", i), StepKey: fmt.Sprint("t", i)})
		if err != nil {
			t.Fatalf("turn %d replayed by the other kernel: %v", i, err)
		}
		if d := cmp.Diff(stepOutcome{[]string{"a", "b"}[i%2], true}, stepOutcome{res.Output.Label, res.FromLog}); d != "" {
			t.Errorf("turn %d replayed by the other kernel (-want +got):\n%s", i, d)
		}
	}
	if events := assertGapless(t, s1, "shared"); len(events) != 13 {
		t.Errorf("%d events, want 13", len(events))
	}
}

// TestDamagedRows reads rows changed behind the store's back: each read
// fails naming the run and seq and what is wrong with the row.
func TestDamagedRows(t *testing.T) {
	for _, tc := range []struct {
		name, update, want string
	}{
		{"empty prev hash", `UPDATE kernel_events SET prev_event_hash = '' WHERE seq = 1`, `run "r" seq 1: prev_event_hash is an empty string`},
		{"bad payload", `UPDATE kernel_events SET payload_json = '{"kind": ' WHERE seq = 2`, `run "r" seq 2: column payload_json`},
		{"bad timestamp text", `UPDATE kernel_events SET timestamp_text = 'yesterday' WHERE seq = 3`, `run "r" seq 3: column timestamp_text`},
		{"timestamp text of another instant", `UPDATE kernel_events SET timestamp_text = '2001-01-01T00:00:00+00:00' WHERE seq = 3`, "is not the instant of column timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newURL(t)
			s := open(t, u)
			appendSamples(t, s, "r")
			execSQL(t, u, tc.update)
			_, err := s.Events(context.Background(), "r", 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("Events: %v\nwant an error saying %q", err, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, bad := range []string{"", "mysql://u@h/db", "/tmp/ledger.db"} {
		if _, err := postgres.Open(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "not a postgres:// or postgresql:// URL") {
			t.Errorf("Open(%q): %v", bad, err)
		}
	}
	s := open(t, newURL(t))
	if err := s.Import(context.Background(), []ledger.Event{{Seq: 1}}); err == nil || !strings.Contains(err.Error(), "empty run id") {
		t.Errorf("Import of an event without a run id: %v", err)
	}
	s.Close()
	if err := s.Import(context.Background(), nil); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Import after Close: %v", err)
	}
	if _, err := s.AcquireLease(context.Background(), "r", "me", time.Second); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("AcquireLease after Close: %v", err)
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"secret", "p@ss:word/with?odd#chars", "ünï cødé", "%41"} {
		f.Add("user", s, "host=/tmp/x&sslmode=disable")
	}
	f.Fuzz(func(t *testing.T, user, password, query string) {
		if len(password) < 6 {
			return
		}
		u := &url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: "db.internal:5432", Path: "/ledger", RawQuery: query}
		raw := u.String()
		got := postgres.Redact(raw)
		pw := u.User.String() // the password as it appears, escaped, in raw
		if _, esc, ok := strings.Cut(pw, ":"); ok && strings.Contains(got, esc) && !strings.Contains(strings.Replace(raw, esc, "", 1), esc) {
			t.Errorf("Redact(%q) = %q shows the password", raw, got)
		}
		if q := withParam("postgres://h/db", "password", password); strings.Contains(postgres.Redact(q), url.QueryEscape(password)) &&
			!strings.Contains("postgres://h/db?password=xxxxx", url.QueryEscape(password)) {
			t.Errorf("Redact(%q) shows the password parameter", q)
		}
	})
}

// TestScanStreams stops a scan at the first error of its callback, and
// scans a whole ledger in run order.
func TestScanStreams(t *testing.T) {
	ctx := context.Background()
	s := open(t, newURL(t))
	for _, run := range []string{"b", "a", "B", "ä"} {
		appendSamples(t, s, run)
	}
	stop := errors.New("enough")
	n := 0
	err := s.Scan(ctx, "a", 0, func(ledger.Event) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("Scan stopped after %d events with %v, want 3 and the callback's error", n, err)
	}
	var order []string
	err = s.ScanAll(ctx, func(e ledger.Event) error {
		if len(order) == 0 || order[len(order)-1] != e.RunID {
			order = append(order, e.RunID)
		}
		return nil
	})
	if err != nil || strings.Join(order, ",") != "B,a,b,ä" {
		t.Errorf("ScanAll run order %v, %v; want bytewise B,a,b,ä", order, err)
	}
}

// stepOutcome is a model step's answer and whether it came from the log.
type stepOutcome struct {
	Label   string
	FromLog bool
}

// identity is what a store must keep of an event besides its payload:
// seq, id, hash and timestamp (as isoformat text, offset included).
type identity struct {
	Seq             int64
	ID, Hash, Stamp string
}

func identities(evs []ledger.Event) []identity {
	var out []identity
	for _, e := range evs {
		out = append(out, identity{e.Seq, e.ID, e.Hash, isotime.Format(e.Timestamp)})
	}
	return out
}

func hashes(evs []ledger.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Hash)
	}
	return out
}
