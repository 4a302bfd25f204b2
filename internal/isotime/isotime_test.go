package isotime_test

import (
	"testing"

	"github.com/artana-go/go-artana/internal/isotime"
)

func TestParseFormat(t *testing.T) {
	// HASH_RECIPE.md §3: what Python's fromisoformat(column).isoformat() gives.
	tests := []struct{ column, hashed string }{
		{"2024-02-29T23:59:59+00:00", "2024-02-29T23:59:59+00:00"},
		{"2024-03-01T00:00:00.120000+00:00", "2024-03-01T00:00:00.120000+00:00"},
		{"2024-03-01T00:00:00.000007+00:00", "2024-03-01T00:00:00.000007+00:00"},
		{"2024-03-01T00:00:01.999999+00:00", "2024-03-01T00:00:01.999999+00:00"},
		{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00"},
		{"2024-01-01T00:00:00.123456789+00:00", "2024-01-01T00:00:00.123456+00:00"},
		{"2024-01-01T00:00:00.12+00:00", "2024-01-01T00:00:00.120000+00:00"},
		{"2024-01-01T00:00:00.000000+00:00", "2024-01-01T00:00:00+00:00"},
		{"2024-01-01 00:00:00+00:00", "2024-01-01T00:00:00+00:00"},
		{"2024-01-01T01:00:00+01:00", "2024-01-01T01:00:00+01:00"},
		{"2024-01-01T01:00:00-05:30", "2024-01-01T01:00:00-05:30"},
		{"2024-01-01T00:00:00", "2024-01-01T00:00:00"},
		{"2024-01-01T00:00", "2024-01-01T00:00:00"},
		{"1999-12-31T23:59:59.5+00:00", "1999-12-31T23:59:59.500000+00:00"},
	}
	for _, tc := range tests {
		ts, err := isotime.Parse(tc.column)
		if err != nil {
			t.Errorf("isotime.Parse(%q): %v", tc.column, err)
			continue
		}
		if got := isotime.Format(ts); got != tc.hashed {
			t.Errorf("isotime.Format(isotime.Parse(%q)) = %s, want %s", tc.column, got, tc.hashed)
		}
	}
	for _, bad := range []string{"", "2024-01-01", "2024-13-01T00:00:00+00:00", "2024-02-30T00:00:00+00:00",
		"2024-01-01X00:00:00", "2024-01-01T25:00:00", "2024-01-01T00:00:00.+00:00", "2024-01-01T00:00:00 UTC",
		"2024-01-01T00:00:00+0", "abcd-01-01T00:00:00"} {
		if _, err := isotime.Parse(bad); err == nil {
			t.Errorf("isotime.Parse(%q) succeeded, want an error", bad)
		}
	}
}

// FuzzCanonical checks Canonical against its definition: Format of what
// Parse reads from s is s.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		"2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00.001000+00:00", "2026-01-01T00:00:00.000000+00:00",
		"2024-02-29T23:59:59.999999", "2023-02-29T00:00:00", "2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00Z",
		"2026-01-01 00:00:00+00:00", "2026-01-01T00:00:00+05:30", "2026-01-01T00:00:00-05:30:15",
		"2026-01-01T00:00:00+05:30:00", "2026-01-01T00:00", "0000-02-29T00:00:00", "1900-02-29T00:00:00",
		"2026-01-01T00:00:00.5+00:00", "2026-01-01T24:00:00", "2026-01-01T00:00:00+24:00", "2026-13-01T00:00:00",
		"2026-01-01T00:00:00+0530", "2026-01-01T00:00:00+05:30:15.123456",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := isotime.Parse(s)
		want := err == nil && isotime.Format(tm) == s
		if got := isotime.Canonical(s); got != want {
			t.Errorf("Canonical(%q) = %v, want %v (Parse: %v, Format: %q)", s, got, want, err, isotime.Format(tm))
		}
	})
}
