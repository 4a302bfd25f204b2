package cassettes

import (
	"bytes"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// The fast paths below read lines in exactly the form the writers produce,
// with the scanner of the payload decoder (internal/pyjson), without
// encoding/json. Anything else falls back to the general parser, which also
// produces the error messages.

// member reads `,"key":` (or `{"key":` for the first member) and a string.
func member(s *pyjson.Scanner, lead, key string) (string, bool) {
	if !s.Literal(lead) || !s.Literal(`"`+key+`":`) {
		return "", false
	}
	return s.Str()
}

func fastRecord(line []byte) (Record, bool) {
	var rec Record
	s := pyjson.Scanner{B: line}
	var ok bool
	if rec.Type, ok = member(&s, "{", "type"); !ok {
		return Record{}, false
	}
	if rec.Prev, ok = member(&s, ",", "prev"); !ok {
		return Record{}, false
	}
	if rec.Hash, ok = member(&s, ",", "hash"); !ok {
		return Record{}, false
	}
	if !s.Literal(`,"body":`) {
		return Record{}, false
	}
	rest := line[s.I:]
	if len(rest) < 2 || rest[len(rest)-1] != '}' {
		return Record{}, false
	}
	body := rest[:len(rest)-1]
	if !pyjson.Valid(body) {
		return Record{}, false
	}
	rec.Body = bytes.Clone(body)
	return rec, true
}

// fastEventBody splits an event body written by appendEventBody. The caller
// still checks the result against the canonical encoding, so a wrong split
// can only send it to the slow path's errors.
func fastEventBody(body []byte) (b eventBody, ok bool) {
	var run, tenant, ts string
	var seq int64
	s := pyjson.Scanner{B: body}
	id, ok := member(&s, "{", "id")
	if !ok || !s.Literal(`,"payload":`) {
		return eventBody{}, false
	}
	i := bytes.LastIndex(body, []byte(`,"run":`))
	if i < s.I {
		return eventBody{}, false
	}
	payload := body[s.I:i]
	s.I = i
	if run, ok = member(&s, ",", "run"); !ok || !s.Literal(`,"seq":`) || !s.Int(&seq) {
		return eventBody{}, false
	}
	if tenant, ok = member(&s, ",", "tenant"); !ok {
		return eventBody{}, false
	}
	if ts, ok = member(&s, ",", "timestamp"); !ok || !s.Literal("}") || s.I != len(body) {
		return eventBody{}, false
	}
	return eventBody{ID: &id, Payload: payload, Run: &run, Seq: &seq, Tenant: &tenant, Timestamp: &ts}, true
}
