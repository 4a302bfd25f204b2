package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// A PayloadForm is one of the two text forms of a payload, in which stores
// keep it: ColumnForm.Encode(p) is what the Python original's ledger holds
// in its payload_json column, CanonicalForm.Encode(p) what the hash covers
// (and cassettes keep). DecodePayload reads both.
type PayloadForm uint8

const (
	// ColumnForm is the Python original's payload_json column form:
	// json.dumps with the default ", " and ": " separators, keys in
	// declaration order ("kind" first), ASCII only.
	ColumnForm PayloadForm = iota
	// CanonicalForm is the hashed form, as the Python original's
	// payload_to_canonical_json writes it: every field present, keys
	// sorted at every level, no whitespace, ASCII only. Cassettes store it.
	CanonicalForm
)

func (f PayloadForm) String() string {
	if f == CanonicalForm {
		return "canonical"
	}
	return "payload_json column"
}

// Encode returns p in form f.
func (f PayloadForm) Encode(p Payload) []byte { return appendPayload(nil, p, f == CanonicalForm) }

// Check reports whether stored, the payload text a store holds for e, is
// exactly f's encoding of e.Payload (which the store decoded
// from stored). The event hash covers the decoded payload only, and the
// decoders ignore unknown keys and fill in defaults, so without this check
// a key added to the stored text, a renamed key or a deleted one with a
// default would go unnoticed.
//
// Every store checks its payloads with it when it verifies a run. The
// error is a *ChainError for e naming the first key that differs: a key
// the payload type does not have, a field missing from the text, or a
// value whose text is not the one the writer produces.
func (f PayloadForm) Check(e *Event, stored []byte) error {
	if e.Payload == nil {
		return &ChainError{RunID: e.RunID, Seq: e.Seq, Reason: "no payload"}
	}
	var stack [1024]byte
	want := appendPayload(stack[:0], e.Payload, f == CanonicalForm)
	if bytes.Equal(want, stored) {
		return nil
	}
	return &ChainError{RunID: e.RunID, Seq: e.Seq, Reason: fmt.Sprintf(
		"stored payload is not the %s text of what it decodes to: %s (the payload was changed after it was written)",
		f, payloadTextDiff(stored, want))}
}

// payloadTextDiff names the first difference between the stored payload
// text and the text the writer produces for it.
func payloadTextDiff(stored, want []byte) string {
	got, gerr := objectMembers(stored)
	exp, eerr := objectMembers(want)
	if gerr != nil || eerr != nil {
		return fmt.Sprintf("the texts differ from byte %d", firstDiff(stored, want))
	}
	index := make(map[string]int, len(exp))
	for i, m := range exp {
		index[m.key] = i
	}
	seen := make(map[string]bool, len(got))
	var unknown, missing []string
	for _, m := range got {
		if seen[m.key] {
			return fmt.Sprintf("key %s appears twice", strconv.Quote(m.key))
		}
		seen[m.key] = true
		if _, ok := index[m.key]; !ok {
			unknown = append(unknown, m.key)
		}
	}
	for _, m := range exp {
		if !seen[m.key] {
			missing = append(missing, m.key)
		}
	}
	switch {
	case len(unknown) == 1 && len(missing) == 1:
		return fmt.Sprintf("key %s renamed to %s", strconv.Quote(missing[0]), strconv.Quote(unknown[0]))
	case len(unknown) > 0:
		return fmt.Sprintf("unknown key %s (the %s payload has no such field)", strconv.Quote(unknown[0]), kindOf(want))
	case len(missing) > 0:
		return fmt.Sprintf("missing key %s", strconv.Quote(missing[0]))
	}
	for _, m := range got {
		w := exp[index[m.key]]
		if !bytes.Equal(m.value, w.value) {
			return fmt.Sprintf("key %s: the value is stored as %s, written as %s", strconv.Quote(m.key),
				clip(m.value), clip(w.value))
		}
	}
	for i, m := range got {
		if m.key != exp[i].key {
			return fmt.Sprintf("key %s is out of place (want %s there)", strconv.Quote(m.key), strconv.Quote(exp[i].key))
		}
	}
	return fmt.Sprintf("spacing differs at byte %d", firstDiff(stored, want))
}

// kindOf returns the "kind" member of a payload text the writer produced.
func kindOf(text []byte) string {
	var k struct{ Kind string }
	_ = json.Unmarshal(text, &k)
	return k.Kind
}

type member struct {
	key   string
	value []byte // the value's text, as stored
}

// objectMembers splits a JSON object into its members, in order, keeping
// duplicates and each value's exact text.
func objectMembers(text []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("not an object")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		// RawMessage holds the value's bytes as they appear in text
		// (Decode copies them verbatim, without the whitespace around).
		out = append(out, member{key: key, value: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
