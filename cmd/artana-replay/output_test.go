package main

import "testing"

// TestFormatCost: every cost is printed one way, fixed point with six
// decimals, so that a small cost and a larger one compare at a glance.
func TestFormatCost(t *testing.T) {
	for _, tc := range []struct {
		cost float64
		want string
	}{
		{0, "$0.000000"},
		{9.87e-05, "$0.000099"},
		{0.0001, "$0.000100"},
		{0.5, "$0.500000"},
		{1234.5, "$1234.500000"},
	} {
		if got := formatCost(tc.cost); got != tc.want {
			t.Errorf("formatCost(%g) = %q, want %q", tc.cost, got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"testdata/run.cassette": "testdata/run.cassette",
		"my runs/a b.cassette":  "'my runs/a b.cassette'",
		"it's":                  `'it'\''s'`,
		"":                      "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
