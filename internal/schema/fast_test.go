package schema

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type flatAnswer struct {
	FinalAnswer string `json:"final_answer"`
}

type flatMixed struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	Big   int64   `json:"big,omitempty"`
	Score float64 `json:"score"`
	OK    bool    `json:"ok"`
	Note  string  `json:"note,omitempty"`
	Plain string
}

type notFlat struct {
	Items []string `json:"items"`
}

type flatQuoted struct {
	N int `json:"n,string"`
}

var testCodecs Cache

var fastOutputSeeds = []string{
	`{"final_answer":"4"}`, ` { "final_answer" : "\u00e9\n" } `, `{"final_answer":4}`, `{"final_answer":"4","x":1}`,
	`{"Final_Answer":"4"}`, `{"final_answer":"4","final_answer":"5"}`, `{}`, `{"final_answer":null}`, `{"final_answer":"4"} x`,
	`{"name":"a","count":3,"score":1.5,"ok":true,"Plain":""}`, `{"name":"a","count":3.0,"score":1,"ok":false,"Plain":"p","note":"n","big":-9223372036854775808}`,
	`{"name":"a","count":1e2,"score":1e400,"ok":true,"Plain":""}`, `{"name":"\ud800","count":1,"score":1,"ok":true,"Plain":""}`,
	`{"name":"a","count":99999999999999999999,"score":-0,"ok":true,"Plain":""}`, `{"items":["a"]}`, `{"n":"3"}`, `[]`, `"s"`,
}

// checkFastOutput: whatever the fast path decodes, the codec accepts and
// decodes to the same value.
func checkFastOutput[T any](t *testing.T, raw string) {
	t.Helper()
	codec, err := testCodecs.Get(reflect.TypeFor[T]())
	if err != nil {
		t.Fatal(err)
	}
	var fast T
	if !codec.FastDecode(raw, &fast) {
		if d := cmp.Diff(*new(T), fast); d != "" {
			t.Fatalf("fast path refused %s but left a value: %s", raw, d)
		}
		return
	}
	var slow T
	if err := codec.Decode([]byte(raw), &slow, false); err != nil {
		t.Fatalf("fast path took %s, the codec refuses it: %v", raw, err)
	}
	if d := cmp.Diff(slow, fast); d != "" {
		t.Fatalf("fast path decodes %s differently (-codec +fast):\n%s", raw, d)
	}
}

func TestFastOutput(t *testing.T) {
	for typ, want := range map[reflect.Type]bool{
		reflect.TypeFor[flatAnswer](): true, reflect.TypeFor[flatMixed](): true,
		reflect.TypeFor[notFlat](): false, reflect.TypeFor[flatQuoted](): false, reflect.TypeFor[*flatAnswer](): false,
	} {
		codec, err := testCodecs.Get(typ)
		if err != nil {
			t.Fatal(err)
		}
		if got := planFor(codec) != nil; got != want {
			t.Errorf("%s: fast path %v, want %v", typ, got, want)
		}
	}
	taken := 0
	for _, raw := range fastOutputSeeds {
		checkFastOutput[flatAnswer](t, raw)
		checkFastOutput[flatMixed](t, raw)
		var a flatAnswer
		if c, _ := testCodecs.Get(reflect.TypeFor[flatAnswer]()); c.FastDecode(raw, &a) {
			taken++
		}
	}
	if taken != 2 {
		t.Errorf("the fast path took %d of the flatAnswer seeds, want 2", taken)
	}
}

// FuzzFastOutput: the fast path of the strict codec decodes only what the
// codec decodes, to the same value.
func FuzzFastOutput(f *testing.F) {
	for _, s := range fastOutputSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		checkFastOutput[flatAnswer](t, raw)
		checkFastOutput[flatMixed](t, raw)
	})
}
