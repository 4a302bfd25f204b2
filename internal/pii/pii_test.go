package pii

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/artana-go/go-artana/internal/original"
)

var piiCases = []struct{ in, want string }{
	{"My email is user@example.com", "My email is [REDACTED_EMAIL]"},
	{"a@b.com.x1", "[REDACTED_EMAIL].x1"},
	{"x.y+z@mail.example.org, then", "[REDACTED_EMAIL], then"},
	{"user@example.c", "user@example.c"},
	{"user@example.com9", "user@example.com9"},
	{"call 555-123-4567 now", "call [REDACTED_PHONE] now"},
	{"call (555) 123-4567", "call ([REDACTED_PHONE]"}, // \b before "(" needs a word character
	{"x(555) 123-4567", "x[REDACTED_PHONE]"},
	{"+1 555.123.4567", "+[REDACTED_PHONE]"},
	{"a+1 555.123.4567", "a[REDACTED_PHONE]"},
	{"5551234567", "[REDACTED_PHONE]"},
	{"ssn 123-45-6789.", "ssn [REDACTED_SSN]."},
	{"١٢٣-٤٥-٦٧٨٩", "[REDACTED_SSN]"}, // \d is any Unicode decimal digit
	{"555\v123\x1c4567", "[REDACTED_PHONE]"},
	{"é555-123-4567", "é555-123-4567"}, // é is a word character: no \b
	{"no pii here", "no pii here"},
	{"", ""},
}

