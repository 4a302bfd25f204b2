// Package pii redacts personal data exactly as the Python original of
// artana's PIIScrubberMiddleware does.
package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scrub returns s with personal data redacted as the Python original's
// PIIScrubberMiddleware does, byte for byte. Three patterns are applied in
// turn, each to the output of the previous one, replacing every
// non-overlapping match from left to right:
//
//	\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b                   [REDACTED_EMAIL]
//	\b(?:\+?1[-.\s]?)?(?:\(?\d{3}\)?[-.\s]?)\d{3}[-.\s]?\d{4}\b          [REDACTED_PHONE]
//	\b\d{3}-\d{2}-\d{4}\b                                                [REDACTED_SSN]
//
// with Python's semantics: \d is any Unicode decimal digit, \s any Unicode
// white space, \b a boundary between Unicode word characters (letters,
// numbers, underscore) and others, and the first match found by
// backtracking wins. The matchers are written out by hand rather than with
// package regexp, which has ASCII \b and \d and no backtracking order of
// its own for \b; they run in time linear in len(s), also on input built to
// make a backtracking engine slow. Characters that Python's Unicode
// database (14.0 for Python 3.11) does not know are classified by Go's.
func Scrub(s string) string {
	var sc piiScan
	return sc.scrub(s)
}

// piiScan holds the scratch space of one scrub. steps counts characters
// examined, so that tests can check the work is linear.
type piiScan struct {
	steps int
	// Email tables, indexed by byte offset (len(s)+1 entries).
	lEnd, dEnd, aEnd, prevValid []int32
}

func (sc *piiScan) scrub(s string) string {
	if strings.IndexByte(s, '@') >= 0 {
		s = sc.replace(s, "[REDACTED_EMAIL]", &emailHeads, sc.prepareEmail(s))
	}
	if hasDigitLike(s) {
		s = sc.replace(s, "[REDACTED_PHONE]", &phoneHeads, sc.phoneAt)
		s = sc.replace(s, "[REDACTED_SSN]", &phoneHeads, sc.ssnAt)
	}
	return s
}

