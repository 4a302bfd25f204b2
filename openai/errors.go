package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/secrets"
	oai "github.com/openai/openai-go/v3"
)

// An APIError is an error the endpoint answered with, as the Err of a
// *llm.Error. It keeps what the endpoint said and nothing of the
// request, so no credentials travel with it.
type APIError struct {
	StatusCode int    // HTTP status
	Type       string // error.type, e.g. "invalid_request_error"
	Code       string // error.code, e.g. "invalid_api_key"
	Param      string // error.param, if any
	Message    string // error.message, scrubbed of credentials
}

// Error returns the status and what the endpoint said.
func (e *APIError) Error() string {
	s := e.Message
	if s == "" {
		s = fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		s = e.Code + ": " + s
	}
	return s
}

// hint says what to do about a permanent HTTP status.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return " (check OPENAI_API_KEY or openai.WithAPIKey)"
	case http.StatusForbidden:
		return " (the key may not have access to this model or endpoint)"
	case http.StatusNotFound:
		return " (check the model name and the base URL, e.g. OPENAI_BASE_URL or openai.WithBaseURL)"
	}
	return ""
}

// errBadOutput marks a 200 answer that cannot be used.
var errBadOutput = errors.New("unusable response")

// classOfStatus classifies an HTTP status as the Python original's adapter does.
func classOfStatus(status int) llm.ErrorClass {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusConflict,
		status == http.StatusTooManyRequests, status >= 500:
		return llm.ClassTransient
	}
	return llm.ClassPermanent
}

// isTransientNetErr reports whether a transport error is worth retrying:
// the connection was reset, refused or closed mid-answer.
func isTransientNetErr(err error) bool {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "server closed") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "GOAWAY")
}

// scrubber removes credentials from text that may end up in an error or a
// log line: the exact secrets it holds and, unless exactOnly, whatever
// looks like a credential.
type scrubber struct {
	secrets   []string
	exactOnly bool
}

// scrub removes the known secrets and, unless exactOnly, whatever looks
// like a credential, with the scrubber recorder applies to cassettes.
func (s scrubber) scrub(text string) string {
	text = secrets.RedactExact(text, s.secrets...)
	if s.exactOnly {
		return text
	}
	return secrets.Redact(text)
}

// scrubURL drops the user info and query of u, where credentials hide.
func scrubURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	return p.String()
}

// retryAfter reads the wait an answer asks for: OpenAI's retry-after-ms,
// then Retry-After in seconds or as an HTTP date. 0 if none.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms <= 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return parseRetryAfter(h.Get("Retry-After"), now)
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0 && secs <= 1e6) { // also rejects NaN
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// classify turns what one attempt produced into a *llm.Error.
// res is the last HTTP response, if any; parent is the caller's context,
// to tell its deadline from the attempt's own timeout.
func (m *Model) classify(parent context.Context, err error, res *http.Response) *llm.Error {
	if me, ok := errors.AsType[*llm.Error](err); ok {
		return me
	}
	var status int
	var header http.Header
	if res != nil {
		status, header = res.StatusCode, res.Header
	}
	if apiErr, ok := errors.AsType[*oai.Error](err); ok {
		e := &APIError{
			StatusCode: apiErr.StatusCode,
			Type:       m.scrub.scrub(apiErr.Type),
			Code:       m.scrub.scrub(apiErr.Code),
			Param:      m.scrub.scrub(apiErr.Param),
			Message:    m.scrub.scrub(apiErr.Message),
		}
		return &llm.Error{
			Class:      classOfStatus(apiErr.StatusCode),
			StatusCode: apiErr.StatusCode,
			Message:    e.Error() + hint(apiErr.StatusCode),
			RetryAfter: retryAfter(header, m.now()),
			Err:        e,
		}
	}
	if status >= 400 {
		// An error answer whose body is not OpenAI's error object, e.g. a
		// proxy's HTML page.
		e := &APIError{StatusCode: status}
		return &llm.Error{
			Class:      classOfStatus(status),
			StatusCode: status,
			Message:    "the endpoint answered " + http.StatusText(status) + " with a body that is not an OpenAI error object" + hint(status),
			RetryAfter: retryAfter(header, m.now()),
			Err:        e,
		}
	}
	switch {
	case errors.Is(err, context.Canceled) && parent.Err() != nil:
		return &llm.Error{Class: llm.ClassPermanent, Message: "the call was canceled", Err: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		msg := "the attempt timed out; raise openai.WithAttemptTimeout if the model is slow"
		if parent.Err() != nil {
			msg = "the caller's context deadline passed"
		}
		return &llm.Error{Class: llm.ClassTimeout, Message: msg, Err: context.DeadlineExceeded}
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return &llm.Error{Class: llm.ClassTimeout, Message: "the connection timed out", Err: m.safeErr(err)}
	}
	if ue, ok := errors.AsType[*url.Error](err); ok || isTransientNetErr(err) {
		class := llm.ClassPermanent
		if isTransientNetErr(err) {
			class = llm.ClassTransient
		}
		msg := "cannot reach the endpoint"
		if ue != nil {
			msg += " " + scrubURL(ue.URL)
		}
		return &llm.Error{Class: class, Message: msg, Err: m.safeErr(err)}
	}
	return &llm.Error{
		Class:   llm.ClassPermanent,
		Message: "the endpoint's answer cannot be used",
		Err:     m.safeErr(fmt.Errorf("%w: %w", errBadOutput, err)),
	}
}

// safeErr rebuilds err so that nothing in its chain can carry credentials:
// URLs lose their query and user info, messages are scrubbed, and the
// SDK's request (with its Authorization header) is dropped. The errno of
// a transport error survives, for errors.Is.
func (m *Model) safeErr(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return &url.Error{Op: ue.Op, URL: scrubURL(ue.URL), Err: m.safeErr(ue.Err)}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return &scrubbedError{msg: m.scrub.scrub(err.Error()), cause: errno}
	}
	for _, sentinel := range []error{io.ErrUnexpectedEOF, io.EOF, errBadOutput} {
		if errors.Is(err, sentinel) {
			return &scrubbedError{msg: m.scrub.scrub(err.Error()), cause: sentinel}
		}
	}
	return &scrubbedError{msg: m.scrub.scrub(err.Error())}
}

// scrubbedError is an error's scrubbed text, keeping one safe cause for
// errors.Is.
type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.cause }
