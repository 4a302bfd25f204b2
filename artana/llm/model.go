package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
)

// Errors for errors.Is: every *Error matches the sentinel of its class
// (ErrPermanent also matches refusals and truncated output, which retrying
// does not fix either).
var (
	ErrTransient = errors.New("transient model error")
	ErrPermanent = errors.New("permanent model error")
	ErrTimeout   = errors.New("model timeout")
	ErrRefusal   = errors.New("model refused")
	ErrTruncated = errors.New("model output truncated")
)

// A Model completes model requests. The kernel calls it for every model
// step that does not replay; package openai talks to live endpoints and
// recorder replays recorded ones.
type Model interface {
	Complete(ctx context.Context, req Request) (Response, error)
}

// ModelFunc adapts a function to the Model interface.
type ModelFunc func(ctx context.Context, req Request) (Response, error)

// Complete calls f.
func (f ModelFunc) Complete(ctx context.Context, req Request) (Response, error) {
	return f(ctx, req)
}

// Request is what the kernel asks of a Model.
type Request struct {
	RunID    string
	Model    string               // model name, e.g. "gpt-4o-mini"
	Prompt   string               // the prompt as logged; Messages is what is sent
	Messages []ledger.ChatMessage // the conversation, ending with the prompt
	// OutputName names the output type, e.g. "TriageDecision"; providers
	// use it as the name of the structured-output schema.
	OutputName string
	// OutputSchema is the JSON Schema the output must satisfy.
	OutputSchema json.RawMessage
	Tools        []ToolDefinition // tools the model may call, in order
	Options      Options
	StepKey      string
}

// ToolDefinition describes a tool offered to a model.
type ToolDefinition struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"` // JSON Schema of the arguments
}

// Options are the sampling options of a request. Nil and empty fields
// are left to the provider's defaults.
type Options struct {
	Temperature     *float64 `json:"temperature,omitempty"`
	MaxTokens       *int64   `json:"max_tokens,omitempty"`
	Seed            *int64   `json:"seed,omitempty"`
	ReasoningEffort string   `json:"reasoning_effort,omitempty"` // "low", "medium", "high", ...
	// ToolChoice says whether the model must call a tool: "" leaves it to
	// the provider, ToolChoiceAuto lets the model choose, ToolChoiceNone
	// forbids tool calls, ToolChoiceRequired asks for at least one, and
	// any other value is the name of the one offered tool it must call.
	ToolChoice string `json:"tool_choice,omitempty"`
	// ParallelToolCalls, when set, allows (true) or forbids (false) several
	// tool calls in one answer.
	ParallelToolCalls *bool `json:"parallel_tool_calls,omitempty"`
}

// The tool choices of Options.ToolChoice that name no tool.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
)

// Response is a Model's answer.
type Response struct {
	OutputJSON string            // the structured output, a JSON document
	Usage      Usage             // tokens and cost
	ToolCalls  []ledger.ToolCall // tool calls the model asked for, in order
}

// Usage counts the tokens a request used and what they cost.
type Usage struct {
	PromptTokens       int64   `json:"prompt_tokens"`
	CompletionTokens   int64   `json:"completion_tokens"`
	CachedPromptTokens int64   `json:"cached_prompt_tokens,omitempty"` // part of PromptTokens
	CostUSD            float64 `json:"cost_usd"`
}

// ErrorClass says how a failed model call may be handled.
type ErrorClass string

// The classes of model errors.
const (
	ClassTransient ErrorClass = "transient" // retrying may succeed: 408, 409, 429, 5xx, connection reset
	ClassPermanent ErrorClass = "permanent" // retrying will not help: 400, 401, 403, 404, bad output
	ClassTimeout   ErrorClass = "timeout"   // the context deadline passed
	ClassRefusal   ErrorClass = "refusal"   // the model refused to answer
	ClassTruncated ErrorClass = "truncated" // the output hit the token limit (finish_reason "length")
)

// An Error is a failed model call with its class. Providers return it;
// the recorder stores and replays it.
type Error struct {
	Class      ErrorClass
	StatusCode int           // HTTP status, 0 if none
	Message    string        // what the provider said, never containing credentials
	RetryAfter time.Duration // the provider's Retry-After, if any
	Err        error         // the underlying error, if any
	// Partial holds the deltas a stream delivered before it failed, in
	// order (JoinDeltas joins them); nil when no delta was delivered or the
	// call did not stream.
	Partial []Delta
}

// Error returns the class, HTTP status and message of the failure.
func (e *Error) Error() string {
	s := "model error (" + string(e.Class)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(", HTTP %d", e.StatusCode)
	}
	s += ")"
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil && !strings.Contains(e.Message, e.Err.Error()) {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of the error's class.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTransient:
		return e.Class == ClassTransient
	case ErrPermanent:
		return e.Class == ClassPermanent || e.Class == ClassRefusal || e.Class == ClassTruncated
	case ErrTimeout:
		return e.Class == ClassTimeout
	case ErrRefusal:
		return e.Class == ClassRefusal
	case ErrTruncated:
		return e.Class == ClassTruncated
	}
	return false
}

// ClassOf returns the class of a model error: the Class of a *Error
// in err's chain, ClassTimeout for context.DeadlineExceeded, and
// ClassPermanent otherwise.
func ClassOf(err error) ErrorClass {
	var me *Error
	switch {
	case errors.As(err, &me):
		return me.Class
	case errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	}
	return ClassPermanent
}
