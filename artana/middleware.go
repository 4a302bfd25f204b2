package artana

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/internal/pii"
)

// Middleware hooks into every model step, as the Python original's
// KernelMiddleware. A middleware is any value that implements at least one
// of PrepareModelHook, BeforeModelHook and AfterModelHook, and only those
// it uses; WithMiddleware panics on a value that implements none.
//
// PrepareModel runs on every step, answered from the log or not, before the
// log is searched: what it returns is what is logged, matched and sent.
// BeforeModel and AfterModel run only around live model calls; AfterModel
// runs after model_completed is logged. An error from any of them ends the
// step with that error.
type Middleware any

// A PrepareModelHook may change a model call before it is logged, matched
// against the log and sent.
type PrepareModelHook interface {
	PrepareModel(ctx context.Context, call ModelCall) (ModelCall, error)
}

// A BeforeModelHook may refuse a live model call: its model_requested is
// logged already, the model is not called.
type BeforeModelHook interface {
	BeforeModel(ctx context.Context, call ModelCall) error
}

// An AfterModelHook sees the usage of a live model call after its
// model_completed is logged, and may fail the step.
type AfterModelHook interface {
	AfterModel(ctx context.Context, call ModelCall, usage llm.Usage) error
}

// ModelCall is a model step as middleware sees it, and may change it.
type ModelCall struct {
	Run      Run
	Model    string
	Prompt   string
	Messages []ledger.ChatMessage
	// Tools are the tools offered, in registration order. After the
	// middleware, tools the tenant may not use are removed.
	Tools []llm.ToolDefinition
	// ToolCapabilities maps every registered tool to the capability it
	// requires ("" for none).
	ToolCapabilities map[string]string
	StepKey          string
	// SpentUSD is the cost of the run's logged model calls before this one.
	SpentUSD float64
}

// WithMiddleware adds middleware to the kernel's chain. The kernel orders
// its chain as the Python original does, whatever the order given:
// PIIScrubber first (so that later middleware and the log never see the
// raw text), then Quota, then CapabilityGuard, then every other middleware
// in the order given. It panics if a value implements none of the hooks.
func WithMiddleware(m ...Middleware) Option {
	for _, mw := range m {
		switch mw.(type) {
		case PrepareModelHook, BeforeModelHook, AfterModelHook:
		default:
			panic(fmt.Sprintf("artana.WithMiddleware: %T implements none of PrepareModelHook, BeforeModelHook and AfterModelHook", mw))
		}
	}
	return func(k *Kernel) { k.middleware = append(k.middleware, m...) }
}

// NewEnforced returns a kernel like New, under the Python original's
// enforced policy (KernelPolicy.enforced()): its chain holds the
// DefaultMiddleware (those of them not given with WithMiddleware are
// added), and its tenants must pass Tenant.Validate (an id and a budget
// greater than 0) at every step.
//
//	k := artana.NewEnforced(store, model)
func NewEnforced(store ledger.Store, model llm.Model, opts ...Option) *Kernel {
	k := New(store, model, opts...)
	k.enforced = true
	for _, d := range DefaultMiddleware() {
		if !slices.ContainsFunc(k.middleware, func(m Middleware) bool { return middlewareRank(m) == middlewareRank(d) }) {
			k.middleware = append(k.middleware, d)
		}
	}
	k.middleware = orderMiddleware(k.middleware)
	return k
}

// DefaultMiddleware returns the Python original's default middleware
// stack, in the order the kernel runs it: a PIIScrubber, a Quota and a
// CapabilityGuard. NewEnforced installs it.
func DefaultMiddleware() []Middleware {
	return []Middleware{PIIScrubber{}, Quota{}, CapabilityGuard{}}
}

// orderMiddleware returns m ordered as the Python original's
// order_middleware does: PIIScrubber, Quota, CapabilityGuard, then the
// others; middleware of equal rank keep the order given. m is not modified.
func orderMiddleware(m []Middleware) []Middleware {
	out := slices.Clone(m)
	slices.SortStableFunc(out, func(a, b Middleware) int { return middlewareRank(a) - middlewareRank(b) })
	return out
}

func middlewareRank(m Middleware) int {
	switch m.(type) {
	case PIIScrubber, *PIIScrubber:
		return 0
	case Quota, *Quota:
		return 1
	case CapabilityGuard, *CapabilityGuard:
		return 2
	}
	return 3
}

