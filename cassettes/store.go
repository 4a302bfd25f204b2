package cassettes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/artana-go/go-artana/artana/ledger"
)

// Store is an ledger.Store that keeps each run as one KindEvents cassette
// in a directory (see FileName). It is safe for concurrent use, and several
// processes may use one directory: appends to a run are serialised by the
// run's file lock, and each process reads the others' appends.
//
// Store keeps, per run, the byte offset of every event and the last event,
// so an append reads nothing but new lines written by other processes, and
// Events(ctx, run, n) reads only the lines after seq n.
type Store struct {
	dir  string
	opts ledger.StoreOptions

	mu     sync.Mutex
	runs   map[string]*runState
	closed bool
}

var (
	_ ledger.Store      = (*Store)(nil)
	_ ledger.RunCreator = (*Store)(nil)
)

// runState is what a Store knows about one run's file.
type runState struct {
	mu      sync.Mutex
	runID   string
	path    string
	loaded  bool
	file    os.FileInfo // identity of the file the state describes
	size    int64
	t       tail
	offsets []int64      // offsets[i] is the offset of the line of seq i+1
	first   ledger.Event // seq 1, without payload
	last    *ledger.Event
}

// OpenStore returns a Store on the directory dir, creating it if needed.
// ledger.WithEventClock and ledger.WithEventIDs make its logs reproducible.
func OpenStore(dir string, opts ...ledger.StoreOption) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open cassette store: %w", err)
	}
	return &Store{dir: dir, opts: ledger.NewStoreOptions(opts...), runs: make(map[string]*runState)}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// FileName returns the name of the cassette file of a run: a readable,
// lowercase slug of the run id (letters, digits, '-', '_' and '.'; '_' for
// anything else; at most 40 bytes), '-', the first 16 hex digits of the
// SHA-256 of the exact run id, and ".jsonl". The hash keeps ids apart that
// differ only in case or in replaced characters, so names are safe for any
// id on any file system; the header records the real id.
func FileName(runID string) string {
	var b strings.Builder
	for _, r := range runID {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	slug := b.String()
	if slug == "" {
		slug = "run"
	}
	sum := sha256.Sum256([]byte(runID))
	return slug + "-" + hex.EncodeToString(sum[:8]) + ".jsonl"
}

// Path returns the path of the cassette file of a run.
func (s *Store) Path(runID string) string { return filepath.Join(s.dir, FileName(runID)) }

func (s *Store) state(runID string) (*runState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ledger.ErrClosed
	}
	rs := s.runs[runID]
	if rs == nil {
		rs = &runState{runID: runID, path: s.Path(runID)}
		s.runs[runID] = rs
	}
	return rs, nil
}

// refresh brings rs up to date with the locked file f. It reads only what
// was appended since the last refresh, unless the file was replaced. Events
// with seq > collectAfter that it reads are returned. from is the first seq
// it read.
func (rs *runState) refresh(f *os.File, collectAfter int64) (evs []ledger.Event, from int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	same := rs.loaded && os.SameFile(rs.file, st)
	if same && st.Size() == rs.size {
		return nil, rs.count() + 1, nil
	}
	var r *Reader
	if same && st.Size() > rs.size && rs.count() > 0 {
		src := io.NewSectionReader(f, rs.t.endOff, st.Size()-rs.t.endOff)
		r = resumeReader(src, rs.path, eventsHeader(rs.runID), rs.t.hdrHash, int(rs.count())+1, rs.t.endOff, rs.t.prev, rs.count(), rs.last)
	} else {
		rs.reset()
		if st.Size() == 0 {
			rs.loaded, rs.file = true, st
			return nil, 1, nil
		}
		r, err = NewReader(io.NewSectionReader(f, 0, st.Size()), rs.path)
		if err != nil {
			return nil, 0, err
		}
		if r.hdr.Kind != KindEvents || r.runID != rs.runID {
			return nil, 0, &Error{Path: rs.path, Line: 1, Err: because(ErrHeader,
				"cassette of kind %q for run %q, want the events of run %q", r.hdr.Kind, r.runID, rs.runID)}
		}
		rs.t = tail{path: rs.path, hdrHash: r.hdrHash}
	}
	from = rs.count() + 1
	var last ledger.Event
	read := false
	for {
		e, err := r.readEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			rs.loaded = false
			return nil, 0, err
		}
		rs.offsets = append(rs.offsets, r.lineOff)
		if e.Seq == 1 {
			rs.first = e
			rs.first.Payload = nil
		}
		if e.Seq > collectAfter {
			evs = append(evs, e)
		}
		last, read = e, true
	}
	if read {
		rs.last = &last
	}
	rs.t.endOff, rs.t.count, rs.t.prev = r.endOff, r.count, r.prev
	rs.loaded, rs.file, rs.size = true, st, st.Size()
	return evs, from, nil
}

