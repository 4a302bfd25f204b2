package pyjson

import (
	"bytes"
	"slices"
)

// canonicalizeFast appends the canonical form of the JSON document data to
// dst in one pass, without building a map: object members are written as
// they come and reordered in place when their keys are not already sorted.
// It reports false for what it leaves to the general path (invalid JSON,
// a repeated key, a key with escapes or non-ASCII, invalid UTF-8, a lone
// surrogate, deep nesting, trailing data), which then gives the same
// result or the error. FuzzCanonicalizeFast checks that both agree.
func canonicalizeFast(dst, data []byte) ([]byte, bool) {
	c := canonicalizer{b: data}
	start := len(dst)
	dst, ok := c.value(dst)
	if !ok {
		return dst[:start], false
	}
	c.ws()
	if c.i != len(c.b) {
		return dst[:start], false
	}
	return dst, true
}

// maxCanonicalDepth bounds the nesting the fast path follows; deeper
// documents go to the general path.
const maxCanonicalDepth = 128

type canonicalizer struct {
	b       []byte
	i       int
	depth   int
	members []canonMember // the members of the objects being written, innermost last
	tmp     []byte        // scratch for reordering members and unescaping strings
}

// canonMember is one member of an object as written to dst: the key's
// bytes are dst[key:keyEnd] (without quotes), the member ends at end.
type canonMember struct{ start, key, keyEnd, end int }

func (c *canonicalizer) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *canonicalizer) value(dst []byte) ([]byte, bool) {
	c.ws()
	if c.i >= len(c.b) {
		return dst, false
	}
	switch c.b[c.i] {
	case '{':
		return c.object(dst)
	case '[':
		return c.array(dst)
	case '"':
		return c.str(dst)
	case 't':
		return c.literal(dst, "true")
	case 'f':
		return c.literal(dst, "false")
	case 'n':
		return c.literal(dst, "null")
	}
	return c.number(dst)
}

func (c *canonicalizer) literal(dst []byte, lit string) ([]byte, bool) {
	if !bytes.HasPrefix(c.b[c.i:], []byte(lit)) {
		return dst, false
	}
	c.i += len(lit)
	return append(dst, lit...), true
}

func (c *canonicalizer) array(dst []byte) ([]byte, bool) {
	if c.depth++; c.depth > maxCanonicalDepth {
		return dst, false
	}
	c.i++ // '['
	dst = append(dst, '[')
	c.ws()
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		c.depth--
		return append(dst, ']'), true
	}
	for {
		var ok bool
		if dst, ok = c.value(dst); !ok {
			return dst, false
		}
		c.ws()
		if c.i >= len(c.b) {
			return dst, false
		}
		switch c.b[c.i] {
		case ',':
			c.i++
			dst = append(dst, ',')
			continue
		case ']':
			c.i++
			c.depth--
			return append(dst, ']'), true
		}
		return dst, false
	}
}

// object writes an object with its members in key order: as they come,
// then reordered in place if their keys were not sorted.
func (c *canonicalizer) object(dst []byte) ([]byte, bool) {
	if c.depth++; c.depth > maxCanonicalDepth {
		return dst, false
	}
	c.i++ // '{'
	dst = append(dst, '{')
	open := len(dst)
	first := len(c.members)
	defer func() { c.members = c.members[:first] }()
	c.ws()
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		c.depth--
		return append(dst, '}'), true
	}
	sorted := true
	for {
		var m canonMember
		var ok bool
		if dst, m, ok = c.member(dst); !ok {
			return dst, false
		}
		if n := len(c.members); n > first {
			switch bytes.Compare(dst[c.members[n-1].key:c.members[n-1].keyEnd], dst[m.key:m.keyEnd]) {
			case 0:
				return dst, false // a repeated key: the general path keeps the last
			case 1:
				sorted = false
			}
		}
		c.members = append(c.members, m)
		c.ws()
		if c.i >= len(c.b) {
			return dst, false
		}
		if c.b[c.i] == ',' {
			c.i++
			dst = append(dst, ',')
			continue
		}
		if c.b[c.i] != '}' {
			return dst, false
		}
		c.i++
		break
	}
	if !sorted {
		var ok bool
		if dst, ok = c.sortMembers(dst, open, first); !ok {
			return dst, false
		}
	}
	c.depth--
	return append(dst, '}'), true
}

