package ledger

// DecodeOwned decodes data, the stored text of a payload of type t, for a
// reader that returns its events to callers who keep them: the payload
// shares no memory with data or arena, and all its strings are copies in
// one new buffer, which begins with a copy of head (returned as a string,
// for the caller's own strings). arena is scratch memory that the decoder
// reuses from call to call.
//
// It decodes what DecodePayload decodes through its fast path, to an equal
// payload, and reports false for anything else (the caller then calls
// DecodePayload, which decodes it or explains what is wrong). It does not
// validate the payload.
func DecodeOwned(t EventType, data, head []byte, arena *[]byte) (p Payload, headCopy string, ok bool) {
	p = newPayload(t)
	if p == nil || !decodeFastReuse(p, data, arena) {
		return nil, "", false
	}
	// p's strings are views of data and *arena: copy them out.
	n := len(head)
	eachString(p, func(s *string) { n += len(*s) })
	buf := make([]byte, 0, n)
	buf = append(buf, head...)
	eachString(p, func(s *string) {
		if *s == "" {
			*s = ""
			return
		}
		buf = append(buf, *s...) // within capacity: buf never moves
		*s = unsafeString(buf[len(buf)-len(*s):])
	})
	return p, unsafeString(buf[:len(head)]), true
}

// eachString calls f with a pointer to every string of p.
func eachString(p Payload, f func(*string)) {
	list := p.fields()
	for i := range list.n {
		fd := &list.f[i]
		switch fd.kind {
		case fStr, fPolicy:
			f(fd.s)
		case fOutcome:
			s := string(*fd.outcome)
			f(&s)
			*fd.outcome = ToolOutcome(s)
		case fNullStr:
			if *fd.sp != nil {
				f(*fd.sp)
			}
		case fStrs:
			for j := range *fd.strs {
				f(&(*fd.strs)[j])
			}
		case fMsgs:
			for j := range *fd.msgs {
				m := &(*fd.msgs)[j]
				f(&m.Role)
				f(&m.Content)
			}
		case fCalls:
			for j := range *fd.calls {
				c := &(*fd.calls)[j]
				f(&c.ToolName)
				f(&c.ArgumentsJSON)
			}
		}
	}
}
