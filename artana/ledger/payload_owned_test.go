package ledger

import (
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeOwned checks that OwnedDecoder.Decode decodes what decodeFast
// decodes, to an equal payload that shares no memory with the input, head,
// the arena or the scratch payload: overwriting or reusing those afterwards
// leaves it unchanged.
func FuzzDecodeOwned(f *testing.F) {
	for _, s := range fastSamples {
		f.Add(string(s.typ), []byte(s.data), "0123456789abcdef")
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte, head string) {
		fresh := newPayload(EventType(typ))
		if fresh == nil {
			return
		}
		want := decodeFast(fresh, data)
		var d OwnedDecoder
		d.arena = make([]byte, 0, 8)
		hb := []byte(head)
		p, h, ok := d.Decode(EventType(typ), data, hb)
		if ok != want {
			t.Fatalf("Decode ok=%v, decodeFast ok=%v", ok, want)
		}
		if !ok {
			return
		}
		if h != head {
			t.Fatalf("head %q, want %q", h, head)
		}
		if diff := cmp.Diff(fresh, p); diff != "" {
			t.Fatalf("DecodeOwned (-decodeFast +Decode):\n%s", diff)
		}
		before := appendPayload(nil, p, true)
		// Decoding another payload leaves p as it was.
		for _, s := range fastSamples {
			d.Decode(s.typ, []byte(s.data), nil)
		}
		for _, b := range [][]byte{data, hb, d.arena[:cap(d.arena)]} {
			for i := range b {
				b[i] = 'X'
			}
		}
		if after := appendPayload(nil, p, true); string(after) != string(before) || h != head {
			t.Fatalf("payload changed with its input: %s, was %s", after, before)
		}
	})
}

// TestDecodeOwnedAllocations: one allocation for the payload with its list,
// one for all its strings.
func TestDecodeOwnedAllocations(t *testing.T) {
	data := []byte(`{"completion_tokens":30,"cost_usd":0.00042,"kind":"model_completed","model":"fake-model","output_json":"{\"answer\":\"step 1\"}","prompt_tokens":120,"tool_calls":[{"arguments_json":"{\"q\":\"caf\u00e9\"}","tool_name":"lookup"}]}`)
	var d OwnedDecoder
	head := []byte("0123456789abcdef")
	p, _, ok := d.Decode(EventModelCompleted, data, head)
	if !ok {
		t.Fatal("not decoded")
	}
	if got := p.(*ModelCompleted).ToolCalls[0].ArgumentsJSON; got != `{"q":"café"}` {
		t.Fatalf("arguments %q", got)
	}
	if unsafe.StringData(p.(*ModelCompleted).Model) == &data[0] {
		t.Fatal("aliases its input")
	}
	if n := testing.AllocsPerRun(100, func() { d.Decode(EventModelCompleted, data, head) }); n != 2 {
		t.Errorf("%v allocations, want 2", n)
	}
}
