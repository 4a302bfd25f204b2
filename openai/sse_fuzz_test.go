package openai

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzSSEGuard: whatever the body, the guard passes on a prefix of it (and
// at most the newlines that close its last line and event), and either
// ends cleanly after [DONE] or fails with a *StreamError naming a line.
func FuzzSSEGuard(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {}\r\n\r\ndata: [DONE]"))
	f.Add([]byte(": comment\nevent: message\nid: 3\nretry: 10\ndata: [1,\ndata: 2]\n\ndata: [DONE]\n\n"))
	f.Add([]byte("event: surprise\ndata: {}\n\n"))
	f.Add([]byte("garbage\n"))
	f.Add([]byte("data: {\"a\":\n\n"))
	f.Add([]byte("data: {}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, half := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(body)
			if half {
				r = iotest.HalfReader(r)
			}
			g := newSSEGuard(io.NopCloser(r))
			out, err := io.ReadAll(g)
			if !bytes.HasPrefix(append(bytes.Clone(body), '\n', '\n'), out) {
				t.Fatalf("passed on %q, not a prefix of %q", out, body)
			}
			if err == nil {
				if !bytes.Contains(body, []byte("[DONE]")) {
					t.Fatalf("ended cleanly without [DONE]: %q", body)
				}
				continue
			}
			var se *StreamError
			if !errors.As(err, &se) || se.Line < 0 || se.Kind == nil {
				t.Fatalf("err = %v, want a *StreamError", err)
			}
			if se.Kind != ErrNoTerminator && se.Line == 0 {
				t.Fatalf("err = %v names no line", err)
			}
		}
	})
}
