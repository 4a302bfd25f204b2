package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Errors a *StreamError matches with errors.Is, saying what was wrong with
// a streamed answer.
var (
	// ErrMalformedLine: a line of the event stream is neither a field
	// ("data: …", "event: …", "id: …", "retry: …"), a comment (": …") nor
	// empty, or an event's data is neither JSON nor [DONE]. The endpoint
	// (or a proxy before it) does not speak server-sent events as Chat
	// Completions does.
	ErrMalformedLine = errors.New("malformed event-stream line")
	// ErrUnknownEvent: an event has a type ("event: …") Chat Completions
	// never sends.
	ErrUnknownEvent = errors.New("unknown event type")
	// ErrNoTerminator: the stream ended without "data: [DONE]": the
	// connection was closed before the answer was complete.
	ErrNoTerminator = errors.New("the stream ended without data: [DONE]")
	// ErrStreamCut: reading the stream failed (the connection was reset or
	// closed mid-answer); the *StreamError wraps the transport error too.
	ErrStreamCut = errors.New("the stream was cut off")
)

// A StreamError says what was wrong with a streamed answer and where, as
// the Err of a *llm.Error. Malformed lines and unknown events are
// permanent failures (retrying the same endpoint will not help); a stream
// that ends early is transient.
type StreamError struct {
	Line  int    // 1-based line of the response body where the problem is
	Text  string // the offending line or event type, shortened
	Kind  error  // ErrMalformedLine, ErrUnknownEvent, ErrNoTerminator or ErrStreamCut
	Cause error  // the transport error, for ErrStreamCut
}

// Error names the line and what is wrong with it.
func (e *StreamError) Error() string {
	s := fmt.Sprintf("event stream line %d: %v", e.Line, e.Kind)
	if e.Text != "" {
		s += ": " + strconv.Quote(e.Text)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the kind and the cause.
func (e *StreamError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// sseGuard reads an event-stream body for the SDK's decoder and checks it
// line by line on the way: a line is passed on only once it is known to
// be well formed, so the decoder never acts on a bad event. It fails with
// a *StreamError where the SDK would skip a line or end quietly.
type sseGuard struct {
	body io.ReadCloser
	tmp  []byte
	pend []byte // read, not yet a whole line
	out  []byte // checked, not yet read by the decoder
	err  error  // returned once out is drained

	line      int    // lines checked so far
	dataLine  int    // first data line of the event being read; 0 if none
	data      []byte // its data, lines joined by '\n'
	event     string
	eventLine int
	events    []int // the first data line of each event passed on, in order
	done      bool  // [DONE] seen
}

const maxSSELine = 16 << 20

func newSSEGuard(body io.ReadCloser) *sseGuard {
	return &sseGuard{body: body, tmp: make([]byte, 32<<10)}
}

func (g *sseGuard) Close() error { return g.body.Close() }

// lineOfEvent returns the line of the n-th (0-based) event passed on, 0 if
// there is none.
func (g *sseGuard) lineOfEvent(n int) int {
	if g == nil || n < 0 || n >= len(g.events) {
		return 0
	}
	return g.events[n]
}

func (g *sseGuard) Read(p []byte) (int, error) {
	for len(g.out) == 0 {
		if g.err != nil {
			return 0, g.err
		}
		n, rerr := g.body.Read(g.tmp)
		g.pend = append(g.pend, g.tmp[:n]...)
		for g.err == nil {
			i := bytes.IndexByte(g.pend, '\n')
			if i < 0 {
				if len(g.pend) > maxSSELine {
					g.err = &StreamError{Line: g.line + 1, Text: short(g.pend), Kind: ErrMalformedLine}
				}
				break
			}
			if g.err = g.check(g.pend[:i]); g.err == nil {
				g.out = append(g.out, g.pend[:i+1]...)
			}
			g.pend = g.pend[i+1:]
		}
		if g.err != nil || rerr == nil {
			continue
		}
		if rerr != io.EOF {
			g.err = &StreamError{Line: g.line + 1, Kind: ErrStreamCut, Cause: rerr}
			continue
		}
		if len(g.pend) > 0 { // a last line without its newline
			if g.err = g.check(g.pend); g.err == nil {
				g.out = append(g.out, g.pend...)
				g.out = append(g.out, '\n')
			}
			g.pend = nil
			if g.err != nil {
				continue
			}
		}
		if g.dataLine != 0 && !g.done { // an event without its blank line
			if g.err = g.check(nil); g.err == nil {
				g.out = append(g.out, '\n')
			}
			if g.err != nil {
				continue
			}
		}
		g.err = io.EOF
		if !g.done {
			g.err = &StreamError{Line: g.line, Kind: ErrNoTerminator}
		}
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	return n, nil
}

// check checks one line (without its newline).
func (g *sseGuard) check(line []byte) error {
	line = bytes.TrimSuffix(line, []byte("\r"))
	g.line++
	if g.done {
		return nil // the decoder stops at [DONE]
	}
	if len(line) == 0 { // end of an event
		if g.dataLine == 0 {
			g.event, g.eventLine = "", 0
			return nil
		}
		defer func() { g.data, g.dataLine, g.event, g.eventLine = g.data[:0], 0, "", 0 }()
		switch g.event {
		case "", "message", "error":
		default:
			return &StreamError{Line: g.eventLine, Text: g.event, Kind: ErrUnknownEvent}
		}
		if bytes.Equal(g.data, []byte("[DONE]")) {
			g.done = true
		} else if !json.Valid(g.data) {
			return &StreamError{Line: g.dataLine, Text: short(g.data), Kind: ErrMalformedLine}
		}
		g.events = append(g.events, g.dataLine)
		return nil
	}
	if line[0] == ':' { // a comment
		return nil
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(name) {
	case "data":
		if g.dataLine == 0 {
			g.dataLine = g.line
		} else {
			g.data = append(g.data, '\n')
		}
		g.data = append(g.data, value...)
	case "event":
		g.event, g.eventLine = string(value), g.line
	case "id", "retry":
	default:
		return &StreamError{Line: g.line, Text: short(line), Kind: ErrMalformedLine}
	}
	return nil
}

func short(b []byte) string {
	const limit = 80
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
