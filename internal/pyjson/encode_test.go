package pyjson

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every float of testdata/python_floats.txt is written as CPython's repr
// in the dumps dialect and as pydantic's model_dump_json in the model one.
func TestFloatsAsPython(t *testing.T) {
	f, err := os.Open("testdata/python_floats.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Fields(text)
		if len(parts) != 3 {
			t.Fatalf("python_floats.txt:%d: malformed line %q", line, text)
		}
		bits, err := strconv.ParseUint(parts[0], 16, 64)
		if err != nil {
			t.Fatalf("python_floats.txt:%d: %v", line, err)
		}
		v := math.Float64frombits(bits)
		if got := Float(v); got != parts[1] {
			t.Errorf("python_floats.txt:%d: Float(%s) = %s, Python's repr %s", line, parts[0], got, parts[1])
		}
		if got := string(appendReprFloat(nil, v, 64)); got != parts[1] {
			t.Errorf("python_floats.txt:%d: repr of %s: got %s, Python %s", line, parts[0], got, parts[1])
		}
		if got := string(AppendModelFloat(nil, v)); got != parts[2] {
			t.Errorf("python_floats.txt:%d: model_dump_json of %s: got %s, pydantic %s", line, parts[0], got, parts[2])
		}
		n++
	}
	if n < 4000 {
		t.Fatalf("checked %d floats, want 4000", n)
	}
}

type inner struct {
	X float64 `json:"x"`
	Y int     `json:"y"`
}

type Embedded struct {
	E  string `json:"e"`
	Zz int    // no tag: named Zz
}

type tagged struct {
	Score    float64           `json:"score"`
	Count    int               `json:"count"`
	Text     string            `json:"text"`
	Skip     string            `json:"-"`
	Dash     string            `json:"-,"`
	Empty    string            `json:"empty,omitempty"`
	Zero     inner             `json:"zero,omitzero"`
	Quoted   float64           `json:"quoted,string"`
	QInt     int               `json:"qint,string"`
	Ptr      *float64          `json:"ptr"`
	Nested   inner             `json:"nested"`
	Map      map[string]any    `json:"map"`
	Raw      json.RawMessage   `json:"raw"`
	Bytes    []byte            `json:"bytes"`
	When     time.Time         `json:"when"`
	Num      json.Number       `json:"num"`
	IntKeys  map[int]bool      `json:"int_keys"`
	Text2    textKey           `json:"text2"`
	Nil      []int             `json:"nil"`
	Float32  float32           `json:"f32"`
	hidden   int               //nolint:unused // unexported: not written
	Tuple    [2]float64        `json:"tuple"`
	Iface    any               `json:"iface"`
	TextKeys map[textKey]uint8 `json:"text_keys"`
	Embedded
}

type textKey string

func (k textKey) MarshalText() ([]byte, error) { return []byte("k:" + string(k)), nil }

func TestMarshalDialects(t *testing.T) {
	p := 1e16
	v := tagged{
		Score: 100, Count: 3, Text: "a\u2028b\u2029c <b>&</b> é 😀 \x7f \x01\t\"\\/",
		Skip: "no", Dash: "dash", Quoted: 100, QInt: 7, Ptr: &p,
		Nested: inner{X: 1e-05, Y: 2}, Map: map[string]any{"b": 2.0, "a": 1, "c": []any{1e16, "\u2028", nil, true}},
		Raw:   json.RawMessage(` {"z": 1.0, "a": [1, 1e-7, "\u2028"], "n": -0} `),
		Bytes: []byte("hi"), When: time.Date(2024, 1, 1, 0, 0, 0, 120000500, time.UTC),
		Num: "1e2", IntKeys: map[int]bool{10: true, 9: false}, Text2: "t", Float32: 0.1,
		Tuple: [2]float64{0, -0.5}, Iface: inner{X: 2}, TextKeys: map[textKey]uint8{"b": 1, "a": 2},
		Embedded: Embedded{E: "emb", Zz: 5},
	}
	model, err := ModelDumpJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	wantModel := `{"score":100.0,"count":3,"text":"a` + "\u2028b\u2029c <b>&</b> é 😀 \x7f" + ` \u0001\t\"\\/","-":"dash","quoted":"100.0","qint":"7","ptr":1e+16,` +
		`"nested":{"x":0.00001,"y":2},"map":{"a":1,"b":2.0,"c":[1e+16,"` + "\u2028" + `",null,true]},"raw":{"z":1.0,"a":[1,1e-7,"` + "\u2028" + `"],"n":0},` +
		`"bytes":"aGk=","when":"2024-01-01T00:00:00.120000Z","num":100.0,"int_keys":{"10":true,"9":false},"text2":"k:t","nil":null,` +
		`"f32":0.1,"tuple":[0.0,-0.5],"iface":{"x":2.0,"y":0},"text_keys":{"a":2,"b":1},"e":"emb","Zz":5}`
	if string(model) != wantModel {
		t.Errorf("ModelDumpJSON:\n got %s\nwant %s", model, wantModel)
	}
	dumps, err := Dumps(v)
	if err != nil {
		t.Fatal(err)
	}
	wantDumps := `{"-":"dash","Zz":5,"bytes":"aGk=","count":3,"e":"emb","f32":0.1,"iface":{"x":2.0,"y":0},"int_keys":{"10":true,"9":false},` +
		`"map":{"a":1,"b":2.0,"c":[1e+16,"\u2028",null,true]},"nested":{"x":1e-05,"y":2},"nil":null,"num":100.0,"ptr":1e+16,` +
		`"qint":"7","quoted":"100.0","raw":{"a":[1,1e-07,"\u2028"],"n":0,"z":1.0},"score":100.0,` +
		`"text":"a\u2028b\u2029c <b>&</b> \u00e9 \ud83d\ude00 \u007f \u0001\t\"\\/","text2":"k:t","text_keys":{"a":2,"b":1},` +
		`"tuple":[0.0,-0.5],"when":"2024-01-01T00:00:00.120000Z"}`
	if string(dumps) != wantDumps {
		t.Errorf("Dumps:\n got %s\nwant %s", dumps, wantDumps)
	}
}

