package ledger

// An OwnedDecoder decodes stored payloads for a reader that returns its
// events to callers who keep them: each payload shares no memory with its
// input or the decoder. The zero value is ready to use; it reuses its
// scratch memory from payload to payload.
type OwnedDecoder struct {
	arena   []byte
	scratch scratchPayloads
}

// Decode decodes data, the stored text of a payload of type t, to a
// payload equal to what DecodePayload returns. Its strings are all copies
// in one new buffer, which begins with a copy of head (returned as a
// string, for the caller's own strings: an event's id and hash, say); its
// lists and optional strings share the payload's allocation when they are
// few: two allocations in all, in the common case.
//
// It decodes what DecodePayload decodes through its fast path, and reports
// false for anything else (the caller then calls DecodePayload, which
// decodes it or explains what is wrong). It does not validate the payload.
func (d *OwnedDecoder) Decode(t EventType, data, head []byte) (p Payload, headCopy string, ok bool) {
	sp := d.scratch.get(t)
	if sp == nil || !decodeFastReuse(sp, data, &d.arena) {
		return nil, "", false
	}
	p, headCopy = owned(sp, head)
	return p, headCopy, true
}

// owned returns a copy of sp, a payload decoded by decodeFastReuse, that
// shares no memory with it, and a copy of head in the buffer of its
// strings.
func owned(sp Payload, head []byte) (p Payload, headCopy string) {
	// sp's strings are views of its input and arena, and its lists and
	// optional strings are reused: count them, then copy them out.
	size, slots, msgs, calls := ownedSizes(sp.fields())
	p, slab, msgSlab, callSlab := newOwned(sp, slots, msgs, calls)
	buf := make([]byte, 0, len(head)+size)
	buf = append(buf, head...)
	own := func(s string) string {
		if s == "" {
			return ""
		}
		buf = append(buf, s...) // within capacity: buf never moves
		return unsafeString(buf[len(buf)-len(s):])
	}
	list := p.fields()
	for i := range list.n {
		f := &list.f[i]
		switch f.kind {
		case fStr, fPolicy:
			*f.s = own(*f.s)
		case fOutcome:
			*f.outcome = ToolOutcome(own(string(*f.outcome)))
		case fNullStr:
			if *f.sp != nil {
				slab[0] = own(**f.sp)
				*f.sp, slab = &slab[0], slab[1:]
			}
		case fNullInt:
			if *f.ip != nil {
				v := **f.ip
				*f.ip = &v
			}
		case fStrs:
			*f.strs, slab = ownStrings(*f.strs, slab, own)
		case fMsgs:
			*f.msgs, msgSlab = ownMessages(*f.msgs, msgSlab, own)
		case fCalls:
			*f.calls, callSlab = ownCalls(*f.calls, callSlab, own)
		}
	}
	return p, unsafeString(buf[:len(head)])
}

// ownedSizes counts what owned copies out of a payload's fields: the bytes
// of its strings, its optional strings and list strings (slots), its
// messages and its tool calls.
func ownedSizes(list pyFields) (size, slots, msgs, calls int) {
	for i := range list.n {
		f := &list.f[i]
		switch f.kind {
		case fStr, fPolicy:
			size += len(*f.s)
		case fOutcome:
			size += len(*f.outcome)
		case fNullStr:
			if *f.sp != nil {
				size += len(**f.sp)
				slots++
			}
		case fStrs:
			for _, s := range *f.strs {
				size += len(s)
			}
			slots += len(*f.strs)
		case fMsgs:
			for _, m := range *f.msgs {
				size += len(m.Role) + len(m.Content) + len(m.ToolCallID) + len(m.Name) + callsSize(m.ToolCalls)
			}
			msgs += len(*f.msgs)
		case fCalls:
			size += callsSize(*f.calls)
			calls += len(*f.calls)
		}
	}
	return size, slots, msgs, calls
}

func callsSize(calls []ToolCall) (n int) {
	for _, c := range calls {
		n += len(c.ID) + len(c.ToolName) + len(c.ArgumentsJSON)
	}
	return n
}

// ownStrings copies a list of strings into the front of slab (an empty
// list, as the decoder gives it, when there is none) and returns the rest
// of slab.
func ownStrings(src, slab []string, own func(string) string) (dst, rest []string) {
	n := len(src)
	dst = []string{}
	if n > 0 {
		dst = slab[:n:n]
	}
	for j, s := range src {
		dst[j] = own(s)
	}
	return dst, slab[n:]
}

