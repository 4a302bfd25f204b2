package recorder

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// An HTTPExchange is the HTTP side of an interaction a Transport recorded:
// what of the HTTP request is matched besides the typed request, and the
// HTTP response replay returns.
type HTTPExchange struct {
	// API names the API the Transport understood the call as (APIChat for
	// an OpenAI Chat Completions call); the typed Request then holds the
	// call, and Extra what of the body it does not. Empty for a plain HTTP
	// interaction, matched by Method, Path, Query and Body.
	API    string
	Method string // plain interactions only
	Path   string // plain interactions only
	Query  string // plain interactions only, scrubbed
	// Body is a plain interaction's request body: its canonical JSON when
	// it is JSON, else the bytes sent.
	Body []byte
	// Extra is, for an understood call, a JSON object of the members of
	// the request body the typed request does not hold (stream_options,
	// top_p, ...), in canonical form; nil when there are none.
	Extra json.RawMessage

	// Status is the response's HTTP status code.
	Status int
	// Header holds the response headers a client needs (KeepHeaders: by
	// default Content-Type and the request id), never credentials.
	Header map[string]string
	// ResponseBody is the response body, replayed byte for byte.
	ResponseBody []byte
}

// APIChat is the HTTPExchange.API of an OpenAI Chat Completions call
// (POST .../chat/completions), JSON or streamed.
const APIChat = "openai.chat_completions"

// wireHTTPRequest is the HTTP request side, recorded inside "request" so
// that it is matched (fingerprinted) with the typed request.
type wireHTTPRequest struct {
	API      string          `json:"api,omitempty"`
	Method   string          `json:"method,omitempty"`
	Path     string          `json:"path,omitempty"`
	Query    string          `json:"query,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`      // a JSON body, canonical
	BodyText string          `json:"body_text,omitempty"` // any other body
	Extra    json.RawMessage `json:"extra,omitempty"`
}

// wireHTTPResponse is the HTTP response, recorded beside "response".
type wireHTTPResponse struct {
	Status     int               `json:"status"`
	Header     map[string]string `json:"header,omitempty"`
	Body       *string           `json:"body,omitempty"`        // UTF-8 text
	BodyBase64 string            `json:"body_base64,omitempty"` // any other bytes
}

func toWireHTTPRequest(h *HTTPExchange) *wireHTTPRequest {
	if h == nil {
		return nil
	}
	w := &wireHTTPRequest{API: h.API, Method: h.Method, Path: h.Path, Query: h.Query, Extra: h.Extra}
	if len(h.Body) > 0 {
		if json.Valid(h.Body) {
			w.Body = h.Body
		} else {
			w.BodyText = string(h.Body)
		}
	}
	return w
}

func toWireHTTPResponse(h *HTTPExchange) *wireHTTPResponse {
	if h == nil {
		return nil
	}
	w := &wireHTTPResponse{Status: h.Status, Header: h.Header}
	if utf8.Valid(h.ResponseBody) {
		s := string(h.ResponseBody)
		w.Body = &s
	} else {
		w.BodyBase64 = base64.StdEncoding.EncodeToString(h.ResponseBody)
	}
	return w
}

// fromWireHTTP reads the HTTP sides of an interaction: both or neither.
func fromWireHTTP(req *wireHTTPRequest, resp *wireHTTPResponse) (*HTTPExchange, error) {
	switch {
	case req == nil && resp == nil:
		return nil, nil
	case req == nil:
		return nil, fmt.Errorf("interaction has an HTTP response but its request has no \"http\" member")
	case resp == nil:
		return nil, fmt.Errorf("interaction's request has an \"http\" member but the interaction has no HTTP response")
	}
	h := &HTTPExchange{API: req.API, Method: req.Method, Path: req.Path, Query: req.Query,
		Extra: req.Extra, Status: resp.Status, Header: resp.Header}
	if h.API == "" && h.Method == "" {
		return nil, fmt.Errorf("interaction's HTTP request names neither an API nor a method")
	}
	if len(req.Body) > 0 && req.BodyText != "" {
		return nil, fmt.Errorf("interaction's HTTP request has both body and body_text")
	}
	if len(req.Body) > 0 {
		b, err := pyjson.Canonicalize(req.Body)
		if err != nil {
			return nil, fmt.Errorf("interaction's HTTP request body: %w", err)
		}
		h.Body = b
	} else if req.BodyText != "" {
		h.Body = []byte(req.BodyText)
	}
	if resp.Status < 100 || resp.Status > 999 {
		return nil, fmt.Errorf("interaction's HTTP status %d is not an HTTP status code", resp.Status)
	}
	switch {
	case resp.Body != nil && resp.BodyBase64 != "":
		return nil, fmt.Errorf("interaction's HTTP response has both body and body_base64")
	case resp.Body != nil:
		h.ResponseBody = []byte(*resp.Body)
	case resp.BodyBase64 != "":
		b, err := base64.StdEncoding.DecodeString(resp.BodyBase64)
		if err != nil {
			return nil, fmt.Errorf("interaction's HTTP response body_base64: %w", err)
		}
		h.ResponseBody = b
	}
	return h, nil
}

// requestSide returns a copy of h's request side (what is matched).
func (h *HTTPExchange) requestSide() *HTTPExchange {
	if h == nil {
		return nil
	}
	return &HTTPExchange{API: h.API, Method: h.Method, Path: h.Path, Query: h.Query,
		Body: slices.Clone(h.Body), Extra: slices.Clone(h.Extra)}
}

// clone deep-copies h.
func (h *HTTPExchange) clone() *HTTPExchange {
	if h == nil {
		return nil
	}
	c := h.requestSide()
	c.Status, c.Header, c.ResponseBody = h.Status, maps.Clone(h.Header), slices.Clone(h.ResponseBody)
	return c
}
