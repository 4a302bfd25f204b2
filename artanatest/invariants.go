package artanatest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/google/go-cmp/cmp"
)

// An Agent is the code under test: it runs steps on k and returns its
// output. To replay, it must open its runs by id (artana.Kernel.LoadOrStartRun
// with a fixed id), as an agent that resumes after a restart does.
type Agent[T any] func(ctx context.Context, k *artana.Kernel) (T, error)

// A ReplayOption configures AssertReplays.
type ReplayOption func(*replayConfig)

type replayConfig struct {
	kernelOpts []artana.Option
	cmpOpts    []cmp.Option
}

// ReplayKernelOptions adds options to the kernel of the second pass, after
// DefaultKernelOptions and the first kernel's tools: pass the middleware
// and other options the first kernel was built with.
func ReplayKernelOptions(opts ...artana.Option) ReplayOption {
	return func(c *replayConfig) { c.kernelOpts = append(c.kernelOpts, opts...) }
}

// CompareOptions adds go-cmp options to the comparison of the two
// outputs, e.g. cmp.AllowUnexported or cmpopts.EquateApprox.
func CompareOptions(opts ...cmp.Option) ReplayOption {
	return func(c *replayConfig) { c.cmpOpts = append(c.cmpOpts, opts...) }
}

// AssertReplays runs agent twice against k's store and checks that the
// second pass replays the first: first on k, then on a new kernel over the
// same store (as after a restart) with k's tools, DefaultKernelOptions and
// the ReplayKernelOptions, a model that must not be called and tools that
// must not run. The second pass must append no event to any run, must not
// call the model or run a tool, and must
// return an output equal to the first (go-cmp; the failure shows the diff
// (-first +second)). It returns the first output.
//
// An error from the first pass stops the test; so does any failure of the
// second pass, after every problem found is reported.
func AssertReplays[T any](t testing.TB, k *artana.Kernel, agent Agent[T], opts ...ReplayOption) T {
	t.Helper()
	var cfg replayConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx := t.Context()
	first, err := agent(ctx, k)
	if err != nil {
		t.Fatalf("artanatest: AssertReplays: first pass: %v", err)
		return first
	}

	guard := &guardModel{}
	tools := &guardTools{}
	kopts := append(DefaultKernelOptions(), artana.WithTools(k.Tools().Wrap(tools.wrap)))
	replayer := newKernel(k.Store(), guard, append(kopts, cfg.kernelOpts...)...)
	var second T
	added, err, snapErr := newEvents(ctx, k.Store(), "", func(ctx context.Context) (err error) {
		second, err = agent(ctx, replayer)
		return err
	})
	failed := false
	if calls := tools.result(); len(calls) > 0 {
		failed = true
		t.Errorf("artanatest: AssertReplays: the second pass ran %d tool(s); replay must answer every tool step from the log. First: %s",
			len(calls), calls[0])
	}
	if calls, req := guard.result(); calls > 0 {
		failed = true
		t.Errorf("artanatest: AssertReplays: the second pass called the model %d time(s); replay must answer every model step from the log. First request:\n%s",
			calls, DescribeRequest(req))
	}
	if snapErr != nil {
		t.Fatalf("artanatest: AssertReplays: read the store: %v", snapErr)
		return first
	}
	if len(added) > 0 {
		failed = true
		t.Errorf("artanatest: AssertReplays: the second pass appended %d event(s); replay must append nothing:\n%s", len(added), added)
	}
	if err != nil {
		t.Errorf("artanatest: AssertReplays: second pass: %v", err)
		t.FailNow()
		return first
	}
	if diff, err := safeDiff(first, second, cfg.cmpOpts...); err != nil {
		failed = true
		t.Errorf("artanatest: AssertReplays: cannot compare the outputs: %v; pass cmp options with CompareOptions", err)
	} else if diff != "" {
		failed = true
		t.Errorf("artanatest: AssertReplays: the second pass returned another output (-first +second):\n%s", diff)
	}
	if failed {
		t.FailNow()
	}
	return first
}

// safeDiff is cmp.Diff, reporting as an error what cmp reports by panicking
// (unexported fields without an option, for example).
func safeDiff(x, y any, opts ...cmp.Option) (diff string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return cmp.Diff(x, y, opts...), nil
}

