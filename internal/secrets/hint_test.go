package secrets

import (
	"slices"
	"strings"
	"testing"
)

// TestHintTables: the first-letter tables of mayHoldHint hold exactly the
// hints of the patterns.
func TestHintTables(t *testing.T) {
	var want, got []string
	for _, p := range patterns {
		want = append(want, p.hints...)
	}
	for _, hs := range [][]string{hintsB, hintsK, hintsT, hintsS, hintsP, hintsA, hintsG, hintsX, hintsE} {
		got = append(got, hs...)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("hint tables = %q, patterns' hints = %q", got, want)
	}
}

// holdsHint is what Redact tested before mayHoldHint: a hint in the
// lowered text.
func holdsHint(s string) bool {
	lower := strings.ToLower(s)
	for _, p := range patterns {
		if containsAny(lower, p.hints) {
			return true
		}
	}
	return false
}

var hintSeeds = []string{
	"", "plain message", "Problem 001. Solve 2 + 2 and answer with the number only.",
	"BEARER x", "my KeY", "to\u212aen", "api_\u212aey=abcdef", "\u0130", "a\u0130za", "AIZA", "s\u212a-",
	"github_PAT_", "ghX_", "xo", "eyJ", "é key", "\xffkey", "ke\xffy", "secre", "passwor",
}

func TestMayHoldHint(t *testing.T) {
	for _, s := range hintSeeds {
		if holdsHint(s) && !mayHoldHint(s) {
			t.Errorf("mayHoldHint(%q) = false, but the lowered text holds a hint", s)
		}
	}
	if mayHoldHint("The examiner reads the final answer alone.") {
		t.Errorf("mayHoldHint is true on text without a hint")
	}
}

// FuzzMayHoldHint: mayHoldHint never answers false where the lowered text
// holds a hint, so Redact returns the same text as before it.
func FuzzMayHoldHint(f *testing.F) {
	for _, s := range hintSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if holdsHint(s) && !mayHoldHint(s) {
			t.Fatalf("mayHoldHint(%q) = false, but the lowered text holds a hint", s)
		}
		if !mayHoldHint(s) && Redact(s) != s {
			t.Fatalf("Redact(%q) changed text without a hint", s)
		}
	})
}

func BenchmarkRedactPlain(b *testing.B) {
	s := strings.Repeat("Show no working; the examiner reads the final answer alone. ", 5)
	b.ReportAllocs()
	for b.Loop() {
		Redact(s)
	}
}

// TestHintSecondLetters: mayHoldHint's second-byte filter assumes every
// hint's second byte is a lower-case letter.
func TestHintSecondLetters(t *testing.T) {
	for _, p := range patterns {
		for _, h := range p.hints {
			if len(h) < 2 || h[1] < 'a' || h[1] > 'z' {
				t.Errorf("hint %q: the second byte is not a lower-case letter", h)
			}
		}
	}
}
