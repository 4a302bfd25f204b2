package artana

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
)

// A ReplayPolicy says what a step does when the log holds a request for
// its step key that differs from the step's own: the newest Python
// artana's replay_policy.
type ReplayPolicy string

// The three replay policies.
const (
	// ReplayStrict (the default) treats any difference as a new request:
	// the step calls the model (a kernel without one fails with
	// ErrReplayMismatch), and a changed tool fails with ErrReplayMismatch.
	ReplayStrict ReplayPolicy = "strict"
	// ReplayAllowPromptDrift answers a model step whose logged request
	// (found by step key) differs only in prompt or messages from the
	// log, and a tool step whose tool changed version or schema version
	// since it was logged with the logged result, and appends one
	// replayed_with_drift event naming the fields that differ.
	ReplayAllowPromptDrift ReplayPolicy = "allow_prompt_drift"
	// ReplayForkOnDrift copies the run up to the drifting step into a new
	// run (named by ledger.ForkRunID), which continues live; the original run is left as
	// it was but for one replayed_with_drift event naming the fork.
	ReplayForkOnDrift ReplayPolicy = "fork_on_drift"
)

// WithReplayPolicy sets the kernel's replay policy, which steps that name
// none (ModelStep.ReplayPolicy, ToolStep.ReplayPolicy "") use. The default
// is ReplayStrict.
func WithReplayPolicy(p ReplayPolicy) Option { return func(k *Kernel) { k.replayPolicy = p } }

// policyFor returns the policy of a step, or an error for an unknown one.
func (k *Kernel) policyFor(p ReplayPolicy) (ReplayPolicy, error) {
	if p == "" {
		p = k.replayPolicy
	}
	switch p {
	case "":
		return ReplayStrict, nil
	case ReplayStrict, ReplayAllowPromptDrift, ReplayForkOnDrift:
		return p, nil
	}
	return "", fmt.Errorf("unknown replay policy %q; use ReplayStrict, ReplayAllowPromptDrift or ReplayForkOnDrift; nothing logged", p)
}

// A Drift describes a step that was answered although its request drifted
// from the logged one (ModelResult.Drift, ToolResult.Drift).
type Drift struct {
	Fields    []string     // the request fields that differ, as logged in drift_fields
	Policy    ReplayPolicy // the policy that allowed it
	SourceSeq int64        // seq of the logged request
	// Seq is the seq of the replayed_with_drift event in the original run
	// (ParentRunID when forked).
	Seq int64
	// ParentRunID and ForkRunID are set when the step forked: the step
	// ran in ForkRunID (which is also the result's RunID), and later
	// steps belong there.
	ParentRunID string
	ForkRunID   string
}

// driftEntry is a logged replayed_with_drift event.
type driftEntry struct {
	seq int64
	p   *ledger.ReplayedWithDrift
}

// driftKey identifies a drift for stability: replaying the drifted run
// again finds it and appends nothing.
func driftKey(stepKey *string, sourceID, policy string, fields []string, fork *string) string {
	return fmt.Sprintf("%q|%q|%s|%q|%q", derefOr(stepKey, ""), sourceID, policy, strings.Join(fields, ","), derefOr(fork, ""))
}

// modelDriftFields returns the fields in which the logged request differs
// from prompt and messages, in the newest Python artana's order.
func modelDriftFields(req *ledger.ModelRequested, prompt string, messages []ledger.ChatMessage) []string {
	var fields []string
	if req.Prompt != prompt {
		fields = append(fields, "prompt")
	}
	if !equalMessages(req.Messages, messages) {
		fields = append(fields, "messages")
	}
	return fields
}

// logDrift appends the drift event d to the run unless the run already
// holds the same one. It returns the event's seq.
func (k *Kernel) logDrift(ctx context.Context, x *runIndex, run Run, d *ledger.ReplayedWithDrift) (int64, error) {
	key := driftKey(d.StepKey, d.SourceRequestedEventID, d.Policy, d.DriftFields, d.ForkRunID)
	if e := x.drifts[key]; e != nil {
		return e.seq, nil
	}
	e, err := k.append(ctx, x, run, d)
	if err != nil {
		return 0, err
	}
	return e.Seq, nil
}

// fork makes sure the run forkID holds a copy of the first n events of
// run (payload for payload) and returns its handle. A fork that exists
// already must hold that prefix; a copy cut short (the process died while
// copying) is completed.
func (k *Kernel) fork(ctx context.Context, run Run, n int64, forkID string) (Run, error) {
	const op = "fork run"
	f := Run{ID: forkID, Tenant: run.Tenant}
	events, err := k.store.Events(ctx, run.ID, 0)
	if err != nil {
		return f, &Error{Op: op, RunID: run.ID, Err: err}
	}
	if int64(len(events)) < n {
		return f, &Error{Op: op, RunID: run.ID, Kind: ErrReplayMismatch, Msg: fmt.Sprintf("the run has %d events, fewer than the %d to copy", len(events), n)}
	}
	prefix := events[:n]
	y, err := k.lockRunOrEmpty(ctx, op, f, true)
	if err != nil {
		return f, err
	}
	defer y.mu.Unlock()
	// y is up to date and, if the fork has events, of run's tenant.
	have, err := k.store.Events(ctx, forkID, 0)
	if err != nil {
		return f, &Error{Op: op, RunID: forkID, Err: err}
	}
	for i := range min(len(have), len(prefix)) {
		if have[i].Type != prefix[i].Type || !bytes.Equal(ledger.CanonicalForm.Encode(have[i].Payload), ledger.CanonicalForm.Encode(prefix[i].Payload)) {
			return f, &Error{Op: op, RunID: forkID, Seq: have[i].Seq, Kind: ErrReplayMismatch,
				Msg: fmt.Sprintf("the fork exists but its event differs from seq %d of its parent %q; inspect both with artana-replay diff", prefix[i].Seq, run.ID)}
		}
	}
	for i := len(have); i < len(prefix); i++ {
		if _, err := k.append(ctx, y, f, prefix[i].Payload); err != nil {
			return f, &Error{Op: op, RunID: forkID, Seq: prefix[i].Seq, Msg: "copy the parent's event", Err: err}
		}
	}
	return f, nil
}

// modelDriftSource decides what a model step with a drift policy does when
// no logged request matches it exactly: it returns the latest logged
// request of the step key and the fields that differ, nil when there is
// none, or an ErrReplayMismatch error when the logged request differs in
// more than prompt and messages.
func (x *runIndex) modelDriftSource(model string, allowed []string, stepKey *string, prompt string,
	messages []ledger.ChatMessage) (*modelEntry, []string, error) {
	if stepKey == nil {
		return nil, nil, nil
	}
	c := x.modelsByStepKey[*stepKey]
	if c == nil {
		return nil, nil, nil
	}
	if c.req.Model != model {
		return nil, nil, &Error{Op: "step model", RunID: x.id, Seq: c.seq, Kind: ErrReplayMismatch,
			Msg: fmt.Sprintf("the logged request of step key %q has model %q, now %q: a replay policy allows only prompt and messages to drift; use a new step key or run id", *stepKey, c.req.Model, model)}
	}
	if !slices.Equal(c.req.AllowedTools, allowed) {
		return nil, nil, &Error{Op: "step model", RunID: x.id, Seq: c.seq, Kind: ErrReplayMismatch,
			Msg: fmt.Sprintf("the logged request of step key %q offered tools %s, now %s: a replay policy allows only prompt and messages to drift; use a new step key or run id", *stepKey, quoteList(c.req.AllowedTools), quoteList(allowed))}
	}
	return c, modelDriftFields(c.req, prompt, messages), nil
}
