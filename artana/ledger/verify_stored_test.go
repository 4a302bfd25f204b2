package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/internal/original"

	"github.com/artana-go/go-artana/internal/isotime"
)

// storedFromExample returns a verifier positioned before the example and
// the example as its stored columns.
func storedFromExample(ex int) (*ledger.StoredVerifier, ledger.StoredEvent) {
	w := workedExamples[ex]
	v := new(ledger.StoredVerifier)
	if w.seq > 1 {
		v.Resume(&ledger.Event{RunID: w.run, TenantID: w.tenant, Seq: w.seq - 1, Hash: w.prev})
	}
	return v, ledger.StoredEvent{ID: w.id, RunID: w.run, TenantID: w.tenant, Seq: w.seq, Type: w.typ,
		PrevHash: w.prev, Hash: w.hash, Timestamp: w.timestamp, Payload: []byte(w.payload), Form: ledger.ColumnForm}
}

// TestNextStoredWorkedExamples checks that the Python original's rows
// verify from their stored text, and that each way of changing them is
// either reported as Next reports it or left to the decoding path.
func TestNextStoredWorkedExamples(t *testing.T) {
	for i, w := range workedExamples {
		v, e := storedFromExample(i)
		handled, err := v.NextStored(&e)
		if !handled || err != nil {
			t.Errorf("%s: NextStored = %v, %v; want handled, nil", w.name, handled, err)
		}
		// The canonical form, as a cassette stores it.
		v, e = storedFromExample(i)
		p, _ := ledger.DecodePayload(w.typ, []byte(w.payload))
		e.Payload, e.Form = ledger.CanonicalForm.Encode(p), ledger.CanonicalForm
		if handled, err := v.NextStored(&e); !handled || err != nil {
			t.Errorf("%s, canonical: NextStored = %v, %v; want handled, nil", w.name, handled, err)
		}

		v, e = storedFromExample(i)
		e.Hash = strings.Repeat("0", 64)
		handled, err = v.NextStored(&e)
		var ce *ledger.ChainError
		if !handled || !errors.As(err, &ce) || !strings.HasPrefix(ce.Reason, "hash mismatch: stored 0000") {
			t.Errorf("%s, other hash: NextStored = %v, %v; want a hash mismatch", w.name, handled, err)
		}
		ev := original.EventFromColumns(t, e.ID, e.RunID, e.TenantID, e.Seq, e.Type, e.PrevHash, e.Hash, e.Timestamp, string(e.Payload))
		v2, _ := storedFromExample(i)
		if want := v2.Next(&ev); err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s, other hash: NextStored says %v, Next says %v", w.name, err, want)
		}

		for name, change := range map[string]func(*ledger.StoredEvent){
			"spaces":  func(e *ledger.StoredEvent) { e.Payload = []byte(" " + string(e.Payload)) },
			"compact": func(e *ledger.StoredEvent) { e.Payload = []byte(strings.ReplaceAll(string(e.Payload), ", ", ",")) },
			"Z":       func(e *ledger.StoredEvent) { e.Timestamp = strings.Replace(e.Timestamp, "+00:00", "Z", 1) },
			"seq":     func(e *ledger.StoredEvent) { e.Seq++ },
			"prev":    func(e *ledger.StoredEvent) { e.PrevHash += "0" },
			"unknown key": func(e *ledger.StoredEvent) {
				e.Payload = []byte(strings.Replace(string(e.Payload), "{", `{"x": 1, `, 1))
			},
			"another type":  func(e *ledger.StoredEvent) { e.Type = "no_such_event" },
			"canonical tag": func(e *ledger.StoredEvent) { e.Form = ledger.CanonicalForm },
		} {
			v, e := storedFromExample(i)
			change(&e)
			if string(e.Payload) == w.payload && e.Timestamp == w.timestamp && e.Seq == w.seq && e.PrevHash == w.prev &&
				e.Type == w.typ && e.Form == ledger.ColumnForm {
				continue // the change does not apply to this example
			}
			if w.typ == ledger.EventRunStarted && name == "compact" {
				continue
			}
			if handled, err := v.NextStored(&e); handled {
				t.Errorf("%s, %s: NextStored = handled, %v; want it left to the decoding path", w.name, name, err)
			}
		}
	}
}

// maxStoredAllocs is what NextStored may allocate for one event.
const maxStoredAllocs = 0

