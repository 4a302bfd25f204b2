package ledger

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// EventType names what an event records. The values are the Python original's.
type EventType string

// The event types of the log: the nine the Python original writes, and
// replayed_with_drift, which only the newest Python artana knows.
const (
	EventRunStarted            EventType = "run_started"
	EventResumeRequested       EventType = "resume_requested"
	EventModelRequested        EventType = "model_requested"
	EventModelCompleted        EventType = "model_completed"
	EventToolRequested         EventType = "tool_requested"
	EventToolCompleted         EventType = "tool_completed"
	EventPauseRequested        EventType = "pause_requested"
	EventWorkflowStepRequested EventType = "workflow_step_requested"
	EventWorkflowStepCompleted EventType = "workflow_step_completed"
	// EventReplayedWithDrift records that a step was answered from the log
	// (or forked) although its request differs from the logged one, under
	// a replay policy that allows it.
	EventReplayedWithDrift EventType = "replayed_with_drift"
)

// allEventTypes lists every event type in the newest Python artana's
// declaration order.
var allEventTypes = []EventType{
	EventRunStarted, EventResumeRequested, EventModelRequested, EventModelCompleted,
	EventReplayedWithDrift, EventToolRequested, EventToolCompleted, EventPauseRequested,
	EventWorkflowStepRequested, EventWorkflowStepCompleted,
}

// Valid reports whether t is one of the event types.
func (t EventType) Valid() bool {
	switch t {
	case EventRunStarted, EventResumeRequested, EventModelRequested, EventModelCompleted,
		EventToolRequested, EventToolCompleted, EventPauseRequested,
		EventWorkflowStepRequested, EventWorkflowStepCompleted, EventReplayedWithDrift:
		return true
	}
	return false
}

// An Event is one entry of a run's append-only, hash-chained log. Stores
// assign ID, Seq, PrevHash, Timestamp and Hash when the event is appended.
type Event struct {
	ID        string    // 32 lowercase hex digits, like Python's uuid4().hex
	RunID     string    // the run the event belongs to
	TenantID  string    // the tenant that owns the run
	Seq       int64     // position in the run, from 1, without gaps
	Type      EventType // equals Payload.Kind()
	PrevHash  string    // Hash of the previous event of the run; "" for seq 1
	Hash      string    // lowercase hex SHA-256, see ComputeHash
	Timestamp time.Time // microsecond resolution
	Payload   Payload
}

// A Payload is the typed body of an event: one of *RunStarted,
// *ResumeRequested, *PauseRequested, *ModelRequested, *ModelCompleted,
// *ToolRequested, *ToolCompleted, *WorkflowStepRequested,
// *WorkflowStepCompleted or *ReplayedWithDrift.
type Payload interface {
	// Kind returns the event type the payload belongs to.
	Kind() EventType
	// Validate reports the first field that the Python original's schema would reject.
	Validate() error

	// fields lists the payload's fields in the Python original's declaration order,
	// pointing into the payload: the writers read them and the decoders
	// fill them. It is the one description of each payload's schema.
	fields() pyFields
}

