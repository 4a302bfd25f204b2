package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type plainOutput struct {
	A float64           `json:"a"`
	B []int             `json:"b"`
	C map[string]string `json:"c"`
	D *plainOutput      `json:"d,omitempty"`
	N json.Number       `json:"n"`
}

type anyOutput struct {
	X any `json:"x"`
}

type nestedAny struct {
	P []map[string]*anyOutput `json:"p"`
}

type selfDecoding struct{ S string }

func (s *selfDecoding) UnmarshalJSON(b []byte) error { s.S = string(b); return nil }

type holdsSelfDecoding struct {
	V selfDecoding `json:"v"`
}

type holdsTime struct {
	T time.Time `json:"t"`
}

// TestNumbersDecodeAlike: the kernel reuses a step's decoded output only
// for types whose decoding UseNumber cannot change, and for those the two
// decodings are equal.
func TestNumbersDecodeAlike(t *testing.T) {
	for typ, want := range map[reflect.Type]bool{
		reflect.TypeFor[plainOutput]():       true,
		reflect.TypeFor[*plainOutput]():      true,
		reflect.TypeFor[[]string]():          true,
		reflect.TypeFor[anyOutput]():         false,
		reflect.TypeFor[nestedAny]():         false,
		reflect.TypeFor[map[string]any]():    false,
		reflect.TypeFor[holdsSelfDecoding](): false,
		reflect.TypeFor[holdsTime]():         false,
		reflect.TypeFor[*selfDecoding]():     false,
	} {
		if got := numbersDecodeAlike(typ); got != want {
			t.Errorf("numbersDecodeAlike(%s) = %v, want %v", typ, got, want)
		}
	}
	doc := []byte(`{"a":3,"b":[1,2],"c":{"k":"v"},"d":{"a":1.5,"b":[],"c":null,"n":7},"n":2.50}`)
	decode := func(useNumber bool) plainOutput {
		var v plainOutput
		dec := json.NewDecoder(bytes.NewReader(doc))
		if useNumber {
			dec.UseNumber()
		}
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if d := cmp.Diff(decode(false), decode(true)); d != "" {
		t.Errorf("decodings differ (-plain +UseNumber):\n%s", d)
	}
}
