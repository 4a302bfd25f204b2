package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// ToolStep is one tool call of a run.
type ToolStep struct {
	Tool string // registered tool name
	// Args are the arguments: a value encoding/json turns into a JSON
	// object, or JSON text as a json.RawMessage or string (as a model's
	// ToolCall.ArgumentsJSON). They are logged and matched as the Python
	// original's step_tool logs a pydantic model holding the same values:
	// json.dumps with sorted keys, compact, ASCII, floats as floats (see
	// "Values in the log" in the package documentation).
	Args any
	// StepKey names the step for replay and derives its idempotency key;
	// "" for none.
	StepKey string
	// ReplayPolicy says what a replayed step does when the tool's version
	// or schema version differs from the logged request's (see
	// ReplayPolicy); "" uses the kernel's (WithReplayPolicy).
	ReplayPolicy ReplayPolicy
}

// ToolResult is the outcome of a tool step.
type ToolResult struct {
	RunID          string
	Seq            int64 // seq of the tool_completed event
	Tool           string
	ResultJSON     string
	IdempotencyKey string
	FromLog        bool // true if the result came from the log, not the tool
	// Drift is set when the tool changed since the step was logged and the
	// step's replay policy allowed it. When the step forked, RunID is the
	// fork's id: later steps belong to that run.
	Drift *Drift
}

// StepTool runs a tool step, two-phase: tool_requested is logged with an
// idempotency key before the tool runs, tool_completed with the outcome
// after it.
//
// A matching request (same tool, canonical arguments and step key) already
// in the log replays: a success returns the logged result, any other
// outcome fails again (ErrToolFailed; ErrUnknownOutcome for
// unknown_outcome) without running the tool. A matching request without a
// completion (the process died while the tool ran) is logged as
// unknown_outcome and the step halts with ErrUnknownOutcome: only
// ReconcileTool runs it again.
//
// A matching request logged by another version of the tool (its
// tool_version or schema_version differs from the registered tool's)
// fails with ErrReplayMismatch naming what changed, unless the step's
// replay policy allows the drift: ReplayAllowPromptDrift returns the
// logged result and logs replayed_with_drift, ReplayForkOnDrift runs the
// tool again in a fork of the run (see ReplayPolicy).
//
// The tool must be registered (ErrToolNotFound) and usable by the tenant
// (ErrCapabilityDenied), also when replaying. Arguments that do not fit the
// tool fail with ErrInvalidInput before anything is logged.
func (k *Kernel) StepTool(ctx context.Context, run Run, step ToolStep) (ToolResult, error) {
	const op = "step tool"
	x, rt, argsJSON, err := k.prepareTool(ctx, op, run, step)
	if err != nil {
		return ToolResult{}, err
	}
	defer x.mu.Unlock()
	stepKey := optString(step.StepKey)
	policy, err := k.policyFor(step.ReplayPolicy)
	if err != nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Tool: step.Tool, Kind: ErrInvalidInput, Msg: err.Error()}
	}
	if t := x.findTool(step.Tool, argsJSON, stepKey); t != nil {
		if c := t.completion; c != nil {
			if changed := toolChanges(t.req, rt); len(changed) > 0 {
				return k.toolDrift(ctx, x, run, step, rt, t, changed, policy)
			}
			return replayToolCompletion(op, run, step.Tool, t)
		}
		// A request without completion: the tool may or may not have run.
		if err := k.logUnknownOutcome(ctx, op, x, run, t); err != nil {
			return ToolResult{}, err
		}
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.seq, Tool: step.Tool, Outcome: ledger.OutcomeUnknown,
			Kind: ErrUnknownOutcome, Msg: "the request has no completion; it is now logged as unknown_outcome and the step halts until ReconcileTool"}
	}

	if err := rt.check(argsJSON); err != nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Tool: step.Tool, Kind: ErrInvalidInput, Msg: "nothing logged", Err: err}
	}
	key := idempotencyKey(run.ID, step.StepKey, x.lastSeq+1)
	req, err := k.append(ctx, x, run, &ledger.ToolRequested{
		ToolName: step.Tool, ArgumentsJSON: argsJSON, IdempotencyKey: key,
		ToolVersion: rt.version, SchemaVersion: rt.schemaVersion, StepKey: stepKey,
	})
	if err != nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Tool: step.Tool, Msg: "log tool_requested", Err: err}
	}
	return k.completeTool(ctx, op, x, run, rt, argsJSON, req.ID, req.Seq, req.Payload.(*ledger.ToolRequested))
}

