package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/fielddiff"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// canonicalRequest returns the canonical JSON of the recorded form of req:
// what the cassette holds and what the default matcher compares.
func canonicalRequest(req *llm.Request) ([]byte, error) {
	return canonicalCall(req, nil)
}

// canonicalCall is canonicalRequest for a call that may have an HTTP
// request side (an interaction of a Transport).
func canonicalCall(req *llm.Request, h *HTTPExchange) ([]byte, error) {
	b, err := pyjson.Marshal(toWireRequest(req, h))
	if err != nil {
		return nil, fmt.Errorf("request of model %q cannot be recorded: %w", req.Model, err)
	}
	return b, nil
}

// fingerprint returns the fingerprint the default matcher compares: the
// hex SHA-256 of the canonical JSON of the request as recorded (every
// field but RunID). Scrubbers are not applied.
func fingerprint(req *llm.Request) (string, error) {
	return fingerprintCall(req, nil)
}

// fingerprintCall is fingerprint for a call that may have an HTTP request
// side.
func fingerprintCall(req *llm.Request, h *HTTPExchange) (string, error) {
	b, err := canonicalCall(req, h)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// A MissError reports a request that no unused recorded interaction
// matches. It matches ErrNoMatch.
type MissError struct {
	Path    string      // the cassette
	Request llm.Request // the request looked for, scrubbed, without RunID
	// HTTP is, for a call through a Transport, the HTTP request side looked
	// for (API, method, path, query, body), scrubbed; nil otherwise.
	HTTP *HTTPExchange
	// Nearest is the line of the nearest unused recorded interaction, 0 if
	// every recorded interaction was used.
	Nearest int
	// Diff lists the fields that differ from the nearest one, one
	// "path: -recorded +got" entry per field, in a stable format.
	Diff string
	// Used and Recorded count the interactions used so far and recorded.
	Used, Recorded int
	// Rerecord is the command, or the step, that re-records the cassette.
	Rerecord string
	// Scrubbed counts the text fields of the request (prompt, message
	// contents, tool descriptions) that the scrubbers (ScrubSecrets and
	// WithScrubbers) changed before it was matched.
	Scrubbed int
}

// Error returns the whole miss report: the cassette, the request, the
// differences from the nearest unused interaction and the re-record command.
func (e *MissError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recorder: %s: %v:\n", e.Path, ErrNoMatch)
	if req, err := canonicalCall(&e.Request, e.HTTP); err == nil {
		fmt.Fprintf(&b, "\t%s\n", req)
	}
	if e.Scrubbed > 0 {
		fmt.Fprintf(&b, "the recorder's scrubbers changed %s of the request before matching; the request above is as scrubbed\n", plural(e.Scrubbed, "text field"))
	}
	switch {
	case e.Recorded == 0:
		b.WriteString("the cassette holds no interactions\n")
	case e.Nearest == 0:
		fmt.Fprintf(&b, "all %d recorded interactions were already used; the code makes more calls than when it was recorded\n", e.Recorded)
	case e.Diff == "":
		fmt.Fprintf(&b, "nearest unused recorded interaction: line %d; no recorded field differs, but the matcher rejects it\n", e.Nearest)
	default:
		fmt.Fprintf(&b, "nearest unused recorded interaction: line %d; differences (-recorded +got):\n%s", e.Nearest, e.Diff)
	}
	fmt.Fprintf(&b, "re-record with:\n\t%s", e.Rerecord)
	return b.String()
}

// Is reports whether target is ErrNoMatch.
func (e *MissError) Is(target error) bool { return target == ErrNoMatch }

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// scrubbedFields counts the text fields that scrubbing changed from req
// to got.
func scrubbedFields(req, got *llm.Request) int {
	n := 0
	if req.Prompt != got.Prompt {
		n++
	}
	for i := range min(len(req.Messages), len(got.Messages)) {
		if req.Messages[i].Content != got.Messages[i].Content {
			n++
		}
	}
	for i := range min(len(req.Tools), len(got.Tools)) {
		if req.Tools[i].Description != got.Tools[i].Description {
			n++
		}
	}
	return n
}

// miss builds the MissError for got, which is req scrubbed. r.mu is held.
func (r *Recorder) miss(req, got *llm.Request, h *HTTPExchange) *MissError {
	m := &MissError{Path: r.path, Request: *got, HTTP: h, Rerecord: r.howToRecord(), Scrubbed: scrubbedFields(req, got)}
	gotN := normalize(got, h)
	best := -1
	for _, e := range r.entries[:r.loaded] {
		if e.tool != nil {
			continue
		}
		m.Recorded++
		if e.used {
			m.Used++
			continue
		}
		diffs := diffRequests(normalize(&e.in.Request, e.in.HTTP), gotN)
		if best < 0 || len(diffs) < best {
			best = len(diffs)
			m.Nearest = e.line
			m.Diff = strings.Join(diffs, "")
		}
	}
	return m
}

// diffRequest is a request normalised for a field diff: JSON documents as
// canonical strings, lists as maps by index (so that an inserted message
// shows as changed and added entries, always in the same form).
type diffRequest struct {
	Model        string
	Prompt       string
	Messages     map[int]ledger.ChatMessage
	OutputName   string
	OutputSchema string
	Tools        map[int]diffTool
	Options      llm.Options
	StepKey      string
	HTTP         diffHTTP
}

// diffHTTP is the HTTP request side of a Transport's call.
type diffHTTP struct {
	API, Method, Path, Query, Body, Extra string
}

type diffTool struct {
	Name        string
	Description string
	Schema      string
}

func canonicalString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	b, err := pyjson.Canonicalize(raw)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

func normalize(r *llm.Request, h *HTTPExchange) diffRequest {
	d := diffRequest{
		Model: r.Model, Prompt: r.Prompt, OutputName: r.OutputName,
		OutputSchema: canonicalString(r.OutputSchema), Options: r.Options, StepKey: r.StepKey,
		Messages: make(map[int]ledger.ChatMessage, len(r.Messages)),
		Tools:    make(map[int]diffTool, len(r.Tools)),
	}
	for i, m := range r.Messages {
		d.Messages[i] = m
	}
	for i, t := range r.Tools {
		d.Tools[i] = diffTool{Name: t.Name, Description: t.Description, Schema: canonicalString(t.Schema)}
	}
	if h != nil {
		d.HTTP = diffHTTP{API: h.API, Method: h.Method, Path: h.Path, Query: h.Query,
			Body: canonicalString(h.Body), Extra: canonicalString(h.Extra)}
	}
	return d
}

// diffRequests lists the fields of got that differ from recorded, each as
// "\tPath:\n\t\t-recorded\n\t\t+got\n".
func diffRequests(recorded, got diffRequest) []string {
	_, diffs := requestFields.Compare(recorded, got)
	var out []string
	for _, d := range diffs {
		out = append(out, fmt.Sprintf("\t%s:\n\t\t-%s\n\t\t+%s\n", d.Path, d.X, d.Y))
	}
	return out
}

// requestFields prints the fields of requests that differ: paths in the
// request's Go field names (Messages[0].Content), values with formatValue.
var requestFields = fielddiff.Format{Root: "request", Value: formatValue}

func formatValue(v reflect.Value) string {
	if !v.IsValid() {
		return "(none)"
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "(unset)"
		}
		return formatValue(v.Elem())
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Float32, reflect.Float64:
		return pyjson.Float(v.Float())
	case reflect.Struct:
		if b, err := json.Marshal(v.Interface()); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v.Interface())
}

