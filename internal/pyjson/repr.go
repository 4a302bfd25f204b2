package pyjson

import (
	"math"
	"strconv"
)

// IsRepr reports whether lit is exactly the text AppendFloat writes for
// the finite float it parses to, and returns that float. It is
// string(AppendFloat(nil, v)) == lit without searching for the shortest
// digits when lit has at most 15 significant digits and v is normal: such
// a decimal is the only one of at most 15 digits that parses to v (any
// two parse to different floats, as float64 keeps 15 decimal digits), so
// its digits, without trailing zeros, are v's shortest, and only their
// layout is left to compare.
func IsRepr(lit string) (float64, bool) {
	v, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return v, false
	}
	var buf [32]byte
	if a := math.Abs(v); a >= 0x1p-1022 {
		if d, exp, ok := decimalOf(lit, buf[:0]); ok && len(d) <= 15 {
			var out [40]byte
			o := out[:0]
			if lit[0] == '-' {
				o = append(o, '-')
			}
			return v, string(appendNotation(o, d, exp, -4, true)) == lit
		}
	}
	return v, string(AppendFloat(buf[:0], v)) == lit
}

// decimalOf returns the significant digits of the JSON number lit (no
// leading or trailing zeros) in dst, and the decimal exponent of the
// first; ok is false when it has no nonzero digit or more digits than dst
// holds.
func decimalOf(lit string, dst []byte) (d []byte, exp int, ok bool) {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		i++
	}
	point := -1 // digits before the decimal point, once seen
	n := 0      // digits read
	first := -1 // index in the mantissa of the first nonzero digit
	for ; i < len(lit); i++ {
		c := lit[i]
		if c == '.' {
			point = n
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		if c != '0' && first < 0 {
			first = n
		}
		if first >= 0 {
			if len(dst) == cap(dst) {
				return nil, 0, false
			}
			dst = append(dst, c)
		}
		n++
	}
	if first < 0 {
		return nil, 0, false
	}
	if point < 0 {
		point = n
	}
	e := 0
	if i < len(lit) { // e or E, sign, digits (ParseFloat accepted lit)
		i++
		neg := lit[i] == '-'
		if lit[i] == '-' || lit[i] == '+' {
			i++
		}
		for ; i < len(lit); i++ {
			if e > 10000 {
				return nil, 0, false
			}
			e = e*10 + int(lit[i]-'0')
		}
		if neg {
			e = -e
		}
	}
	for len(dst) > 0 && dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	return dst, point - first - 1 + e, true
}