// guardTools wraps the tools of a replay: every call is a failure.
type guardTools struct {
	mu    sync.Mutex
	calls []string
}

func (g *guardTools) wrap(next artana.ToolHandler) artana.ToolHandler {
	return func(_ context.Context, tool, args string) (string, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.calls = append(g.calls, tool+" "+args)
		return "", artana.PermanentToolError(fmt.Errorf("artanatest: tool %q was called during replay", tool))
	}
}

func (g *guardTools) result() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

// guardModel is the model of a replay: every call is a failure.
type guardModel struct {
	mu    sync.Mutex
	calls int
	first llm.Request
}

func (g *guardModel) Complete(_ context.Context, req llm.Request) (llm.Response, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.calls == 1 {
		g.first = req
	}
	return llm.Response{}, fmt.Errorf("artanatest: the model was called during replay (model %q, step key %q)", req.Model, req.StepKey)
}

func (g *guardModel) result() (int, llm.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, g.first
}

// AssertNoNewEvents runs fn and fails the test if it appended events to
// the run runID of store, or to any run of store if runID is "", listing
// them. An error from fn fails the test too.
func AssertNoNewEvents(t testing.TB, store ledger.Store, runID string, fn func(ctx context.Context) error) {
	t.Helper()
	added, err, snapErr := newEvents(t.Context(), store, runID, fn)
	if snapErr != nil {
		t.Errorf("artanatest: AssertNoNewEvents: %v", snapErr)
	}
	if len(added) > 0 {
		where := "the store"
		if runID != "" {
			where = fmt.Sprintf("run %q", runID)
		}
		t.Errorf("artanatest: AssertNoNewEvents: %d event(s) appended to %s:\n%s", len(added), where, added)
	}
	if err != nil {
		t.Errorf("artanatest: AssertNoNewEvents: %v", err)
	}
}

// eventList prints events one per line: run, seq, type and payload.
type eventList []ledger.Event

func (l eventList) String() string {
	var b strings.Builder
	for _, e := range l {
		fmt.Fprintf(&b, "\trun %q seq %d %s %s\n", e.RunID, e.Seq, e.Type, ledger.CanonicalForm.Encode(e.Payload))
	}
	return b.String()
}

// newEvents runs fn and returns the events it appended to runID (or to
// any run if runID is ""), fn's error, and the error of reading the store.
func newEvents(ctx context.Context, store ledger.Store, runID string, fn func(ctx context.Context) error) (added eventList, fnErr, err error) {
	before, err := lastSeqs(ctx, store, runID)
	if err != nil {
		return nil, nil, fmt.Errorf("read the store before: %w", err)
	}
	fnErr = fn(ctx)
	after, err := lastSeqs(ctx, store, runID)
	if err != nil {
		return nil, fnErr, fmt.Errorf("read the store after: %w", err)
	}
	for _, id := range after.order {
		if after.seq[id] == before.seq[id] {
			continue
		}
		evs, err := store.Events(ctx, id, before.seq[id])
		if err != nil {
			return nil, fnErr, fmt.Errorf("read run %q: %w", id, err)
		}
		added = append(added, evs...)
	}
	return added, fnErr, nil
}

type seqs struct {
	order []string
	seq   map[string]int64
}

// lastSeqs returns the last seq of runID, or of every run if runID is "".
func lastSeqs(ctx context.Context, store ledger.Store, runID string) (seqs, error) {
	s := seqs{seq: make(map[string]int64)}
	if runID != "" {
		evs, err := store.Events(ctx, runID, 0)
		if err != nil {
			return s, err
		}
		s.order = []string{runID}
		if len(evs) > 0 {
			s.seq[runID] = evs[len(evs)-1].Seq
		}
		return s, nil
	}
	runs, err := store.Runs(ctx)
	if err != nil {
		return s, err
	}
	for _, r := range runs {
		s.order = append(s.order, r.RunID)
		s.seq[r.RunID] = r.Events
	}
	return s, nil
}

// AssertChainValid fails the test unless the run runID of store has
// events and its hash chain verifies (ledger.VerifyChain): seqs from 1
// without gaps, each event's hash recomputes, each links to the previous
// one, one tenant.
func AssertChainValid(t testing.TB, store ledger.Store, runID string) {
	t.Helper()
	events, err := store.Events(t.Context(), runID, 0)
	if err != nil {
		t.Errorf("artanatest: AssertChainValid: read run %q: %v", runID, err)
		return
	}
	if len(events) == 0 {
		t.Errorf("artanatest: AssertChainValid: run %q has no events; check the run id", runID)
		return
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Errorf("artanatest: AssertChainValid: %v", err)
	}
}

