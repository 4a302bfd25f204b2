package ledger

import (
	"strconv"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// A scratchPayload is a payload a verifier decodes into, event after
// event, with its field table listed once and the order of its keys in
// the canonical form.
type scratchPayload struct {
	p      Payload
	fields pyFields
	sorted [len(pyFields{}.f)]uint8 // field indexes in canonical (key) order
	strs   [len(pyFields{}.f)]string
	ints   [len(pyFields{}.f)]int64
}

func newScratchPayload(t EventType) *scratchPayload {
	p := newPayload(t)
	if p == nil {
		return nil
	}
	sp := &scratchPayload{p: p, fields: p.fields()}
	fields := sp.fields.f[:sp.fields.n]
	for i := range fields {
		sp.sorted[i] = uint8(i)
		for j := i; j > 0 && fields[sp.sorted[j]].key < fields[sp.sorted[j-1]].key; j-- {
			sp.sorted[j], sp.sorted[j-1] = sp.sorted[j-1], sp.sorted[j]
		}
	}
	return sp
}

// A textChecker checks that a stored payload text is exactly what the
// writer (appendPayload) produces for what it decodes to, in one pass over
// the text, without decoding its strings or encoding the payload again.
// For a text in the column form it keeps where each value is, and the
// canonical text of list values, to write the canonical form from them.
type textChecker struct {
	spans   [len(pyFields{}.f)]struct{ start, end int } // each field's value: in the text, or in lists
	inLists uint32                                      // the fields whose span is in lists
	lists   []byte                                      // the canonical text of list values
}

// check reports whether data is exactly appendPayload(sp.p, canonical)
// for the payload it decodes to, decoding it into sp.p on the way: what
// decodeFastReuse, then appendPayload and a comparison with data,
// conclude, except that strings with escapes are left undecoded in sp.p
// (a view of their text, which is ASCII: valid UTF-8 as the decoded
// string is, and none of the values Validate compares strings with).
// FuzzCheckText compares the two.
func (c *textChecker) check(sp *scratchPayload, data []byte, canonical bool) bool {
	fields := sp.fields.f[:sp.fields.n]
	comma, colon := ", ", ": "
	if canonical {
		comma, colon = ",", ":"
	}
	c.inLists, c.lists = 0, c.lists[:0]
	s := pyjson.Scanner{B: data}
	if !s.Eat('{') {
		return false
	}
	for k := range fields {
		i := k
		if canonical {
			i = int(sp.sorted[k])
		}
		f := &fields[i]
		if k > 0 && !s.Literal(comma) {
			return false
		}
		if !s.Eat('"') || !s.Literal(f.key) || !s.Eat('"') || !s.Literal(colon) {
			return false
		}
		start := s.I
		if !c.value(&s, sp, i, canonical, comma, colon) {
			return false
		}
		if c.inLists&(1<<i) == 0 {
			c.spans[i].start, c.spans[i].end = start, s.I
		}
	}
	return s.Eat('}') && s.I == len(data)
}

// appendCanonical appends the canonical form of the column text data that
// check accepted.
func (c *textChecker) appendCanonical(dst []byte, sp *scratchPayload, data []byte) []byte {
	dst = append(dst, '{')
	for k := range sp.fields.n {
		i := sp.sorted[k]
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, sp.fields.f[i].key...)
		dst = append(dst, '"', ':')
		span, from := c.spans[i], data
		if c.inLists&(1<<i) != 0 {
			from = c.lists
		}
		dst = append(dst, from[span.start:span.end]...)
	}
	return append(dst, '}')
}

// value checks and decodes the value of field i, in the form the writer
// gives it.
func (c *textChecker) value(s *pyjson.Scanner, sp *scratchPayload, i int, canonical bool, comma, colon string) bool {
	f := &sp.fields.f[i]
	switch f.kind {
	case fKind:
		return s.Eat('"') && s.Literal(string(sp.p.Kind())) && s.Eat('"')
	case fStr, fPolicy:
		v, ok := s.Written()
		*f.s = v
		return ok
	case fOutcome:
		v, ok := s.Written()
		*f.outcome = ToolOutcome(v)
		return ok
	case fNullStr:
		if s.Literal("null") {
			*f.sp = nil
			return true
		}
		v, ok := s.Written()
		sp.strs[i] = v
		*f.sp = &sp.strs[i]
		return ok
	case fInt:
		return writtenInt(s, f.i)
	case fNullInt:
		if s.Literal("null") {
			*f.ip = nil
			return true
		}
		*f.ip = &sp.ints[i]
		return writtenInt(s, &sp.ints[i])
	case fFloat:
		lit, ok := s.Number()
		if !ok {
			return false
		}
		*f.f, ok = pyjson.IsRepr(lit)
		return ok
	case fStrs, fMsgs, fCalls:
		start := len(c.lists)
		if !c.list(s, f, canonical, comma, colon) {
			return false
		}
		if !canonical {
			c.inLists |= 1 << i
			c.spans[i].start, c.spans[i].end = start, len(c.lists)
		}
		return true
	}
	return false
}