// hasDigitLike reports whether s may hold a \d: an ASCII digit or any
// non-ASCII character.
func hasDigitLike(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// Bytes that may start a match: emailHeads for the e-mail pattern,
// phoneHeads for the phone and SSN patterns (ASCII digits, '+', '(' and
// the first byte of any non-ASCII character, which may be a digit).
var emailHeads, phoneHeads = func() (e, p [256]bool) {
	for c := range 256 {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		e[c] = alnum || strings.IndexByte("._%+-", byte(c)) >= 0
		p[c] = c >= '0' && c <= '9' || c == '+' || c == '(' || c >= 0xc0
	}
	return e, p
}()

// replace replaces every match of at (which returns the end of a match
// starting at i, or -1) scanning left to right as Python's re.sub does.
// Only offsets whose byte is in heads are tried.
func (sc *piiScan) replace(s, repl string, heads *[256]bool, at func(s string, i int) int) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !heads[s[i]] {
			i++
			continue
		}
		if end := at(s, i); end > i {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(repl)
			last, i = end, end
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// runeAt returns the rune at byte offset i, or -1 at the end.
func (sc *piiScan) runeAt(s string, i int) (rune, int) {
	sc.steps++
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// isWord is Python's \w for str patterns: alphanumeric or underscore.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isDigit is Python's \d: a Unicode decimal digit.
func isDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsDigit(r)
}

// isSpace is Python's \s: str.isspace, which adds the separators
// U+001C..U+001F to Unicode white space.
func isSpace(r rune) bool {
	return r >= 0x1c && r <= 0x1f || r >= 0 && unicode.IsSpace(r)
}

// boundary is Python's \b at byte offset i.
func (sc *piiScan) boundary(s string, i int) bool {
	before := false
	if i > 0 {
		sc.steps++
		r, _ := utf8.DecodeLastRuneInString(s[:i])
		before = isWord(r)
	}
	r, _ := sc.runeAt(s, i)
	return before != isWord(r)
}

// prepareEmail builds the tables of the e-mail matcher for s and returns
// the matcher.
//
// With Python's backtracking, \b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b
// matches at i exactly when: \b holds at i; the maximal run of local-part
// characters from i ends at an '@' (a); and the maximal run of domain
// characters after it (ending at e) holds a '.' at some j >= a+2 that is
// followed by at least two ASCII letters and then a non-word character or
// the end. The greedy domain part takes the last such j, and the match
// ends after that j's letters. Whether a '.' qualifies depends on j alone,
// so one table of the last qualifying '.' before each offset answers each
// start in constant time.
func (sc *piiScan) prepareEmail(s string) func(string, int) int {
	n := len(s)
	sc.lEnd = grow(sc.lEnd, n+1)
	sc.dEnd = grow(sc.dEnd, n+1)
	sc.aEnd = grow(sc.aEnd, n+1)
	sc.prevValid = grow(sc.prevValid, n+1)
	sc.lEnd[n], sc.dEnd[n], sc.aEnd[n] = int32(n), int32(n), int32(n)
	for i := n - 1; i >= 0; i-- {
		sc.steps++
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		dom := alpha || c >= '0' && c <= '9' || c == '.' || c == '-'
		sc.lEnd[i], sc.dEnd[i], sc.aEnd[i] = int32(i), int32(i), int32(i)
		if dom || c == '_' || c == '%' || c == '+' {
			sc.lEnd[i] = sc.lEnd[i+1]
		}
		if dom {
			sc.dEnd[i] = sc.dEnd[i+1]
		}
		if alpha {
			sc.aEnd[i] = sc.aEnd[i+1]
		}
	}
	sc.prevValid[0] = -1
	for j := 0; j < n; j++ {
		sc.prevValid[j+1] = sc.prevValid[j]
		if s[j] != '.' {
			continue
		}
		f := int(sc.aEnd[j+1])
		if f-(j+1) < 2 {
			continue
		}
		if r, _ := sc.runeAt(s, f); !isWord(r) {
			sc.prevValid[j+1] = int32(j)
		}
	}
	return func(s string, i int) int {
		a := int(sc.lEnd[i])
		if a == i || a >= n || s[a] != '@' || !sc.boundary(s, i) {
			return -1
		}
		e := int(sc.dEnd[a+1])
		j := int(sc.prevValid[e])
		if j < a+2 {
			return -1
		}
		return int(sc.aEnd[j+1])
	}
}

func grow(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// A piiCont continues a match at byte offset p; it returns the end of the
// whole match, or -1.
type piiCont func(p int) int

// opt matches the optional single character class m at p greedily: first
// with the character, then without, as Python's "?" does.
func (sc *piiScan) opt(s string, p int, m func(rune) bool, k piiCont) int {
	if r, size := sc.runeAt(s, p); r >= 0 && m(r) {
		if end := k(p + size); end >= 0 {
			return end
		}
	}
	return k(p)
}

// digits matches exactly n \d at p and returns the offset after them.
func (sc *piiScan) digits(s string, p, n int) int {
	for range n {
		r, size := sc.runeAt(s, p)
		if r < 0 || !isDigit(r) {
			return -1
		}
		p += size
	}
	return p
}

func isSep(r rune) bool       { return r == '-' || r == '.' || isSpace(r) }
func isPlus(r rune) bool      { return r == '+' }
func isLParen(r rune) bool    { return r == '(' }
func isRParen(r rune) bool    { return r == ')' }
func isPhoneHead(r rune) bool { return r == '+' || r == '(' || isDigit(r) }

// phoneAt matches \b(?:\+?1[-.\s]?)?(?:\(?\d{3}\)?[-.\s]?)\d{3}[-.\s]?\d{4}\b
// at i, trying the alternatives in Python's order. A match is at most 17
// characters long and has at most 2^7 paths, so each start costs O(1).
func (sc *piiScan) phoneAt(s string, i int) int {
	if r, _ := sc.runeAt(s, i); !isPhoneHead(r) || !sc.boundary(s, i) {
		return -1
	}
	rest := func(p int) int {
		return sc.opt(s, p, isLParen, func(p int) int {
			if p = sc.digits(s, p, 3); p < 0 {
				return -1
			}
			return sc.opt(s, p, isRParen, func(p int) int {
				return sc.opt(s, p, isSep, func(p int) int {
					if p = sc.digits(s, p, 3); p < 0 {
						return -1
					}
					return sc.opt(s, p, isSep, func(p int) int {
						if p = sc.digits(s, p, 4); p < 0 || !sc.boundary(s, p) {
							return -1
						}
						return p
					})
				})
			})
		})
	}
	// The optional country code group, tried first.
	end := sc.opt(s, i, isPlus, func(p int) int {
		if r, _ := sc.runeAt(s, p); r != '1' {
			return -1
		}
		return sc.opt(s, p+1, isSep, rest)
	})
	if end >= 0 {
		return end
	}
	return rest(i)
}

// ssnAt matches \b\d{3}-\d{2}-\d{4}\b at i.
func (sc *piiScan) ssnAt(s string, i int) int {
	if r, _ := sc.runeAt(s, i); !isDigit(r) || !sc.boundary(s, i) {
		return -1
	}
	p := sc.digits(s, i, 3)
	for _, n := range []int{2, 4} {
		if p < 0 {
			return -1
		}
		if r, _ := sc.runeAt(s, p); r != '-' {
			return -1
		}
		p = sc.digits(s, p+1, n)
	}
	if p < 0 || !sc.boundary(s, p) {
		return -1
	}
	return p
}
