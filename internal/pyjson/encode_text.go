package pyjson

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CanonicalizeModel rewrites a JSON document as pydantic's model_dump_json
// would write the value Python parses from it: no whitespace, object keys
// in the order written (a repeated key keeps its first place and its last
// value, as a Python dict does), strings as AppendModelString writes them,
// integers as written and other numbers as AppendModelFloat writes them (a
// number too large for a float as null, as pydantic writes infinity). It is
// the logged form of JSON text a caller passes as it is (json.RawMessage, a
// model's output taken as JSON) in the places the Python original uses
// model_dump_json. It fails on invalid JSON.
func CanonicalizeModel(data []byte) ([]byte, error) {
	return appendText(nil, data, modelDialect)
}

// appendText appends the JSON document data rewritten in dialect d.
func appendText(dst, data []byte, d dialect) ([]byte, error) {
	p := textParser{data: data, d: d}
	p.skipSpace()
	dst, err := p.value(dst, 0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.errorf("trailing data after the JSON document")
	}
	return dst, nil
}

// maxTextDepth bounds the nesting of arrays and objects, as encoding/json's
// decoder does.
const maxTextDepth = 10000

type textParser struct {
	data []byte
	pos  int
	d    dialect
	str  []byte // scratch for decoded strings
}

func (p *textParser) errorf(format string, args ...any) error {
	return fmt.Errorf("pyjson: invalid JSON at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *textParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *textParser) value(dst []byte, depth int) ([]byte, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(dst, depth+1)
	case c == '[':
		return p.array(dst, depth+1)
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return appendDialectString(dst, s, p.d), nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number(dst)
	case c == 't':
		return p.literal(dst, "true")
	case c == 'f':
		return p.literal(dst, "false")
	case c == 'n':
		return p.literal(dst, "null")
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *textParser) literal(dst []byte, lit string) ([]byte, error) {
	if !strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+len(lit))]), lit) {
		return nil, p.errorf("invalid literal, want %s", lit)
	}
	p.pos += len(lit)
	return append(dst, lit...), nil
}

func (p *textParser) array(dst []byte, depth int) ([]byte, error) {
	if depth > maxTextDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.pos++ // [
	dst = append(dst, '[')
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return append(dst, ']'), nil
	}
	for n := 0; ; n++ {
		if n > 0 {
			dst = append(dst, ',')
		}
		p.skipSpace()
		var err error
		if dst, err = p.value(dst, depth); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return append(dst, ']'), nil
		default:
			return nil, p.errorf("want , or ] in an array")
		}
	}
}

type textMember struct {
	key        string
	start, end int // the value in the object's value buffer
}

func (p *textParser) object(dst []byte, depth int) ([]byte, error) {
	if depth > maxTextDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return append(dst, '{', '}'), nil
	}
	var members []textMember
	var vals []byte
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("want a string key in an object")
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("want : after an object key")
		}
		p.pos++
		p.skipSpace()
		start := len(vals)
		if vals, err = p.value(vals, depth); err != nil {
			return nil, err
		}
		m := textMember{key: key, start: start, end: len(vals)}
		if i := slices.IndexFunc(members, func(o textMember) bool { return o.key == key }); i >= 0 {
			members[i].start, members[i].end = m.start, m.end // a Python dict: first place, last value
		} else {
			members = append(members, m)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		if p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.data[p.pos] != '}' {
			return nil, p.errorf("want , or } in an object")
		}
		p.pos++
		break
	}
	if p.d == dumpsDialect {
		slices.SortFunc(members, func(a, b textMember) int { return strings.Compare(a.key, b.key) })
	}
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendDialectString(dst, m.key, p.d)
		dst = append(dst, ':')
		dst = append(dst, vals[m.start:m.end]...)
	}
	return append(dst, '}'), nil
}

// string decodes the JSON string at p.pos. Invalid UTF-8 and unpaired
// surrogate escapes become U+FFFD, as encoding/json decodes them.
func (p *textParser) string() (string, error) {
	p.pos++ // "
	i := p.pos
	for ; i < len(p.data); i++ { // fast path: ASCII, no escapes
		c := p.data[i]
		if c == '"' {
			s := string(p.data[p.pos:i])
			p.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	b, end, err := unquote(append(p.str[:0], p.data[p.pos:i]...), p.data, i, lenientStrings)
	p.pos = end
	if err != nil {
		return "", p.errorf("%v", err)
	}
	p.str = b
	return string(b), nil
}

// number rewrites the number at p.pos as Python writes the value it
// parses from it: an integer as written (-0 as 0), any other number as a
// float in the dialect's notation.
func (p *textParser) number(dst []byte) ([]byte, error) {
	start := p.pos
	i := p.pos
	if p.data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(p.data) && p.data[i] >= '0' && p.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(p.data) && p.data[i] == '0' {
		i++
	} else if digits() == 0 {
		p.pos = i
		return nil, p.errorf("invalid number")
	}
	isInt := true
	if i < len(p.data) && p.data[i] == '.' {
		i++
		isInt = false
		if digits() == 0 {
			p.pos = i
			return nil, p.errorf("invalid number")
		}
	}
	if i < len(p.data) && (p.data[i] == 'e' || p.data[i] == 'E') {
		i++
		isInt = false
		if i < len(p.data) && (p.data[i] == '+' || p.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.pos = i
			return nil, p.errorf("invalid number")
		}
	}
	p.pos = i
	lit := p.data[start:i]
	if isInt {
		if string(lit) == "-0" {
			return append(dst, '0'), nil
		}
		return append(dst, lit...), nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, p.errorf("number %s: %v", lit, err)
	}
	return appendDialectFloat(dst, f, 64, p.d, true), nil
}

// appendDialectString appends s as dialect d writes a string.
func appendDialectString(dst []byte, s string, d dialect) []byte {
	if d == modelDialect {
		return AppendModelString(dst, s)
	}
	return AppendString(dst, s)
}

// appendDialectFloat appends f as dialect d writes a float. Infinities (a
// parsed number too large for a float, allowInf) are written as Python
// writes them: Infinity by json.dumps, null by pydantic.
func appendDialectFloat(dst []byte, f float64, bits int, d dialect, allowInf bool) []byte {
	if math.IsInf(f, 0) && allowInf {
		if d == modelDialect {
			return append(dst, "null"...)
		}
		return AppendFloat(dst, f)
	}
	if d == modelDialect {
		return appendFloatNotation(dst, f, bits, -5, false)
	}
	return appendReprFloat(dst, f, bits)
}