func TestNextStoredAllocations(t *testing.T) {
	events := sealed(t, 200)
	var stored []ledger.StoredEvent
	for _, e := range events {
		stored = append(stored, ledger.StoredEvent{ID: e.ID, RunID: e.RunID, TenantID: e.TenantID, Seq: e.Seq, Type: e.Type,
			PrevHash: e.PrevHash, Hash: e.Hash, Timestamp: isotime.Format(e.Timestamp),
			Payload: ledger.ColumnForm.Encode(e.Payload), Form: ledger.ColumnForm})
	}
	var v ledger.StoredVerifier
	for i := range stored[:100] {
		if handled, err := v.NextStored(&stored[i]); !handled || err != nil {
			t.Fatalf("seq %d: %v, %v", stored[i].Seq, handled, err)
		}
	}
	i := 100
	if n := testing.AllocsPerRun(99, func() {
		if handled, err := v.NextStored(&stored[i]); !handled || err != nil {
			t.Fatalf("seq %d: %v, %v", stored[i].Seq, handled, err)
		}
		i++
	}); n > maxStoredAllocs {
		t.Errorf("NextStored allocates %v times per event, want at most %d", n, maxStoredAllocs)
	}
}

// FuzzNextStored checks NextStored against the decoding path: an event it
// handles verifies exactly when the decoded event passes Next and
// PayloadForm.Check.
func FuzzNextStored(f *testing.F) {
	for _, w := range workedExamples {
		f.Add(string(w.typ), w.timestamp, []byte(w.payload), false)
	}
	f.Fuzz(func(t *testing.T, typ, ts string, payload []byte, canonical bool) {
		form := ledger.ColumnForm
		if canonical {
			form = ledger.CanonicalForm
		}
		e := ledger.StoredEvent{ID: "0123456789abcdef0123456789abcdef", RunID: "run", TenantID: "t", Seq: 1,
			Type: ledger.EventType(typ), Timestamp: ts, Payload: payload, Form: form}
		var slowErr error
		p, perr := ledger.DecodePayload(e.Type, payload)
		when, terr := isotime.Parse(ts)
		if perr == nil && terr == nil {
			ev := ledger.Event{ID: e.ID, RunID: e.RunID, TenantID: e.TenantID, Seq: 1, Type: e.Type, Timestamp: when, Payload: p}
			ev.Hash = ev.ComputeHash()
			e.Hash = ev.Hash
			var v ledger.ChainVerifier
			if slowErr = v.Next(&ev); slowErr == nil {
				slowErr = form.Check(&ev, payload)
			}
		}
		var v ledger.StoredVerifier
		handled, err := v.NextStored(&e)
		if !handled {
			return
		}
		if perr != nil || terr != nil {
			t.Fatalf("NextStored handled an event that does not decode: %v, %v", perr, terr)
		}
		if err != nil || slowErr != nil {
			t.Fatalf("NextStored: %v; decoding path: %v", err, slowErr)
		}
	})
}

// TestCheckStoredAlone checks that CheckStored verifies the events of a run
// in any order, each alone, allocating nothing, and reports a changed one as
// NextStored does.
func TestCheckStoredAlone(t *testing.T) {
	events := sealed(t, 200)
	var stored []ledger.StoredEvent
	for _, e := range events {
		stored = append(stored, ledger.StoredEvent{ID: e.ID, RunID: e.RunID, TenantID: e.TenantID, Seq: e.Seq, Type: e.Type,
			PrevHash: e.PrevHash, Hash: e.Hash, Timestamp: isotime.Format(e.Timestamp),
			Payload: ledger.ColumnForm.Encode(e.Payload), Form: ledger.ColumnForm})
	}
	var v ledger.StoredVerifier
	i := len(stored)
	if n := testing.AllocsPerRun(len(stored)-1, func() {
		i--
		if handled, err := v.CheckStored(&stored[i]); !handled || err != nil {
			t.Fatalf("seq %d: %v, %v", stored[i].Seq, handled, err)
		}
	}); n > maxStoredAllocs {
		t.Errorf("CheckStored allocates %v times per event, want at most %d", n, maxStoredAllocs)
	}
	e := stored[7]
	e.Hash = strings.Repeat("0", 64)
	var next ledger.StoredVerifier
	next.Resume(&ledger.Event{RunID: e.RunID, TenantID: e.TenantID, Seq: e.Seq - 1, Hash: e.PrevHash})
	h1, err1 := v.CheckStored(&e)
	h2, err2 := next.NextStored(&e)
	if !h1 || err1 == nil || h1 != h2 || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("another hash: CheckStored = %v, %v; NextStored = %v, %v", h1, err1, h2, err2)
	}
	e = stored[7]
	e.Timestamp = strings.Replace(e.Timestamp, "+00:00", "Z", 1)
	if handled, err := v.CheckStored(&e); handled {
		t.Errorf("a timestamp not in the hashed form: CheckStored = handled, %v; want it left to the decoding path", err)
	}
}