// PIIScrubber is the middleware that redacts e-mail addresses, phone
// numbers and US social security numbers from the prompt and every message
// before the log is searched: the scrubbed text is what is logged in
// model_requested, what replay matches and what the model receives. A
// step that fails after it redacted something says how many spans.
//
// By default it is the Python original's scrubber, byte for byte: the
// enforced kernel and ledgers shared with the original depend on it. Three
// patterns are applied in turn, with Python's re semantics (Unicode \d, \s
// and \b; the first match found by backtracking wins), in time linear in
// the text:
//
//	\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b                   [REDACTED_EMAIL]
//	\b(?:\+?1[-.\s]?)?(?:\(?\d{3}\)?[-.\s]?)\d{3}[-.\s]?\d{4}\b          [REDACTED_PHONE]
//	\b\d{3}-\d{2}-\d{4}\b                                                [REDACTED_SSN]
//
// The patterns also match digits inside longer identifiers: "Refund order
// 112-7654321-1234567" becomes "Refund order [REDACTED_PHONE]-1234567",
// "#4155550123" becomes
// "#[REDACTED_PHONE]". KeepIdentifiers leaves such identifiers alone (a
// run of letters, digits and # _ / - that a pattern matches only part
// of), at the price of logging what the original would not.
type PIIScrubber struct {
	KeepIdentifiers bool
}

// PrepareModel scrubs the prompt and the content of every message.
func (p PIIScrubber) PrepareModel(_ context.Context, call ModelCall) (ModelCall, error) {
	scrub := pii.Scrub
	if p.KeepIdentifiers {
		scrub = pii.ScrubKeepingIdentifiers
	}
	call.Prompt = scrub(call.Prompt)
	msgs := make([]ledger.ChatMessage, len(call.Messages))
	for i, m := range call.Messages {
		m.Content = scrub(m.Content)
		msgs[i] = m
	}
	call.Messages = msgs
	return call, nil
}

// Quota is the middleware that holds each run to its tenant's budget
// (Tenant.BudgetUSD, which must be greater than 0). What a run has spent is
// the sum of cost_usd over the run's own model_completed events, read from
// the store, so it holds across kernel restarts and processes.
//
// Before a live model call, a run that has spent its whole budget or more
// is refused with ErrBudgetExceeded: the model is not called (its
// model_requested is logged already, as in the Python original). After a call whose
// cost takes the run over its budget, the step fails with
// ErrBudgetExceeded; its model_completed is logged, so the cost counts.
// Steps answered from the log cost nothing and are never refused.
type Quota struct{}

// PrepareModel checks that the tenant has a budget.
func (Quota) PrepareModel(_ context.Context, call ModelCall) (ModelCall, error) {
	if err := call.Run.Tenant.Validate(); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return call, err
		}
		c := *e
		c.Op, c.RunID = "quota", call.Run.ID
		c.Msg += " (the Quota middleware needs a budget)"
		return call, &c
	}
	return call, nil
}

// BeforeModel refuses the call when the run's budget is exhausted.
func (Quota) BeforeModel(_ context.Context, call ModelCall) error {
	limit := call.Run.Tenant.BudgetUSD
	if call.SpentUSD >= limit {
		return &Error{Op: "quota", RunID: call.Run.ID, Kind: ErrBudgetExceeded,
			Msg: fmt.Sprintf("run budget exhausted: limit=%.6f, spent=%.6f; the model was not called. Raise the tenant's BudgetUSD or start a new run", limit, call.SpentUSD)}
	}
	return nil
}

// AfterModel fails the step when the call took the run over its budget.
func (Quota) AfterModel(_ context.Context, call ModelCall, usage llm.Usage) error {
	limit := call.Run.Tenant.BudgetUSD
	spent := call.SpentUSD + usage.CostUSD
	if spent > limit {
		return &Error{Op: "quota", RunID: call.Run.ID, Kind: ErrBudgetExceeded,
			Msg: fmt.Sprintf("run exceeded budget: limit=%.6f, spent=%.6f; the response is logged and counts. Raise the tenant's BudgetUSD or start a new run", limit, spent)}
	}
	return nil
}

// CapabilityGuard is the middleware that removes from the tools offered
// to the model every tool whose capability the tenant lacks. The kernel
// applies the same scope after the middleware in any case (a tenant is
// never offered such a tool, and StepTool refuses it with
// ErrCapabilityDenied); the guard makes the rule part of the chain, so
// that middleware after it sees the scoped list, and NewEnforced requires
// it.
type CapabilityGuard struct{}

// PrepareModel drops the tools the tenant may not use.
func (CapabilityGuard) PrepareModel(_ context.Context, call ModelCall) (ModelCall, error) {
	call.Tools = slices.DeleteFunc(slices.Clone(call.Tools), func(d llm.ToolDefinition) bool {
		return !call.Run.Tenant.Can(call.ToolCapabilities[d.Name])
	})
	return call, nil
}
