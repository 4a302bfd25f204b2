package cassettes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// Format is the name every cassette header carries in its "format" field.
const Format = "artana-cassette"

// Version is the cassette format version this package reads and writes.
const Version = 1

// A Kind says what a cassette holds. It is the header's "kind" field.
type Kind string

// The kinds of cassette.
const (
	// KindEvents marks a cassette of one run's events, one ledger.Event per record, written by
	// Store, Import and AppendEvents.
	KindEvents Kind = "events"
	// KindInteractions marks a cassette of a model's interactions, written by package recorder.
	// The record types and bodies are the recorder's; this package only
	// chains and checks them.
	KindInteractions Kind = "interactions"
)

// endType is the record type of the end record that closes every cassette.
// It is reserved: no other record may use it.
const endType = "end"

// A Header is the first line of a cassette.
type Header struct {
	// Version is the format version. Writers may leave it zero; they always
	// write Version. Readers report the version found in the file.
	Version int
	// Kind says what the records are.
	Kind Kind
	// Meta is free-form, string-valued metadata. Stores set "run_id"; the
	// recorder may set whatever identifies the recording. Optional.
	Meta map[string]string
}

// A Record is one line of a cassette after the header.
type Record struct {
	// Type names what the body holds: for KindEvents one of the nine event
	// types; for other kinds a name chosen by the writer, made of
	// lowercase ASCII letters, digits, '_', '-' and '.', starting with a
	// letter, and not endType.
	Type string
	// Body is the record's content, any JSON value. Writers store it in
	// canonical form (sorted keys, compact,
	// ensure_ascii), so it may be given in any form.
	Body json.RawMessage
	// Prev is the Hash of the record before this one, "" for the first.
	// Writers fill it in; readers report it.
	Prev string
	// Hash is the record's chain hash; see recordHash. Writers fill it in.
	Hash string
	// Line is the record's 1-based line in the file, set by readers.
	Line int
}

// recordHash is the chain hash of a record of a kind other than
// KindEvents, and of every end record: the lowercase hex SHA-256 of
// type + "|" + prev + "|" + body, where body is the record's canonical
// JSON exactly as it appears in the file.
func recordHash(typ, prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(typ))
	h.Write([]byte{'|'})
	h.Write([]byte(prev))
	h.Write([]byte{'|'})
	h.Write(body)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Errors reported by readers and writers, usable with errors.Is. Readers
// wrap them in an *Error that names the file and line.
var (
	// ErrSyntax means a line is not a JSON object of the expected shape.
	ErrSyntax = errors.New("bad JSON")
	// ErrNotCanonical means a line parses but is not byte-for-byte what the
	// writer would write for it; it was edited by hand. Reseal accepts a
	// deliberate edit.
	ErrNotCanonical = errors.New("record is not in canonical form")
	// ErrUnknownType means a record has a type the cassette's kind does not allow.
	ErrUnknownType = errors.New("unknown record type")
	// ErrBrokenChain is ledger.ErrChainBroken: a record's prev or hash does
	// not match, so records were edited, reordered, removed or inserted.
	ErrBrokenChain = ledger.ErrChainBroken
	// ErrTornLine means the last line has no newline; a write was interrupted.
	ErrTornLine = errors.New("torn last line")
	// ErrTruncated means the file ends without its end record.
	ErrTruncated = errors.New("cassette is truncated")
	// ErrMergeConflict means a line is a version-control conflict marker.
	ErrMergeConflict = errors.New("merge conflict marker")
	// ErrHeader means the first line is not a valid cassette header.
	ErrHeader = errors.New("bad cassette header")
	// ErrVersion means the header names a format version this build does not read.
	ErrVersion = errors.New("unsupported cassette format version")
	// ErrLocked means another process holds the cassette's lock.
	ErrLocked = errors.New("cassette is locked by another writer")
	// ErrInterruptedAppend means a writer was killed in the middle of an
	// append and left its redo record, which the next writer replays; the
	// reader could not finish the append itself (it may not write the
	// file). Nothing was changed by hand.
	ErrInterruptedAppend = errors.New("an interrupted append awaits recovery")
)

// An Error reports a problem in a cassette file. Its text is
// "path:line: reason"; Line is 0 for problems that concern the whole file.
type Error struct {
	Path string
	Line int
	Err  error
}

// Error returns "path:line: reason".
func (e *Error) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
}

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// reason wraps a sentinel with detail: errors.Is matches the sentinel.
type reason struct {
	kind   error
	detail string
}

func (r *reason) Error() string {
	if r.detail == "" {
		return r.kind.Error()
	}
	return r.kind.Error() + ": " + r.detail
}

func (r *reason) Unwrap() error { return r.kind }

func because(kind error, format string, args ...any) error {
	return &reason{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// validType reports whether typ is a valid record type for a generic kind.
func validType(typ string) bool {
	if typ == "" || typ == endType || len(typ) > 64 || typ[0] < 'a' || typ[0] > 'z' {
		return false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func (k Kind) known() bool { return k == KindEvents || k == KindInteractions }

// appendHeader writes the header line without its newline:
// {"format":"artana-cassette","version":1,"kind":K[,"meta":{...}]}
// with the meta keys sorted.
func appendHeader(dst []byte, h Header) []byte {
	dst = append(dst, `{"format":`...)
	dst = appendString(dst, Format)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(Version), 10)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(h.Kind))
	if len(h.Meta) > 0 {
		keys := make([]string, 0, len(h.Meta))
		for k := range h.Meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, `,"meta":{`...)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, h.Meta[k])
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendRecord writes a record line without its newline:
// {"type":T,"prev":P,"hash":H,"body":B}.
func appendRecord(dst []byte, typ, prev, hash string, body []byte) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"prev":`...)
	dst = appendString(dst, prev)
	dst = append(dst, `,"hash":`...)
	dst = appendString(dst, hash)
	dst = append(dst, `,"body":`...)
	dst = append(dst, body...)
	return append(dst, '}')
}

// endBody is the body of the end record: the hash of the header line and
// the number of records before the end record.
func appendEndBody(dst []byte, headerHash string, records int64) []byte {
	dst = append(dst, `{"header":`...)
	dst = appendString(dst, headerHash)
	dst = append(dst, `,"records":`...)
	dst = strconv.AppendInt(dst, records, 10)
	return append(dst, '}')
}

// appendEndLine writes the end record line, with its newline.
func appendEndLine(dst []byte, prev, headerHash string, records int64) []byte {
	body := appendEndBody(nil, headerHash, records)
	dst = appendRecord(dst, endType, prev, recordHash(endType, prev, body), body)
	return append(dst, '\n')
}

// appendString writes s as a JSON string the way the canonical encoding
// does (Python's json.dumps with ensure_ascii).
func appendString(dst []byte, s string) []byte { return pyjson.AppendString(dst, s) }
