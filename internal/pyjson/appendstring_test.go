package pyjson

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// appendStringBytewise is AppendString one byte at a time, without the
// 8-byte scan: the reference of FuzzAppendString.
func appendStringBytewise(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			dst = appendASCIIEscape(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendU4(dst, 0xd800+(r>>10))
			dst = appendU4(dst, 0xdc00+(r&0x3ff))
		} else {
			dst = appendU4(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

var appendStringSeeds = []string{
	"", "plain text of more than eight bytes", "12345678\"", "1234567\\x", "abcdefg\x7fhij", "abcdefgh\x1f",
	"é and more text", "0123456789abcdef😀", "\xff\xfe invalid", strings.Repeat("x", 64) + "\n",
}

func TestPlain8(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
		for pos := range 8 {
			x := uint64('a')*lsb8&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			if got := plain8(x); got != want {
				t.Errorf("plain8 with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
	for _, s := range appendStringSeeds {
		if got, want := AppendString(nil, s), appendStringBytewise(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzAppendString: the 8-byte scan changes nothing AppendString writes.
func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString(nil, s), appendStringBytewise(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("Show no working; the examiner reads the final answer alone. ", 5)
	buf := make([]byte, 0, 1024)
	b.Run("words", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			AppendString(buf[:0], s)
		}
	})
	b.Run("bytewise", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			appendStringBytewise(buf[:0], s)
		}
	})
}