// ReconcileTool resolves a tool step whose outcome is unknown: it runs the
// tool again with the original idempotency key and request id, and logs the
// new completion, which later StepTool calls replay. A step whose request
// has no completion yet is first logged as unknown_outcome, as StepTool
// would. A step that already succeeded returns its logged result (FromLog
// true) without running the tool; transient and permanent failures cannot
// be reconciled (ErrToolFailed). Without a matching request the error is
// ErrToolRequestNotFound.
func (k *Kernel) ReconcileTool(ctx context.Context, run Run, step ToolStep) (ToolResult, error) {
	const op = "reconcile tool"
	x, rt, argsJSON, err := k.prepareTool(ctx, op, run, step)
	if err != nil {
		return ToolResult{}, err
	}
	defer x.mu.Unlock()
	t := x.findTool(step.Tool, argsJSON, optString(step.StepKey))
	if t == nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Tool: step.Tool, Kind: ErrToolRequestNotFound,
			Msg: fmt.Sprintf("no tool_requested with arguments %s and step key %q; run the step with StepTool", argsJSON, step.StepKey)}
	}
	// Arguments the tool can no longer decode must not turn an unknown
	// outcome into a logged failure without the tool having run.
	if err := rt.check(argsJSON); err != nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.seq, Tool: step.Tool, Kind: ErrInvalidInput,
			Msg: "the logged arguments no longer fit the tool's argument type; nothing logged", Err: err}
	}
	if c := t.completion; c == nil {
		if err := k.logUnknownOutcome(ctx, op, x, run, t); err != nil {
			return ToolResult{}, err
		}
	} else if c.Outcome != ledger.OutcomeUnknown {
		if c.Outcome == ledger.OutcomeSuccess {
			return replayToolCompletion(op, run, step.Tool, t)
		}
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.doneSeq, Tool: step.Tool, Outcome: c.Outcome,
			Kind: ErrToolFailed, Msg: fmt.Sprintf("cannot be reconciled from outcome %s; use a new step key to try again", c.Outcome)}
	}
	return k.completeTool(ctx, op, x, run, rt, argsJSON, t.eventID, t.seq, t.req)
}

// logUnknownOutcome logs the unknown_outcome of request t, found without
// a completion: the tool may or may not have run.
func (k *Kernel) logUnknownOutcome(ctx context.Context, op string, x *runIndex, run Run, t *toolEntry) error {
	_, err := k.append(ctx, x, run, &ledger.ToolCompleted{
		ToolName: t.req.ToolName, Outcome: ledger.OutcomeUnknown,
		ReceivedIdempotencyKey: new(t.req.IdempotencyKey), RequestID: new(t.eventID),
		ErrorMessage: new("Pending tool request found without completion event. Reconciliation is required before retry."),
	})
	if err != nil {
		return &Error{Op: op, RunID: run.ID, Seq: t.seq, Tool: t.req.ToolName, Msg: "log unknown_outcome", Err: err}
	}
	return nil
}

