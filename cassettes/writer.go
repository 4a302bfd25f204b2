package cassettes

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/pyjson"
	"github.com/artana-go/go-artana/internal/regfile"
)

// DefaultLockWait is how long a writer waits for another process's lock on
// a cassette when its context has no deadline.
const DefaultLockWait = 10 * time.Second

// lockPath opens path with flag and takes its advisory lock, waiting until
// ctx is done (or DefaultLockWait when ctx has no deadline). It makes sure
// the locked file is still the one at path, since an atomic rewrite may
// have replaced it while we waited.
func lockPath(ctx context.Context, path string, flag int, exclusive bool) (*os.File, error) {
	return lockPathRecover(ctx, path, flag, exclusive, true)
}

// lockPathRecover is lockPath; without finish, a pending redo record is
// reported as ErrInterruptedAppend instead of being finished.
func lockPathRecover(ctx context.Context, path string, flag int, exclusive, finish bool) (*os.File, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultLockWait)
		defer cancel()
	}
	start := time.Now()
	delay := time.Millisecond
	for {
		f, err := openRegular(path, flag)
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, &Error{Path: path, Err: fmt.Errorf("lock: %w", err)}
		}
		if ok {
			same, err := samePath(f, path)
			if err == nil && same {
				g, again, err := recoverAppend(ctx, f, path, flag, exclusive, finish)
				if again {
					continue
				}
				return g, err
			}
			unlock(f)
			f.Close()
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			continue // replaced or removed while we waited: lock the new file
		}
		f.Close()
		select {
		case <-ctx.Done():
			return nil, &Error{Path: path, Err: because(ErrLocked,
				"waited %v: another process (a test, a recorder or artana-replay) is writing this cassette; let it finish and try again (%v)",
				time.Since(start).Round(time.Millisecond), ctx.Err())}
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// openRegular opens path with flag without blocking, and refuses anything
// but a regular file (opening a named pipe would wait for a writer
// forever).
func openRegular(path string, flag int) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &Error{Path: path, Err: regfile.Check(path, fi, false)}
	}
	f, err := os.OpenFile(path, flag|openNoWait, 0o644)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		// The path changed between the check above and the open.
		f.Close()
		return nil, &Error{Path: path, Err: regfile.Check(path, fi, false)}
	}
	return f, nil
}

// recoverAppend finishes an append that was interrupted in the file f at
// path, locked as lockPathRecover locked it, before anyone reads or writes
// the file. It returns f when it is ready to use. Holding only a read or
// shared lock, it lets go of f and finishes the append under an exclusive
// lock of its own (with finish; otherwise it reports ErrInterruptedAppend),
// and reports again: the caller locks the file anew.
func recoverAppend(ctx context.Context, f *os.File, path string, flag int, exclusive, finish bool) (_ *os.File, again bool, _ error) {
	if _, err := os.Stat(redoPath(path)); err != nil {
		return f, false, nil
	}
	if exclusive && flag&(os.O_RDWR|os.O_WRONLY) != 0 {
		if err := replayRedo(f, path); err != nil {
			unlock(f)
			f.Close()
			return nil, false, err
		}
		return f, false, nil
	}
	unlock(f)
	f.Close()
	pending := func(why string) error {
		return &Error{Path: path, Err: &reason{kind: ErrInterruptedAppend, detail: fmt.Sprintf(
			"a writer was killed in the middle of an append and left %s; the next writer of the cassette finishes the append (%s); nothing was changed by hand",
			filepath.Base(redoPath(path)), why)}}
	}
	if !finish {
		return nil, false, pending("this reader does not write the file")
	}
	g, err := lockPath(ctx, path, os.O_RDWR, true)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return nil, false, pending(fmt.Sprintf("this process may not write the file: %v", err))
	}
	if err != nil {
		return nil, false, err
	}
	unlock(g)
	g.Close()
	return nil, true, nil
}

