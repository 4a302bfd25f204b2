package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/postgres"
	"github.com/artana-go/go-artana/sqlite"
)

func verifyCommand() *command {
	return &command{
		name:    "verify",
		usage:   "[--json] PATH [RUN...]",
		summary: "check the hash chain of every run (or of the named runs), streaming; exit 1 when one fails",
		run:     runVerify,
	}
}

// verifyResult is the outcome of verifying one run or cassette.
type verifyResult struct {
	RunID  string `json:"run_id,omitempty"`
	Path   string `json:"path"`
	OK     bool   `json:"ok"`
	Events int64  `json:"events"`
	// Interactions counts the records of an interactions cassette, which
	// holds no events.
	Interactions int64  `json:"interactions,omitempty"`
	Seq          int64  `json:"seq,omitempty"`     // the first bad event
	Line         int    `json:"line,omitempty"`    // the first bad line of a cassette
	Problem      string `json:"problem,omitempty"` // problemChanged, problemDamaged or problemInterrupted
	Error        string `json:"error,omitempty"`

	interactions bool // an interactions cassette
}

// What a failed verification found.
const (
	problemChanged     = "changed"     // an event or line differs from what was written
	problemDamaged     = "damaged"     // the file is broken below the ledger (SQLite's check, index and table disagree)
	problemInterrupted = "interrupted" // an append was interrupted and awaits recovery
)

func runVerify(ctx context.Context, e *env, args []string) error {
	if err := e.nargs(args, 1, -1); err != nil {
		return err
	}
	// Verify checks the file of a SQLite ledger itself, beside reading it;
	// a damaged one is refused as Open refuses it (verifySource).
	src, err := openSource(ctx, args[0], sqlite.SkipFileCheck())
	if err != nil {
		return err
	}
	defer src.Close()
	results, err := verifySource(ctx, src, args[1:], e)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	if e.json {
		if err := e.writeJSON(struct {
			Path   string         `json:"path"`
			Kind   string         `json:"kind"`
			OK     bool           `json:"ok"`
			Runs   []verifyResult `json:"runs"`
			Failed int            `json:"failed"`
		}{src.path, src.kind, failed == 0, results, failed}); err != nil {
			return err
		}
	} else {
		e.printVerified(results)
	}
	if failed > 0 {
		e.reportVerifyFailure(src, results, failed)
		return errReported
	}
	return nil
}

// printVerified prints one line per verified run or cassette: ok with
// what it holds, or FAIL with where and why.
func (e *env) printVerified(results []verifyResult) {
	for _, r := range results {
		name := r.RunID
		if name == "" {
			name = r.Path
		}
		if r.OK {
			count := plural(r.Events, "event")
			if r.interactions {
				count = plural(r.Interactions, "interaction")
			}
			fmt.Fprintf(e.stdout, "%s  %s  %s\n", e.paint(colorGreen, "ok  "), name, count)
			continue
		}
		where := ""
		switch {
		case r.Line > 0:
			where = fmt.Sprintf(" (line %d)", r.Line)
		}
		if r.Seq > 0 {
			where = fmt.Sprintf(" at seq %d%s", r.Seq, where)
		}
		fmt.Fprintf(e.stdout, "%s  %s%s: %s\n", e.paint(colorRed, "FAIL"), name, where, r.Error)
	}
}

// reportVerifyFailure says on stderr how many of the results failed, what
// the first failure means and what to do next.
func (e *env) reportVerifyFailure(src *source, results []verifyResult, failed int) {
	first := results[0]
	for _, r := range results {
		if !r.OK {
			first = r
			break
		}
	}
	next := fmt.Sprintf("look at the event with: artana-replay show --full %s %q", src.path, first.RunID)
	if src.kind != kindSQLite && src.kind != kindPostgres {
		file := first.Path
		if file == "" {
			file = src.path
		}
		next = "if the edit was deliberate, accept it with: artana-replay reseal " + shellQuote(file) + "; otherwise restore the file from version control"
	}
	what := "the ledger was changed after it was written"
	switch first.Problem {
	case problemDamaged:
		what = "the file is damaged"
		next = "restore it from a backup (what SQLite still reads can be saved with: sqlite3 " + shellQuote(src.path) + " .recover)"
	case problemInterrupted:
		what = "an interrupted append awaits recovery"
		next = "the next writer of the cassette finishes it (artana-replay does when it may write the file); nothing was changed by hand"
	}
	fmt.Fprintf(e.stderr, "artana-replay: %s: %d of %s failed verification: %s; %s\n",
		src.path, failed, plural(int64(len(results)), "run"), what, next)
}

// verifySource verifies the runs of src (all, or those named), one run at a
// time in constant memory.
func verifySource(ctx context.Context, src *source, only []string, e *env) ([]verifyResult, error) {
	switch {
	case src.db != nil:
		return verifySQLite(ctx, src, only, e)
	case src.pg != nil:
		return verifyPostgres(ctx, src, only, e)
	}
	return verifyCassettes(ctx, src, only, e)
}