// The flow's values, as the Python original logged them (artana's interop
// test checks the whole ledger).
func TestMarshalAsPythonLogs(t *testing.T) {
	type measureArgs struct {
		Big float64 `json:"big"`
		Cap float64 `json:"cap"`
		N   int     `json:"n"`
	}
	got, err := Dumps(measureArgs{1e16, 100, 3})
	if err != nil || string(got) != `{"big":1e+16,"cap":100.0,"n":3}` {
		t.Errorf("tool arguments: %s, %v", got, err)
	}
	got, err = Dumps(map[string]any{"total": 100.0, "tiny": 1e-05, "big": 1e16, "count": 3})
	if err != nil || string(got) != `{"big":1e+16,"count":3,"tiny":1e-05,"total":100.0}` {
		t.Errorf("json_step_serde result: %s, %v", got, err)
	}
	type note struct {
		Note  string  `json:"note"`
		Score float64 `json:"score"`
	}
	got, err = ModelDumpJSON(note{"x\u2028", 100})
	if err != nil || string(got) != "{\"note\":\"x\u2028\",\"score\":100.0}" {
		t.Errorf("model_dump_json: %s, %v", got, err)
	}
	got, err = ModelDumpJSON(5e-324)
	if err != nil || string(got) != "5e-324" {
		t.Errorf("5e-324: %s, %v", got, err)
	}
}

type addrMarshaler struct{ N int }