// reset forgets everything known about the file.
func (rs *runState) reset() {
	rs.loaded, rs.file, rs.size = false, nil, 0
	rs.t, rs.offsets, rs.first, rs.last = tail{}, nil, ledger.Event{}, nil
}

func (rs *runState) count() int64 { return int64(len(rs.offsets)) }

// Append appends p to the run; see ledger.Store. The event is on disk
// (fsynced) when Append returns.
func (s *Store) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	return s.append(ctx, runID, tenantID, p, false)
}

// CreateRun appends p as the first event of a new run, under the same
// locks that Append takes; see ledger.RunCreator. If the run already has
// events, nothing is appended and the error matches ledger.ErrRunExists.
func (s *Store) CreateRun(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	return s.append(ctx, runID, tenantID, p, true)
}

func (s *Store) append(ctx context.Context, runID, tenantID string, p ledger.Payload, create bool) (ledger.Event, error) {
	if err := ctx.Err(); err != nil {
		return ledger.Event{}, err
	}
	if err := checkIDs(runID, tenantID); err != nil {
		return ledger.Event{}, err
	}
	rs, err := s.state(runID)
	if err != nil {
		return ledger.Event{}, err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	f, err := lockPath(ctx, rs.path, os.O_RDWR, true)
	if errors.Is(err, os.ErrNotExist) {
		// Check before creating the file, so that a bad append leaves nothing.
		if err := s.opts.CheckAppend(nil, runID, tenantID, p); err != nil {
			return ledger.Event{}, err
		}
		f, err = lockPath(ctx, rs.path, os.O_RDWR|os.O_CREATE, true)
	}
	if err != nil {
		return ledger.Event{}, fmt.Errorf("append to run %q: %w", runID, err)
	}
	defer func() { unlock(f); f.Close() }()
	if _, _, err := rs.refresh(f, 1<<62); err != nil {
		return ledger.Event{}, fmt.Errorf("append to run %q: %w", runID, err)
	}
	if create && rs.count() > 0 {
		return ledger.Event{}, fmt.Errorf("create run %q in %s: it already has %d events: %w",
			runID, rs.path, rs.count(), ledger.ErrRunExists)
	}
	e, err := s.opts.NextEvent(rs.last, runID, tenantID, p)
	if err != nil {
		return ledger.Event{}, err
	}
	line := appendEventLine(nil, &e)
	if rs.count() == 0 {
		t, err := createTail(f, rs.path, eventsHeader(runID), line, 1, e.Hash)
		if err != nil {
			rs.loaded = false
			return ledger.Event{}, err
		}
		rs.t = t
		rs.offsets = append(rs.offsets, t.endOff-int64(len(line)))
		rs.first = e
		rs.first.Payload = nil
	} else {
		off := rs.t.endOff
		if err := rs.t.write(f, line, 1, e.Hash); err != nil {
			rs.loaded = false
			return ledger.Event{}, err
		}
		rs.offsets = append(rs.offsets, off)
	}
	rs.last = &e
	st, err := f.Stat()
	if err != nil {
		rs.loaded = false
		return e, nil // the event is durable; the next call reloads
	}
	rs.file, rs.size = st, st.Size()
	return e, nil
}

// Events returns the run's events with seq > afterSeq; see ledger.Store.
// Every event returned is checked against the hash chain.
func (s *Store) Events(ctx context.Context, runID string, afterSeq int64) ([]ledger.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rs, err := s.state(runID)
	if err != nil {
		return nil, err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	f, err := lockPath(ctx, rs.path, os.O_RDONLY, false)
	if errors.Is(err, os.ErrNotExist) {
		rs.reset()
		return []ledger.Event{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run %q: %w", runID, err)
	}
	defer func() { unlock(f); f.Close() }()
	afterSeq = max(afterSeq, 0)
	fresh, from, err := rs.refresh(f, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("read run %q: %w", runID, err)
	}
	if afterSeq+1 >= from {
		if fresh == nil {
			fresh = []ledger.Event{}
		}
		return fresh, nil
	}
	// Read seq afterSeq+1 .. from-1 from the file, then add the fresh ones.
	upTo := from - 1
	out := make([]ledger.Event, 0, upTo-afterSeq+int64(len(fresh)))
	var r *Reader
	if afterSeq == 0 {
		start := rs.offsets[0]
		r = resumeReader(io.NewSectionReader(f, start, rs.size-start), rs.path, eventsHeader(runID), rs.t.hdrHash, 1, start, "", 0, nil)
	} else {
		start := rs.offsets[afterSeq-1]
		r = resumeReader(io.NewSectionReader(f, start, rs.size-start), rs.path, eventsHeader(runID), rs.t.hdrHash, int(afterSeq), start, "", 0, nil)
		if err := r.anchor(); err != nil {
			rs.loaded = false
			return nil, fmt.Errorf("read run %q: %w", runID, err)
		}
	}
	for int64(len(out)) < upTo-afterSeq {
		e, err := r.NextEvent()
		if err == io.EOF {
			err = &Error{Path: rs.path, Line: r.line, Err: because(ErrTruncated, "expected seq %d", afterSeq+int64(len(out))+1)}
		}
		if err != nil {
			rs.loaded = false
			return nil, fmt.Errorf("read run %q: %w", runID, err)
		}
		out = append(out, e)
	}
	return append(out, fresh...), nil
}

// Runs lists the runs of the store's directory, ordered by run id; see
// ledger.Store. A cassette whose file name is not FileName of its run id
// is an error, since the store could not find it by id.
func (s *Store) Runs(ctx context.Context) ([]ledger.RunInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ledger.ErrClosed
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out := []ledger.RunInfo{}
	for _, de := range entries {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasSuffix(name, ".jsonl") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(s.dir, name)
		runID, ok, err := runIDOf(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		if !ok {
			continue
		}
		if want := FileName(runID); want != name {
			return nil, fmt.Errorf("list runs: %s holds run %q, whose cassette must be named %s; rename the file", path, runID, want)
		}
		info, ok, err := s.runInfo(ctx, runID)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		if ok {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b ledger.RunInfo) int { return strings.Compare(a.RunID, b.RunID) })
	return out, nil
}

// runIDOf reads the run id from a cassette's header, under the shared
// lock, so that a header being written is not read half done. ok is false
// for an empty file.
func runIDOf(ctx context.Context, path string) (string, bool, error) {
	f, err := lockPath(ctx, path, os.O_RDONLY, false)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil // removed meanwhile
	}
	if err != nil {
		return "", false, err
	}
	defer func() { unlock(f); f.Close() }()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return "", false, nil
	}
	r, err := NewReader(f, path)
	if err != nil {
		return "", false, err
	}
	if r.hdr.Kind != KindEvents || r.runID == "" {
		return "", false, &Error{Path: path, Line: 1, Err: because(ErrHeader, "not a run's events (kind %q, run_id %q); move it out of the store's directory", r.hdr.Kind, r.runID)}
	}
	return r.runID, true, nil
}

func (s *Store) runInfo(ctx context.Context, runID string) (ledger.RunInfo, bool, error) {
	rs, err := s.state(runID)
	if err != nil {
		return ledger.RunInfo{}, false, err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	f, err := lockPath(ctx, rs.path, os.O_RDONLY, false)
	if errors.Is(err, os.ErrNotExist) {
		return ledger.RunInfo{}, false, nil
	}
	if err != nil {
		return ledger.RunInfo{}, false, err
	}
	defer func() { unlock(f); f.Close() }()
	if _, _, err := rs.refresh(f, 1<<62); err != nil {
		return ledger.RunInfo{}, false, err
	}
	if rs.last == nil {
		return ledger.RunInfo{}, false, nil
	}
	return ledger.RunInfo{RunID: runID, TenantID: rs.first.TenantID, Events: rs.last.Seq,
		First: rs.first.Timestamp, Last: rs.last.Timestamp, LastHash: rs.last.Hash}, true, nil
}

// Import writes already sealed events verbatim (ids, timestamps and hashes
// preserved), for example events exported from another store. The events
// may belong to several runs; each run's events must be in seq order and
// continue the run's chain in this store (start at seq 1 for a new run).
// Every run is checked, under its lock, before anything is written; if a
// check fails nothing is written. Each run is then written with one fsynced
// write; only an I/O error in the middle can leave some runs imported and
// others not, and it is reported.
func (s *Store) Import(ctx context.Context, events []ledger.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	byRun := map[string][]ledger.Event{}
	var ids []string
	for _, e := range events {
		if _, ok := byRun[e.RunID]; !ok {
			ids = append(ids, e.RunID)
		}
		byRun[e.RunID] = append(byRun[e.RunID], e)
	}
	slices.Sort(ids)
	type job struct {
		rs      *runState
		f       *os.File
		created bool
		lines   []byte
		evs     []ledger.Event
	}
	var jobs []job
	done := false
	defer func() {
		for _, j := range jobs {
			if j.created && !done {
				if st, err := j.f.Stat(); err == nil && st.Size() == 0 {
					os.Remove(j.rs.path)
				}
			}
			unlock(j.f)
			j.f.Close()
			j.rs.mu.Unlock()
		}
	}()
	for _, id := range ids {
		if id == "" {
			return fmt.Errorf("import: event with an empty run id: %w", ledger.ErrInvalidPayload)
		}
		rs, err := s.state(id)
		if err != nil {
			return err
		}
		rs.mu.Lock()
		_, statErr := os.Stat(rs.path)
		f, err := lockPath(ctx, rs.path, os.O_RDWR|os.O_CREATE, true)
		if err != nil {
			rs.mu.Unlock()
			return fmt.Errorf("import run %q: %w", id, err)
		}
		jobs = append(jobs, job{rs: rs, f: f, created: errors.Is(statErr, os.ErrNotExist), evs: byRun[id]})
		if _, _, err := rs.refresh(f, 1<<62); err != nil {
			return fmt.Errorf("import run %q: %w", id, err)
		}
		lines, err := checkEvents(nil, rs.last, id, byRun[id])
		if err != nil {
			return fmt.Errorf("import run %q: %w; nothing was imported", id, err)
		}
		jobs[len(jobs)-1].lines = lines
	}
	for _, j := range jobs {
		rs, evs := j.rs, j.evs
		last := evs[len(evs)-1]
		if rs.count() == 0 {
			t, err := createTail(j.f, rs.path, eventsHeader(rs.runID), j.lines, int64(len(evs)), last.Hash)
			if err != nil {
				rs.loaded = false
				return fmt.Errorf("import run %q: %w", rs.runID, err)
			}
			rs.t = t
		} else if err := rs.t.write(j.f, j.lines, int64(len(evs)), last.Hash); err != nil {
			rs.loaded = false
			return fmt.Errorf("import run %q: %w", rs.runID, err)
		}
		rs.loaded = false // re-index on next use
	}
	done = true
	return nil
}

// Close marks the store closed; later calls fail with ledger.ErrClosed.
// The store holds no open files between calls. Closing twice returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.runs = nil
	return nil
}