// member writes one member of an object, key and value, and returns where
// they are in dst. Keys must be plain ASCII, so that their bytes are their
// code points.
func (c *canonicalizer) member(dst []byte) ([]byte, canonMember, bool) {
	c.ws()
	m := canonMember{start: len(dst)}
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		return dst, m, false
	}
	k := c.i + 1
	for k < len(c.b) && c.b[k] != '"' {
		if ch := c.b[k]; ch < 0x20 || ch >= 0x7f || ch == '\\' {
			return dst, m, false
		}
		k++
	}
	if k >= len(c.b) {
		return dst, m, false
	}
	m.key = len(dst) + 1
	dst = append(dst, c.b[c.i:k+1]...)
	m.keyEnd = len(dst) - 1
	c.i = k + 1
	c.ws()
	if c.i >= len(c.b) || c.b[c.i] != ':' {
		return dst, m, false
	}
	c.i++
	dst = append(dst, ':')
	var ok bool
	if dst, ok = c.value(dst); !ok {
		return dst, m, false
	}
	m.end = len(dst)
	return dst, m, true
}

// sortMembers reorders the members c.members[first:] of the object whose
// members start at dst[open] by key. It reports false for a repeated key,
// which the general path resolves.
func (c *canonicalizer) sortMembers(dst []byte, open, first int) ([]byte, bool) {
	ms := c.members[first:]
	slices.SortFunc(ms, func(a, b canonMember) int {
		return bytes.Compare(dst[a.key:a.keyEnd], dst[b.key:b.keyEnd])
	})
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(dst[ms[i-1].key:ms[i-1].keyEnd], dst[ms[i].key:ms[i].keyEnd]) {
			return dst, false
		}
	}
	c.tmp = append(c.tmp[:0], dst[open:]...)
	out := dst[:open]
	for i, m := range ms {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, c.tmp[m.start-open:m.end-open]...)
	}
	return out, true
}

// str writes a string literal: verbatim when it is printable ASCII without
// escapes (its canonical form), otherwise decoded as encoding/json does
// (giving up where it would substitute U+FFFD) and escaped again.
func (c *canonicalizer) str(dst []byte) ([]byte, bool) {
	start := c.i
	c.i++ // '"'
	for c.i < len(c.b) {
		ch := c.b[c.i]
		if ch == '"' {
			c.i++
			return append(dst, c.b[start:c.i]...), true
		}
		if ch < 0x20 || ch >= 0x7f || ch == '\\' {
			break
		}
		c.i++
	}
	tmp, end, err := unquote(append(c.tmp[:0], c.b[start+1:c.i]...), c.b, c.i, strictStrings)
	c.tmp = tmp
	if err != nil {
		return dst, false
	}
	c.i = end
	return AppendString(dst, string(tmp)), true
}

// number writes a JSON number as the general path does: integers
// verbatim, anything with a fraction or an exponent as a float repr.
func (c *canonicalizer) number(dst []byte) ([]byte, bool) {
	start := c.i
	if c.i < len(c.b) && c.b[c.i] == '-' {
		c.i++
	}
	digits := func() int {
		n := 0
		for c.i < len(c.b) && c.b[c.i] >= '0' && c.b[c.i] <= '9' {
			c.i++
			n++
		}
		return n
	}
	switch {
	case c.i < len(c.b) && c.b[c.i] == '0':
		c.i++
	case digits() == 0:
		return dst, false
	}
	isInt := true
	if c.i < len(c.b) && c.b[c.i] == '.' {
		c.i++
		isInt = false
		if digits() == 0 {
			return dst, false
		}
	}
	if c.i < len(c.b) && (c.b[c.i] == 'e' || c.b[c.i] == 'E') {
		c.i++
		isInt = false
		if c.i < len(c.b) && (c.b[c.i] == '+' || c.b[c.i] == '-') {
			c.i++
		}
		if digits() == 0 {
			return dst, false
		}
	}
	if isInt {
		return append(dst, c.b[start:c.i]...), true
	}
	out, err := AppendNumber(dst, string(c.b[start:c.i]))
	if err != nil {
		return dst, false
	}
	return out, true
}