// prepareTool locks the run and checks the tool as the Python original does before
// looking at the log: registered, allowed for the tenant, and the run's tool
// events consistent.
func (k *Kernel) prepareTool(ctx context.Context, op string, run Run, step ToolStep) (*runIndex, *registeredTool, string, error) {
	argsJSON, err := canonicalArgs(step.Args)
	if err != nil {
		return nil, nil, "", &Error{Op: op, RunID: run.ID, Tool: step.Tool, Kind: ErrInvalidInput, Err: err}
	}
	x, err := k.lockRun(ctx, op, run)
	if err != nil {
		return nil, nil, "", err
	}
	fail := func(e *Error) (*runIndex, *registeredTool, string, error) {
		x.mu.Unlock()
		return nil, nil, "", e
	}
	rt := k.tools.lookup(step.Tool)
	if rt == nil {
		return fail(&Error{Op: op, RunID: run.ID, Tool: step.Tool, Kind: ErrToolNotFound, Msg: "register it with RegisterTool"})
	}
	if !run.Tenant.Can(rt.capability) {
		return fail(&Error{Op: op, RunID: run.ID, Tool: step.Tool, Kind: ErrCapabilityDenied,
			Msg: fmt.Sprintf("tenant %q lacks capability %q", run.Tenant.ID, rt.capability)})
	}
	if x.toolErr != nil {
		x.mu.Unlock()
		return nil, nil, "", x.toolErr
	}
	return x, rt, argsJSON, nil
}

// completeTool runs the tool for the request and logs its completion.
func (k *Kernel) completeTool(ctx context.Context, op string, x *runIndex, run Run, rt *registeredTool,
	argsJSON, requestID string, requestSeq int64, req *ledger.ToolRequested) (ToolResult, error) {
	exec := &ToolExecution{
		RunID: run.ID, Tenant: run.Tenant, ToolName: rt.def.Name, IdempotencyKey: req.IdempotencyKey,
		RequestEventID: requestID, ToolVersion: req.ToolVersion, SchemaVersion: req.SchemaVersion,
	}
	done := runTool(ctx, rt, exec, argsJSON)
	e, err := k.append(ctx, x, run, done)
	if err != nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: requestSeq, Tool: rt.def.Name,
			Msg: "log tool_completed (the request stays pending; the next step marks it unknown_outcome)", Err: err}
	}
	if done.Outcome != ledger.OutcomeSuccess {
		return ToolResult{}, toolFailure(op, run.ID, e.Seq, rt.def.Name, done)
	}
	return ToolResult{RunID: run.ID, Seq: e.Seq, Tool: rt.def.Name, ResultJSON: done.ResultJSON,
		IdempotencyKey: req.IdempotencyKey}, nil
}

// toolChanges returns the request fields in which the registered tool
// differs from its logged request: "tool_version", "schema_version".
func toolChanges(req *ledger.ToolRequested, rt *registeredTool) []string {
	var changed []string
	if req.ToolVersion != rt.version {
		changed = append(changed, "tool_version")
	}
	if req.SchemaVersion != rt.schemaVersion {
		changed = append(changed, "schema_version")
	}
	return changed
}

