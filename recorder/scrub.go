package recorder

import (
	"regexp"
	"strings"

	"github.com/artana-go/go-artana/artana"
)

// A Scrubber edits an interaction before it is matched or written, to
// remove what must not reach a cassette. Scrubbers run in order; an error
// fails the call (nothing is recorded). They see the request alone (Response
// zero, Err nil) when it is scrubbed for matching, and the whole
// interaction when it is recorded, so they must tolerate both and give the
// same request either time.
type Scrubber func(*Interaction) error

// Redacted replaces every secret ScrubSecrets finds.
const Redacted = "[REDACTED]"

// secretPatterns match credentials in free text. The first group, when
// present, is kept: it is the name the secret was given. A pattern runs
// only on text that holds one of its hints (lowercased), which keeps
// scrubbing cheap on ordinary text.
var secretPatterns = []struct {
	hints []string
	re    *regexp.Regexp
}{
	// Authorization values: "Bearer xyz".
	{[]string{"bearer"}, regexp.MustCompile(`(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*`)},
	// name=value and "name": "value" pairs whose name says secret. An
	// authorization scheme ("Bearer ") is kept with the name.
	{[]string{"key", "token", "secret", "password", "authorization"},
		regexp.MustCompile(`(?i)((?:api[_-]?key|x-api-key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|secret[_-]?key|password|authorization)["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?)[^\s"',;&}]{4,}`)},
	// Provider key formats: OpenAI/Anthropic "sk-...", Google "AIza...",
	// AWS access key ids, GitHub and Slack tokens, JWTs.
	{[]string{"sk-"}, regexp.MustCompile(`()\bsk-[A-Za-z0-9_\-]{16,}`)},
	{[]string{"aiza"}, regexp.MustCompile(`()\bAIza[0-9A-Za-z_\-]{35}`)},
	{[]string{"akia", "asia"}, regexp.MustCompile(`()\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`()\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})`)},
	{[]string{"xox"}, regexp.MustCompile(`()\bxox[abposr]-[A-Za-z0-9\-]{10,}`)},
	{[]string{"eyj"}, regexp.MustCompile(`()\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`)},
}

// RedactSecrets returns s with everything that looks like an API key,
// bearer token or other credential replaced by Redacted. The name a secret
// was given ("api_key=", "Authorization: Bearer ") is kept.
func RedactSecrets(s string) string {
	if s == "" {
		return s
	}
	lower := strings.ToLower(s)
	for _, p := range secretPatterns {
		if !containsAny(lower, p.hints) || !p.re.MatchString(s) {
			continue
		}
		s = p.re.ReplaceAllString(s, "${1}"+Redacted)
		lower = strings.ToLower(s)
	}
	return s
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// ScrubSecrets is the default scrubber, always run first: it applies
// RedactSecrets to every free-text field of the interaction: the prompt,
// messages, tool descriptions, output, tool call arguments, the error
// message and the text of streamed deltas.
func ScrubSecrets(in *Interaction) error {
	r := &in.Request
	r.Prompt = RedactSecrets(r.Prompt)
	for i := range r.Messages {
		m := &r.Messages[i]
		m.Content = RedactSecrets(m.Content)
		m.ToolCallID = RedactSecrets(m.ToolCallID)
		for j := range m.ToolCalls {
			m.ToolCalls[j].ID = RedactSecrets(m.ToolCalls[j].ID)
			m.ToolCalls[j].ArgumentsJSON = RedactSecrets(m.ToolCalls[j].ArgumentsJSON)
		}
	}
	for i := range r.Tools {
		r.Tools[i].Description = RedactSecrets(r.Tools[i].Description)
	}
	in.Response.OutputJSON = RedactSecrets(in.Response.OutputJSON)
	for i := range in.Response.ToolCalls {
		in.Response.ToolCalls[i].ID = RedactSecrets(in.Response.ToolCalls[i].ID)
		in.Response.ToolCalls[i].ArgumentsJSON = RedactSecrets(in.Response.ToolCalls[i].ArgumentsJSON)
	}
	if in.Err != nil {
		in.Err.Message = RedactSecrets(in.Err.Message)
	}
	scrubDeltas(in)
	return nil
}

// scrubRequest returns the request as it is matched and recorded: cloned,
// without RunID, scrubbed.
func scrubRequest(req artana.ModelRequest, scrubbers []Scrubber) (artana.ModelRequest, error) {
	in := Interaction{Request: cloneRequest(req)}
	for _, s := range scrubbers {
		if err := s(&in); err != nil {
			return artana.ModelRequest{}, err
		}
	}
	return in.Request, nil
}
