package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/artana-go/go-artana/cassettes"
)

func exportCommand() *command {
	return withSwitch(command{
		name:    "export",
		usage:   "[--json] [--force] LEDGER DIR [RUN...]",
		summary: "write each run (or the named runs) of a ledger as a cassette file in DIR, hashes preserved",
	}, "force", "overwrite cassette files that already exist in DIR", runExport)
}

// exported is one cassette written by export.
type exported struct {
	RunID  string `json:"run_id"`
	Path   string `json:"path"`
	Events int    `json:"events"`
}

func runExport(ctx context.Context, e *env, args []string, force bool) error {
	src, err := e.openArgs(ctx, args, 2, -1)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := src.runsOnly("export writes runs"); err != nil {
		return err
	}
	dir, only := args[1], args[2:]
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("export: %s is a file, not a directory; give a directory to write the cassettes into", dir)
	}
	if err := src.checkRuns(ctx, only); err != nil {
		return err
	}
	// Check every chain before writing anything.
	results, err := verifySource(ctx, src, only, e)
	if err != nil {
		return err
	}
	var todo []string
	for _, r := range results {
		if !r.OK {
			return fmt.Errorf("export: %s run %q fails verification at seq %d: %s; nothing was written (export only exports intact runs; name the others: artana-replay export %s %s RUN...)",
				src.path, r.RunID, r.Seq, r.Error, src.path, dir)
		}
		if r.RunID != "" {
			todo = append(todo, r.RunID)
		}
	}
	if !force {
		for _, id := range todo {
			p := filepath.Join(dir, cassettes.FileName(id))
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("export: %s already exists (run %q); nothing was written; remove it or use --force", p, id)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var out []exported
	for _, id := range todo {
		evs, err := src.readRun(ctx, id)
		if err != nil {
			return fmt.Errorf("export: read %s run %q: %w", src.path, id, err)
		}
		p := filepath.Join(dir, cassettes.FileName(id))
		if err := cassettes.WriteEvents(ctx, p, evs); err != nil {
			return fmt.Errorf("export: run %q to %s: %w", id, p, err)
		}
		out = append(out, exported{RunID: id, Path: p, Events: len(evs)})
	}
	if e.json {
		if out == nil {
			out = []exported{}
		}
		return e.writeJSON(struct {
			From string     `json:"from"`
			To   string     `json:"to"`
			Runs []exported `json:"runs"`
		}{src.path, dir, out})
	}
	for _, x := range out {
		fmt.Fprintf(e.stdout, "%s  %s  %s\n", x.RunID, plural(int64(x.Events), "event"), x.Path)
	}
	fmt.Fprintf(e.stdout, "exported %s from %s to %s\n", plural(int64(len(out)), "run"), src.path, dir)
	return nil
}

var errNothing = errors.New("nothing to import")