func samePath(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeAtomic replaces the file at path with what write produces: a temp
// file in the same directory, fsync, rename, fsync of the directory. It
// holds the exclusive lock of the old file (if any) meanwhile, so that no
// appender writes to a file that is about to be replaced.
func writeAtomic(ctx context.Context, path string, write func(old *os.File, w *bufio.Writer) error) (err error) {
	old, err := lockPath(ctx, path, os.O_RDONLY, true)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if old != nil {
		defer func() { unlock(old); old.Close() }()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(old, w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: fsync directory: %w", path, err)
	}
	return nil
}

// sealRecords canonicalises the bodies of recs, checks their types and
// fills in Prev and Hash, chaining from prev. It returns the lines.
func sealRecords(dst []byte, prev string, recs []Record) ([]byte, string, error) {
	for i := range recs {
		rec := &recs[i]
		if !validType(rec.Type) {
			return nil, "", fmt.Errorf("record %d: type %q: %w: want lowercase letters, digits, '_', '-' or '.', starting with a letter, and not %q",
				i, rec.Type, ErrUnknownType, endType)
		}
		body, err := pyjson.Canonicalize(rec.Body)
		if err != nil {
			return nil, "", fmt.Errorf("record %d (%s): body: %w", i, rec.Type, err)
		}
		rec.Body = body
		rec.Prev = prev
		rec.Hash = recordHash(rec.Type, prev, body)
		dst = appendRecord(dst, rec.Type, rec.Prev, rec.Hash, body)
		dst = append(dst, '\n')
		prev = rec.Hash
	}
	return dst, prev, nil
}

// checkEvents verifies that events continue the chain that ends at last
// (nil for a new run) and can be stored; it returns their lines.
func checkEvents(dst []byte, last *ledger.Event, runID string, events []ledger.Event) ([]byte, error) {
	var v ledger.ChainVerifier
	if last != nil {
		v.Resume(last)
	}
	for i := range events {
		e := &events[i]
		if runID != "" && e.RunID != runID {
			return nil, fmt.Errorf("event %d (run %q seq %d) belongs to another run than %q", i, e.RunID, e.Seq, runID)
		}
		if err := checkIDs(e.RunID, e.TenantID); err != nil {
			return nil, err
		}
		if err := v.Next(e); err != nil {
			return nil, err
		}
		if err := e.Payload.Validate(); err != nil {
			return nil, fmt.Errorf("run %q seq %d: %w: %w", e.RunID, e.Seq, ledger.ErrInvalidPayload, err)
		}
		dst = appendEventLine(dst, e)
	}
	return dst, nil
}

// WriteFile writes a whole cassette atomically: header, records sealed in
// order, end record. The records' Body is canonicalised and their Prev and
// Hash are filled in. h.Kind must not be KindEvents; use WriteEvents.
func WriteFile(ctx context.Context, path string, h Header, recs []Record) error {
	if h.Kind == KindEvents {
		return fmt.Errorf("write %s: use WriteEvents for a cassette of kind %q", path, h.Kind)
	}
	if !h.Kind.known() {
		return fmt.Errorf("write %s: unknown kind %q", path, h.Kind)
	}
	recs = append([]Record(nil), recs...)
	hdr := appendHeader(nil, h)
	lines, last, err := sealRecords(nil, "", recs)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeAtomic(ctx, path, func(_ *os.File, w *bufio.Writer) error {
		w.Write(hdr)
		w.WriteByte('\n')
		w.Write(lines)
		_, err := w.Write(appendEndLine(nil, last, hashBytes(hdr), int64(len(recs))))
		return err
	})
}

// WriteEvents writes the events of one run as a whole KindEvents cassette,
// atomically, after checking that they form a valid chain from seq 1. The
// header's meta records the run id. Events are written verbatim: ids,
// timestamps and hashes are preserved.
func WriteEvents(ctx context.Context, path string, events []ledger.Event) error {
	if len(events) == 0 {
		return fmt.Errorf("write %s: no events", path)
	}
	runID := events[0].RunID
	lines, err := checkEvents(nil, nil, runID, events)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	hdr := appendHeader(nil, eventsHeader(runID))
	last := events[len(events)-1].Hash
	return writeAtomic(ctx, path, func(_ *os.File, w *bufio.Writer) error {
		w.Write(hdr)
		w.WriteByte('\n')
		w.Write(lines)
		_, err := w.Write(appendEndLine(nil, last, hashBytes(hdr), int64(len(events))))
		return err
	})
}

func eventsHeader(runID string) Header {
	return Header{Version: Version, Kind: KindEvents, Meta: map[string]string{"run_id": runID}}
}

// tail is the append position of an open cassette: where the end record
// starts and what the next record chains from.
type tail struct {
	path    string
	hdrHash string
	endOff  int64  // offset of the end record line
	count   int64  // records before the end record
	prev    string // hash of the last record
}

// endLine returns the current end record line.
func (t *tail) endLine() []byte { return appendEndLine(nil, t.prev, t.hdrHash, t.count) }

// write replaces the end record with lines (n records, the last with hash
// last) followed by a new end record, and fsyncs. The new bytes are one
// write at the offset of the old end record, which they cover entirely (the
// new end record is never shorter than the old one). The kernel may stop a
// killed process's write between pages, so the bytes go to a redo record
// first (writeRedo): a process killed at any moment leaves the old file, or
// the new one, or a redo record from which the next locker finishes the
// append. On failure it puts the old end record back, so that nothing is
// appended.
func (t *tail) write(f *os.File, lines []byte, n int64, last string) error {
	data := appendEndLine(lines, last, t.hdrHash, t.count+n)
	var err error
	redo := spansPages(t.endOff, len(data))
	if redo {
		err = writeRedo(t.path, t.endOff, data)
	}
	if err == nil {
		_, err = f.WriteAt(data, t.endOff)
	}
	if err == nil {
		err = f.Sync()
	}
	if redo {
		// Whole and durable, or about to be put back: either way the redo
		// record must not finish this append later.
		os.Remove(redoPath(t.path))
	}
	if err != nil {
		// Best effort: restore the previous end record.
		old := t.endLine()
		if _, werr := f.WriteAt(old, t.endOff); werr == nil {
			if f.Truncate(t.endOff+int64(len(old))) == nil {
				f.Sync()
			}
		}
		return fmt.Errorf("append to %s: %w (nothing was appended)", t.path, err)
	}
	t.endOff += int64(len(lines))
	t.count += n
	t.prev = last
	return nil
}

// redoPath names the redo record that exists while an append is written.
func redoPath(path string) string { return path + ".redo" }

// writeRedo records the bytes an append is about to write at off, before
// it touches the cassette. A process killed in the middle of a write may
// leave part of it on disk (the kernel stops a write between pages); the
// next writer or reader that locks the cassette then writes the whole of
// it again from the redo record (replayRedo). A write within one page
// cannot be cut and gets no redo record. The record is 8 bytes of offset,
// 8 of length, the SHA-256 of the data, then the data.
func writeRedo(path string, off int64, data []byte) error {
	rec := make([]byte, 0, 48+len(data))
	rec = binary.BigEndian.AppendUint64(rec, uint64(off))
	rec = binary.BigEndian.AppendUint64(rec, uint64(len(data)))
	sum := sha256.Sum256(data)
	rec = append(rec, sum[:]...)
	rec = append(rec, data...)
	f, err := os.OpenFile(redoPath(path), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(rec); err != nil {
		f.Close()
		return err
	}
	// No fsync: the redo record guards against a killed process, whose
	// written bytes the kernel keeps. After a power loss, which fsync of the
	// cassette alone guards against, a torn tail is reported on open.
	return f.Close()
}

// spansPages reports whether a write of n bytes at off crosses a page
// boundary. The kernel copies a write page by page and stops a killed
// process only between pages, so a write within one page is whole or
// absent, and needs no redo record.
func spansPages(off int64, n int) bool {
	page := int64(os.Getpagesize())
	return n > 0 && off/page != (off+int64(n)-1)/page
}

// replayRedo finishes an interrupted append on f, which is locked for
// writing: a whole redo record is written again at its offset (the bytes
// are the same whether the write was cut short or not); a redo record cut
// short itself means the crash came before the cassette was touched. The
// redo record is then removed.
func replayRedo(f *os.File, path string) error {
	rec, err := os.ReadFile(redoPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finish an interrupted append to %s: %w", path, err)
	}
	if len(rec) >= 48 {
		off := int64(binary.BigEndian.Uint64(rec[0:8]))
		n := binary.BigEndian.Uint64(rec[8:16])
		data := rec[48:]
		if uint64(len(data)) == n && sha256.Sum256(data) == [32]byte(rec[16:48]) {
			if _, err := f.WriteAt(data, off); err != nil {
				return fmt.Errorf("finish an interrupted append to %s: %w", path, err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("finish an interrupted append to %s: fsync: %w", path, err)
			}
		}
	}
	if err := os.Remove(redoPath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("finish an interrupted append to %s: %w", path, err)
	}
	return nil
}

// create writes header and end record into the empty file f.
func createTail(f *os.File, path string, h Header, lines []byte, n int64, last string) (tail, error) {
	hdr := appendHeader(nil, h)
	t := tail{path: path, hdrHash: hashBytes(hdr), endOff: int64(len(hdr) + 1)}
	data := append(hdr, '\n')
	data = append(data, lines...)
	data = appendEndLine(data, last, t.hdrHash, n)
	redo := spansPages(0, len(data))
	if redo {
		if err := writeRedo(path, 0, data); err != nil {
			return tail{}, fmt.Errorf("create %s: %w", path, err)
		}
	}
	_, err := f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if redo {
		os.Remove(redoPath(path)) // whole and durable, or about to be undone
	}
	if err != nil {
		f.Truncate(0)
		return tail{}, fmt.Errorf("create %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return tail{}, fmt.Errorf("create %s: fsync directory: %w", path, err)
	}
	t.endOff += int64(len(lines))
	t.count, t.prev = n, last
	return t, nil
}

// An Appender appends records to one cassette, holding its exclusive lock
// from OpenAppender until Close, so that no other process writes the file
// meanwhile. Every Append is fsynced before it returns.
type Appender struct {
	f    *os.File
	hdr  Header
	t    tail
	last *ledger.Event // KindEvents: the last event
}

// OpenAppender opens the cassette at path for appending, creating it with
// header h if it does not exist or is empty. An existing cassette is read
// and checked in full first (any problem, such as a torn last line left by
// a crash, is reported as an *Error), and its kind must be h.Kind; its
// header is kept as it is. If another process holds the cassette, it waits
// until ctx is done (DefaultLockWait without a deadline) and then fails
// with ErrLocked.
func OpenAppender(ctx context.Context, path string, h Header) (*Appender, error) {
	if !h.Kind.known() {
		return nil, fmt.Errorf("open %s: unknown kind %q", path, h.Kind)
	}
	f, err := lockPath(ctx, path, os.O_RDWR|os.O_CREATE, true)
	if err != nil {
		return nil, err
	}
	a := &Appender{f: f, hdr: h}
	st, err := f.Stat()
	if err == nil && st.Size() == 0 {
		a.t, err = createTail(f, path, h, nil, 0, "")
	} else if err == nil {
		err = a.load(path, h.Kind)
	}
	if err != nil {
		unlock(f)
		f.Close()
		return nil, err
	}
	return a, nil
}

func (a *Appender) load(path string, kind Kind) error {
	r, err := NewReader(a.f, path)
	if err != nil {
		return err
	}
	if r.hdr.Kind != kind {
		return &Error{Path: path, Line: 1, Err: because(ErrHeader, "cassette holds %s, not %s", r.hdr.Kind, kind)}
	}
	if kind == KindEvents {
		var last ledger.Event
		read := false
		for {
			e, err := r.readEvent()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			last, read = e, true
		}
		if read {
			a.last = &last
		}
	} else {
		for {
			if _, _, err := r.next(); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
		}
	}
	a.hdr = r.hdr
	a.t = tail{path: path, hdrHash: r.hdrHash, endOff: r.endOff, count: r.count, prev: r.prev}
	return nil
}

// Header returns the cassette's header.
func (a *Appender) Header() Header { return a.hdr }

// Len returns the number of records in the cassette.
func (a *Appender) Len() int64 { return a.t.count }

// Append seals recs (canonical body, prev, hash), appends them in one write
// and fsyncs. recs' Prev, Hash and Body are updated to what was written.
// Either all of recs are appended or none.
func (a *Appender) Append(recs ...Record) error {
	if a.f == nil {
		return fmt.Errorf("append to %s: appender is closed", a.t.path)
	}
	if a.hdr.Kind == KindEvents {
		return fmt.Errorf("append to %s: cassette holds events; use AppendEvents", a.t.path)
	}
	lines, last, err := sealRecords(nil, a.t.prev, recs)
	if err != nil {
		return fmt.Errorf("append to %s: %w", a.t.path, err)
	}
	if len(recs) == 0 {
		return nil
	}
	return a.t.write(a.f, lines, int64(len(recs)), last)
}

// AppendEvents appends already sealed events verbatim, after checking that
// they continue the cassette's chain, in one write, and fsyncs.
func (a *Appender) AppendEvents(events ...ledger.Event) error {
	if a.f == nil {
		return fmt.Errorf("append to %s: appender is closed", a.t.path)
	}
	if a.hdr.Kind != KindEvents {
		return fmt.Errorf("append to %s: cassette holds %s; use Append", a.t.path, a.hdr.Kind)
	}
	if len(events) == 0 {
		return nil
	}
	lines, err := checkEvents(nil, a.last, a.hdr.Meta["run_id"], events)
	if err != nil {
		return fmt.Errorf("append to %s: %w", a.t.path, err)
	}
	last := events[len(events)-1]
	if err := a.t.write(a.f, lines, int64(len(events)), last.Hash); err != nil {
		return err
	}
	a.last = &last
	return nil
}

// Close releases the lock and closes the file. Closing twice returns nil.
func (a *Appender) Close() error {
	if a.f == nil {
		return nil
	}
	f := a.f
	a.f = nil
	unlock(f)
	return f.Close()
}
