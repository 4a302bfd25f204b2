package artana

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// PauseStep describes why a run pauses, for example for human review.
type PauseStep struct {
	Reason string // required
	// Context is optional data for the reviewer, logged as context_json
	// as the Python original logs a pydantic model (see "Values in the
	// log" in the package documentation): a value encoding/json encodes,
	// or JSON text as a json.RawMessage. Nil logs null.
	Context any
	// StepKey names the pause; "" for none. Inside a workflow a named pause
	// is a step: see Workflow.Pause.
	StepKey string
}

// A PauseTicket identifies a logged pause, as the Python original's PauseTicket.
type PauseTicket struct {
	RunID    string
	TicketID string // the event id of the pause_requested event
	Seq      int64  // its seq
	Reason   string
}

// Pause logs a pause_requested event for the run and returns its ticket.
// The run must exist and belong to run.Tenant. Pausing does not stop
// anything by itself: the caller (or RunWorkflow, for Workflow.Pause)
// stops and comes back after Resume.
func (k *Kernel) Pause(ctx context.Context, run Run, req PauseStep) (PauseTicket, error) {
	const op = "pause"
	contextJSON, err := optionalJSON(req.Context)
	if err != nil {
		return PauseTicket{}, &Error{Op: op, RunID: run.ID, Kind: ErrInvalidInput, Msg: "pause context: nothing logged", Err: err}
	}
	x, err := k.lockRun(ctx, op, run)
	if err != nil {
		return PauseTicket{}, err
	}
	defer x.mu.Unlock()
	return k.pause(ctx, x, run, req, contextJSON)
}

func (k *Kernel) pause(ctx context.Context, x *runIndex, run Run, req PauseStep, contextJSON *string) (PauseTicket, error) {
	e, err := k.append(ctx, x, run, &ledger.PauseRequested{Reason: req.Reason, ContextJSON: contextJSON, StepKey: optString(req.StepKey)})
	if err != nil {
		return PauseTicket{}, &Error{Op: "pause", RunID: run.ID, Msg: "log pause_requested", Err: err}
	}
	return PauseTicket{RunID: run.ID, TicketID: e.ID, Seq: e.Seq, Reason: req.Reason}, nil
}

// Resume logs a resume_requested event for the run, with the human's
// input logged as context_json is (a value encoding/json encodes, or JSON
// text as a json.RawMessage; nil for none), and returns the logged event. As in the
// Python original, a run need not be paused to be resumed; every pause logged before
// counts as resumed from then on.
func (k *Kernel) Resume(ctx context.Context, run Run, humanInput any) (ledger.Event, error) {
	const op = "resume"
	inputJSON, err := optionalJSON(humanInput)
	if err != nil {
		return ledger.Event{}, &Error{Op: op, RunID: run.ID, Kind: ErrInvalidInput, Msg: "human input: nothing logged", Err: err}
	}
	x, err := k.lockRun(ctx, op, run)
	if err != nil {
		return ledger.Event{}, err
	}
	defer x.mu.Unlock()
	e, err := k.append(ctx, x, run, &ledger.ResumeRequested{HumanInputJSON: inputJSON})
	if err != nil {
		return ledger.Event{}, &Error{Op: op, RunID: run.ID, Msg: "log resume_requested", Err: err}
	}
	return e, nil
}

// optionalJSON encodes v as the Python original encodes a pause context or
// human input, with pydantic's model_dump_json (see "Values in the log" in
// the package documentation); nil stays nil.
func optionalJSON(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := pyjson.ModelDumpJSON(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// A PausedError ends a workflow that paused: Workflow.Pause returns it and
// the workflow function returns it, and RunWorkflow turns it into a
// ledger.RunPaused result. It matches ErrPaused.
type PausedError struct {
	Ticket PauseTicket
}

// Error names the run and the pause ticket.
func (e *PausedError) Error() string {
	return fmt.Sprintf("artana: workflow run %q paused at seq %d (ticket %s): %s; call Resume, then RunWorkflow again",
		e.Ticket.RunID, e.Ticket.Seq, e.Ticket.TicketID, e.Ticket.Reason)
}

// Is reports whether target is ErrPaused.
func (e *PausedError) Is(target error) bool { return target == ErrPaused }

// Pause pauses the workflow for a human: it logs pause_requested and
// returns a *PausedError for the workflow function to return, which makes
// RunWorkflow report ledger.RunPaused with the ticket.
//
// A pause with a StepKey is a step of the workflow: when the workflow runs
// again after Resume, the same Pause finds its pause in the log followed
// by a resume_requested and returns the human input logged with it (nil if
// none) and a nil error, so the workflow goes on; while the run has not
// been resumed it returns the same ticket again without logging anything.
// A pause without StepKey logs a new pause_requested every time, as the
// Python original's does; the workflow then decides itself whether to pause again.
func (wf *Workflow) Pause(ctx context.Context, req PauseStep) (json.RawMessage, error) {
	const op = "pause"
	contextJSON, err := optionalJSON(req.Context)
	if err != nil {
		return nil, &Error{Op: op, RunID: wf.run.ID, Kind: ErrInvalidInput, Msg: "pause context: nothing logged", Err: err}
	}
	x, err := wf.k.lockRun(ctx, op, wf.run)
	if err != nil {
		return nil, err
	}
	defer x.mu.Unlock()
	if req.StepKey != "" {
		if pe := x.pauses[req.StepKey]; pe != nil {
			if pe.resume == nil {
				return nil, &PausedError{Ticket: pe.ticket}
			}
			if in := pe.resume.HumanInputJSON; in != nil {
				return json.RawMessage(*in), nil
			}
			return nil, nil
		}
	}
	ticket, err := wf.k.pause(ctx, x, wf.run, req, contextJSON)
	if err != nil {
		return nil, err
	}
	return nil, &PausedError{Ticket: ticket}
}