func (a *addrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{"n": 1e1}`), nil }

type failing struct{}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { return []byte(`{"a":`), nil }

type cycle struct {
	Next *cycle `json:"next"`
}

func TestMarshalErrorsAndMarshalers(t *testing.T) {
	// A pointer-receiver MarshalJSON is used where the value is addressable.
	got, err := ModelDumpJSON(&struct{ A addrMarshaler }{})
	if err != nil || string(got) != `{"A":{"n":10.0}}` {
		t.Errorf("addressable marshaler: %s, %v", got, err)
	}
	got, err = ModelDumpJSON(struct{ A addrMarshaler }{A: addrMarshaler{N: 4}})
	if err != nil || string(got) != `{"A":{"N":4}}` {
		t.Errorf("unaddressable marshaler: %s, %v", got, err)
	}
	for name, v := range map[string]any{
		"NaN":         math.NaN(),
		"+Inf":        map[string]float64{"a": math.Inf(1)},
		"chan":        make(chan int),
		"func map":    map[string]func(){"a": nil},
		"struct keys": map[inner]int{{}: 1},
		"marshaler":   failing{},
		"bad JSON":    badJSON{},
		"number":      json.Number("1x"),
	} {
		if _, err := Dumps(v); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := ModelDumpJSON(v); err == nil {
			t.Errorf("%s: no error (model)", name)
		}
	}
	c := &cycle{}
	c.Next = c
	if _, err := Dumps(c); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
	var ute *json.UnsupportedTypeError
	if _, err := Dumps(make(chan int)); !errors.As(err, &ute) {
		t.Errorf("chan: %v is no *json.UnsupportedTypeError", err)
	}
	for _, v := range []any{nil, (*inner)(nil), json.RawMessage(nil), []int(nil), map[string]int(nil)} {
		if got, err := ModelDumpJSON(v); err != nil || string(got) != "null" {
			t.Errorf("ModelDumpJSON(%#v) = %s, %v", v, got, err)
		}
	}
}

func TestCanonicalizeModel(t *testing.T) {
	for in, want := range map[string]string{
		` { "b" : 1.50, "a": [ 1, 2E3, -0, 0.0, 1e400, "\u00e9\u2028\ud83d\ude00\n" ], "b": 2 } `: "{\"b\":2,\"a\":[1,2000.0,0,0.0,null,\"é\u2028😀\\n\"]}",
		`"\ud800x"`:                      "\"\ufffdx\"",
		`"\ud800\u0041"`:                 "\"\ufffdA\"",
		`[]`:                             `[]`,
		`{}`:                             `{}`,
		`123456789012345678901234567890`: `123456789012345678901234567890`,
	} {
		got, err := CanonicalizeModel([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("CanonicalizeModel(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a" 1}`, `01`, `1.`, `1e`, `-`, `"a`, "\"\x01\"", `"\x"`, `"\u12"`, `tru`, `nul`, `{} x`, `{1:2}`, `[1 2]`} {
		if got, err := CanonicalizeModel([]byte(bad)); err == nil {
			t.Errorf("CanonicalizeModel(%q) = %s, want an error", bad, got)
		}
	}
	if _, err := CanonicalizeModel([]byte(strings.Repeat("[", maxTextDepth+1))); err == nil {
		t.Error("deep nesting: no error")
	}
}

func TestModelString(t *testing.T) {
	for in, want := range map[string]string{
		"\u2028\u2029<>&\x7f/'": "\"\u2028\u2029<>&\x7f/'\"",
		"\x00\x08\x0b\x0c\x1f":  `"\u0000\b\u000b\f\u001f"`,
		"caf\xe9":               "\"caf\ufffd\"",
		"😀 ü":                   "\"😀 ü\"",
	} {
		if got := string(AppendModelString(nil, in)); got != want {
			t.Errorf("AppendModelString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTimeAsPydantic(t *testing.T) {
	for tm, want := range map[time.Time]string{
		time.Date(2024, 1, 1, 1, 2, 3, 4000, time.FixedZone("", 3600)):         `"2024-01-01T01:02:03.000004+01:00"`,
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -(5*3600+30*60))): `"2024-01-01T00:00:00-05:30"`,
		time.Date(2024, 1, 1, 0, 0, 0, 500000999, time.UTC):                    `"2024-01-01T00:00:00.500000Z"`,
	} {
		if got, err := ModelDumpJSON(tm); err != nil || string(got) != want {
			t.Errorf("%v: %s, %v; want %s", tm, got, err, want)
		}
	}
	if _, err := ModelDumpJSON(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("year 10000: no error")
	}
}

// BenchmarkMarshal compares the encoder with what it replaced in the
// kernel (encoding/json, then the JSON rewritten) and with encoding/json
// alone, on a tool's arguments.
func BenchmarkMarshal(b *testing.B) {
	type args struct {
		Big   float64  `json:"big"`
		Cap   float64  `json:"cap"`
		N     int      `json:"n"`
		Label string   `json:"label"`
		Tags  []string `json:"tags"`
	}
	v := args{1e16, 100, 3, "caf\u00e9 \u2028", []string{"a", "b"}}
	b.Run("Dumps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = Dumps(v)
		}
	})
	b.Run("ModelDumpJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = ModelDumpJSON(v)
		}
	})
	b.Run("encoding_json_rewritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, _ := json.Marshal(v)
			_, _ = appendText(nil, j, dumpsDialect)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(v)
		}
	})
}

// Encoders are built once per type, also when many goroutines ask at once.
func TestEncoderCacheConcurrent(t *testing.T) {
	type node struct {
		V    float64 `json:"v"`
		Next *node   `json:"next,omitempty"`
	}
	v := &node{V: 1, Next: &node{V: 2.5}}
	done := make(chan string)
	for range 8 {
		go func() {
			b, err := Dumps(v)
			if err != nil {
				done <- err.Error()
				return
			}
			done <- string(b)
		}()
	}
	for range 8 {
		if got := <-done; got != `{"next":{"v":2.5},"v":1.0}` {
			t.Errorf("got %s", got)
		}
	}
}
