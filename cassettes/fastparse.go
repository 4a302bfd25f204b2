package cassettes

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The fast paths below read lines in exactly the form the writers produce,
// with plain ASCII strings, without encoding/json. Anything else falls back
// to the general parser, which also produces the error messages.

// plainString reads a JSON string body up to its closing quote, accepting
// only printable ASCII without escapes, so that its canonical encoding is
// the bytes themselves.
func plainString(b []byte) (s string, rest []byte, ok bool) {
	for i, c := range b {
		if c == '"' {
			return string(b[:i]), b[i+1:], true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return "", nil, false
		}
	}
	return "", nil, false
}

func fastRecord(line []byte) (Record, bool) {
	var rec Record
	rest, ok := bytes.CutPrefix(line, []byte(`{"type":"`))
	if ok {
		rec.Type, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"prev":"`))
	}
	if ok {
		rec.Prev, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"hash":"`))
	}
	if ok {
		rec.Hash, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"body":`))
	}
	if !ok || len(rest) < 2 || rest[len(rest)-1] != '}' {
		return Record{}, false
	}
	body := rest[:len(rest)-1]
	if !json.Valid(body) {
		return Record{}, false
	}
	rec.Body = bytes.Clone(body)
	return rec, true
}

// fastEventBody splits an event body written by appendEventBody with plain
// ASCII ids. The caller still checks the result against the canonical
// encoding, so a wrong split can only send it to the slow path's errors.
func fastEventBody(body []byte) (b eventBody, ok bool) {
	var id, run, tenant, ts string
	var seq int64
	rest, ok := bytes.CutPrefix(body, []byte(`{"id":"`))
	if ok {
		id, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"payload":`))
	}
	i := bytes.LastIndex(rest, []byte(`,"run":"`))
	if !ok || i < 0 {
		return eventBody{}, false
	}
	payload := rest[:i]
	run, rest, ok = plainString(rest[i+len(`,"run":"`):])
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`))
	}
	if ok {
		j := bytes.IndexByte(rest, ',')
		if j < 0 {
			return eventBody{}, false
		}
		var err error
		seq, err = strconv.ParseInt(string(rest[:j]), 10, 64)
		ok = err == nil
		rest = rest[j:]
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"tenant":"`))
	}
	if ok {
		tenant, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"timestamp":"`))
	}
	if ok {
		ts, rest, ok = plainString(rest)
	}
	if !ok || string(rest) != "}" {
		return eventBody{}, false
	}
	return eventBody{ID: &id, Payload: payload, Run: &run, Seq: &seq, Tenant: &tenant, Timestamp: &ts}, true
}
