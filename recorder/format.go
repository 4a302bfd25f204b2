package recorder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// recordType is the cassette record type of an interaction.
const recordType = "interaction"

// bodyVersion is the version of the interaction body format. It is kept in
// the cassette header's meta as "recorder"; a cassette of another version
// is refused.
const bodyVersion = "1"

// header is the header of every cassette the recorder writes.
func header() cassettes.Header {
	return cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"recorder": bodyVersion}}
}

// An Interaction is one recorded model call: the request and either the
// response or the error, and how long the live call took. Scrubbers
// receive it before anything is written or matched.
type Interaction struct {
	// Request is the request as sent, without RunID: run ids are random
	// per run, so they are neither recorded nor matched.
	Request llm.Request
	// Response is the model's answer; zero when Err is set.
	Response llm.Response
	// Err is the error the live model returned, nil on success. Errors
	// that are not *llm.Error are recorded with their class
	// (llm.ClassOf) and text. Err.Err is always nil: the text of the
	// underlying error is folded into Message, so that the replayed error
	// reads as the live one did.
	Err *llm.Error
	// Latency is how long the live call took. Replay does not wait.
	Latency time.Duration
	// Streamed says the call was streamed (Recorder.Stream); Deltas are
	// then the deltas the caller received, in order, each with its offset
	// from the start of the call. A streamed call that failed holds the
	// deltas delivered before the failure.
	Streamed bool
	Deltas   []RecordedDelta
	// HTTP is set on an interaction a Transport recorded: the HTTP request
	// as matched and the HTTP response as replayed (see HTTPExchange).
	HTTP *HTTPExchange
}

// wireRequest is the recorded form of a request, and the form that is
// fingerprinted for matching.
type wireRequest struct {
	Model        string               `json:"model"`
	Prompt       string               `json:"prompt"`
	Messages     []ledger.ChatMessage `json:"messages"`
	OutputName   string               `json:"output_name,omitempty"`
	OutputSchema json.RawMessage      `json:"output_schema,omitempty"`
	Tools        []llm.ToolDefinition `json:"tools,omitempty"`
	Options      llm.Options          `json:"options"`
	StepKey      string               `json:"step_key,omitempty"`
	HTTP         *wireHTTPRequest     `json:"http,omitempty"`
}

type wireResponse struct {
	OutputJSON string            `json:"output_json"`
	Usage      llm.Usage         `json:"usage"`
	ToolCalls  []ledger.ToolCall `json:"tool_calls,omitempty"`
}

type wireError struct {
	Class      llm.ErrorClass `json:"class"`
	Status     int            `json:"status,omitempty"`
	Message    string         `json:"message"`
	RetryAfter string         `json:"retry_after,omitempty"`
}

type wireInteraction struct {
	Request  wireRequest       `json:"request"`
	Response *wireResponse     `json:"response,omitempty"`
	Error    *wireError        `json:"error,omitempty"`
	Latency  string            `json:"latency"`
	Stream   *wireStream       `json:"stream,omitempty"`
	HTTP     *wireHTTPResponse `json:"http,omitempty"`
}

func toWireRequest(r *llm.Request, h *HTTPExchange) wireRequest {
	msgs := r.Messages
	if msgs == nil {
		msgs = []ledger.ChatMessage{}
	}
	return wireRequest{
		Model: r.Model, Prompt: r.Prompt, Messages: msgs,
		OutputName: r.OutputName, OutputSchema: r.OutputSchema, Tools: r.Tools,
		Options: r.Options, StepKey: r.StepKey, HTTP: toWireHTTPRequest(h),
	}
}

func (w *wireRequest) request() llm.Request {
	return llm.Request{
		Model: w.Model, Prompt: w.Prompt, Messages: w.Messages,
		OutputName: w.OutputName, OutputSchema: w.OutputSchema, Tools: w.Tools,
		Options: w.Options, StepKey: w.StepKey,
	}
}

// encodeInteraction returns the canonical JSON body of in.
func encodeInteraction(in *Interaction) ([]byte, error) {
	return pyjson.Marshal(toWire(in))
}

// toWire returns the recorded form of in.
func toWire(in *Interaction) wireInteraction {
	w := wireInteraction{Request: toWireRequest(&in.Request, in.HTTP), Latency: in.Latency.String(), HTTP: toWireHTTPResponse(in.HTTP)}
	if in.Err != nil {
		e := &wireError{Class: in.Err.Class, Status: in.Err.StatusCode, Message: in.Err.Message}
		if in.Err.RetryAfter != 0 {
			e.RetryAfter = in.Err.RetryAfter.String()
		}
		w.Error = e
	} else {
		w.Response = &wireResponse{OutputJSON: in.Response.OutputJSON, Usage: in.Response.Usage, ToolCalls: in.Response.ToolCalls}
	}
	w.Stream = toWireStream(in)
	return w
}

var validClasses = map[llm.ErrorClass]bool{
	llm.ClassTransient: true, llm.ClassPermanent: true, llm.ClassTimeout: true,
	llm.ClassRefusal: true, llm.ClassTruncated: true,
}

