package artana

import (
	"reflect"
	"testing"
)

type loggedPlain struct {
	A float64           `json:"a"`
	B []int             `json:"b"`
	C map[string]string `json:"c"`
	D *struct {
		E float64 `json:"e"`
	} `json:"d"`
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
	// A codec that says "decode again": loggedOutput's other path.
	again := *codec
	again.NumbersAlike = false
	var unused loggedPlain
	want, err := loggedOutput(&again, raw, &unused)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got != `{"a":3.0,"b":[1,2],"c":{"k":"v"},"d":{"e":7.0}}` {
		t.Errorf("logged %s, a second decoding logs %s", got, want)
	}
}
