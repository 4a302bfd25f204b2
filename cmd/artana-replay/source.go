package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/regfile"
	"github.com/artana-go/go-artana/postgres"
	"github.com/artana-go/go-artana/sqlite"
)

// The kinds of input artana-replay reads.
const (
	kindSQLite       = "SQLite ledger"
	kindPostgres     = "PostgreSQL ledger"
	kindCassette     = "events cassette"
	kindInteractions = "interactions cassette"
	kindDir          = "cassette directory"
)

var (
	sqliteMagic    = []byte("SQLite format 3\x00")
	cassettePrefix = []byte(`{"format":"artana-cassette"`)
)

// A source is an opened input: a SQLite ledger, a cassette file or a
// directory of cassettes.
type source struct {
	path  string
	kind  string
	db    *sqlite.Store   // kindSQLite
	pg    *postgres.Store // kindPostgres; path is its URL without the password
	files []cassetteFile  // kindCassette, kindInteractions, kindDir
}

// A cassetteFile is one cassette of a source.
type cassetteFile struct {
	path   string
	header cassettes.Header
	runID  string // for events cassettes
}

// sniff reads the first bytes of a file to tell what it is.
func sniff(path string) (string, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, buf)
	buf = buf[:n]
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	switch {
	case n == 0:
		return "", fmt.Errorf("%s is empty: not a ledger (want a SQLite ledger, a cassette file or a directory of cassettes)", path)
	case bytes.Equal(buf, sqliteMagic):
		return kindSQLite, nil
	case buf[0] == '{':
		return kindCassette, nil
	}
	return "", fmt.Errorf("%s is not a ledger: it is neither a SQLite database nor an artana cassette (it starts with %q); give a SQLite ledger, a cassette file or a directory of cassettes", path, buf)
}

// openSource opens path read-only, detecting its kind from its content;
// a SQLite ledger is opened with the options given beside ReadOnly.
func openSource(ctx context.Context, path string, opts ...sqlite.Option) (*source, error) {
	if postgres.IsURL(path) {
		db, err := postgres.Open(ctx, path, postgres.ReadOnly())
		if err != nil {
			return nil, err
		}
		return &source{path: db.String(), kind: kindPostgres, pg: db}, nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file or directory; check the path (want a SQLite ledger, a cassette file or a directory of cassettes)", path)
	}
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return openDir(ctx, path)
	}
	if err := regfile.Check(path, fi, true); err != nil {
		return nil, fmt.Errorf("%w; give a SQLite ledger, a cassette file or a directory of cassettes", err)
	}
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	if kind == kindSQLite {
		db, err := sqlite.Open(ctx, path, append([]sqlite.Option{sqlite.ReadOnly()}, opts...)...)
		if err != nil {
			if errors.Is(err, sqlite.ErrDamaged) {
				return nil, err
			}
			if errors.Is(err, sqlite.ErrIncompatible) || !errors.Is(err, sqlite.ErrNotSQLite) {
				return nil, fmt.Errorf("%s is a SQLite database but not an artana ledger: %w", path, err)
			}
			return nil, err
		}
		return &source{path: path, kind: kindSQLite, db: db}, nil
	}
	cf, err := openCassetteFile(ctx, path)
	if err != nil {
		return nil, err
	}
	s := &source{path: path, kind: kindCassette, files: []cassetteFile{cf}}
	if cf.header.Kind != cassettes.KindEvents {
		s.kind = kindInteractions
	}
	return s, nil
}

// openCassetteFile reads a cassette's header and, for an events cassette,
// its run id, under the cassette's shared lock.
func openCassetteFile(ctx context.Context, path string) (cassetteFile, error) {
	r, err := cassettes.OpenShared(ctx, path)
	if err != nil {
		var ce *cassettes.Error
		if errors.Is(err, cassettes.ErrHeader) || (errors.As(err, &ce) && ce.Line == 1) {
			return cassetteFile{}, fmt.Errorf("%w (not a ledger: the first line is not an artana cassette header)", err)
		}
		return cassetteFile{}, err
	}
	defer r.Close()
	cf := cassetteFile{path: path, header: r.Header()}
	if cf.header.Kind == cassettes.KindEvents {
		cf.runID = cf.header.Meta["run_id"]
		if cf.runID == "" {
			ev, err := r.NextEvent()
			if err != nil && err != io.EOF {
				return cassetteFile{}, err
			}
			cf.runID = ev.RunID
		}
	}
	return cf, nil
}

