package artana

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
)

// Errors for errors.Is. The kernel's reach the caller wrapped in an *Error
// that names the operation, run, seq and tool. A model's errors arrive as
// an *llm.Error (see llm.ErrTransient and the other model sentinels), a
// store's as the store returns them (see ledger.ErrClosed and the other
// store sentinels), both in the *Error's chain.
var (
	// ErrRunNotFound means the run has no events. Start it with StartRun.
	ErrRunNotFound = errors.New("run not found")
	// ErrReplayMismatch means the log disagrees with the step being replayed,
	// or is inconsistent in itself (the Python original's ReplayConsistencyError).
	ErrReplayMismatch = errors.New("replay mismatch")
	// ErrToolFailed means a tool call did not succeed, now or when it was first
	// run. Unknown outcomes match it too.
	ErrToolFailed = errors.New("tool failed")
	// ErrUnknownOutcome means a tool call may or may not have taken effect. The
	// step halts until ReconcileTool re-runs it with the same idempotency key.
	ErrUnknownOutcome = errors.New("tool outcome unknown")
	// ErrCapabilityDenied means the tenant lacks the capability a tool requires.
	ErrCapabilityDenied = errors.New("capability denied")
	// ErrToolNotFound means no tool of that name is registered.
	ErrToolNotFound = errors.New("tool not registered")
	// ErrToolRequestNotFound means ReconcileTool found no matching tool request.
	ErrToolRequestNotFound = errors.New("no matching tool request")
	// ErrInvalidInput means a step or registration was given unusable input
	// (empty model name, arguments that do not fit the tool, ...).
	ErrInvalidInput = errors.New("invalid input")
	// ErrInvalidOutput means a model output does not fit the output type; the
	// error chain holds an *OutputError with the raw output.
	ErrInvalidOutput = errors.New("model output does not match the output type")
	// ErrBudgetExceeded means the run has spent its tenant's budget (the Python original's
	// BudgetExceededError). Raised by the Quota middleware before a model
	// call when the budget is exhausted, and after one that exceeded it.
	ErrBudgetExceeded = errors.New("budget exceeded")
	// ErrPaused means a workflow paused for a human (see Workflow.Pause); the
	// error is a *PausedError holding the ticket.
	ErrPaused = errors.New("run paused")
)

// An Error is a kernel failure with its place: the operation, run, event
// seq and tool concerned. Kind is one of the sentinels above (or nil), Err
// the underlying cause (a store, model or tool error), if any; errors.Is and
// errors.As see both.
type Error struct {
	Op      string             // "start run", "step model", "step tool", "reconcile tool", ...
	RunID   string             // the run, "" if none
	Seq     int64              // the event concerned, 0 if none
	Tool    string             // the tool concerned, "" if none
	Outcome ledger.ToolOutcome // the tool outcome concerned, "" if none
	Kind    error              // sentinel, or nil
	Msg     string             // what happened and what to do next
	Err     error              // cause, or nil
}

// Error describes the failure with its operation, run, seq and tool.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("artana: ")
	b.WriteString(e.Op)
	if e.Tool != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Tool))
	}
	if e.RunID != "" {
		fmt.Fprintf(&b, ": run %q", e.RunID)
	}
	if e.Seq != 0 {
		fmt.Fprintf(&b, " seq %d", e.Seq)
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and Err.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Is makes an unknown outcome match ErrToolFailed as well, as the Python original
// raises the same ToolExecutionFailedError for both.
func (e *Error) Is(target error) bool {
	return target == ErrToolFailed && e.Kind == ErrUnknownOutcome
}

// An OutputError is a model output that could not be decoded into the
// step's output type. Raw keeps the output exactly as received or stored.
type OutputError struct {
	Type string // the Go output type, e.g. "main.Decision"
	Raw  string // the output JSON as the model returned it or the log holds it
	Err  error  // what is wrong: missing property, wrong type, unknown field, ...
}

// Error names the output type and why the output does not fit it.
func (e *OutputError) Error() string {
	raw := e.Raw
	if len(raw) > 200 {
		raw = raw[:200] + "…"
	}
	return fmt.Sprintf("output does not fit %s: %v (raw output: %s)", e.Type, e.Err, raw)
}

// Unwrap returns the decoding error.
func (e *OutputError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidOutput.
func (e *OutputError) Is(target error) bool { return target == ErrInvalidOutput }
