package main

import (
	"context"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
)

// Run statuses, as ledger.RunState names them.
const (
	statusComplete = string(ledger.RunComplete)
	statusPaused   = string(ledger.RunPaused)
	statusPending  = string(ledger.RunPendingTool)
	statusUnknown  = string(ledger.RunUnknownOutcome)
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

	status ledger.StatusTracker
}

// usageSum is tokens and cost summed over some model calls.
type usageSum struct {
	Calls            int64
	PromptTokens     int64
	CompletionTokens int64
	CostUSD          float64
}

func (u *usageSum) add(p *ledger.ModelCompleted) {
	u.Calls++
	u.PromptTokens += p.PromptTokens
	u.CompletionTokens += p.CompletionTokens
	u.CostUSD += p.CostUSD
}

func newRunSummary(e *ledger.Event) *runSummary {
	return &runSummary{RunID: e.RunID, Tenant: e.TenantID, First: e.Timestamp,
		Models: map[string]*usageSum{}}
}

// add accounts for the run's next event.
func (s *runSummary) add(e *ledger.Event) {
	s.Events++
	s.Last = e.Timestamp
	s.status.Add(e)
	if p, ok := e.Payload.(*ledger.ModelCompleted); ok {
		s.PromptTokens += p.PromptTokens
		s.CompletionTokens += p.CompletionTokens
		s.CostUSD += p.CostUSD
		u := s.Models[p.Model]
		if u == nil {
			u = &usageSum{}
			s.Models[p.Model] = u
		}
		u.add(p)
	}
}

// Status is the run's state: complete, or what it waits for (see
// ledger.RunState).
func (s *runSummary) Status() string { return string(s.status.Status().State) }

// Detail is the run's status with the step it waits at (see
// ledger.RunStatus.String).
func (s *runSummary) Detail() ledger.RunStatus { return s.status.Status() }

// Tokens is the run's prompt plus completion tokens.
func (s *runSummary) Tokens() int64 { return s.PromptTokens + s.CompletionTokens }

// summarize streams every event of the source (or only the runs named)
// and returns one summary per run, in the source's order.
func summarize(ctx context.Context, src *source, only []string) ([]*runSummary, error) {
	var out []*runSummary
	var cur *runSummary
	add := func(e ledger.Event) error {
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

// waiting is what a run that is not complete waits at, in the JSON of ls
// and show.
type waiting struct {
	Seq     int64  `json:"seq"`
	Tool    string `json:"tool,omitempty"`
	StepKey string `json:"step_key,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// waitingOf returns what st waits at, nil for a complete run.
func waitingOf(st ledger.RunStatus) *waiting {
	if st.State == ledger.RunComplete {
		return nil
	}
	return &waiting{Seq: st.Seq, Tool: st.Tool, StepKey: st.StepKey, Reason: st.Reason}
}
