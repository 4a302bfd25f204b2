package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// WorkflowResult is the outcome of RunWorkflow.
type WorkflowResult[T any] struct {
	RunID  string
	State  ledger.RunState // ledger.RunComplete or ledger.RunPaused, the Python original's WorkflowRunResult statuses
	Output T               // the workflow's result when State is ledger.RunComplete
	Ticket *PauseTicket    // the pause when State is ledger.RunPaused
}

// A Workflow is one execution of a workflow function, as the Python original's
// WorkflowContext: it numbers the steps the function takes and replays
// those the log already holds. A Workflow is used by one goroutine.
type Workflow struct {
	k        *Kernel
	run      Run
	resuming bool
	cursor   int64
}

// Run returns the workflow's run, for model and tool steps inside it
// (the run must have events for those: start it with a workflow step or
// StartRun).
func (wf *Workflow) Run() Run { return wf.run }

// Kernel returns the kernel running the workflow.
func (wf *Workflow) Kernel() *Kernel { return wf.k }

// Resuming reports whether the run had events when the workflow started.
func (wf *Workflow) Resuming() bool { return wf.resuming }

// RunWorkflow runs fn as a workflow of the run runID ("" for a new
// kernel-issued id) of tenant. The run need not exist: unlike StartRun, a
// workflow logs no run_started, as in the Python original, so the first event of a
// new run is its first workflow_step_requested. An existing run must
// belong to tenant (ErrTenantMismatch).
//
// Steps taken with Step replay from the log. If fn returns an error
// matching ErrPaused (from Workflow.Pause), the result has status
// ledger.RunPaused and the ticket; running the workflow again after Resume
// continues past the completed steps without running them again. Any other
// error from fn is returned as is.
func RunWorkflow[T any](ctx context.Context, k *Kernel, tenant Tenant, runID string,
	fn func(ctx context.Context, wf *Workflow) (T, error)) (WorkflowResult[T], error) {
	if runID == "" {
		runID = k.newRunID()
	}
	res := WorkflowResult[T]{RunID: runID}
	run := Run{ID: runID, Tenant: tenant}
	x, err := k.lockRunOrEmpty(ctx, "run workflow", run, true)
	if err != nil {
		return res, err
	}
	wf := &Workflow{k: k, run: run, resuming: x.lastSeq > 0}
	k.forget(x)
	x.mu.Unlock()

	out, err := fn(ctx, wf)
	var paused *PausedError
	if errors.As(err, &paused) {
		res.State, res.Ticket = ledger.RunPaused, &paused.Ticket
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.State, res.Output = ledger.RunComplete, out
	return res, nil
}

// Codec turns step results into the result_json of workflow_step_completed
// and back.
type Codec[T any] struct {
	Marshal   func(v T) (string, error)
	Unmarshal func(s string, v *T) error
}

// JSONCodec is the default codec, the Python original's json_step_serde: the result
// stored as json.dumps(result, sort_keys=True, separators=(",", ":"))
// writes the same value (sorted keys, compact, non-ASCII escaped, floats
// as floats; see "Values in the log" in the package documentation),
// loaded with encoding/json.
func JSONCodec[T any]() Codec[T] {
	return Codec[T]{
		Marshal: func(v T) (string, error) {
			b, err := pyjson.Dumps(v)
			return string(b), err
		},
		Unmarshal: func(s string, v *T) error { return json.Unmarshal([]byte(s), v) },
	}
}

// PydanticCodec is the codec of the Python original's pydantic_step_serde: the result
// stored as pydantic's model_dump_json writes the same value (fields in
// declaration order, compact, raw UTF-8, floats as floats; see "Values in
// the log" in the package documentation), loaded with encoding/json. Use
// it for the steps of a workflow the Python original also runs with
// pydantic_step_serde, so that both log the same bytes.
func PydanticCodec[T any]() Codec[T] {
	return Codec[T]{
		Marshal: func(v T) (string, error) {
			b, err := pyjson.ModelDumpJSON(v)
			return string(b), err
		},
		Unmarshal: func(s string, v *T) error { return json.Unmarshal([]byte(s), v) },
	}
}

// Step runs action as the workflow's next step, named name, or replays it.
//
// Steps are numbered from 0 in the order the workflow takes them. If the
// log holds a workflow_step_completed for this index, its result is decoded
// and returned without running action; a different name at that index is
// ErrReplayMismatch (the workflow code changed: use a new run). Otherwise
// workflow_step_requested is logged (unless it is already, from a run that
// stopped inside the action), action runs, and its result is logged in
// workflow_step_completed. If action fails, nothing more is logged and the
// error is returned (an error from Workflow.Pause passes through as is), so
// running the workflow again runs the action again.
//
// The run is not locked while action runs, so the action may take model
// and tool steps on wf.Run(). The result is stored with JSONCodec.
func Step[T any](ctx context.Context, wf *Workflow, name string, action func(ctx context.Context) (T, error)) (T, error) {
	return StepWith(ctx, wf, name, JSONCodec[T](), action)
}

// StepWith is Step storing the result with codec instead of JSONCodec,
// e.g. PydanticCodec to match results written by the Python original's
// pydantic_step_serde.
func StepWith[T any](ctx context.Context, wf *Workflow, name string, codec Codec[T],
	action func(ctx context.Context) (T, error)) (T, error) {
	const op = "workflow step"
	var zero T
	index := wf.cursor
	wf.cursor++
	k, run := wf.k, wf.run
	fail := func(seq int64, kind error, msg string, err error) (T, error) {
		return zero, &Error{Op: op, RunID: run.ID, Seq: seq, Kind: kind,
			Msg: fmt.Sprintf("step %d %q: %s", index, name, msg), Err: err}
	}

	x, err := k.lockRunOrEmpty(ctx, op, run, true)
	if err != nil {
		return zero, err
	}
	if c, ok := x.wfCompleted[index]; ok {
		x.mu.Unlock()
		if c.p.StepName != name {
			return fail(c.seq, ErrReplayMismatch, fmt.Sprintf("the log has step %q at this index; the workflow changed, use a new run id", c.p.StepName), nil)
		}
		var v T
		if err := codec.Unmarshal(c.p.ResultJSON, &v); err != nil {
			return fail(c.seq, ErrReplayMismatch, "the logged result does not decode", err)
		}
		return v, nil
	}
	if r, ok := x.wfRequested[index]; ok {
		if r.p.StepName != name {
			x.mu.Unlock()
			return fail(r.seq, ErrReplayMismatch, fmt.Sprintf("the log has a request for step %q at this index; the workflow changed, use a new run id", r.p.StepName), nil)
		}
	} else if _, err := k.append(ctx, x, run, &ledger.WorkflowStepRequested{StepIndex: index, StepName: name}); err != nil {
		k.forget(x)
		x.mu.Unlock()
		return fail(0, nil, "log workflow_step_requested", err)
	}
	x.mu.Unlock()

	v, err := action(ctx)
	if err != nil {
		if errors.Is(err, ErrPaused) {
			return zero, err
		}
		return fail(0, nil, "action failed (nothing logged; running the workflow again runs it again)", err)
	}
	result, err := codec.Marshal(v)
	if err != nil {
		return fail(0, ErrInvalidInput, "encode the result (nothing logged)", err)
	}

	x, err = k.lockRun(ctx, op, run)
	if err != nil {
		return fail(0, nil, "the action ran but its result was not logged; running the workflow again runs it again", err)
	}
	defer x.mu.Unlock()
	if _, err := k.append(ctx, x, run, &ledger.WorkflowStepCompleted{StepIndex: index, StepName: name, ResultJSON: result}); err != nil {
		return fail(0, nil, "log workflow_step_completed (the action ran; running the workflow again runs it again)", err)
	}
	return v, nil
}
