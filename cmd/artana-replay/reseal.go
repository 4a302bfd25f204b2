package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/postgres"
)

func resealCommand() *command {
	return &command{
		name:    "reseal",
		usage:   "[--json] CASSETTE",
		summary: "accept a deliberate hand edit of a cassette: list the changed records and recompute its chain",
		run:     runReseal,
	}
}

// resealChange is one changed line in the JSON output of reseal.
type resealChange struct {
	Line   int      `json:"line"`
	Type   string   `json:"type"`
	Seq    int64    `json:"seq,omitempty"`
	Fields []string `json:"fields"`
}

func runReseal(ctx context.Context, e *env, args []string) error {
	if err := e.nargs(args, 1, 1); err != nil {
		return err
	}
	path := args[0]
	if postgres.IsURL(path) {
		return fmt.Errorf("reseal: %s is a PostgreSQL ledger, and a ledger's history is never rewritten; reseal only accepts hand edits of cassette files (to check the ledger, run: artana-replay verify %s)",
			postgres.Redact(path), postgres.Redact(path))
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: no such file; reseal takes a cassette file", path)
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("reseal: %s is a directory; reseal one cassette file at a time", path)
	}
	kind, err := sniff(path)
	if err != nil {
		return err
	}
	if kind == kindSQLite {
		return fmt.Errorf("reseal: %s is a SQLite ledger, and a ledger's history is never rewritten; reseal only accepts hand edits of cassette files (to check the ledger, run: artana-replay verify %s)", path, path)
	}
	changes, err := cassettes.Reseal(ctx, path)
	if err != nil {
		return fmt.Errorf("reseal: %w; the file was not changed", err)
	}
	if e.json {
		out := []resealChange{}
		for _, c := range changes {
			out = append(out, resealChange{Line: c.Line, Type: c.Type, Seq: c.Seq, Fields: c.Fields})
		}
		return e.writeJSON(struct {
			Path    string         `json:"path"`
			Changed int            `json:"changed"`
			Changes []resealChange `json:"changes"`
		}{path, len(out), out})
	}
	if len(changes) == 0 {
		fmt.Fprintf(e.stdout, "%s: already sealed, nothing changed\n", path)
		return nil
	}
	for _, c := range changes {
		fmt.Fprintf(e.stdout, "%s\n", c)
	}
	fmt.Fprintf(e.stdout, "%s: resealed, %s changed; review them (git diff) before committing\n", path, plural(int64(len(changes)), "line"))
	return nil
}