// quoteShort quotes s, shortened to about n bytes.
func quoteShort(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// A callKey is a request as the default matcher compares it: its
// canonical text, and the fingerprint (the text's hash), computed when
// first needed.
type callKey struct {
	text []byte
	fp   string
}

// keyOf returns the key of req (with h, its HTTP request side, if any).
func keyOf(req *llm.Request, h *HTTPExchange) (callKey, error) {
	text, err := canonicalCall(req, h)
	return callKey{text: text}, err
}

func (k *callKey) fingerprint() string {
	if k.fp == "" {
		sum := sha256.Sum256(k.text)
		k.fp = hex.EncodeToString(sum[:])
	}
	return k.fp
}

// matches reports whether e, a loaded interaction, records the request
// whose key is k: its text in the cassette is k's text, or (a text not in
// canonical form, such as a resealed hand edit) the request it decodes to
// has k's fingerprint.
func (e *entry) matches(k *callKey) bool {
	if e.rawText != nil && bytes.Equal(e.rawText, k.text) {
		return true
	}
	return e.computeFP() == nil && e.fp == k.fingerprint()
}

// computeFP sets e.fp from e.in.Request, once.
func (e *entry) computeFP() error {
	if !e.fpDone {
		e.fp, e.fpErr = fingerprintCall(&e.in.Request, e.in.HTTP)
		e.fpDone = true
	}
	return e.fpErr
}

// requestText returns the text of the "request" member of an interaction
// body, without decoding it. It reports false for a body it cannot walk
// simply (escaped keys, invalid JSON), which the decoder then explains.
func requestText(body []byte) ([]byte, bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(body, i)
		if i >= len(body) || body[i] != '"' {
			return nil, false
		}
		k := i + 1
		for k < len(body) && body[k] != '"' && body[k] != '\\' {
			k++
		}
		if k >= len(body) || body[k] != '"' {
			return nil, false
		}
		key := body[i+1 : k]
		i = skipSpace(body, k+1)
		if i >= len(body) || body[i] != ':' {
			return nil, false
		}
		i = skipSpace(body, i+1)
		end, ok := skipValue(body, i)
		if !ok {
			return nil, false
		}
		if string(key) == "request" {
			return body[i:end], true
		}
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ',' {
			return nil, false
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at i, counting
// brackets outside strings. It does not validate the value: the body has
// been decoded already.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return 0, false
			}
			if depth == 0 {
				return i + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, true // the end of the enclosing object ends a scalar
			}
			if depth--; depth == 0 {
				return i + 1, true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
		}
	}
	if depth == 0 {
		return i, true
	}
	return 0, false
}
