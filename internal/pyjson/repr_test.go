package pyjson

import (
	"math"
	"strconv"
	"testing"
)

var reprSeeds = []string{"0.00123", "1e-05", "0.0001", "100.0", "1e+16", "1.5e+16", "123456789012345.0",
	"1234567890123456.0", "0.1", "-2.5", "0.0", "-0.0", "1", "1.0e-05", "1e-5", "0.00012300", "5e-324",
	"2.2250738585072014e-308", "1.7976931348623157e+308", "1e400", "9007199254740993.0", "0.30000000000000004"}

func TestIsRepr(t *testing.T) {
	for _, lit := range reprSeeds {
		v, ok := IsRepr(lit)
		f, err := strconv.ParseFloat(lit, 64)
		want := err == nil && string(AppendFloat(nil, f)) == lit
		if ok != want || (ok && v != f) {
			t.Errorf("IsRepr(%s) = %v, %v; want %v, %v", lit, v, ok, f, want)
		}
	}
}

// FuzzIsRepr checks IsRepr against writing the float again: on any text,
// and on the text AppendFloat writes for any finite float.
func FuzzIsRepr(f *testing.F) {
	for _, s := range reprSeeds {
		f.Add(s, uint64(0))
	}
	f.Add("", math.Float64bits(0.00123))
	f.Fuzz(func(t *testing.T, lit string, bits uint64) {
		if x := math.Float64frombits(bits); !math.IsInf(x, 0) && !math.IsNaN(x) {
			text := string(AppendFloat(nil, x))
			if v, ok := IsRepr(text); !ok || v != x {
				t.Fatalf("IsRepr(%s) = %v, %v for the text of %v", text, v, ok, x)
			}
		}
		v, ok := IsRepr(lit)
		f, err := strconv.ParseFloat(lit, 64)
		want := err == nil && !math.IsInf(f, 0) && string(AppendFloat(nil, f)) == lit
		if ok != want || (ok && v != f) {
			t.Fatalf("IsRepr(%q) = %v, %v; want %v, %v", lit, v, ok, f, want)
		}
	})
}

func BenchmarkIsRepr(b *testing.B) {
	for _, lit := range []string{"0.00123", "123.456789", "0.30000000000000004"} {
		b.Run(lit+"/IsRepr", func(b *testing.B) {
			for b.Loop() {
				if _, ok := IsRepr(lit); !ok {
					b.Fatal(lit)
				}
			}
		})
		b.Run(lit+"/write", func(b *testing.B) {
			var buf [32]byte
			for b.Loop() {
				v, _ := strconv.ParseFloat(lit, 64)
				if string(AppendFloat(buf[:0], v)) != lit {
					b.Fatal(lit)
				}
			}
		})
	}
}
