package pyjson

import (
	"bytes"
	"testing"
)

var writtenSeeds = []string{
	`"plain text, long enough for the eight-byte scan"`, `""`, `"a\"b\\c\nd\re\tf\bg\fh"`,
	`"\u0000\u001f\u007f"`, `"\u00e9\u20ac\ud83d\ude00\ufffd"`,
	`"\/"`, `"\u0041"`, `"\u000a"`, `"\u00E9"`, `"\ud800"`, `"\ude00"`, `"\ud800\u0041"`,
	"\"\x7f\"", "\"\xc3\xa9\"", "\"tab\there\"", `"unterminated`, `"\`, `"\u12"`, `x`,
}

// TestWritten checks Written on strings AppendString writes and on each
// way a stored string can differ from them.
func TestWritten(t *testing.T) {
	for _, in := range []string{"", "plain", "a\"b\\c\nd\re\tf\bg\fh", "\x00\x1f\x7f", "é€😀\ufffd",
		"<&>/", "bad \xff utf-8"} {
		tok := AppendString(nil, in)
		s := Scanner{B: append(tok, ',')}
		got, ok := s.Written()
		if !ok || got != string(tok[1:len(tok)-1]) || s.I != len(tok) {
			t.Errorf("Written(%s) = %q, %v at %d; want the text between the quotes", tok, got, ok, s.I)
		}
	}
	for _, tok := range []string{`"\/"`, `"\u0041"`, `"\u000a"`, `"\u0022"`, `"\u005c"`, `"\u00E9"`, `"\ud800"`,
		`"\ude00"`, `"\ud800\u0041"`, `"\ud800\ud800"`, "\"\x7f\"", "\"\xc3\xa9\"", "\"tab\there\"", `"open`, `"\`,
		`"\u12"`, `"\x41"`, `x`} {
		s := Scanner{B: []byte(tok)}
		if got, ok := s.Written(); ok {
			t.Errorf("Written(%s) = %q, true; want false (AppendString does not write it)", tok, got)
		}
	}
}

// FuzzWritten checks Written against decoding and re-encoding: it accepts
// a string token exactly when Str decodes it to a string AppendString
// writes as that token, and returns the text between the quotes.
func FuzzWritten(f *testing.F) {
	for _, s := range writtenSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Scanner{B: b}
		got, ok := s.Written()
		ref := Scanner{B: b}
		dec, rok := ref.Str()
		want := rok && bytes.Equal(AppendString(nil, dec), b[:ref.I])
		if ok != want {
			t.Fatalf("Written(%q) = %v, decoding and re-encoding says %v", b, ok, want)
		}
		if ok && (s.I != ref.I || got != string(b[1:ref.I-1])) {
			t.Fatalf("Written(%q) = %q ending at %d; want %q ending at %d", b, got, s.I, b[1:ref.I-1], ref.I)
		}
	})
}