// ChatMessage is one message of a model request. The tool-call fields are
// those of the OpenAI wire format, under the newest Python artana's names;
// each is left out of the logged payload when empty, so that a
// conversation without them is logged as the Python original logs it.
type ChatMessage struct {
	Role    string `json:"role"` // system, user, assistant or tool
	Content string `json:"content"`
	// ToolCallID is, on a tool message, the id of the call it answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// Name is the optional name of the author of the message.
	Name string `json:"name,omitempty"`
	// ToolCalls are, on an assistant message, the tool calls the model
	// asked for, logged as {"id","type":"function","function":{"name",
	// "arguments"}}.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ToolCall is a tool call a model asked for: in llm.Response,
// artana.ModelResult and, as logged, in ModelCompleted.ToolCalls.
//
// ID is the provider's call id. It is logged as tool_call_id (the newest
// Python artana's name), left out of the payload when empty, so a call
// without id is logged as the Python original logs it; a replayed call
// has the id the live one had.
type ToolCall struct {
	ID            string `json:"id,omitempty"` // the provider's call id, if any
	ToolName      string `json:"tool_name"`
	ArgumentsJSON string `json:"arguments_json"`
}

// ToolOutcome is how a tool call ended.
type ToolOutcome string

// The four tool outcomes of the Python original.
const (
	OutcomeSuccess        ToolOutcome = "success"
	OutcomeTransientError ToolOutcome = "transient_error"
	OutcomePermanentError ToolOutcome = "permanent_error"
	OutcomeUnknown        ToolOutcome = "unknown_outcome"
)

// Default values the Python original's schema gives to tool_requested fields.
const (
	DefaultToolVersion   = "1.0.0"
	DefaultSchemaVersion = "1"
)

// RunStarted is the payload of a run_started event (EventRunStarted),
// which opens a run.
type RunStarted struct{}

// ResumeRequested is the payload of a resume_requested event
// (EventResumeRequested): a paused run was resumed.
type ResumeRequested struct {
	HumanInputJSON *string // JSON text given by the human, or nil
}

// PauseRequested is the payload of a pause_requested event
// (EventPauseRequested): the run paused, for example for human review. An
// artana.PauseStep asks for one.
type PauseRequested struct {
	Reason      string
	ContextJSON *string // optional JSON context
	StepKey     *string
}

// ModelRequested is the payload of a model_requested event
// (EventModelRequested), logged before the model is called.
type ModelRequested struct {
	Model        string
	Prompt       string
	Messages     []ChatMessage
	AllowedTools []string // names of the tools offered to the model
	StepKey      *string
}

// ModelCompleted is the payload of a model_completed event
// (EventModelCompleted): the model's answer.
type ModelCompleted struct {
	Model            string
	OutputJSON       string
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
	ToolCalls        []ToolCall
}

// ToolRequested is the payload of a tool_requested event
// (EventToolRequested), logged before the tool runs.
type ToolRequested struct {
	ToolName       string
	ArgumentsJSON  string // canonical JSON of the arguments
	IdempotencyKey string
	ToolVersion    string // DefaultToolVersion unless the tool says otherwise
	SchemaVersion  string // DefaultSchemaVersion unless the tool says otherwise
	StepKey        *string
}

// ToolCompleted is the payload of a tool_completed event
// (EventToolCompleted): how a tool call ended.
type ToolCompleted struct {
	ToolName               string
	ResultJSON             string
	Outcome                ToolOutcome
	ReceivedIdempotencyKey *string
	EffectID               *string
	RequestID              *string // ID of the tool_requested event
	ErrorMessage           *string
}

// ReplayedWithDrift is the payload of a replayed_with_drift event: a step
// was replayed, or forked, although its request drifted from the logged
// one: the newest Python artana's
// ReplayedWithDriftPayload, field for field. For a model step Model is the
// model and the source is the logged model_requested and its
// model_completed; for a tool step (DriftFields "tool_version" and/or
// "schema_version") Model is the tool's name and the source is the logged
// tool_requested and its tool_completed.
type ReplayedWithDrift struct {
	StepKey     *string
	Model       string
	DriftFields []string // the request fields that differ, e.g. "prompt", "messages"
	// SourceRequestedEventID is the id of the logged request whose answer
	// was reused (or at which the run was forked).
	SourceRequestedEventID string
	// SourceTerminalSeq is the seq of the logged completion reused, nil if
	// the logged request had none.
	SourceTerminalSeq *int64
	Policy            string  // the replay policy: "allow_prompt_drift" or "fork_on_drift"
	ForkRunID         *string // the fork that continues the run, nil when not forking
}

// WorkflowStepRequested is the payload of a workflow_step_requested event
// (EventWorkflowStepRequested): a workflow step started.
type WorkflowStepRequested struct {
	StepIndex int64
	StepName  string
}

// WorkflowStepCompleted is the payload of a workflow_step_completed event
// (EventWorkflowStepCompleted): a workflow step's result.
type WorkflowStepCompleted struct {
	StepIndex  int64
	StepName   string
	ResultJSON string
}

// Kind returns EventRunStarted.
func (*RunStarted) Kind() EventType { return EventRunStarted }

// Kind returns EventResumeRequested.
func (*ResumeRequested) Kind() EventType { return EventResumeRequested }

// Kind returns EventPauseRequested.
func (*PauseRequested) Kind() EventType { return EventPauseRequested }

// Kind returns EventModelRequested.
func (*ModelRequested) Kind() EventType { return EventModelRequested }

// Kind returns EventModelCompleted.
func (*ModelCompleted) Kind() EventType { return EventModelCompleted }

// Kind returns EventToolRequested.
func (*ToolRequested) Kind() EventType { return EventToolRequested }

// Kind returns EventToolCompleted.
func (*ToolCompleted) Kind() EventType { return EventToolCompleted }

// Kind returns EventWorkflowStepRequested.
func (*WorkflowStepRequested) Kind() EventType { return EventWorkflowStepRequested }

// Kind returns EventReplayedWithDrift.
func (*ReplayedWithDrift) Kind() EventType { return EventReplayedWithDrift }

// Kind returns EventWorkflowStepCompleted.
func (*WorkflowStepCompleted) Kind() EventType { return EventWorkflowStepCompleted }

// Validate always succeeds: run_started has no fields.
func (*RunStarted) Validate() error { return nil }

// Validate checks that the strings are valid UTF-8.
func (p *ResumeRequested) Validate() error {
	return checkUTF8(fieldPtr("human_input_json", p.HumanInputJSON))
}

// Validate checks that the strings are valid UTF-8.
func (p *PauseRequested) Validate() error {
	return checkUTF8(field("reason", p.Reason), fieldPtr("context_json", p.ContextJSON),
		fieldPtr("step_key", p.StepKey))
}

// Validate checks message roles and that the strings are valid UTF-8.
func (p *ModelRequested) Validate() error {
	for i, m := range p.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			return fmt.Errorf("model_requested: messages[%d].role %q is not one of system, user, assistant, tool", i, m.Role)
		}
		if err := checkUTF8(fieldAt("messages[%d].content", i, 0, m.Content),
			fieldAt("messages[%d].tool_call_id", i, 0, m.ToolCallID),
			fieldAt("messages[%d].name", i, 0, m.Name)); err != nil {
			return err
		}
		for j, c := range m.ToolCalls {
			if err := checkUTF8(fieldAt("messages[%d].tool_calls[%d].id", i, j, c.ID),
				fieldAt("messages[%d].tool_calls[%d].function.name", i, j, c.ToolName),
				fieldAt("messages[%d].tool_calls[%d].function.arguments", i, j, c.ArgumentsJSON)); err != nil {
				return err
			}
		}
	}
	for i, t := range p.AllowedTools {
		if err := checkUTF8(fieldAt("allowed_tools[%d]", i, 0, t)); err != nil {
			return err
		}
	}
	return checkUTF8(field("model", p.Model), field("prompt", p.Prompt), fieldPtr("step_key", p.StepKey))
}

