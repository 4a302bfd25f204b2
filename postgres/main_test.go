package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/childtest"
	"github.com/artana-go/go-artana/postgres"
	"github.com/jackc/pgx/v5"
)

// envURL names the variable that gives the tests a PostgreSQL server.
const envURL = "ARTANA_POSTGRES_URL"

// dbURL is the URL of the database this test binary created for itself,
// or "" when envURL is unset. Every test works in a schema of its own in
// it (newURL), so tests and packages never see each other's tables.
var dbURL string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	server := os.Getenv(envURL)
	if _, _, child := childtest.Mode(); server == "" || child {
		return m.Run()
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", envURL, err)
		return 1
	}
	name := fmt.Sprintf("artana_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		fmt.Fprintf(os.Stderr, "create the test database: %v\n", err)
		return 1
	}
	dbURL = withDatabase(server, name)
	code := m.Run()
	if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "drop the test database %s: %v\n", name, err)
	}
	admin.Close(ctx)
	return code
}

// withDatabase returns the server URL with another database name.
func withDatabase(server, db string) string {
	u, err := url.Parse(server)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + db
	return u.String()
}

// withParam returns u with the query parameter k=v added.
func withParam(u, k, v string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

var schemas atomic.Int64

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// needServer skips the test when no server is configured.
func needServer(t testing.TB) {
	t.Helper()
	if dbURL == "" {
		t.Skipf("set %s to the URL of a PostgreSQL server to run this test (see the README: Running the PostgreSQL tests)", envURL)
	}
}

// newURL returns the URL of a new, empty schema for the test, skipping the
// test when no server is configured.
func newURL(t testing.TB) string {
	t.Helper()
	needServer(t)
	name := fmt.Sprintf("t%d_%s", schemas.Add(1), unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_"))
	if len(name) > 60 {
		name = name[:60]
	}
	execSQL(t, dbURL, `CREATE SCHEMA "`+name+`"`)
	return withParam(dbURL, "search_path", name)
}

// execSQL runs statements on a connection of its own.
func execSQL(t testing.TB, u string, sql ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range sql {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// queryInt runs a query that returns one integer.
func queryInt(t testing.TB, u, sql string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// open opens a store on u, closed when the test ends.
func open(t testing.TB, u string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// assertGapless reads the run and checks seqs 1..n without gaps and a
// valid chain; it returns the events. An empty run fails.
func assertGapless(t testing.TB, s *postgres.Store, run string) []ledger.Event {
	t.Helper()
	events, err := s.Events(context.Background(), run, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatalf("run %q has no events", run)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("run %q: event %d has seq %d", run, i+1, e.Seq)
		}
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Fatalf("run %q: %v", run, err)
	}
	if err := s.Verify(context.Background(), run); err != nil {
		t.Fatalf("run %q: %v", run, err)
	}
	return events
}
