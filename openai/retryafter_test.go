package openai

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 12, 9, 44, 18, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 1.5 ":                         1500 * time.Millisecond,
		"-3":                            0,
		"1e300":                         0,
		"soon":                          0,
		"Mon, 12 Jan 2026 09:44:48 GMT": 30 * time.Second,
		"Mon, 12 Jan 2026 09:44:00 GMT": 0, // in the past
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
	h := http.Header{}
	h.Set("Retry-After-Ms", "250")
	h.Set("Retry-After", "9")
	if got := retryAfter(h, now); got != 250*time.Millisecond {
		t.Errorf("retryAfter prefers retry-after-ms: got %v", got)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	f.Add("7")
	f.Add("0.25")
	f.Add("Mon, 12 Jan 2026 09:44:48 GMT")
	f.Add("NaN")
	f.Fuzz(func(t *testing.T, in string) {
		now := time.Date(2026, 1, 12, 9, 44, 18, 0, time.UTC)
		if d := parseRetryAfter(in, now); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", in, d)
		}
	})
}

func TestScrubber(t *testing.T) {
	s := scrubber{secrets: []string{"my-local-secret"}}
	for in, want := range map[string]string{
		"key my-local-secret here":                        "key [REDACTED] here",
		"Incorrect API key provided: sk-abcdefghijklmnop": "Incorrect API key provided: [REDACTED]",
		"Authorization: Bearer abc.def":                   "Authorization: Bearer [REDACTED]",
		"url?api-key=abc123&x=1":                          "url?api-key=[REDACTED]&x=1",
		"plain message":                                   "plain message",
	} {
		if got := s.scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
}