// reuse tells pyjson.Reset to empty a list in place.
var reuse = &pyjson.Scanner{Reuse: true}

// writtenInt reads an integer written as strconv.AppendInt writes it.
func writtenInt(s *pyjson.Scanner, dst *int64) bool {
	start := s.I
	s.Eat('-')
	for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
		s.I++
	}
	lit := unsafeString(s.B[start:s.I])
	v, err := strconv.ParseInt(lit, 10, 64)
	*dst = v
	var buf [24]byte
	return err == nil && string(strconv.AppendInt(buf[:0], v, 10)) == lit
}

// list checks and decodes a list value (strings, messages of a role and a
// content, tool calls of a name and arguments: the lists the scanner
// decodes; any other is left to the decoding path), and, for a text in
// the column form, appends its canonical text to c.lists.
func (c *textChecker) list(s *pyjson.Scanner, f *pyField, canonical bool, comma, colon string) bool {
	if !s.Eat('[') {
		return false
	}
	col := !canonical
	if col {
		c.lists = append(c.lists, '[')
	}
	// The lists keep their memory from event to event; an empty one is
	// not nil, as the decoders give it (the writer writes [] for both).
	switch f.kind {
	case fStrs:
		*f.strs = pyjson.Reset(reuse, *f.strs)
	case fMsgs:
		*f.msgs = pyjson.Reset(reuse, *f.msgs)
	case fCalls:
		*f.calls = pyjson.Reset(reuse, *f.calls)
	}
	for n := 0; !s.Eat(']'); n++ {
		if n > 0 {
			if !s.Literal(comma) {
				return false
			}
			if col {
				c.lists = append(c.lists, ',')
			}
		}
		switch f.kind {
		case fStrs:
			start := s.I
			v, ok := s.Written()
			if !ok {
				return false
			}
			*f.strs = append(*f.strs, v)
			if col {
				c.lists = append(c.lists, s.B[start:s.I]...)
			}
		case fMsgs:
			// column {"role": R, "content": C}; canonical {"content":C,"role":R}
			role, content, ok := c.pair(s, canonical, `{"role"`, `"content"`, `{"content":`, `,"role":`, comma, colon)
			if !ok {
				return false
			}
			*f.msgs = append(*f.msgs, ChatMessage{Role: role, Content: content})
		case fCalls:
			name, args, ok := c.pair(s, canonical, `{"tool_name"`, `"arguments_json"`, `{"arguments_json":`,
				`,"tool_name":`, comma, colon)
			if !ok {
				return false
			}
			*f.calls = append(*f.calls, ToolCall{ToolName: name, ArgumentsJSON: args})
		}
	}
	if col {
		c.lists = append(c.lists, ']')
	}
	return true
}

// pair checks an object of two string members a and b as the writer
// writes it: {a: va, b: vb} in the column form (a given with its brace),
// {b: vb, a: va} in the canonical form (canonB and canonA given with their
// brace and comma and colon), and for the column form appends the
// canonical text to c.lists.
func (c *textChecker) pair(s *pyjson.Scanner, canonical bool, a, b, canonB, canonA, comma, colon string) (va, vb string, ok bool) {
	if canonical {
		if !s.Literal(canonB) {
			return "", "", false
		}
		if vb, ok = s.Written(); !ok || !s.Literal(canonA) {
			return "", "", false
		}
		if va, ok = s.Written(); !ok || !s.Eat('}') {
			return "", "", false
		}
		return va, vb, true
	}
	if !s.Literal(a) || !s.Literal(colon) {
		return "", "", false
	}
	startA := s.I
	if va, ok = s.Written(); !ok {
		return "", "", false
	}
	endA := s.I
	if !s.Literal(comma) || !s.Literal(b) || !s.Literal(colon) {
		return "", "", false
	}
	startB := s.I
	if vb, ok = s.Written(); !ok || !s.Eat('}') {
		return "", "", false
	}
	c.lists = append(c.lists, canonB...)
	c.lists = append(c.lists, s.B[startB:s.I-1]...)
	c.lists = append(c.lists, canonA...)
	c.lists = append(c.lists, s.B[startA:endA]...)
	c.lists = append(c.lists, '}')
	return va, vb, true
}
