// Package fielddiff finds the leaves at which two values differ under
// go-cmp, each with its path and both values, so that a caller can print
// them in a stable format of its own (cmp.Diff's output is deliberately
// unstable).
package fielddiff

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// A Diff is one leaf at which two values differ, as Format prints it.
type Diff struct {
	Path string // the leaf's path
	X, Y string // its values on either side
}

// Format says how Compare prints the path and the values of a leaf.
type Format struct {
	Root  string                     // the name of the empty path
	Field func(goName string) string // a struct field's name; nil: its Go name
	Index func(cmp.SliceIndex) int   // a slice element's index; nil: its Key, 0 when one side lacks it
	Value func(reflect.Value) string // a value; it is invalid where one side lacks the leaf
	// Key, if set, names a map key as a field (joined by a dot); nil
	// prints it in brackets.
	Key func(key reflect.Value) string
}

// Compare reports whether x and y are equal under opts and, if not, the
// leaves where they differ, in the order cmp visits them.
func (f Format) Compare(x, y any, opts ...cmp.Option) (bool, []Diff) {
	r := reporter{format: f}
	eq := cmp.Equal(x, y, append(slices.Clip(opts), cmp.Reporter(&r))...)
	return eq, r.diffs
}

// reporter is a cmp.Reporter that prints each differing leaf as it is
// reported: the steps of a cmp.Path are valid only then.
type reporter struct {
	format Format
	path   cmp.Path
	diffs  []Diff
}

func (r *reporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *reporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *reporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	vx, vy := r.path.Last().Values()
	r.diffs = append(r.diffs, Diff{Path: r.format.Path(r.path), X: r.format.Value(vx), Y: r.format.Value(vy)})
}

// Path names p: struct fields joined by dots, slice indices and map keys
// in brackets, as in messages[0].content.
func (f Format) Path(p cmp.Path) string {
	var b strings.Builder
	for _, ps := range p {
		switch s := ps.(type) {
		case cmp.StructField:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			if f.Field != nil {
				b.WriteString(f.Field(s.Name()))
			} else {
				b.WriteString(s.Name())
			}
		case cmp.SliceIndex:
			k := max(s.Key(), 0)
			if f.Index != nil {
				k = f.Index(s)
			}
			fmt.Fprintf(&b, "[%d]", k)
		case cmp.MapIndex:
			if f.Key != nil {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.Key(s.Key()))
			} else {
				fmt.Fprintf(&b, "[%v]", s.Key())
			}
		}
	}
	if b.Len() == 0 {
		return f.Root
	}
	return b.String()
}

// EitherIndex is the index of a slice element on whichever side has it.
func EitherIndex(s cmp.SliceIndex) int {
	k := s.Key()
	if k < 0 {
		kx, ky := s.SplitKeys()
		k = max(kx, ky)
	}
	return k
}