// ownMessages is ownStrings for messages, every field kept.
func ownMessages(src, slab []ChatMessage, own func(string) string) (dst, rest []ChatMessage) {
	n := len(src)
	dst = []ChatMessage{}
	if n > 0 {
		dst = slab[:n:n]
	}
	for j, m := range src {
		dst[j] = ChatMessage{Role: own(m.Role), Content: own(m.Content), ToolCallID: own(m.ToolCallID), Name: own(m.Name)}
		if m.ToolCalls != nil {
			dst[j].ToolCalls, _ = ownCalls(m.ToolCalls, make([]ToolCall, len(m.ToolCalls)), own)
		}
	}
	return dst, slab[n:]
}

// ownCalls is ownStrings for tool calls, every field kept.
func ownCalls(src, slab []ToolCall, own func(string) string) (dst, rest []ToolCall) {
	n := len(src)
	dst = []ToolCall{}
	if n > 0 {
		dst = slab[:n:n]
	}
	for j, c := range src {
		dst[j] = ToolCall{ID: own(c.ID), ToolName: own(c.ToolName), ArgumentsJSON: own(c.ArgumentsJSON)}
	}
	return dst, slab[n:]
}

// newOwned returns a new payload equal to sp, and room for its optional
// strings and lists of strings (slots strings), its messages and its tool
// calls: in one allocation when they are few.
func newOwned(sp Payload, slots, msgs, calls int) (Payload, []string, []ChatMessage, []ToolCall) {
	switch sp := sp.(type) {
	case *ModelRequested:
		if msgs <= 4 && slots <= 2 {
			b := new(struct {
				p     ModelRequested
				slots [2]string
				msgs  [4]ChatMessage
			})
			b.p = *sp
			return &b.p, b.slots[:], b.msgs[:], nil
		}
	case *ModelCompleted:
		if calls <= 2 {
			b := new(struct {
				p     ModelCompleted
				calls [2]ToolCall
			})
			b.p = *sp
			return &b.p, nil, nil, b.calls[:]
		}
	}
	var p Payload
	var slab []string
	switch sp := sp.(type) {
	case *RunStarted:
		p, slab = withSlab(sp, slots)
	case *ResumeRequested:
		p, slab = withSlab(sp, slots)
	case *PauseRequested:
		p, slab = withSlab(sp, slots)
	case *ModelRequested:
		p, slab = withSlab(sp, slots)
	case *ModelCompleted:
		p, slab = withSlab(sp, slots)
	case *ToolRequested:
		p, slab = withSlab(sp, slots)
	case *ToolCompleted:
		p, slab = withSlab(sp, slots)
	case *WorkflowStepRequested:
		p, slab = withSlab(sp, slots)
	case *WorkflowStepCompleted:
		p, slab = withSlab(sp, slots)
	case *ReplayedWithDrift:
		p, slab = withSlab(sp, slots)
	default:
		panic("ledger: unknown payload type")
	}
	var m []ChatMessage
	var c []ToolCall
	if msgs > 0 {
		m = make([]ChatMessage, msgs)
	}
	if calls > 0 {
		c = make([]ToolCall, calls)
	}
	return p, slab, m, c
}

// withSlab returns a new payload equal to sp, and room for n strings, in
// one allocation when n is small.
func withSlab[T any, PT interface {
	*T
	Payload
}](sp PT, n int) (Payload, []string) {
	var p PT
	var slab []string
	switch {
	case n == 0:
		p = new(T)
	case n <= 2:
		b := new(struct {
			p    T
			slab [2]string
		})
		p, slab = &b.p, b.slab[:]
	case n <= 4:
		b := new(struct {
			p    T
			slab [4]string
		})
		p, slab = &b.p, b.slab[:]
	case n <= 8:
		b := new(struct {
			p    T
			slab [8]string
		})
		p, slab = &b.p, b.slab[:]
	case n <= 16:
		b := new(struct {
			p    T
			slab [16]string
		})
		p, slab = &b.p, b.slab[:]
	default:
		p, slab = new(T), make([]string, n)
	}
	*p = *sp
	return p, slab
}
