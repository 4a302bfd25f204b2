package ledger

import (
	"bytes"
	"strings"
	"testing"
)

// checkTextTwoPass is what the verifier did before textChecker, and what
// it must conclude: decode the text, validate the payload, write it again
// in the stored form and compare, then write its canonical form.
func checkTextTwoPass(p Payload, data []byte, canonical bool, arena, text *[]byte, dst []byte) ([]byte, bool) {
	if !decodeFastReuse(p, data, arena) || p.Validate() != nil {
		return dst, false
	}
	*text = appendPayload((*text)[:0], p, canonical)
	if !bytes.Equal(*text, data) {
		return dst, false
	}
	if canonical {
		return append(dst, data...), true
	}
	return appendPayload(dst, p, true), true
}

// checkTextOnePass is textChecker as the verifier uses it.
func checkTextOnePass(c *textChecker, sp *scratchPayload, data []byte, canonical bool, dst []byte) ([]byte, bool) {
	if !c.check(sp, data, canonical) || sp.p.Validate() != nil {
		return dst, false
	}
	if canonical {
		return append(dst, data...), true
	}
	return c.appendCanonical(dst, sp, data), true
}

// textSamples are fastSamples in both of the writer's forms, beside the
// texts as they are.
func textSamples() (out []struct {
	typ       EventType
	data      string
	canonical bool
}) {
	add := func(t EventType, d string, c bool) {
		out = append(out, struct {
			typ       EventType
			data      string
			canonical bool
		}{t, d, c})
	}
	for _, s := range fastSamples {
		add(s.typ, s.data, strings.HasPrefix(s.data, `{"`) && !strings.Contains(s.data, `": `))
		if p, err := DecodePayload(s.typ, []byte(s.data)); err == nil {
			add(s.typ, string(ColumnForm.Encode(p)), false)
			add(s.typ, string(CanonicalForm.Encode(p)), true)
		}
	}
	return out
}

// TestCheckTextSamples: the writer's texts pass, in either form, and give
// the canonical form the hash covers.
func TestCheckTextSamples(t *testing.T) {
	var c textChecker
	for _, s := range textSamples() {
		sp := newScratchPayload(s.typ)
		got, ok := checkTextOnePass(&c, sp, []byte(s.data), s.canonical, nil)
		var arena, text []byte
		want, wok := checkTextTwoPass(newPayload(s.typ), []byte(s.data), s.canonical, &arena, &text, nil)
		if ok != wok || !bytes.Equal(got, want) {
			t.Errorf("%s %s (canonical %v): one pass = %s, %v; two passes = %s, %v", s.typ, s.data, s.canonical, got, ok, want, wok)
		}
	}
}

// FuzzCheckText checks textChecker against decoding, writing again and
// comparing: for any text it accepts exactly the texts the writer produces
// for what they decode to, and gives the same canonical form, also when
// its payload and buffers hold the previous event.
func FuzzCheckText(f *testing.F) {
	samples := textSamples()
	for i, s := range samples {
		f.Add(string(s.typ), []byte(samples[(i+1)%len(samples)].data), []byte(s.data), s.canonical)
	}
	f.Fuzz(func(t *testing.T, typ string, first, data []byte, canonical bool) {
		sp := newScratchPayload(EventType(typ))
		if sp == nil {
			return
		}
		var c textChecker
		checkTextOnePass(&c, sp, first, canonical, nil)
		input := string(data)
		got, ok := checkTextOnePass(&c, sp, data, canonical, []byte("prefix|"))
		var arena, text []byte
		want, wok := checkTextTwoPass(newPayload(EventType(typ)), data, canonical, &arena, &text, []byte("prefix|"))
		if string(data) != input {
			t.Fatalf("the check changed its input")
		}
		if ok != wok || !bytes.Equal(got, want) {
			t.Fatalf("one pass = %s, %v; two passes = %s, %v", got, ok, want, wok)
		}
	})
}

// BenchmarkCheckText measures the check of a stored payload text and the
// writing of its canonical form, as a verifier does for each event, in one
// pass and as it was done before (decode, write the stored form again,
// compare, write the canonical form), on the column texts of the SQLite
// and cassette benchmarks' events and on a model request with escapes:
//
//	go test -run '^$' -bench CheckText -count 3 -benchtime 20000x ./artana/ledger
func BenchmarkCheckText(b *testing.B) {
	for _, c := range []struct {
		name string
		p    Payload
	}{
		{"model_completed", &ModelCompleted{Model: "gpt-4o-mini", OutputJSON: `{"approved":true,"reason":"` +
			strings.Repeat("ok ", 40) + `"}`, PromptTokens: 120, CompletionTokens: 60, CostUSD: 0.00123}},
		{"model_requested", &ModelRequested{Model: "gpt-4o-mini", Prompt: "Decide.\n" + strings.Repeat("Refund the order? ", 8),
			Messages: []ChatMessage{{Role: "system", Content: "You are a \"careful\" clerk.\n"},
				{Role: "user", Content: strings.Repeat("Order 1234: café, 2 items.\n", 10)}},
			AllowedTools: []string{"refund", "lookup"}}},
	} {
		for _, form := range []PayloadForm{ColumnForm, CanonicalForm} {
			data := form.Encode(c.p)
			canonical := form == CanonicalForm
			name := c.name + "/" + map[bool]string{false: "column", true: "canonical"}[canonical]
			b.Run(name+"/onepass", func(b *testing.B) {
				var tc textChecker
				sp := newScratchPayload(c.p.Kind())
				dst := make([]byte, 0, 4096)
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := checkTextOnePass(&tc, sp, data, canonical, dst[:0]); !ok {
						b.Fatal("rejected")
					}
				}
			})
			b.Run(name+"/twopass", func(b *testing.B) {
				p := newPayload(c.p.Kind())
				var arena, text []byte
				dst := make([]byte, 0, 4096)
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := checkTextTwoPass(p, data, canonical, &arena, &text, dst[:0]); !ok {
						b.Fatal("rejected")
					}
				}
			})
		}
	}
}