// openDir opens every cassette in a directory. Subdirectories are not
// read; a named pipe, device or socket in it is refused, not skipped, since
// it cannot be read without risk of blocking and may be meant as a
// cassette.
func openDir(ctx context.Context, dir string) (*source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	s := &source{path: dir, kind: kindDir}
	for _, ent := range entries {
		p := filepath.Join(dir, ent.Name())
		if !ent.Type().IsRegular() {
			fi, err := os.Stat(p) // follows a symbolic link
			if err != nil {
				return nil, fmt.Errorf("%s: %w", dir, err)
			}
			if fi.IsDir() {
				continue
			}
			if err := regfile.Check(p, fi, false); err != nil {
				return nil, fmt.Errorf("%w; remove it from %s (a cassette directory holds cassette files)", err, dir)
			}
		}
		if strings.HasPrefix(ent.Name(), ".") {
			continue // a writer's temporary file, or another hidden file
		}
		if fi, err := os.Stat(p); err == nil && fi.Size() == 0 {
			// An empty file holds no run: a writer is creating it (it
			// writes the header under its lock), or a creation failed.
			continue
		}
		// A file named like a cassette is read even when its first line is
		// damaged (a merge conflict, say), so that the damage is reported
		// rather than the run silently left out.
		ext := filepath.Ext(p)
		if !hasCassettePrefix(p) && ext != ".jsonl" && ext != ".cassette" {
			continue
		}
		cf, err := openCassetteFile(ctx, p)
		if err != nil {
			return nil, err
		}
		s.files = append(s.files, cf)
	}
	if len(s.files) == 0 {
		return nil, fmt.Errorf("%s holds no cassette files: not a ledger (want a SQLite ledger, a cassette file or a directory of cassettes)", dir)
	}
	sort.Slice(s.files, func(i, j int) bool {
		if s.files[i].runID != s.files[j].runID {
			return s.files[i].runID < s.files[j].runID
		}
		return s.files[i].path < s.files[j].path
	})
	return s, nil
}

func hasCassettePrefix(path string) bool {
	f, err := regfile.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(cassettePrefix))
	_, err = io.ReadFull(bufio.NewReader(f), buf)
	return err == nil && bytes.Equal(buf, cassettePrefix)
}

// Close closes the source.
func (s *source) Close() error {
	if s.db != nil {
		return s.db.Close()
	}
	if s.pg != nil {
		return s.pg.Close()
	}
	return nil
}

// runs lists the run ids of the source, in order.
func (s *source) runs(ctx context.Context) ([]string, error) {
	if s.db != nil || s.pg != nil {
		var infos []ledger.RunInfo
		var err error
		if s.db != nil {
			infos, err = s.db.Runs(ctx)
		} else {
			infos, err = s.pg.Runs(ctx)
		}
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(infos))
		for i, in := range infos {
			ids[i] = in.RunID
		}
		return ids, nil
	}
	var ids []string
	for _, f := range s.files {
		if f.header.Kind == cassettes.KindEvents {
			ids = append(ids, f.runID)
		}
	}
	return ids, nil
}

// interactions lists the interactions cassettes of the source.
func (s *source) interactions() []cassetteFile {
	var out []cassetteFile
	for _, f := range s.files {
		if f.header.Kind != cassettes.KindEvents {
			out = append(out, f)
		}
	}
	return out
}

// checkRuns returns an error naming the first run of want that the source
// does not hold.
func (s *source) checkRuns(ctx context.Context, want []string) error {
	have, err := s.runs(ctx)
	if err != nil {
		return err
	}
	set := make(map[string]bool, len(have))
	for _, id := range have {
		set[id] = true
	}
	for _, id := range want {
		if !set[id] {
			return s.unknownRun(id, have)
		}
	}
	return nil
}

func (s *source) unknownRun(id string, have []string) error {
	list := strings.Join(quoteAll(have), ", ")
	if len(have) == 0 {
		list = "none"
	} else if len(have) > 10 {
		list = strings.Join(quoteAll(have[:10]), ", ") + fmt.Sprintf(", … (%d in all)", len(have))
	}
	return fmt.Errorf("run %q not found in %s (runs: %s); list the runs with: artana-replay ls %s", id, s.path, list, s.path)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// scan calls fn with each event of the run, in seq order, streaming. A
// cassette's events are checked as they are read (any error names the
// file and line); a SQLite ledger's are not (use verify).
func (s *source) scan(ctx context.Context, runID string, fn func(ledger.Event) error) error {
	if s.db != nil {
		return s.db.Scan(ctx, runID, 0, fn)
	}
	if s.pg != nil {
		return s.pg.Scan(ctx, runID, 0, fn)
	}
	for _, f := range s.files {
		if f.header.Kind == cassettes.KindEvents && f.runID == runID {
			return scanCassette(ctx, f.path, fn)
		}
	}
	have, _ := s.runs(ctx)
	return s.unknownRun(runID, have)
}

// scanCassette streams the events of one events cassette.
func scanCassette(ctx context.Context, path string, fn func(ledger.Event) error) error {
	return eachRecord(ctx, path, (*cassettes.Reader).NextEvent, fn)
}

// scanAll calls fn with every event of every run, run by run.
func (s *source) scanAll(ctx context.Context, fn func(ledger.Event) error) error {
	if s.db != nil {
		return s.db.ScanAll(ctx, fn)
	}
	if s.pg != nil {
		return s.pg.ScanAll(ctx, fn)
	}
	for _, f := range s.files {
		if f.header.Kind != cassettes.KindEvents {
			continue
		}
		if err := scanCassette(ctx, f.path, fn); err != nil {
			return err
		}
	}
	return nil
}

// readRun reads a whole run into memory.
func (s *source) readRun(ctx context.Context, runID string) ([]ledger.Event, error) {
	var evs []ledger.Event
	err := s.scan(ctx, runID, func(e ledger.Event) error {
		evs = append(evs, e)
		return nil
	})
	return evs, err
}