// Validate checks that token counts and cost are not negative, that cost is
// not NaN, and that the strings are valid UTF-8.
func (p *ModelCompleted) Validate() error {
	if p.PromptTokens < 0 {
		return fmt.Errorf("model_completed: prompt_tokens %d is negative", p.PromptTokens)
	}
	if p.CompletionTokens < 0 {
		return fmt.Errorf("model_completed: completion_tokens %d is negative", p.CompletionTokens)
	}
	if math.IsNaN(p.CostUSD) || p.CostUSD < 0 {
		return fmt.Errorf("model_completed: cost_usd %v must be a number >= 0", p.CostUSD)
	}
	for i, c := range p.ToolCalls {
		if err := checkUTF8(fieldAt("tool_calls[%d].tool_name", i, 0, c.ToolName),
			fieldAt("tool_calls[%d].arguments_json", i, 0, c.ArgumentsJSON),
			fieldAt("tool_calls[%d].tool_call_id", i, 0, c.ID)); err != nil {
			return err
		}
	}
	return checkUTF8(field("model", p.Model), field("output_json", p.OutputJSON))
}

// Validate checks that the strings are valid UTF-8.
func (p *ToolRequested) Validate() error {
	return checkUTF8(field("tool_name", p.ToolName), field("arguments_json", p.ArgumentsJSON),
		field("idempotency_key", p.IdempotencyKey), field("tool_version", p.ToolVersion),
		field("schema_version", p.SchemaVersion), fieldPtr("step_key", p.StepKey))
}

