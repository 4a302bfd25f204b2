package fielddiff

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type inner struct{ StepKey string }

type value struct {
	Name  string
	Items []int
	Tags  map[string]inner
	Ptr   *int
}

func show(v reflect.Value) string {
	if !v.IsValid() {
		return "(absent)"
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "nil"
		}
		v = v.Elem()
	}
	return fmt.Sprint(v.Interface())
}

func list(diffs []Diff) string {
	var b strings.Builder
	for _, d := range diffs {
		fmt.Fprintf(&b, "%s: %s -> %s\n", d.Path, d.X, d.Y)
	}
	return b.String()
}

func TestCompare(t *testing.T) {
	one := 1
	a := value{Name: "a", Items: []int{1, 2}, Tags: map[string]inner{"k": {"s1"}}}
	b := value{Name: "b", Items: []int{1, 2, 3}, Tags: map[string]inner{"k": {"s2"}}, Ptr: &one}
	lower := func(s string) string { return strings.ToLower(s) }
	for _, tc := range []struct {
		f    Format
		want string
	}{
		{Format{Root: "value", Value: show},
			"Name: a -> b\nItems[0]: (absent) -> 3\nTags[k].StepKey: s1 -> s2\nPtr: nil -> 1\n"},
		{Format{Root: "value", Field: lower, Index: EitherIndex, Value: show},
			"name: a -> b\nitems[2]: (absent) -> 3\ntags[k].stepkey: s1 -> s2\nptr: nil -> 1\n"},
	} {
		eq, diffs := tc.f.Compare(a, b)
		if got := list(diffs); eq || got != tc.want {
			t.Errorf("Compare = %v,\n%s\nwant false,\n%s", eq, got, tc.want)
		}
	}

	f := Format{Root: "root", Value: show}
	if eq, diffs := f.Compare(a, a); !eq || len(diffs) != 0 {
		t.Errorf("Compare(a, a) = %v, %v; want equal, no diffs", eq, diffs)
	}
	if eq, diffs := f.Compare(1, 2); eq || list(diffs) != "root: 1 -> 2\n" {
		t.Errorf("Compare(1, 2) = %v, %v; want one diff at the root", eq, diffs)
	}
	if eq, _ := f.Compare(a, b, cmp.Comparer(func(x, y value) bool { return true })); !eq {
		t.Error("Compare ignores its options")
	}
}