// toolDrift answers a tool step whose logged request names another
// version or schema version of the tool, under policy.
func (k *Kernel) toolDrift(ctx context.Context, x *runIndex, run Run, step ToolStep, rt *registeredTool,
	t *toolEntry, changed []string, policy ReplayPolicy) (ToolResult, error) {
	const op = "step tool"
	what := make([]string, 0, 2)
	for _, f := range changed {
		if f == "tool_version" {
			what = append(what, fmt.Sprintf("tool_version logged %q, now %q", t.req.ToolVersion, rt.version))
		} else {
			what = append(what, fmt.Sprintf("schema_version logged %q, now %q", t.req.SchemaVersion, rt.schemaVersion))
		}
	}
	if policy == ReplayStrict {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.seq, Tool: step.Tool, Kind: ErrReplayMismatch,
			Msg: fmt.Sprintf("the tool changed since the step was logged (%s); replay with ReplayAllowPromptDrift to reuse the logged result, ReplayForkOnDrift to run the tool again in a fork, or use a new step key",
				strings.Join(what, ", "))}
	}
	d := &ledger.ReplayedWithDrift{StepKey: t.req.StepKey, Model: step.Tool, DriftFields: changed,
		SourceRequestedEventID: t.eventID, SourceTerminalSeq: new(t.doneSeq), Policy: string(policy)}
	drift := &Drift{Fields: changed, Policy: policy, SourceSeq: t.seq}
	var err error
	if policy == ReplayAllowPromptDrift {
		if drift.Seq, err = k.logDrift(ctx, x, run, d); err != nil {
			return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.seq, Tool: step.Tool, Msg: "log replayed_with_drift", Err: err}
		}
		r, err := replayToolCompletion(op, run, step.Tool, t)
		r.Drift = drift
		return r, err
	}
	req := &ledger.ToolRequested{ToolName: step.Tool, ArgumentsJSON: t.req.ArgumentsJSON, ToolVersion: rt.version,
		SchemaVersion: rt.schemaVersion, StepKey: t.req.StepKey}
	forkID := ledger.ForkRunID(run.ID, t.prevHash, req)
	d.ForkRunID = &forkID
	f, err := k.fork(ctx, run, t.seq-1, forkID)
	if err != nil {
		return ToolResult{}, err
	}
	if drift.Seq, err = k.logDrift(ctx, x, run, d); err != nil {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.seq, Tool: step.Tool, Msg: "log replayed_with_drift", Err: err}
	}
	drift.ParentRunID, drift.ForkRunID = run.ID, forkID
	sub := step
	sub.ReplayPolicy = ReplayStrict
	r, err := k.StepTool(ctx, f, sub)
	r.Drift = drift
	if r.RunID == "" {
		r.RunID = forkID
	}
	return r, err
}

// replayToolCompletion returns the logged completion of t, or its failure.
func replayToolCompletion(op string, run Run, tool string, t *toolEntry) (ToolResult, error) {
	c := t.completion
	if c.ToolName != tool {
		return ToolResult{}, &Error{Op: op, RunID: run.ID, Seq: t.doneSeq, Tool: tool, Kind: ErrReplayMismatch,
			Msg: fmt.Sprintf("tool_completed names tool %q, not the requested %q", c.ToolName, tool)}
	}
	if c.Outcome != ledger.OutcomeSuccess {
		return ToolResult{}, toolFailure(op, run.ID, t.doneSeq, tool, c)
	}
	return ToolResult{RunID: run.ID, Seq: t.doneSeq, Tool: tool, ResultJSON: c.ResultJSON,
		IdempotencyKey: t.req.IdempotencyKey, FromLog: true}, nil
}

// toolFailure is the error of a failed tool step, built from its logged
// completion alone, so that a step that fails live and the same step
// replayed from the log return equal errors: an *Error matching
// ErrToolFailed (and ErrUnknownOutcome for unknown_outcome) whose chain
// holds a *ToolError with the outcome and the logged error message.
func toolFailure(op, runID string, seq int64, tool string, c *ledger.ToolCompleted) error {
	te := &ToolError{Outcome: c.Outcome}
	if c.ErrorMessage != nil && *c.ErrorMessage != "" {
		te.Err = errors.New(*c.ErrorMessage)
	}
	e := &Error{Op: op, RunID: runID, Seq: seq, Tool: tool, Outcome: c.Outcome, Kind: ErrToolFailed,
		Msg: fmt.Sprintf("outcome %s", c.Outcome), Err: te}
	if c.Outcome == ledger.OutcomeUnknown {
		e.Kind = ErrUnknownOutcome
		e.Msg = "outcome unknown; call ReconcileTool to run it again with the same idempotency key"
	}
	return e
}

// canonicalArgs returns the arguments as the Python original logs them.
func canonicalArgs(args any) (string, error) {
	if s, ok := args.(string); ok {
		args = json.RawMessage(s)
	}
	if args == nil {
		return "", fmt.Errorf("no arguments; pass a struct or a JSON object")
	}
	b, err := pyjson.Dumps(args)
	if err != nil {
		return "", err
	}
	if len(b) == 0 || b[0] != '{' {
		return "", fmt.Errorf("arguments %s are not a JSON object", b)
	}
	return string(b), nil
}
