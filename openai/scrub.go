package openai

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/artana-go/go-artana/internal/secrets"
	"github.com/openai/openai-go/v3/option"
)

// requestSecrets returns the secret values req carries in its headers
// (secrets.HeaderValues), with the Model's configured keys.
func (m *Model) requestSecrets(req *http.Request) []string {
	out := append([]string(nil), m.scrub.secrets...)
	return append(out, secrets.HeaderValues(req.Header)...)
}

// scrubBody is the Model's innermost middleware: it rewrites the answer's
// body, line by line, so that nothing the SDK decodes from it (output, tool
// call arguments, ids, error fields, stream events) holds a secret the
// request carried: the configured key, the Authorization, api-key and
// x-api-key values, extra headers' values. An error answer is also
// scrubbed of whatever looks like a credential; a successful one only with
// WithOutputScrubbing, since that changes what the model said.
func (m *Model) scrubBody() option.RequestOption {
	return option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		res, err := next(req)
		if res == nil || res.Body == nil {
			return res, err
		}
		s := scrubber{secrets: m.requestSecrets(req), exactOnly: res.StatusCode < 400 && !m.cfg.scrubOutputs}
		res.Body = &scrubReader{src: res.Body, br: bufio.NewReaderSize(res.Body, 64<<10), scrub: s}
		res.ContentLength = -1
		res.Header.Del("Content-Length")
		return res, err
	})
}

// scrubReader yields its source with each line scrubbed. A secret never
// spans lines: JSON strings hold no raw newline, and an event stream is
// line-delimited.
type scrubReader struct {
	src   io.ReadCloser
	br    *bufio.Reader
	scrub scrubber
	buf   []byte // scrubbed bytes not yet read
	err   error
}

func (r *scrubReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		line, err := r.br.ReadBytes('\n')
		r.err = err
		if len(line) > 0 {
			r.buf = r.scrub.scrubBytes(line)
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *scrubReader) Close() error { return r.src.Close() }

// scrubBytes scrubs one line of a body. The exact secrets are replaced in
// the raw text (they hold nothing JSON escapes but '/', which
// secrets.RedactExact handles). The patterns run on the strings of a JSON line
// (an event stream's "data: " line too), decoded, so that a match never
// takes a backslash or a quote of the JSON with it.
func (s scrubber) scrubBytes(line []byte) []byte {
	hit := false
	for _, k := range s.secrets {
		first, _, _ := strings.Cut(k, "/")
		if bytes.Contains(line, []byte(first)) {
			hit = true
			break
		}
	}
	if hit {
		exact := scrubber{secrets: s.secrets, exactOnly: true}
		line = []byte(exact.scrub(string(line)))
	}
	if s.exactOnly {
		return line
	}
	body, eol := line, []byte(nil)
	if i := len(bytes.TrimRight(body, "\r\n")); i < len(body) {
		body, eol = body[:i], body[i:]
	}
	prefix := []byte(nil)
	if rest, ok := bytes.CutPrefix(body, []byte("data:")); ok {
		trimmed := bytes.TrimLeft(rest, " ")
		prefix, body = body[:len(body)-len(trimmed)], trimmed
	}
	if len(bytes.TrimSpace(body)) == 0 || !json.Valid(body) {
		return []byte(scrubber{}.scrub(string(line)))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return line
	}
	var out bytes.Buffer
	out.Write(prefix)
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(scrubValue(v)); err != nil {
		return line
	}
	out.Truncate(out.Len() - 1) // Encode's newline
	out.Write(eol)
	return out.Bytes()
}

// scrubValue scrubs every string of a decoded JSON value of whatever looks
// like a credential.
func scrubValue(v any) any {
	switch x := v.(type) {
	case string:
		return scrubber{}.scrub(x)
	case []any:
		for i := range x {
			x[i] = scrubValue(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = scrubValue(e)
		}
	}
	return v
}