// decodeInteraction parses a record body written by encodeInteraction.
func decodeInteraction(body []byte) (Interaction, error) {
	return decodeOwned(bytes.Clone(body))
}

// decodeOwned is decodeInteraction of a body handed over by the caller,
// which never changes it afterwards: the strings decoded may be views of
// it (a cassettes.Reader's record bodies are each a fresh copy).
func decodeOwned(body []byte) (Interaction, error) {
	w, err := decodeWire(body)
	if err != nil {
		return Interaction{}, err
	}
	in := Interaction{Request: w.Request.request()}
	if in.HTTP, err = fromWireHTTP(w.Request.HTTP, w.HTTP); err != nil {
		return Interaction{}, err
	}
	if in.Latency, err = time.ParseDuration(w.Latency); err != nil {
		return Interaction{}, fmt.Errorf("bad interaction latency %q: %w", w.Latency, err)
	}
	if err := in.setStream(w.Stream); err != nil {
		return Interaction{}, err
	}
	switch {
	case w.Error != nil && w.Response != nil:
		return Interaction{}, errors.New("interaction has both a response and an error")
	case w.Error == nil && w.Response == nil:
		return Interaction{}, errors.New("interaction has neither a response nor an error")
	case w.Error != nil:
		if !validClasses[w.Error.Class] {
			return Interaction{}, fmt.Errorf("unknown error class %q (want transient, permanent, timeout, refusal or truncated)", w.Error.Class)
		}
		in.Err = &llm.Error{Class: w.Error.Class, StatusCode: w.Error.Status, Message: w.Error.Message}
		if w.Error.RetryAfter != "" {
			if in.Err.RetryAfter, err = time.ParseDuration(w.Error.RetryAfter); err != nil {
				return Interaction{}, fmt.Errorf("bad retry_after %q: %w", w.Error.RetryAfter, err)
			}
		}
	default:
		in.Response = llm.Response{OutputJSON: w.Response.OutputJSON, Usage: w.Response.Usage, ToolCalls: w.Response.ToolCalls}
	}
	return in, nil
}

// recordedError folds a live error into the *llm.Error that is
// recorded and replayed.
func recordedError(err error) *llm.Error {
	var me *llm.Error
	if errors.As(err, &me) {
		msg := me.Message
		if me.Err != nil && (msg == "" || !strings.Contains(msg, me.Err.Error())) {
			if msg == "" {
				msg = me.Err.Error()
			} else {
				msg += ": " + me.Err.Error()
			}
		}
		return &llm.Error{Class: me.Class, StatusCode: me.StatusCode, Message: msg, RetryAfter: me.RetryAfter}
	}
	return &llm.Error{Class: llm.ClassOf(err), Message: err.Error()}
}

// cloneRequest deep-copies what scrubbers may edit, and drops RunID.
func cloneRequest(r llm.Request) llm.Request {
	r.RunID = ""
	r.Messages = append([]ledger.ChatMessage(nil), r.Messages...)
	for i := range r.Messages {
		r.Messages[i].ToolCalls = slices.Clone(r.Messages[i].ToolCalls)
	}
	r.OutputSchema = bytes.Clone(r.OutputSchema)
	if r.Tools != nil {
		tools := make([]llm.ToolDefinition, len(r.Tools))
		for i, t := range r.Tools {
			t.Schema = bytes.Clone(t.Schema)
			tools[i] = t
		}
		r.Tools = tools
	}
	if o := r.Options; o.Temperature != nil {
		r.Options.Temperature = new(*o.Temperature)
	}
	if o := r.Options; o.MaxTokens != nil {
		r.Options.MaxTokens = new(*o.MaxTokens)
	}
	if o := r.Options; o.Seed != nil {
		r.Options.Seed = new(*o.Seed)
	}
	return r
}

func cloneResponse(r llm.Response) llm.Response {
	r.ToolCalls = append([]ledger.ToolCall(nil), r.ToolCalls...)
	return r
}

// An Entry is one decoded record of an interactions cassette: a model
// interaction, or a tool execution when Tool is not nil.
type Entry struct {
	Interaction *Interaction
	Tool        *ToolInteraction
}

// DecodeRecord decodes one record of an interactions cassette, as a
// cassettes.Reader returns it. A record of another type, or a body the
// recorder would refuse to replay, is an error naming the record's line.
func DecodeRecord(rec cassettes.Record) (Entry, error) {
	switch rec.Type {
	case recordType:
		in, err := decodeInteraction(rec.Body)
		if err != nil {
			return Entry{}, fmt.Errorf("line %d: %w", rec.Line, err)
		}
		return Entry{Interaction: &in}, nil
	case toolRecordType:
		t, err := decodeTool(rec.Body)
		if err != nil {
			return Entry{}, fmt.Errorf("line %d: %w", rec.Line, err)
		}
		return Entry{Tool: &t}, nil
	}
	return Entry{}, fmt.Errorf("line %d: record type %q is neither %q nor %q", rec.Line, rec.Type, recordType, toolRecordType)
}
