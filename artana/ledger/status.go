package ledger

import (
	"fmt"
)

// RunState says whether a run is complete or waits for something.
type RunState string

// Run states, as the CLI prints them.
const (
	// RunComplete: nothing is pending; the run may go on with new steps.
	RunComplete RunState = "complete"
	// RunPaused: the run is paused (artana's Kernel.Pause) and waits for
	// Kernel.Resume.
	RunPaused RunState = "paused"
	// RunPendingTool: a tool_requested has no tool_completed yet; the
	// tool was asked to run and its process may have died. The step,
	// run again, re-runs it with the same idempotency key.
	RunPendingTool RunState = "pending tool"
	// RunUnknownOutcome: a tool call ended with an unknown outcome; the
	// step halts until artana's Kernel.ReconcileTool runs it again.
	RunUnknownOutcome RunState = "unknown outcome"
)

// RunStatus is where a run stands, as its log says. artana's Kernel.Status returns
// it; artana-replay ls and show print it.
type RunStatus struct {
	RunID    string
	TenantID string
	State    RunState
	Events   int64 // how many events the run has
	LastSeq  int64
	// Seq is the event that makes the run wait, 0 when it is complete: the
	// tool_completed with the unknown outcome, the tool_requested without
	// a completion, or the pause_requested.
	Seq int64
	// Tool and StepKey name the step that waits: the tool (for a pending
	// tool or an unknown outcome) and the step key of its request or of
	// the pause ("" if it has none). Reason is a pause's reason.
	Tool    string
	StepKey string
	Reason  string
}

// String says the state and, for a run that waits, which step:
//
//	complete
//	unknown outcome: tool "submit_transfer" (step "transfer.v1", seq 5); call ReconcileTool
func (s RunStatus) String() string {
	step := ""
	if s.StepKey != "" {
		step = fmt.Sprintf("step %q, ", s.StepKey)
	}
	switch s.State {
	case RunUnknownOutcome:
		return fmt.Sprintf("%s: tool %q (%sseq %d); call ReconcileTool", s.State, s.Tool, step, s.Seq)
	case RunPendingTool:
		return fmt.Sprintf("%s: tool %q (%sseq %d) was requested and has no outcome logged", s.State, s.Tool, step, s.Seq)
	case RunPaused:
		return fmt.Sprintf("%s: %q (%sseq %d); call Resume", s.State, s.Reason, step, s.Seq)
	}
	return string(s.State)
}

// A StatusTracker computes a run's status from its events, one at a time,
// in seq order, keeping a few fields per tool request rather than the
// events: for a caller that streams a long run. StatusOf does it for a
// slice. The zero value is ready to use.
type StatusTracker struct {
	status   RunStatus
	pause    *Event
	requests map[string]*trackedTool // open or unknown, by tool_requested id
	order    []*trackedTool
}

type trackedTool struct {
	seq, doneSeq int64
	name, key    string
	stepKey      string
	completed    bool
	outcome      ToolOutcome
}

// Add accounts for the run's next event.
func (t *StatusTracker) Add(e *Event) {
	if t.status.Events == 0 {
		t.status.RunID, t.status.TenantID = e.RunID, e.TenantID
	}
	t.status.Events++
	t.status.LastSeq = e.Seq
	switch p := e.Payload.(type) {
	case *PauseRequested:
		c := *e
		t.pause = &c
	case *ResumeRequested:
		t.pause = nil
	case *ToolRequested:
		if t.requests == nil {
			t.requests = map[string]*trackedTool{}
		}
		r := &trackedTool{seq: e.Seq, name: p.ToolName, key: p.IdempotencyKey, stepKey: derefOr(p.StepKey, "")}
		t.requests[e.ID] = r
		t.order = append(t.order, r)
	case *ToolCompleted:
		if r := t.requestOf(p); r != nil {
			r.completed, r.outcome, r.doneSeq = true, p.Outcome, e.Seq
		}
	}
}

// requestOf finds the request a tool_completed completes: by request id,
// else by idempotency key, else the latest open request of the same tool.
func (t *StatusTracker) requestOf(p *ToolCompleted) *trackedTool {
	if p.RequestID != nil {
		if r := t.requests[*p.RequestID]; r != nil {
			return r
		}
	}
	if p.ReceivedIdempotencyKey != nil {
		for i := len(t.order) - 1; i >= 0; i-- {
			if t.order[i].key == *p.ReceivedIdempotencyKey {
				return t.order[i]
			}
		}
	}
	for i := len(t.order) - 1; i >= 0; i-- {
		if r := t.order[i]; r.name == p.ToolName && !r.completed {
			return r
		}
	}
	return nil
}

// Status returns the status after the events added so far. An unknown
// outcome comes first (the earliest), then a pending tool (the earliest),
// then a pause.
func (t *StatusTracker) Status() RunStatus {
	s := t.status
	s.State = RunComplete
	var pending *trackedTool
	for _, r := range t.order {
		if r.completed && r.outcome == OutcomeUnknown {
			s.State, s.Seq, s.Tool, s.StepKey = RunUnknownOutcome, r.doneSeq, r.name, r.stepKey
			return s
		}
		if !r.completed && pending == nil {
			pending = r
		}
	}
	switch {
	case pending != nil:
		s.State, s.Seq, s.Tool, s.StepKey = RunPendingTool, pending.seq, pending.name, pending.stepKey
	case t.pause != nil:
		p := t.pause.Payload.(*PauseRequested)
		s.State, s.Seq, s.StepKey, s.Reason = RunPaused, t.pause.Seq, derefOr(p.StepKey, ""), p.Reason
	}
	return s
}

// StatusOf returns the status of the run whose events, from seq 1, are
// events.
func StatusOf(events []Event) RunStatus {
	var t StatusTracker
	for i := range events {
		t.Add(&events[i])
	}
	return t.Status()
}
