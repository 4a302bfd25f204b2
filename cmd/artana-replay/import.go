package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/regfile"
	"github.com/artana-go/go-artana/postgres"
	"github.com/artana-go/go-artana/sqlite"
)

func importCommand() *command {
	return &command{
		name:    "import",
		usage:   "[--json] SOURCE LEDGER",
		summary: "write the runs of a cassette, a directory of cassettes or a ledger into a SQLite ledger (LEDGER.db) or a PostgreSQL one (postgres://...), hashes preserved",
		run:     runImport,
	}
}

func runImport(ctx context.Context, e *env, args []string) error {
	src, err := e.openArgs(ctx, args, 2, 2)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := src.runsOnly("import reads runs"); err != nil {
		return err
	}
	dest := args[1]
	destName := dest
	if postgres.IsURL(dest) {
		destName = postgres.Redact(dest)
	} else if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return fmt.Errorf("import: %s is a directory; give the path of a SQLite ledger file (it is created if missing)", dest)
	}
	all, out, err := readVerifiedRuns(ctx, src, destName)
	if err != nil {
		return err
	}
	if postgres.IsURL(dest) {
		if err := importPostgres(ctx, dest, all, out); err != nil {
			return fmt.Errorf("import: %s into %s: %w", src.path, destName, err)
		}
		return e.reportImport(src.path, destName, out)
	}
	if err := importSQLite(ctx, src.path, dest, all, out); err != nil {
		return err
	}
	return e.reportImport(src.path, dest, out)
}

// readVerifiedRuns reads every run of src and verifies its chain, before
// anything is written: it returns the events and, per run, what import
// will report (written to destName).
func readVerifiedRuns(ctx context.Context, src *source, destName string) ([]ledger.Event, []exported, error) {
	runs, err := src.runs(ctx)
	if err != nil {
		return nil, nil, err
	}
	var all []ledger.Event
	var out []exported
	for _, id := range runs {
		evs, err := src.readRun(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("import: read %s run %q: %w; nothing was written", src.path, id, err)
		}
		if err := ledger.VerifyChain(evs); err != nil {
			return nil, nil, fmt.Errorf("import: %s run %q: %w; nothing was written (check it with: artana-replay verify %s)", src.path, id, err, src.path)
		}
		all = append(all, evs...)
		out = append(out, exported{RunID: id, Path: destName, Events: len(evs)})
	}
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("import: %s: %w", src.path, errNothing)
	}
	return all, out, nil
}

// importSQLite writes the events of the runs out, read from the source at
// from, into the SQLite ledger at dest, creating it if missing (and
// removing it again if the import fails). An existing dest must be a
// SQLite ledger that holds none of the runs.
func importSQLite(ctx context.Context, from, dest string, all []ledger.Event, out []exported) error {
	_, statErr := os.Stat(dest)
	created := errors.Is(statErr, os.ErrNotExist)
	if !created {
		if fi, err := os.Stat(dest); err == nil {
			if err := regfile.Check(dest, fi, false); err != nil {
				return fmt.Errorf("import: %w; nothing was written; give the path of a SQLite ledger file", err)
			}
		}
		if kind, err := sniff(dest); err != nil || kind != kindSQLite {
			return fmt.Errorf("import: %s exists and is not a SQLite ledger; nothing was written; give a new path or an existing ledger", dest)
		}
	}
	db, err := sqlite.Open(ctx, dest)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if !created {
		if err := checkRunsAbsent(ctx, db, dest, out); err != nil {
			db.Close()
			return err
		}
	}
	ierr := db.Import(ctx, all)
	cerr := db.Close()
	if ierr != nil || cerr != nil {
		if created {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(dest + suffix)
			}
		}
		return fmt.Errorf("import: %s into %s: %w", from, dest, errors.Join(ierr, cerr))
	}
	return nil
}

// checkRunsAbsent refuses runs of out that the ledger db at dest already
// holds: a run cannot be imported again, and saying so plainly beats a
// chain error on its first event.
func checkRunsAbsent(ctx context.Context, db *sqlite.Store, dest string, out []exported) error {
	runs, err := db.Runs(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	have := make(map[string]int64, len(runs))
	for _, r := range runs {
		have[r.RunID] = r.Events
	}
	for _, x := range out {
		if n, ok := have[x.RunID]; ok {
			return fmt.Errorf("import: run %q is already in %s (%s); nothing was imported; import into a new ledger, or export the other runs only",
				x.RunID, dest, plural(n, "event"))
		}
	}
	return nil
}

// reportImport prints what import wrote.
func (e *env) reportImport(from, dest string, out []exported) error {
	if e.json {
		return e.writeJSON(struct {
			From string     `json:"from"`
			To   string     `json:"to"`
			Runs []exported `json:"runs"`
		}{from, dest, out})
	}
	for _, x := range out {
		fmt.Fprintf(e.stdout, "%s  %s\n", x.RunID, plural(int64(x.Events), "event"))
	}
	fmt.Fprintf(e.stdout, "imported %s from %s into %s\n", plural(int64(len(out)), "run"), from, dest)
	return nil
}

// importPostgres writes the events into the PostgreSQL ledger at url
// (creating its tables if need be), all or nothing, refusing runs it
// already holds.
func importPostgres(ctx context.Context, url string, all []ledger.Event, out []exported) error {
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.Runs(ctx)
	if err != nil {
		return err
	}
	have := make(map[string]int64, len(runs))
	for _, r := range runs {
		have[r.RunID] = r.Events
	}
	for _, x := range out {
		if n, ok := have[x.RunID]; ok {
			return fmt.Errorf("run %q is already in the ledger (%s); nothing was imported; import into another database or schema, or export the other runs only",
				x.RunID, plural(n, "event"))
		}
	}
	return db.Import(ctx, all)
}
