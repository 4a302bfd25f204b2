package artana

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

type loggedPlain struct {
	A float64           `json:"a"`
	B []int             `json:"b"`
	C map[string]string `json:"c"`
	D *struct {
		E float64 `json:"e"`
	} `json:"d"`
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

// TestNumbersDecodeAlike: loggedOutput reuses the step's decoded output
// only for types whose decoding UseNumber cannot change, and for those the
// two decodings are equal.
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

// TestLoggedOutputReused: the output logged from the reused decoding is
// the one logged from a second decoding with UseNumber.
func TestLoggedOutputReused(t *testing.T) {
	codec, err := outputCodecs.Get(reflect.TypeFor[loggedPlain]())
	if err != nil {
		t.Fatal(err)
	}
	raw := `{"a":3,"b":[1,2],"c":{"k":"v"},"d":{"e":7}}`
	var out loggedPlain
	if err := codec.Decode([]byte(raw), &out, false); err != nil {
		t.Fatal(err)
	}
	got, err := loggedOutput(codec, raw, &out)
	if err != nil {
		t.Fatal(err)
	}
	// A codec whose type says "decode again": loggedOutput's other path.
	again := *codec
	again.Type = reflect.TypeFor[anyOutput]()
	var unused loggedPlain
	want, err := loggedOutput(&again, raw, &unused)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got != `{"a":3.0,"b":[1,2],"c":{"k":"v"},"d":{"e":7.0}}` {
		t.Errorf("logged %s, a second decoding logs %s", got, want)
	}
}