// Validate checks the outcome and that the strings are valid UTF-8.
func (p *ToolCompleted) Validate() error {
	switch p.Outcome {
	case OutcomeSuccess, OutcomeTransientError, OutcomePermanentError, OutcomeUnknown:
	default:
		return fmt.Errorf("tool_completed: outcome %q is not one of success, transient_error, permanent_error, unknown_outcome", p.Outcome)
	}
	return checkUTF8(field("tool_name", p.ToolName), field("result_json", p.ResultJSON),
		fieldPtr("received_idempotency_key", p.ReceivedIdempotencyKey),
		fieldPtr("effect_id", p.EffectID), fieldPtr("request_id", p.RequestID),
		fieldPtr("error_message", p.ErrorMessage))
}

// Validate checks the policy, that the source seq is not negative and that
// the strings are valid UTF-8.
func (p *ReplayedWithDrift) Validate() error {
	switch p.Policy {
	case "strict", "allow_prompt_drift", "fork_on_drift":
	default:
		return fmt.Errorf("replayed_with_drift: replay_policy %q is not one of strict, allow_prompt_drift, fork_on_drift", p.Policy)
	}
	if p.SourceTerminalSeq != nil && *p.SourceTerminalSeq < 0 {
		return fmt.Errorf("replayed_with_drift: source_model_terminal_seq %d is negative", *p.SourceTerminalSeq)
	}
	for i, f := range p.DriftFields {
		if err := checkUTF8(fieldAt("drift_fields[%d]", i, 0, f)); err != nil {
			return err
		}
	}
	return checkUTF8(fieldPtr("step_key", p.StepKey), field("model", p.Model),
		field("source_model_requested_event_id", p.SourceRequestedEventID), fieldPtr("fork_run_id", p.ForkRunID))
}

// Validate checks that the step index is not negative and the name is valid UTF-8.
func (p *WorkflowStepRequested) Validate() error {
	if p.StepIndex < 0 {
		return fmt.Errorf("workflow_step_requested: step_index %d is negative", p.StepIndex)
	}
	return checkUTF8(field("step_name", p.StepName))
}

// Validate checks that the step index is not negative and the strings are valid UTF-8.
func (p *WorkflowStepCompleted) Validate() error {
	if p.StepIndex < 0 {
		return fmt.Errorf("workflow_step_completed: step_index %d is negative", p.StepIndex)
	}
	return checkUTF8(field("step_name", p.StepName), field("result_json", p.ResultJSON))
}

type namedString struct {
	name    string // the name, or with indexed a format of i and j
	indexed bool
	i, j    int
	s       string
}

// String returns the field's name.
func (f namedString) String() string {
	if !f.indexed {
		return f.name
	}
	if strings.Count(f.name, "%d") == 2 {
		return fmt.Sprintf(f.name, f.i, f.j)
	}
	return fmt.Sprintf(f.name, f.i)
}

func field(name, s string) namedString { return namedString{name: name, s: s} }

// fieldAt names an element of a list by a format with one or two %d
// verbs for i and j, formatted only in an error, so that validating a
// payload allocates nothing.
func fieldAt(format string, i, j int, s string) namedString {
	return namedString{name: format, indexed: true, i: i, j: j, s: s}
}

func fieldPtr(name string, s *string) namedString {
	if s == nil {
		return namedString{name: name}
	}
	return namedString{name: name, s: *s}
}

func checkUTF8(fields ...namedString) error {
	for _, f := range fields {
		if !utf8.ValidString(f.s) {
			return fmt.Errorf("%s is not valid UTF-8", f.String())
		}
	}
	return nil
}

// derefOr returns *s, or def when s is nil.
func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