// errInterrupted is the failure of the simulated crash.
var errInterrupted = errors.New("artanatest: simulated crash before tool_completed was logged")

// interruptedStore fails the append of the completion of one tool, as a
// process that dies while the tool runs would never log it.
type interruptedStore struct {
	ledger.Store
	tool string
}

func (s interruptedStore) Append(ctx context.Context, runID, tenantID string, p ledger.Payload) (ledger.Event, error) {
	if c, ok := p.(*ledger.ToolCompleted); ok && c.ToolName == s.tool {
		return ledger.Event{}, errInterrupted
	}
	return s.Store.Append(ctx, runID, tenantID, p)
}

// AssertHaltsOnUnknownOutcome checks the kernel's guarantee for a tool step
// interrupted after the tool ran and before its completion was logged. The
// step must be new to the run; executions must report how many times the
// tool has run (a counter the tool increments).
//
// It runs step on a kernel whose store loses the completion (the tool runs
// once), then checks that StepTool on k, and again on a new kernel over
// the same store, halts with artana.ErrUnknownOutcome without running the
// tool; that k.ReconcileTool runs it once more and succeeds; and that
// StepTool then replays the reconciled result without running it. It
// returns the reconciled result.
func AssertHaltsOnUnknownOutcome(t testing.TB, k *artana.Kernel, run artana.Run, step artana.ToolStep, executions func() int) artana.ToolResult {
	t.Helper()
	ctx := t.Context()
	const name = "artanatest: AssertHaltsOnUnknownOutcome"
	n0 := executions()
	crashed := newKernel(interruptedStore{k.Store(), step.Tool}, nil, artana.WithTools(k.Tools()))
	_, err := crashed.StepTool(ctx, run, step)
	if err == nil || !errors.Is(err, errInterrupted) {
		t.Fatalf("%s: the interrupted step did not stop where the completion is logged (error %v); pass a tool step that is not yet in the run", name, err)
		return artana.ToolResult{}
	}
	if n := executions() - n0; n != 1 {
		t.Fatalf("%s: the tool ran %d time(s) in the interrupted step, want 1; check the executions counter", name, n)
		return artana.ToolResult{}
	}

	halts := func(what string, k *artana.Kernel) bool {
		t.Helper()
		_, err := k.StepTool(ctx, run, step)
		ok := true
		if !errors.Is(err, artana.ErrUnknownOutcome) {
			t.Errorf("%s: %s: StepTool returned error %v, want artana.ErrUnknownOutcome", name, what, err)
			ok = false
		}
		if n := executions() - n0; n != 1 {
			t.Errorf("%s: %s: the tool ran again (%d runs in all, want 1) before it was reconciled", name, what, n)
			ok = false
		}
		return ok
	}
	restarted := newKernel(k.Store(), nil, artana.WithTools(k.Tools()))
	if !halts("after the interruption", k) || !halts("after a restart", restarted) {
		t.FailNow()
		return artana.ToolResult{}
	}

	res, err := k.ReconcileTool(ctx, run, step)
	if err != nil {
		t.Fatalf("%s: ReconcileTool: %v", name, err)
		return artana.ToolResult{}
	}
	if n := executions() - n0; n != 2 {
		t.Fatalf("%s: ReconcileTool ran the tool %d time(s) in all, want 2 (once interrupted, once reconciled)", name, n)
		return artana.ToolResult{}
	}
	again, err := k.StepTool(ctx, run, step)
	switch {
	case err != nil:
		t.Errorf("%s: StepTool after ReconcileTool: %v, want the reconciled result", name, err)
	case !again.FromLog || again.ResultJSON != res.ResultJSON:
		t.Errorf("%s: StepTool after ReconcileTool returned %s (from_log %v), want the reconciled %s answered from the log",
			name, again.ResultJSON, again.FromLog, res.ResultJSON)
	case executions()-n0 != 2:
		t.Errorf("%s: StepTool after ReconcileTool ran the tool again", name)
	}
	return res
}