func TestScrub(t *testing.T) {
	for _, c := range piiCases {
		if got := Scrub(c.in); got != c.want {
			t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// piiAlphabet is made of the characters the patterns care about.
var piiAlphabet = []rune("0123456789111--..  ()++@@@_%aZcom\v\x1c\u00a0\u3000é漢٣٤_\n")

func randomPIIText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(piiAlphabet[r.IntN(len(piiAlphabet))])
	}
	return b.String()
}

// The scrubber redacts exactly what the Python original's
// PIIScrubberMiddleware redacts, on crafted and random text.
func TestScrubMatchesSeed(t *testing.T) {
	dir := original.Dir(t)
	inputs := []string{}
	for _, c := range piiCases {
		inputs = append(inputs, c.in)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		inputs = append(inputs, randomPIIText(r, 1+i%40))
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", `
import json, sys
from artana.middleware.pii_scrubber import PIIScrubberMiddleware
m = PIIScrubberMiddleware()
json.dump([m._redact_text(s) for s in json.load(sys.stdin)], sys.stdout)
`)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+original.PythonPath(dir))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, s := range inputs {
		if got := Scrub(s); got != want[i] && bad < 10 {
			bad++
			t.Errorf("Scrub(%q)\n got %q\nwant %q (Python original)", s, got, want[i])
		}
	}
}

// asciiOracle is the seed's patterns in package regexp, which on ASCII text
// agrees with Python: leftmost-first matching, ASCII \b and \d; \s is
// widened to Python's ASCII white space.
var asciiOracle = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`), "[REDACTED_EMAIL]"},
	{regexp.MustCompile(`\b(?:\+?1[-.\t\n\v\f\r \x1c-\x1f]?)?(?:\(?\d{3}\)?[-.\t\n\v\f\r \x1c-\x1f]?)\d{3}[-.\t\n\v\f\r \x1c-\x1f]?\d{4}\b`), "[REDACTED_PHONE]"},
	{regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`), "[REDACTED_SSN]"},
}

func oracleScrub(s string) string {
	for _, p := range asciiOracle {
		s = p.re.ReplaceAllLiteralString(s, p.repl)
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checkLinear scrubs s and fails if the scrubber examined more than a
// constant number of characters per input byte.
func checkLinear(t *testing.T, s string) string {
	t.Helper()
	var sc piiScan
	out := sc.scrub(s)
	if limit := 300*len(s) + 300; sc.steps > limit {
		t.Fatalf("scrubbing %d bytes examined %d characters (limit %d): not linear", len(s), sc.steps, limit)
	}
	return out
}

// Input built to make a backtracking engine slow costs the scrubber a
// bounded amount of work per byte, at every size.
func TestScrubAdversarialLinear(t *testing.T) {
	shapes := map[string]func(n int) string{
		"local part without @":      func(n int) string { return strings.Repeat("a", n) },
		"many @ and dots":           func(n int) string { return strings.Repeat("a@a.", n/4) },
		"long domain, no tld":       func(n int) string { return "a@" + strings.Repeat("a.1", n/3) },
		"long domain, tld at start": func(n int) string { return "a@b.cc" + strings.Repeat("-9", n/2) },
		"digits":                    func(n int) string { return strings.Repeat("1", n) },
		"phone-like separators":     func(n int) string { return strings.Repeat("1-2 (3) ", n/8) },
		"ssn-like":                  func(n int) string { return strings.Repeat("123-45-", n/7) },
		"unicode digits":            func(n int) string { return strings.Repeat("٣", n/2) },
	}
	for name, shape := range shapes {
		for _, n := range []int{1 << 10, 1 << 14} {
			checkLinear(t, shape(n))
		}
		_ = name
	}
}

func FuzzScrub(f *testing.F) {
	for _, c := range piiCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := checkLinear(t, s)
		if isASCII(s) {
			if want := oracleScrub(s); got != want {
				t.Fatalf("Scrub(%q) = %q, regexp oracle %q", s, got, want)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Scrub(%q) = %q is not valid UTF-8", s, got)
		}
	})
}

// ASCII random text agrees with the regexp oracle.
func TestScrubMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ascii := []rune("0123456789111--..  ()++@@_%aZcom\v\x1c\n")
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(30) {
			b.WriteRune(ascii[r.IntN(len(ascii))])
		}
		s := b.String()
		if got, want := Scrub(s), oracleScrub(s); got != want {
			t.Fatalf("Scrub(%q) = %q, regexp oracle %q", s, got, want)
		}
	}
}

func BenchmarkScrub(b *testing.B) {
	// A 100 KB prompt of prose with some PII in it.
	unit := "Please transfer 10 USD from acc_1 to acc_2. Contact me at jane.doe@example.com or (555) 123-4567; SSN 123-45-6789. Thanks! "
	prompt := strings.Repeat(unit, 100*1024/len(unit)+1)[:100*1024]
	for _, bc := range []struct{ name, s string }{
		{"prose_with_pii", prompt},
		{"adversarial_digits", strings.Repeat("1", 100*1024)},
		{"adversarial_local_part", strings.Repeat("a.", 50*1024)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				Scrub(bc.s)
			}
		})
	}
}

func TestScrubKeepingIdentifiers(t *testing.T) {
	for _, tc := range []struct{ in, original, keeping string }{
		// Digits inside longer identifiers: the original redacts part of
		// them; the option leaves them alone.
		{"Refund order 112-7654321-1234567 please", "Refund order [REDACTED_PHONE]-1234567 please", "Refund order 112-7654321-1234567 please"},
		{"ticket #4155550123", "ticket #[REDACTED_PHONE]", "ticket #4155550123"},
		{"SKU A-123-45-6789", "SKU A-[REDACTED_SSN]", "SKU A-123-45-6789"},
		// Whole phone numbers, SSNs and e-mail addresses are still redacted.
		{"call 415-555-0123.", "call [REDACTED_PHONE].", "call [REDACTED_PHONE]."},
		{"call (415) 555-0123 or +1 415 555 0123", "call ([REDACTED_PHONE] or +[REDACTED_PHONE]", "call ([REDACTED_PHONE] or +[REDACTED_PHONE]"},
		{"ssn 123-45-6789, mail jane.doe@example.com", "ssn [REDACTED_SSN], mail [REDACTED_EMAIL]", "ssn [REDACTED_SSN], mail [REDACTED_EMAIL]"},
		{"order 112-7654321-1234567, call 4155550123", "order [REDACTED_PHONE]-1234567, call [REDACTED_PHONE]", "order 112-7654321-1234567, call [REDACTED_PHONE]"},
		{"no digits here", "no digits here", "no digits here"},
		{"mail a-4155550123@x.com", "mail [REDACTED_EMAIL]", "mail [REDACTED_EMAIL]"},
		{"private \ue000 use #4155550123", "private \ue000 use #[REDACTED_PHONE]", "private \ue000 use #[REDACTED_PHONE]"},
	} {
		if got := Scrub(tc.in); got != tc.original {
			t.Errorf("Scrub(%q) = %q, want %q (the original's scrubber is unchanged)", tc.in, got, tc.original)
		}
		if got := ScrubKeepingIdentifiers(tc.in); got != tc.keeping {
			t.Errorf("ScrubKeepingIdentifiers(%q) = %q, want %q", tc.in, got, tc.keeping)
		}
	}
}

// TestScrubKeepingIdentifiersMany: a text with more identifiers to keep
// than there are marks for them is scrubbed as Scrub does.
func TestScrubKeepingIdentifiersMany(t *testing.T) {
	for _, n := range []int{0x1900, 0x1901} {
		s := strings.Repeat("112-7654321-1234567 ", n)
		got := ScrubKeepingIdentifiers(s)
		want := s
		if n > 0x1900 {
			want = Scrub(s)
		}
		if got != want {
			t.Errorf("%d identifiers: got %.60q..., want %.60q...", n, got, want)
		}
	}
}

// FuzzScrubKeepingIdentifiers: the identifier-keeping scrubber changes
// nothing the original leaves alone, leaves no mask behind, and redacts
// every e-mail address the original redacts.
func FuzzScrubKeepingIdentifiers(f *testing.F) {
	for _, s := range []string{
		"Refund order 112-7654321-1234567 please", "ticket #4155550123", "call 415-555-0123.",
		"mail jane.doe@example.com, ssn 123-45-6789", "A-123-45-6789/4155550123-x", "\ue000 #4155550123",
		"a-4155550123@x.com", "jane@4155550123-x.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ScrubKeepingIdentifiers(s)
		if Scrub(s) == s && got != s {
			t.Fatalf("%q: changed to %q, though the original scrubber changes nothing", s, got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r >= 0xE000 && r <= 0xF8FF }) &&
			!strings.ContainsFunc(s, func(r rune) bool { return r >= 0xE000 && r <= 0xF8FF }) {
			t.Fatalf("%q: a mask was left in %q", s, got)
		}
		if want, n := strings.Count(Scrub(s), "[REDACTED_EMAIL]"), strings.Count(got, "[REDACTED_EMAIL]"); n != want {
			t.Fatalf("%q: %d e-mail addresses redacted in %q, the original redacts %d", s, n, got, want)
		}
	})
}
