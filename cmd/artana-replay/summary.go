package main

import (
	"context"
	"time"

	"github.com/artana-go/go-artana/artana"
)

// Run statuses.
const (
	statusComplete = "complete"
	statusPaused   = "paused"
	statusPending  = "pending tool"
	statusUnknown  = "unknown outcome"
)

// A runSummary accumulates what ls and stats say about one run, one event
// at a time.
type runSummary struct {
	RunID            string
	Tenant           string
	Events           int64
	First, Last      time.Time
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
	Models           map[string]*usageSum

	paused   bool
	requests map[string]*toolState // by tool_requested event id
	order    []*toolState
}

// usageSum is tokens and cost summed over some model calls.
type usageSum struct {
	Calls            int64
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
}

func (u *usageSum) add(p *artana.ModelCompleted) {
	u.Calls++
	u.PromptTokens += p.PromptTokens
	u.CompletionTokens += p.CompletionTokens
	u.CostUSD += p.CostUSD
}

// toolState is what is known of one tool request.
type toolState struct {
	id, name, key string
	completed     bool
	outcome       artana.ToolOutcome
}

func newRunSummary(e *artana.Event) *runSummary {
	return &runSummary{RunID: e.RunID, Tenant: e.TenantID, First: e.Timestamp,
		Models: map[string]*usageSum{}, requests: map[string]*toolState{}}
}

// add accounts for the run's next event.
func (s *runSummary) add(e *artana.Event) {
	s.Events++
	s.Last = e.Timestamp
	switch p := e.Payload.(type) {
	case *artana.PauseRequested:
		s.paused = true
	case *artana.ResumeRequested:
		s.paused = false
	case *artana.ModelCompleted:
		s.PromptTokens += p.PromptTokens
		s.CompletionTokens += p.CompletionTokens
		s.CostUSD += p.CostUSD
		u := s.Models[p.Model]
		if u == nil {
			u = &usageSum{}
			s.Models[p.Model] = u
		}
		u.add(p)
	case *artana.ToolRequested:
		t := &toolState{id: e.ID, name: p.ToolName, key: p.IdempotencyKey}
		s.requests[e.ID] = t
		s.order = append(s.order, t)
	case *artana.ToolCompleted:
		if t := s.requestOf(p); t != nil {
			t.completed = true
			t.outcome = p.Outcome
		}
	}
}

// requestOf finds the request a tool_completed completes: by request id,
// else by idempotency key, else the latest open request of the same tool.
func (s *runSummary) requestOf(p *artana.ToolCompleted) *toolState {
	if p.RequestID != nil {
		if t := s.requests[*p.RequestID]; t != nil {
			return t
		}
	}
	if p.ReceivedIdempotencyKey != nil {
		for i := len(s.order) - 1; i >= 0; i-- {
			if s.order[i].key == *p.ReceivedIdempotencyKey {
				return s.order[i]
			}
		}
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if t := s.order[i]; t.name == p.ToolName && !t.completed {
			return t
		}
	}
	return nil
}

// Status says whether the run is complete or waits for something: a tool
// outcome to reconcile, a tool completion, or a resume.
func (s *runSummary) Status() string {
	pending := false
	for _, t := range s.order {
		if t.completed && t.outcome == artana.OutcomeUnknown {
			return statusUnknown
		}
		if !t.completed {
			pending = true
		}
	}
	switch {
	case pending:
		return statusPending
	case s.paused:
		return statusPaused
	}
	return statusComplete
}

// Tokens is the run's prompt plus completion tokens.
func (s *runSummary) Tokens() int64 { return s.PromptTokens + s.CompletionTokens }

// summarize streams every event of the source (or only the runs named)
// and returns one summary per run, in the source's order.
func summarize(ctx context.Context, src *source, only []string) ([]*runSummary, error) {
	var out []*runSummary
	var cur *runSummary
	add := func(e artana.Event) error {
		if cur == nil || cur.RunID != e.RunID {
			cur = newRunSummary(&e)
			out = append(out, cur)
		}
		cur.add(&e)
		return nil
	}
	if len(only) == 0 {
		return out, src.scanAll(ctx, add)
	}
	for _, id := range only {
		cur = nil
		if err := src.scan(ctx, id, add); err != nil {
			return nil, err
		}
	}
	return out, nil
}
