package secrets

import "testing"

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"key sk-proj-Abc123Def456Ghi789Jkl012 here", "key [REDACTED] here"},
		// A bare key of 8 to 15 characters after "sk-": openai scrubbed it
		// from errors while recorder wrote it to cassettes.
		{"Incorrect API key provided: sk-abcdefgh", "Incorrect API key provided: [REDACTED]"},
		{"my key is sk-abc123def456xyz.", "my key is [REDACTED]."},
		{"Authorization: Bearer abc.def", "Authorization: Bearer [REDACTED]"},
		{"Authorization: Bearer tok.en-VALUE_12345678", "Authorization: Bearer [REDACTED]"},
		{"authorization=Basic dXNlcjpwYXNz", "authorization=Basic [REDACTED]"},
		{"url?api-key=abc123&x=1", "url?api-key=[REDACTED]&x=1"},
		{"The bearer of bad news asked for a task-list.", "The bearer of bad news asked for a task-list."},
		{"What is the password policy? sk-short", "What is the password policy? sk-short"},
		{"plain message", "plain message"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactExact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"key my-local-secret here", "key [REDACTED] here"},
		{`{"u":"https:\/\/h\/p\/my\/secret"}`, `{"u":"https:\/\/h\/p\/[REDACTED]"}`},
		{`"a\\\/b my\\\/secret"`, `"a\\\/b [REDACTED]"`},
		{"abc is too short to be a secret", "abc is too short to be a secret"},
	} {
		if got := RedactExact(tc.in, "my-local-secret", "my/secret", "abc"); got != tc.want {
			t.Errorf("RedactExact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPublicHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Content-Type": true, "User-Agent": true, "X-Stainless-Os": true,
		"Authorization": false, "Api-Key": false, "X-Api-Key": false, "X-Org-Token": false,
	} {
		if got := PublicHeader(name); got != want {
			t.Errorf("PublicHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHeaderValues(t *testing.T) {
	got := HeaderValues(map[string][]string{
		"Authorization": {"Bearer tok-0123456789"}, "X-Org-Token": {"org-secret-value"},
		"Content-Type": {"application/json"}, "X-Short": {"1"},
	})
	want := map[string]bool{"Bearer tok-0123456789": true, "tok-0123456789": true, "org-secret-value": true}
	if len(got) != len(want) {
		t.Fatalf("HeaderValues = %q, want %v", got, want)
	}
	for _, v := range got {
		if !want[v] {
			t.Errorf("HeaderValues = %q, want %v", got, want)
		}
	}
}

// TestRedactExactOrder: a secret that holds another is replaced whole,
// whatever the order they are given in.
func TestRedactExactOrder(t *testing.T) {
	in := `{"echo":"Bearer sk-abcdefgh12345","key":"sk-abcdefgh12345x"}`
	want := `{"echo":"[REDACTED]","key":"[REDACTED]"}`
	for _, known := range [][]string{
		{"sk-abcdefgh12345", "Bearer sk-abcdefgh12345", "sk-abcdefgh12345x"},
		{"sk-abcdefgh12345x", "Bearer sk-abcdefgh12345", "sk-abcdefgh12345"},
	} {
		if got := RedactExact(in, known...); got != want {
			t.Errorf("RedactExact(%q, %q) = %q, want %q", in, known, got, want)
		}
	}
}

// Secrets of equal length that overlap in the text are replaced in one
// order whatever order they are given in (header values come in a map's).
func TestRedactExactOrderIndependent(t *testing.T) {
	const text = "echo: abcdXY12abcd"
	a, b := "abcdXY12", "XY12abcd"
	got1, got2 := RedactExact(text, a, b), RedactExact(text, b, a)
	if got1 != got2 {
		t.Fatalf("RedactExact depends on argument order: %q vs %q", got1, got2)
	}
	if got1 != "echo: abcd[REDACTED]" {
		t.Fatalf("RedactExact = %q, want %q", got1, "echo: abcd[REDACTED]")
	}
}
