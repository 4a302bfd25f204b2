package pii

import (
	"strings"
	"unicode/utf8"
)

// The marks that stand for kept identifiers while the text is scrubbed:
// the private-use characters U+E000 to U+F8FF.
const (
	markBase = 0xE000
	maxMarks = 0x1900
)

// ScrubKeepingIdentifiers is Scrub that leaves digits inside longer
// identifiers alone: an order number "112-7654321-1234567", a ticket
// "#4155550123", a SKU "A-123-45-6789". An identifier is a maximal run of
// ASCII letters, digits and the characters # _ / -; when Scrub would
// redact only part of such a run (the run is longer than what it matches),
// the run is kept as it is. A run that is all phone number or SSN
// ("415-555-0123", "123-45-6789"), a run in a stretch of text that holds
// an '@' (it may belong to an e-mail address) and everything outside
// identifiers (e-mail addresses, "(415) 555-0123", "+1 415 555 0123") is
// scrubbed exactly as Scrub does.
func ScrubKeepingIdentifiers(s string) string {
	if !hasDigitLike(s) {
		return Scrub(s)
	}
	// Mask the identifiers to keep with private-use characters (neither
	// digits nor word characters, so no pattern matches them), scrub, then
	// put them back.
	// A run in a stretch of text holding an '@' may be part of an e-mail
	// address, which is scrubbed as Scrub does: such runs are never kept.
	nearAt := make([]bool, len(s)+1)
	for start := 0; start < len(s); {
		end := start
		for end < len(s) && !isSpaceByte(s[end]) {
			end++
		}
		if strings.IndexByte(s[start:end], '@') >= 0 {
			for k := start; k < end; k++ {
				nearAt[k] = true
			}
		}
		start = end + 1
	}
	var kept []string
	var masked strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		if j == i {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r >= markBase && r < markBase+maxMarks {
				// The text holds private-use characters of its own: masking
				// could mix them up with the marks, so scrub it as it is.
				return Scrub(s)
			}
			masked.WriteString(s[i : i+size])
			i += size
			continue
		}
		tok := s[i:j]
		if scrubbed := Scrub(tok); !nearAt[i] && scrubbed != tok && !wholeRedaction(scrubbed) {
			if len(kept) == maxMarks {
				return Scrub(s) // more identifiers than marks: scrub as it is
			}
			masked.WriteRune(rune(markBase + len(kept)))
			kept = append(kept, tok)
		} else {
			masked.WriteString(tok)
		}
		i = j
	}
	if len(kept) == 0 {
		return Scrub(s)
	}
	out := Scrub(masked.String())
	var b strings.Builder
	for _, r := range out {
		if r >= markBase && r < markBase+maxMarks {
			b.WriteString(kept[r-markBase])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isSpaceByte reports whether c is ASCII white space or starts a
// non-ASCII character (which may be Unicode white space): e-mail
// addresses hold neither.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= 0x80
}

// isIdentByte reports whether c may be part of an identifier.
func isIdentByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c == '#' || c == '_' || c == '/' || c == '-'
}

// wholeRedaction reports whether s is one redaction marker and nothing
// else.
func wholeRedaction(s string) bool {
	return s == "[REDACTED_PHONE]" || s == "[REDACTED_SSN]" || s == "[REDACTED_EMAIL]"
}
