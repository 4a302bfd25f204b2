// Package secrets is the one secret scrubber of the module: openai scrubs
// its errors and log lines with it, recorder every interaction before it is
// matched or written to a cassette, so that what one of them removes the
// other never writes.
package secrets

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Marker replaces every secret found.
const Marker = "[REDACTED]"

// patterns match credentials in free text. The first group, when present,
// is kept: it is the name the secret was given. A pattern runs only on text
// that holds one of its hints (lowercased), which keeps scrubbing cheap on
// ordinary text.
var patterns = []struct {
	hints []string
	re    *regexp.Regexp
}{
	// Authorization values: "Bearer xyz".
	{[]string{"bearer"}, regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*`)},
	// name=value and "name": "value" pairs whose name says secret. An
	// authorization scheme ("Bearer ") is kept with the name.
	{[]string{"key", "token", "secret", "password", "authorization"},
		regexp.MustCompile(`(?i)((?:api[_-]?key|x-api-key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|secret[_-]?key|password|authorization)["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?)[^\s"',;&}]{4,}`)},
	// Provider key formats: OpenAI/Anthropic "sk-..." (8 characters or
	// more after the prefix), Google "AIza...", AWS access key ids, GitHub
	// and Slack tokens, JWTs.
	{[]string{"sk-"}, regexp.MustCompile(`()\bsk-[A-Za-z0-9_\-]{8,}`)},
	{[]string{"aiza"}, regexp.MustCompile(`()\bAIza[0-9A-Za-z_\-]{35}`)},
	{[]string{"akia", "asia"}, regexp.MustCompile(`()\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`()\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})`)},
	{[]string{"xox"}, regexp.MustCompile(`()\bxox[abposr]-[A-Za-z0-9\-]{10,}`)},
	{[]string{"eyj"}, regexp.MustCompile(`()\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`)},
}

// Redact returns s with everything that looks like an API key, bearer
// token or other credential replaced by Marker. The name a secret was given
// ("api_key=", "Authorization: Bearer ") is kept.
func Redact(s string) string {
	if !mayHoldHint(s) {
		return s
	}
	lower := strings.ToLower(s)
	for _, p := range patterns {
		if !containsAny(lower, p.hints) || !p.re.MatchString(s) {
			continue
		}
		s = p.re.ReplaceAllString(s, "${1}"+Marker)
		lower = strings.ToLower(s)
	}
	return s
}

// mayHoldHint reports whether strings.ToLower(s) may contain the hint of a
// pattern, in one pass over s and without allocating: most text holds
// none, and is then returned as it is. It compares ASCII letters folded to
// lower case; a non-ASCII rune lowers to non-ASCII text (no hint byte) but
// for KELVIN SIGN (to "k") and LATIN CAPITAL LETTER I WITH DOT ABOVE (to
// "i"), which it answers true for, leaving them to the patterns.
func mayHoldHint(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			if strings.HasPrefix(s[i:], "\u212a") || strings.HasPrefix(s[i:], "\u0130") {
				return true
			}
			continue
		}
		hints := hintsBy[foldASCII(c)]
		if hints == nil || i+1 == len(s) {
			continue
		}
		if second := foldASCII(s[i+1]); second < 'a' || second > 'z' || secondBy[foldASCII(c)]&(1<<(second-'a')) == 0 {
			continue
		}
		for _, h := range hints {
			if hasFoldPrefix(s[i:], h) {
				return true
			}
		}
	}
	return false
}

func foldASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hintsBy lists the hints by their first byte; secondBy has bit c-'a' set
// for each letter c that is the second byte of one of them (every hint's
// second byte is a letter).
var hintsBy, secondBy = func() (by [256][]string, second [256]uint32) {
	for _, hs := range [][]string{hintsB, hintsK, hintsT, hintsS, hintsP, hintsA, hintsG, hintsX, hintsE} {
		for _, h := range hs {
			by[h[0]] = append(by[h[0]], h)
			second[h[0]] |= 1 << (h[1] - 'a')
		}
	}
	return by, second
}()

// The hints of every pattern, by first letter.
var (
	hintsB = []string{"bearer"}
	hintsK = []string{"key"}
	hintsT = []string{"token"}
	hintsS = []string{"secret", "sk-"}
	hintsP = []string{"password"}
	hintsA = []string{"authorization", "aiza", "akia", "asia"}
	hintsG = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}
	hintsX = []string{"xox"}
	hintsE = []string{"eyj"}
)

// hasFoldPrefix reports whether s starts with hint (lower-case ASCII),
// ASCII letters of s compared folded to lower case.
func hasFoldPrefix(s, hint string) bool {
	if len(s) < len(hint) {
		return false
	}
	for j := 0; j < len(hint); j++ {
		if foldASCII(s[j]) != hint[j] {
			return false
		}
	}
	return true
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// RedactExact returns text with each of the known secrets (those of 4
// characters or more) replaced by Marker, also where a JSON encoder escaped
// their slashes, at any depth of JSON within JSON ("a\/b", "a\\\/b").
// Longer secrets are replaced first, so that the result does not depend on
// the order of known when one secret holds another ("Bearer sk-..." and
// "sk-...").
func RedactExact(text string, known ...string) string {
	known = slices.Clone(known)
	// Longest first, so that "Bearer KEY" is replaced whole before KEY;
	// equal lengths in byte order, so the result never depends on the
	// order the caller gathered them in (a map's, for headers).
	slices.SortFunc(known, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, k := range known {
		if len(k) >= 4 {
			text = replaceSecret(text, k)
		}
	}
	return text
}

func replaceSecret(text, k string) string {
	text = strings.ReplaceAll(text, k, Marker)
	parts := strings.Split(k, "/")
	if len(parts) == 1 || !strings.Contains(text, parts[0]) {
		return text
	}
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := regexp.MustCompile(strings.Join(parts, `\\*/`))
	return re.ReplaceAllLiteralString(text, Marker)
}

// publicHeaders are the request headers whose values are not secret: the
// standard ones and the OpenAI SDK's own.
var publicHeaders = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Content-Type": true, "Content-Length": true,
	"User-Agent": true, "Idempotency-Key": true, "Openai-Organization": true, "Openai-Project": true,
}

// PublicHeader reports whether the value of the request header name (in
// canonical form, as http.Header keys are) may be recorded or shown: it is
// on the allow-list of standard and SDK headers (Accept, Content-Type,
// User-Agent, X-Stainless-*, ...). Every other header's value,
// Authorization, api-key and x-api-key and any header a caller added
// included, is a secret: never recorded, and scrubbed from answers.
func PublicHeader(name string) bool {
	return publicHeaders[name] || strings.HasPrefix(name, "X-Stainless-")
}

// minHeaderSecret is the shortest header value taken as a secret: shorter
// values ("1", "true") would scrub ordinary words.
const minHeaderSecret = 8

// HeaderValues returns the secret values a request carries in h: the value
// of every header that is not PublicHeader (Authorization, api-key,
// x-api-key and any header a caller added), and the credential alone of a
// "Scheme credential" value, each at least 8 bytes long. Scrub an answer of
// them with RedactExact: an endpoint may echo them anywhere.
func HeaderValues(h map[string][]string) []string {
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); len(v) >= minHeaderSecret {
			out = append(out, v)
		}
	}
	for name, vals := range h {
		if PublicHeader(name) {
			continue
		}
		for _, v := range vals {
			add(v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				add(cred)
			}
		}
	}
	return out
}
