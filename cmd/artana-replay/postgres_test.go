package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgSchema creates a schema of the test's own on the server that
// ARTANA_POSTGRES_URL names, dropped when the test ends, and returns the
// URL that selects it.
func pgSchema(t *testing.T) string {
	t.Helper()
	server := os.Getenv("ARTANA_POSTGRES_URL")
	if server == "" {
		t.Skip("set ARTANA_POSTGRES_URL to the URL of a PostgreSQL server to run this test (see the README: Running the PostgreSQL tests)")
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("artana_replay_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
		c.Close(ctx)
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPostgres runs every command that takes a ledger on a PostgreSQL URL,
// and checks that no output or error ever shows the password.
func TestPostgres(t *testing.T) {
	pgURL := pgSchema(t)
	u, _ := url.Parse(pgURL)
	password, ok := u.User.Password()
	if !ok || password == "" {
		// Put one in: a server that trusts the connection ignores it.
		u.User = url.UserPassword(u.User.Username(), "pw-not-needed-7f3a")
		pgURL, password = u.String(), "pw-not-needed-7f3a"
	}
	cli := pgCLI{t, password}
	chat := filepath.Join("testdata", "chat_replay.db")
	out := cli.run(false, "import", chat, pgURL)
	if !strings.Contains(out, "imported 2 runs from testdata/chat_replay.db into postgres://") || !strings.Contains(out, ":xxxxx@") {
		t.Errorf("import said:\n%s", out)
	}
	cli.readCommands(pgURL, chat)
	cli.roundTrip(pgURL, t.TempDir())
	cli.failures(pgURL, chat, u)
	// A changed row fails verification, naming the run and seq.
	ctx := context.Background()
	c, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `UPDATE kernel_events SET payload_json = replace(payload_json, '"model_completed"', '"model_completed", "extra": 1') WHERE run_id = 'chat_run_1' AND event_type = 'model_completed'`); err != nil {
		t.Fatal(err)
	}
	if out := cli.run(true, "verify", pgURL); !strings.Contains(out, "FAIL  chat_run_1 at seq") || !strings.Contains(out, "ok    chat_run_2") {
		t.Errorf("verify of a changed row said:\n%s", out)
	}
}

// pgCLI runs artana-replay for TestPostgres, failing the test when the
// output or an error shows the password.
type pgCLI struct {
	t        *testing.T
	password string
}

// run runs artana-replay with args and returns what it printed; it fails
// the test unless it fails exactly when wantErr.
func (c pgCLI) run(wantErr bool, args ...string) string {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	exitCode(err, &stderr)
	all := stdout.String() + stderr.String()
	if strings.Contains(all, c.password) {
		c.t.Errorf("artana-replay %s printed the password:\n%s", args[0], all)
	}
	if (err != nil) != wantErr {
		c.t.Fatalf("artana-replay %s: err = %v, want error %v\n%s", strings.Join(args[:1], " "), err, wantErr, all)
	}
	return all
}

// readCommands runs the commands that read the ledger at pgURL, which
// holds the runs of the SQLite ledger chat.
func (c pgCLI) readCommands(pgURL, chat string) {
	t := c.t
	t.Helper()
	if out := c.run(false, "ls", pgURL); !strings.Contains(out, "chat_run_1") || !strings.Contains(out, "chat_run_2") {
		t.Errorf("ls said:\n%s", out)
	}
	if out := c.run(false, "show", "--full", pgURL, "chat_run_1"); !strings.Contains(out, "model_completed") {
		t.Errorf("show said:\n%s", out)
	}
	if out := c.run(false, "verify", pgURL); !strings.Contains(out, "chat_run_1") || strings.Contains(out, "FAIL") {
		t.Errorf("verify said:\n%s", out)
	}
	if out := c.run(false, "stats", pgURL); !strings.Contains(out, "org_demo") {
		t.Errorf("stats said:\n%s", out)
	}
	// Byte for byte: a strict diff compares ids, timestamps and hashes.
	for _, run := range []string{"chat_run_1", "chat_run_2"} {
		if out := c.run(false, "diff", "--strict", pgURL+"#"+run, chat+"#"+run); !strings.Contains(out, "equivalent") {
			t.Errorf("diff said:\n%s", out)
		}
	}
	// The HTML report of a run there, and of its diff with the original.
	if out := c.run(false, "html", pgURL+"#chat_run_1"); !strings.Contains(out, "Hash chain verified: 5 events.") || !strings.Contains(out, "PostgreSQL ledger <span class=\"mono\">postgres://") {
		t.Errorf("html said:\n%s", out)
	}
	if out := c.run(false, "html", "--strict", pgURL+"#chat_run_1", chat+"#chat_run_1"); !strings.Contains(out, "Equivalent: 3 steps align and match.") {
		t.Errorf("html of a diff said:\n%s", out)
	}
}

// roundTrip exports the ledger at pgURL to cassettes and to SQLite (in
// dir), and back into PostgreSQL: every copy is strictly equal.
func (c pgCLI) roundTrip(pgURL, dir string) {
	t := c.t
	t.Helper()
	c.run(false, "export", pgURL, filepath.Join(dir, "out"))
	c.run(false, "import", pgURL, filepath.Join(dir, "back.db"))
	back := pgSchema(t)
	c.run(false, "import", filepath.Join(dir, "out"), back)
	for _, run := range []string{"chat_run_1", "chat_run_2"} {
		for _, other := range []string{filepath.Join(dir, "out") + "#" + run, filepath.Join(dir, "back.db") + "#" + run, back + "#" + run} {
			if out := c.run(false, "diff", "--strict", pgURL+"#"+run, other); !strings.Contains(out, "equivalent") {
				t.Errorf("diff with %s said:\n%s", other, out)
			}
		}
	}
}

// failures checks that errors about the ledger at pgURL (u parsed) name the
// server without its password.
func (c pgCLI) failures(pgURL, chat string, u *url.URL) {
	t := c.t
	t.Helper()
	if out := c.run(true, "import", chat, pgURL); !strings.Contains(out, `run "chat_run_1" is already in the ledger`) {
		t.Errorf("a second import said:\n%s", out)
	}
	if out := c.run(true, "show", pgURL, "nope"); !strings.Contains(out, `run "nope" not found in postgres://`) {
		t.Errorf("show of an unknown run said:\n%s", out)
	}
	if out := c.run(true, "ls", pgURL, pgURL); !strings.Contains(out, "too many arguments") {
		t.Errorf("ls with two URLs said:\n%s", out)
	}
	wrong := *u
	wrong.User = url.UserPassword(u.User.Username(), "wrong-"+c.password)
	if os.Getenv("ARTANA_POSTGRES_URL") != "" && strings.Contains(os.Getenv("ARTANA_POSTGRES_URL"), ":"+c.password+"@") {
		if out := c.run(true, "ls", wrong.String()); !strings.Contains(out, "xxxxx") {
			t.Errorf("ls with a wrong password said:\n%s", out)
		}
	}
	if out := c.run(true, "reseal", pgURL); !strings.Contains(out, "never rewritten") {
		t.Errorf("reseal of a URL said:\n%s", out)
	}
	empty := pgSchema(t)
	if out := c.run(true, "ls", empty); !strings.Contains(out, "no kernel_events table") {
		t.Errorf("ls of an empty schema said:\n%s", out)
	}
}

// TestPostgresKeepsPythonLedgers imports every ledger the Python original
// wrote (testdata/*.db and the sqlite package's seed ledgers) into
// PostgreSQL: each run verifies there and is
// equal, id, timestamp and hash, to the original.
func TestPostgresKeepsPythonLedgers(t *testing.T) {
	pgSchema(t) // skips without a server
	ctx := context.Background()
	dbs, err := filepath.Glob(filepath.Join("testdata", "*.db"))
	seed, err2 := filepath.Glob(filepath.Join("..", "..", "sqlite", "testdata", "seed", "*.db"))
	dbs = append(dbs, seed...)
	if err != nil || err2 != nil || len(dbs) == 0 {
		t.Fatalf("no ledgers in testdata: %v", err)
	}
	for _, db := range dbs {
		if strings.HasPrefix(filepath.Base(db), "tampered") {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(db))+"/"+filepath.Base(db), func(t *testing.T) {
			u := pgSchema(t)
			var out, errb bytes.Buffer
			if err := run(ctx, []string{"import", db, u}, &out, &errb); err != nil {
				t.Fatalf("import: %v\n%s", err, errb.String())
			}
			src, err := openSource(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			runs, err := src.runs(ctx)
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if err := run(ctx, []string{"verify", u}, &out, &errb); err != nil {
				t.Fatalf("verify: %v\n%s%s", err, out.String(), errb.String())
			}
			for _, id := range runs {
				out.Reset()
				if err := run(ctx, []string{"diff", "--strict", u + "#" + id, db + "#" + id}, &out, &errb); err != nil || !strings.Contains(out.String(), "equivalent") {
					t.Errorf("run %q: %v\n%s%s", id, err, out.String(), errb.String())
				}
			}
		})
	}
}
