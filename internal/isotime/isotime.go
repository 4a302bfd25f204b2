// Package isotime writes and parses timestamps as Python's datetime does
// (isoformat, fromisoformat), the form the Python original of artana stores
// and hashes.
package isotime

import (
	"fmt"
	"strconv"
	"time"
)

// naive marks a timestamp that carried no UTC offset. Python writes such a
// timestamp back without an offset, so the hash must too.
var naive = time.FixedZone("", 0)

// Format returns t as Python's datetime.isoformat writes it, which
// is the form that is stored and hashed: 2006-01-02T15:04:05.000000+00:00,
// truncated to microseconds, with the fraction omitted entirely when the
// microsecond is zero and never trimmed otherwise. The offset is t's own
// (+00:00 for UTC, never Z); a time from Parse of a string without
// an offset is written without one.
func Format(t time.Time) string {
	return string(Append(make([]byte, 0, 32), t))
}

// Append appends Format(t) to dst.
func Append(dst []byte, t time.Time) []byte {
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.',
			byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
			byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10))
	}
	if t.Location() == naive {
		return dst
	}
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendTwo(dst, off/3600)
	dst = append(dst, ':')
	dst = appendTwo(dst, off/60%60)
	if s := off % 60; s != 0 {
		dst = append(dst, ':')
		dst = appendTwo(dst, s)
	}
	return dst
}

func appendTwo(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

// Parse parses a timestamp as Python 3.11's datetime.fromisoformat
// does for the forms that occur in ledgers: a date, a 'T' or ' ' separator,
// HH:MM[:SS[.fraction]] and an optional Z or ±HH:MM[:SS] offset. The
// fraction is truncated to microseconds. Format of the result is
// the string Python hashes for the stored column.
func Parse(s string) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("timestamp %q: %s", s, why)
	}
	if len(s) < 16 {
		return bad("too short for YYYY-MM-DDTHH:MM")
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return bad("want a YYYY-MM-DD date")
	}
	if s[10] != 'T' && s[10] != ' ' {
		return bad("want 'T' or ' ' between date and time")
	}
	hour, ok1 := digits(s, 11, 2)
	minute, ok2 := digits(s, 14, 2)
	if !ok1 || !ok2 || s[13] != ':' {
		return bad("want an HH:MM time")
	}
	sec, nsec, i, why := seconds(s, 16)
	if why != "" {
		return bad(why)
	}
	loc, why := offset(s[i:])
	if why != "" {
		return bad(why)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Year() != year || int(t.Month()) != month || t.Day() != day || t.Hour() != hour ||
		t.Minute() != minute || t.Second() != sec {
		return bad("date or time out of range")
	}
	return t, nil
}

// digits returns the number written in the n decimal digits of s at from,
// or false if they are not all there.
func digits(s string, from, n int) (int, bool) {
	if from+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[from : from+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// seconds parses the optional :SS[.fraction] at s[i:] and returns the
// seconds, the fraction in nanoseconds truncated to microseconds, and the
// index after them; or why they are malformed.
func seconds(s string, i int) (sec, nsec, next int, why string) {
	if i >= len(s) || s[i] != ':' {
		return 0, 0, i, ""
	}
	sec, ok := digits(s, i+1, 2)
	if !ok {
		return 0, 0, i, "want two digits of seconds"
	}
	i += 3
	if i >= len(s) || (s[i] != '.' && s[i] != ',') {
		return sec, 0, i, ""
	}
	j := i + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	frac := s[i+1 : j]
	if len(frac) == 0 {
		return 0, 0, i, "empty fraction of a second"
	}
	if len(frac) > 6 {
		frac = frac[:6]
	}
	us, _ := strconv.Atoi(frac)
	for range 6 - len(frac) {
		us *= 10
	}
	return sec, us * 1000, j, ""
}

// offset parses what follows the time: nothing (a naive time), Z, or a
// ±HH[[:]MM[:SS[.ffffff]]] offset (the fraction ignored); or says why it
// cannot.
func offset(rest string) (*time.Location, string) {
	switch {
	case rest == "":
		return naive, ""
	case rest == "Z":
		return time.UTC, ""
	case rest[0] != '+' && rest[0] != '-':
		return nil, fmt.Sprintf("unexpected %q after the time", rest)
	}
	oh, ok1 := digits(rest, 1, 2)
	om, ok2 := 0, true
	os := 0
	switch len(rest) {
	case 3:
	case 5: // ±HHMM
		om, ok2 = digits(rest, 3, 2)
	case 6, 9, 16: // ±HH:MM, ±HH:MM:SS, ±HH:MM:SS.ffffff (fraction ignored)
		om, ok2 = digits(rest, 4, 2)
		ok2 = ok2 && rest[3] == ':'
		if len(rest) >= 9 {
			var ok3 bool
			os, ok3 = digits(rest, 7, 2)
			ok2 = ok2 && ok3 && rest[6] == ':'
		}
	default:
		ok2 = false
	}
	if !ok1 || !ok2 || oh > 23 || om > 59 || os > 59 {
		return nil, "want a ±HH:MM offset"
	}
	off := oh*3600 + om*60 + os
	if rest[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, ""
	}
	return time.FixedZone("", off), ""
}

// Truncate truncates t to microseconds and converts it to UTC, the
// resolution and zone the log stores.
func Truncate(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// Canonical reports whether s is exactly the form that is hashed: Format of
// what Parse reads from s, s itself. It is that test without building a
// time: verifiers ask it of every stored timestamp.
func Canonical(s string) bool {
	// YYYY-MM-DDTHH:MM:SS
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	var v [6]int
	for k, at := range [6]int{0, 5, 8, 11, 14, 17} {
		n := 2
		if k == 0 {
			n = 4
		}
		for _, c := range []byte(s[at : at+n]) {
			if c < '0' || c > '9' {
				return false
			}
			v[k] = v[k]*10 + int(c-'0')
		}
	}
	year, month, day := v[0], v[1], v[2]
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return false
	}
	rest := s[19:]
	// .ffffff: six digits, not all zero (a zero microsecond is left out).
	if rest != "" && rest[0] == '.' {
		if len(rest) < 7 {
			return false
		}
		zero := true
		for _, c := range []byte(rest[1:7]) {
			if c < '0' || c > '9' {
				return false
			}
			zero = zero && c == '0'
		}
		if zero {
			return false
		}
		rest = rest[7:]
	}
	// None (naive), +00:00 (UTC), or ±HH:MM[:SS] of another offset, the
	// seconds only when not zero.
	switch len(rest) {
	case 0:
		return true
	case 6, 9:
	default:
		return false
	}
	if (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' || (len(rest) == 9 && rest[6] != ':') {
		return false
	}
	off := 0
	for i, limit := range []int{23, 59, 59} {
		at := 1 + 3*i
		if at >= len(rest) {
			break
		}
		a, b := rest[at], rest[at+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return false
		}
		n := int(a-'0')*10 + int(b-'0')
		if n > limit || (i == 2 && n == 0) {
			return false
		}
		off = off*60 + n
	}
	return off != 0 || rest[0] == '+'
}

// daysIn returns the number of days of month in year (proleptic Gregorian).
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
