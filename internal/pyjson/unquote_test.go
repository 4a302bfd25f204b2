package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestUnquote(t *testing.T) {
	type result struct {
		Text string
		End  int
		Err  error
	}
	for _, tc := range []struct {
		in              string // the text after the opening quote
		lenient, strict result
	}{
		{in: `abc"x`, lenient: result{"abc", 4, nil}, strict: result{"abc", 4, nil}},
		{in: `\"\\\/\b\f\n\r\t"`, lenient: result{"\"\\/\b\f\n\r\t", 17, nil}, strict: result{"\"\\/\b\f\n\r\t", 17, nil}},
		{in: `\u00e9\ud83d\ude00"`, lenient: result{"é😀", 19, nil}, strict: result{"é😀", 19, nil}},
		{in: `\ud800\u0041"`, lenient: result{"\uFFFDA", 13, nil}, strict: result{"", 0, errStringSurrogate}},
		{in: `\udc00\ud800"`, lenient: result{"\uFFFD\uFFFD", 13, nil}, strict: result{"", 0, errStringSurrogate}},
		{in: "a\xffb\"", lenient: result{"a\uFFFDb", 4, nil}, strict: result{"a", 1, errStringUTF8}},
		{in: `\ud800\u12"`, lenient: result{"\uFFFD", 6, errStringU4}, strict: result{"", 0, errStringSurrogate}},
		{in: `\x"`, lenient: result{"", 0, errStringEscape}, strict: result{"", 0, errStringEscape}},
		{in: "a\nb\"", lenient: result{"a", 1, errStringControl}, strict: result{"a", 1, errStringControl}},
		{in: `abc\`, lenient: result{"abc", 4, errStringEnd}, strict: result{"abc", 4, errStringEnd}},
		{in: `abc`, lenient: result{"abc", 3, errStringEnd}, strict: result{"abc", 3, errStringEnd}},
	} {
		for _, m := range []struct {
			mode stringMode
			want result
		}{{lenientStrings, tc.lenient}, {strictStrings, tc.strict}} {
			text, end, err := unquote(nil, []byte(tc.in), 0, m.mode)
			got := result{string(text), end, err}
			if diff := cmp.Diff(m.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("unquote(%q, mode %d) (-want +got):\n%s", tc.in, m.mode, diff)
			}
		}
	}
}

// FuzzUnquote checks both modes of unquote against encoding/json on one
// string literal: lenientStrings decodes exactly the literals
// encoding/json decodes, to the same text; strictStrings gives the same
// text or reports the invalid UTF-8 or unpaired surrogate that
// encoding/json replaced with U+FFFD.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`abc"`, `a\u00e9\ud83d\ude00"`, `\ud800\u0041"`, `\ud800"`, `\udc00\ud800"`, "\xff\"", `\u12"`, `\x"`, "a\nb\"", `\ud800\u12"`, `é"`, "\xe2\x82\"", `\"\\\/\b\f\n\r\t"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lit := append([]byte{'"'}, data...)
		var want string
		jsonErr := json.Unmarshal(lit, &want)

		got, end, err := unquote([]byte("x"), lit, 1, lenientStrings)
		switch {
		case err == nil && len(bytes.Trim(lit[end:], " \t\r\n")) == 0:
			if jsonErr != nil {
				t.Fatalf("lenient unquote(%q) = %q, encoding/json: %v", lit, got, jsonErr)
			}
			if string(got) != "x"+want {
				t.Fatalf("lenient unquote(%q) = %q, encoding/json %q", lit, got[1:], want)
			}
		case jsonErr == nil:
			t.Fatalf("lenient unquote(%q) = %q, %d, %v; encoding/json decodes it to %q", lit, got, end, err, want)
		}
		if err != nil && end > len(lit) {
			t.Fatalf("lenient unquote(%q): error index %d past the end", lit, end)
		}

		strict, strictEnd, strictErr := unquote(nil, lit, 1, strictStrings)
		switch {
		case strictErr == nil:
			if err != nil || string(strict) != string(got[1:]) || strictEnd != end {
				t.Fatalf("strict unquote(%q) = %q, %d; lenient %q, %d, %v", lit, strict, strictEnd, got[1:], end, err)
			}
		case errors.Is(strictErr, errStringUTF8) || errors.Is(strictErr, errStringSurrogate):
			if err == nil && !strings.ContainsRune(string(got), utf8.RuneError) {
				t.Fatalf("strict unquote(%q): %v, but lenient decodes it without U+FFFD to %q", lit, strictErr, got[1:])
			}
		default:
			if err == nil {
				t.Fatalf("strict unquote(%q): %v, lenient decodes it to %q", lit, strictErr, got[1:])
			}
		}
	})
}

// TestCanonicalizeModelReplacesInvalidUTF8 checks that a key written with
// invalid UTF-8 and the same key written as \ufffd are one key, as in
// encoding/json and in Python, whether the string had escapes or not.
func TestCanonicalizeModelReplacesInvalidUTF8(t *testing.T) {
	for _, in := range []string{"{\"\xff\":1,\"\\ufffd\":2}", "{\"\\ufffd\":1,\"\xff\":2}", "{\"a\\n\xff\":1,\"a\\n\\ufffd\":2}"} {
		var want map[string]int
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		out, err := CanonicalizeModel([]byte(in))
		if err != nil {
			t.Fatalf("CanonicalizeModel(%q): %v", in, err)
		}
		var got map[string]int
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("CanonicalizeModel(%q) = %q (-encoding/json +got):\n%s", in, out, d)
		}
		if n := strings.Count(string(out), ":"); n != 1 {
			t.Errorf("CanonicalizeModel(%q) = %q: %d members, want 1", in, out, n)
		}
	}
}
