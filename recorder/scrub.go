package recorder

import (
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/secrets"
)

// A Scrubber edits an interaction before it is matched or written, to
// remove what must not reach a cassette. Scrubbers run in order; an error
// fails the call (nothing is recorded). They see the request alone (Response
// zero, Err nil) when it is scrubbed for matching, and the whole
// interaction when it is recorded, so they must tolerate both and give the
// same request either time.
type Scrubber func(*Interaction) error

// ScrubSecrets is the default scrubber, always run first: it replaces
// everything that looks like an API key, bearer token or other credential
// by "[REDACTED]" (the scrubber openai's errors go through too), keeping
// the name a secret was given ("api_key=", "Authorization: Bearer "), in
// every free-text field of the interaction: the prompt,
// messages, tool descriptions, output, tool call arguments, the error
// message, the text of streamed deltas and, for a Transport's interaction,
// the query, request body, kept response headers and response body.
func ScrubSecrets(in *Interaction) error {
	r := &in.Request
	r.Prompt = secrets.Redact(r.Prompt)
	for i := range r.Messages {
		m := &r.Messages[i]
		m.Content = secrets.Redact(m.Content)
		m.ToolCallID = secrets.Redact(m.ToolCallID)
		for j := range m.ToolCalls {
			m.ToolCalls[j].ID = secrets.Redact(m.ToolCalls[j].ID)
			m.ToolCalls[j].ArgumentsJSON = secrets.Redact(m.ToolCalls[j].ArgumentsJSON)
		}
	}
	for i := range r.Tools {
		r.Tools[i].Description = secrets.Redact(r.Tools[i].Description)
	}
	in.Response.OutputJSON = secrets.Redact(in.Response.OutputJSON)
	for i := range in.Response.ToolCalls {
		in.Response.ToolCalls[i].ID = secrets.Redact(in.Response.ToolCalls[i].ID)
		in.Response.ToolCalls[i].ArgumentsJSON = secrets.Redact(in.Response.ToolCalls[i].ArgumentsJSON)
	}
	if in.Err != nil {
		in.Err.Message = secrets.Redact(in.Err.Message)
	}
	scrubDeltas(in)
	if h := in.HTTP; h != nil {
		h.Query = secrets.Redact(h.Query)
		h.Body = redactBytes(h.Body)
		h.Extra = redactBytes(h.Extra)
		for k, v := range h.Header {
			h.Header[k] = secrets.Redact(v)
		}
		h.ResponseBody = redactBytes(h.ResponseBody)
	}
	return nil
}

// redactBytes is secrets.Redact on bytes; b itself when nothing changes.
func redactBytes(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	if s := secrets.Redact(string(b)); s != string(b) {
		return []byte(s)
	}
	return b
}

// scrubRequest returns the request as it is matched and recorded: cloned,
// without RunID, scrubbed.
func scrubRequest(req llm.Request, scrubbers []Scrubber) (llm.Request, error) {
	r, _, err := scrubCall(req, nil, scrubbers)
	return r, err
}

// scrubCall is scrubRequest for a call with an HTTP request side, which
// is scrubbed (a copy) too.
func scrubCall(req llm.Request, h *HTTPExchange, scrubbers []Scrubber) (llm.Request, *HTTPExchange, error) {
	in := Interaction{Request: cloneRequest(req), HTTP: h.requestSide()}
	for _, s := range scrubbers {
		if err := s(&in); err != nil {
			return llm.Request{}, nil, err
		}
	}
	return in.Request, in.HTTP, nil
}