// verifySQLite verifies the runs of a SQLite ledger (all, or those named).
// The ledger was opened without SQLite's check of the file, which
// VerifyEach runs beside reading it: a file that fails the check is
// refused, as the other commands refuse it when they open it.
func verifySQLite(ctx context.Context, src *source, only []string, e *env) ([]verifyResult, error) {
	refuse := func(err error) error {
		if cerr := src.db.CheckFile(ctx); cerr != nil && errors.Is(cerr, sqlite.ErrDamaged) {
			return cerr
		}
		return err
	}
	infos, err := src.db.Runs(ctx)
	if err != nil {
		return nil, refuse(err)
	}
	if err := src.checkRuns(ctx, only); err != nil {
		return nil, refuse(err)
	}
	prog := newProgress(e.stderr, "verify "+src.path, eventsOf(infos, only))
	defer prog.done()
	// The file check, the table read without the index, and each run
	// through the index, compared with the table.
	results := []verifyResult{}
	err = src.db.VerifyEach(ctx, only, func(c sqlite.RunCheck) error {
		r := verifyResult{RunID: c.RunID, Path: src.db.Path(), OK: true, Events: c.Events}
		if c.Err != nil {
			r.fail(c.Err)
		}
		results = append(results, r)
		return nil
	}, func() { prog.add(1) })
	if err != nil {
		return nil, refuse(err)
	}
	for _, r := range results {
		if !r.OK {
			if cerr := refuse(nil); cerr != nil {
				return nil, cerr
			}
			break
		}
	}
	return results, nil
}

// eventsOf returns the number of events of the runs named in only (of all
// runs when only is empty).
func eventsOf(infos []ledger.RunInfo, only []string) int64 {
	want := map[string]bool{}
	for _, id := range only {
		want[id] = true
	}
	var total int64
	for _, in := range infos {
		if len(only) == 0 || want[in.RunID] {
			total += in.Events
		}
	}
	return total
}

// verifyCassettes verifies the cassettes of src: its events cassettes
// (all, or those of the runs named) and, when no run is named, its
// interactions cassettes.
func verifyCassettes(ctx context.Context, src *source, only []string, e *env) ([]verifyResult, error) {
	if err := src.checkRuns(ctx, only); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range only {
		want[id] = true
	}
	prog := newProgress(e.stderr, "verify "+src.path, 0)
	defer prog.done()
	results := []verifyResult{}
	for _, f := range src.files {
		if f.header.Kind != cassettes.KindEvents {
			if len(only) > 0 {
				continue
			}
			r := verifyResult{Path: f.path, OK: true, interactions: true}
			err := readInteractions(ctx, f.path, func(interaction) error { r.Interactions++; prog.add(1); return nil })
			if err != nil {
				r.fail(err)
			}
			results = append(results, r)
			continue
		}
		if len(only) > 0 && !want[f.runID] {
			continue
		}
		r := verifyResult{RunID: f.runID, Path: f.path, OK: true}
		err := verifyCassette(ctx, f.path, func() { r.Events++; prog.add(1) })
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.fail(err)
		}
		results = append(results, r)
	}
	return results, nil
}

// verifyPostgres verifies the runs of a PostgreSQL ledger (all, or those
// named), each streamed from the server.
func verifyPostgres(ctx context.Context, src *source, only []string, e *env) ([]verifyResult, error) {
	infos, err := src.pg.Runs(ctx)
	if err != nil {
		return nil, err
	}
	if err := src.checkRuns(ctx, only); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range only {
		want[id] = true
	}
	var total int64
	for _, in := range infos {
		if len(only) == 0 || want[in.RunID] {
			total += in.Events
		}
	}
	prog := newProgress(e.stderr, "verify "+src.path, total)
	defer prog.done()
	results := []verifyResult{}
	for _, in := range infos {
		if len(only) > 0 && !want[in.RunID] {
			continue
		}
		r := verifyResult{RunID: in.RunID, Path: src.path, OK: true}
		err := src.pg.Scan(ctx, in.RunID, 0, func(ledger.Event) error { r.Events++; prog.add(1); return nil })
		if err == nil {
			err = src.pg.Verify(ctx, in.RunID)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.fail(err)
		}
		results = append(results, r)
	}
	return results, nil
}

// fail records why verification failed, and where.
func (r *verifyResult) fail(err error) {
	r.OK = false
	r.Problem = problemChanged
	switch {
	case errors.Is(err, sqlite.ErrDamaged):
		r.Problem = problemDamaged
	case errors.Is(err, cassettes.ErrInterruptedAppend):
		r.Problem = problemInterrupted
	}
	var ce *ledger.ChainError
	var se *sqlite.Error
	var pe *postgres.Error
	var cae *cassettes.Error
	switch {
	case errors.As(err, &ce):
		r.Seq = ce.Seq
		r.Error = ce.Reason
	case errors.As(err, &se):
		r.Seq = se.Seq
		r.Error = se.Err.Error()
	case errors.As(err, &pe):
		r.Seq = pe.Seq
		r.Error = pe.Err.Error()
	default:
		r.Error = err.Error()
	}
	if errors.As(err, &cae) {
		r.Line = cae.Line
		if r.Seq == 0 && cae.Line > 1 && r.RunID != "" {
			r.Seq = r.Events + 1
		}
		r.Error = strings.TrimPrefix(r.Error, fmt.Sprintf("%s:%d: ", cae.Path, cae.Line))
		r.Error = fmt.Sprintf("%s:%d: %s", cae.Path, cae.Line, r.Error)
	}
}

// verifyCassette checks an events cassette record by record, in constant
// memory, calling each after every event.
func verifyCassette(ctx context.Context, path string, each func()) error {
	r, err := cassettes.OpenShared(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = r.Verify(ctx, each)
	return err
}
