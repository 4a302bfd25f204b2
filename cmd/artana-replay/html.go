package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/cassettes"
)

func htmlCommand() *command {
	var out string
	var limit int
	var strict bool
	return &command{
		name:    "html",
		usage:   "[-o FILE] [--limit N] [--strict] SOURCE[#RUN] [B[#RUN]]",
		summary: "write a self-contained HTML report of a run, or of the diff of two runs (A B); no network, readable without script",
		flags: func(fs *flag.FlagSet, _ *env) {
			fs.StringVar(&out, "o", "", "write the report to `FILE` (default: standard output)")
			fs.IntVar(&limit, "limit", defaultHTMLLimit, "render at most `N` steps in full; the others are summed up in rows of their own (0: render every step)")
			fs.BoolVar(&strict, "strict", false, "diff: also compare ids, run ids, seqs, timestamps, hashes, idempotency keys, request ids and tool call ids")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			return runHTML(ctx, e, args, htmlOptions{out: out, limit: limit, strict: strict})
		},
	}
}

// defaultHTMLLimit is how many steps a report renders in full by default:
// enough for any run a person reads step by step, few enough that the
// file of a run of 100,000 events opens in a browser at once.
const defaultHTMLLimit = 2000

type htmlOptions struct {
	out    string
	limit  int
	strict bool
}

func runHTML(ctx context.Context, e *env, args []string, o htmlOptions) error {
	if err := e.nargs(args, 1, 2); err != nil {
		return err
	}
	if o.limit < 0 {
		return e.usagef("--limit must be 0 (no limit) or more, got %d", o.limit)
	}
	if e.json {
		return e.usagef("html writes HTML; --json is not supported")
	}
	var rep *htmlReport
	var err error
	if len(args) == 1 {
		rep, err = runReport(ctx, e, args[0], o)
	} else {
		rep, err = diffReport(ctx, e, args[0], args[1], o)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, rep); err != nil {
		return fmt.Errorf("html: render the report: %w", err)
	}
	if o.out == "" || o.out == "-" {
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(o.out, buf.Bytes())
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a failed write leaves no half-written report.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("html: write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("html: write %s: %w", path, err)
	}
	return nil
}

// An htmlReport is what the template renders: a run or a diff.
type htmlReport struct {
	Title string
	Run   *runView
	Diff  *diffView
	Limit int
}

// A runView is one run (or one interactions cassette).
type runView struct {
	Source, Kind, RunID, Tenant string
	Interactions                bool
	Events                      int
	Chain                       chainView
	Status                      string
	Waiting                     bool
	Steps                       []stepView
	StepCount                   int
	Shown                       int
	Models, Tools               int
	PromptTokens                int64
	CompletionTokens            int64
	Cost                        string
	Attention                   int
	Chart                       *chartView
	ChainAnchor, StatusAnchor   string // the steps the banners link to
}

// chainView is what the hash chain check found.
type chainView struct {
	OK      bool
	Checked int
	Seq     int64
	Line    int
	Error   string
}

// A stepView is one row of a timeline: a step, or a gap summing up the
// steps left out.
type stepView struct {
	N        int
	Anchor   string
	Kind     string // start, model, tool, workflow, pause, resume, drift, interaction, other
	Label    string
	Seqs     string
	Summary  string
	Tokens   string
	Cost     string
	Latency  string
	Flag     string // why the step stands out, or ""
	Open     bool
	Messages []messageView
	Calls    []shownCall
	Events   []eventView
	Gap      *gapView
}

type messageView struct {
	Role, Content, ToolCallID string
	Calls                     []shownCall
}

// An eventView is one event of a step, with its payload as indented JSON.
type eventView struct {
	Seq     int64
	Type    string
	Time    string
	Hash    string
	Payload string
}

// A gapView sums up steps that are not rendered.
type gapView struct {
	From, To int
	Steps    int
	Models   int
	Tools    int
	Tokens   int64
	Cost     string
	FirstSeq int64
	LastSeq  int64
}

// chartView is the cumulative tokens and cost chart, as SVG polylines.
type chartView struct {
	W, H          int
	ViewBox       string
	Tokens, Cost  string // polyline points
	MaxTokens     string
	MaxCost       string
	Steps         int
	LastX         int
	Axis          string
	Title         string
	TokensCaption string
}

// A diffView is two runs aligned by step.
type diffView struct {
	A, B        runRef
	AChain      chainView
	BChain      chainView
	Strict      bool
	Equivalent  bool
	Divergences int
	First       *divergence
	FirstText   string
	Rows        []diffRow
	Pairs       int
	Shown       int
}

// A diffRow is one aligned step: A's, B's, or both.
type diffRow struct {
	N      int
	Anchor string
	First  bool
	Label  string
	State  string // same, differs, only_in_a, only_in_b, order
	A, B   *stepView
	Fields []fieldDiff
	Gap    *gapView
}

// runReport reads the run arg names and renders it.
func runReport(ctx context.Context, e *env, arg string, o htmlOptions) (*htmlReport, error) {
	path, run := splitRunRef(arg)
	src, err := openSource(ctx, path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if src.kind == kindInteractions {
		if run != "" {
			return nil, e.usagef("%s is an interactions cassette: it holds no runs to name (got #%s)", src.path, run)
		}
		return interactionsReport(ctx, src, o)
	}
	if run, err = pickRun(ctx, e, src, run); err != nil {
		return nil, err
	}
	evs, chain, err := readChecked(ctx, src, run)
	if err != nil {
		return nil, err
	}
	v := buildRunView(evs, chain, o.limit)
	v.Source, v.Kind, v.RunID = src.path, src.kind, run
	return &htmlReport{Title: "run " + run + " — " + src.path, Run: v, Limit: o.limit}, nil
}

// readChecked reads a run and checks its hash chain. A run whose chain
// breaks is still rendered: the events read, and where it breaks.
func readChecked(ctx context.Context, src *source, run string) ([]ledger.Event, chainView, error) {
	var evs []ledger.Event
	err := src.scan(ctx, run, func(ev ledger.Event) error {
		evs = append(evs, ev)
		return nil
	})
	chain := chainView{OK: true}
	var ce *cassettes.Error
	switch {
	case err == nil:
	case errors.Is(err, ledger.ErrChainBroken) || errors.As(err, &ce):
		if ctx.Err() != nil {
			return nil, chain, ctx.Err()
		}
		r := verifyResult{RunID: run, Events: int64(len(evs))}
		r.fail(err)
		chain = chainView{Seq: r.Seq, Line: r.Line, Error: r.Error}
	default:
		return nil, chain, fmt.Errorf("read %s run %q: %w", src.path, run, err)
	}
	if chain.OK {
		var v ledger.ChainVerifier
		for i := range evs {
			if err := v.Next(&evs[i]); err != nil {
				r := verifyResult{RunID: run}
				r.fail(err)
				chain = chainView{Seq: r.Seq, Error: r.Error}
				break
			}
		}
	}
	chain.Checked = len(evs)
	return evs, chain, nil
}

// buildRunView groups a run's events into steps, as diff does, and
// renders at most limit of them (0: all).
func buildRunView(evs []ledger.Event, chain chainView, limit int) *runView {
	v := &runView{Chain: chain, Events: len(evs)}
	st := ledger.StatusOf(evs)
	v.Status, v.Waiting = st.String(), st.State != ledger.RunComplete
	if len(evs) > 0 {
		v.Tenant = evs[0].TenantID
	}
	steps := stepsOf(evs)
	v.StepCount = len(steps)
	views := make([]stepView, len(steps))
	var tokens, costs []float64
	var tok int64
	var cost float64
	for i, s := range steps {
		views[i] = viewStep(i+1, s, &st)
		for _, ev := range s.events {
			if p, ok := ev.Payload.(*ledger.ModelCompleted); ok {
				v.PromptTokens += p.PromptTokens
				v.CompletionTokens += p.CompletionTokens
				tok += p.PromptTokens + p.CompletionTokens
				if !math.IsNaN(p.CostUSD) && !math.IsInf(p.CostUSD, 0) {
					cost += p.CostUSD
				}
			}
		}
		tokens, costs = append(tokens, float64(tok)), append(costs, cost)
		switch views[i].Kind {
		case "model":
			v.Models++
		case "tool":
			v.Tools++
		}
		if views[i].Flag != "" {
			v.Attention++
		}
	}
	for i := range views {
		for _, ev := range views[i].Events {
			if chain.Seq > 0 && ev.Seq == chain.Seq {
				if views[i].Flag == "" {
					v.Attention++
				}
				views[i].Flag, views[i].Open = "the hash chain breaks here", true
				v.ChainAnchor = views[i].Anchor
			}
			if st.Seq > 0 && ev.Seq == st.Seq {
				v.StatusAnchor = views[i].Anchor
			}
		}
	}
	v.Cost = formatCost(cost)
	v.Chart = newChart(tokens, costs, "step")
	keep := func(i int) bool { return views[i].Flag != "" }
	v.Steps = elide(views, limit, 1, keep, stepGap, func(g *gapView, s *stepView) {
		switch s.Kind {
		case "model":
			g.Models++
		case "tool":
			g.Tools++
		}
	})
	fillGapTotals(v.Steps, steps)
	for _, s := range v.Steps {
		if s.Gap == nil {
			v.Shown++
		}
	}
	return v
}

// fillGapTotals adds up the tokens and cost of the steps each gap leaves
// out.
func fillGapTotals(rows []stepView, steps []*step) {
	for i := range rows {
		g := rows[i].Gap
		if g == nil {
			continue
		}
		var cost float64
		for _, s := range steps[g.From-1 : g.To] {
			for _, ev := range s.events {
				if p, ok := ev.Payload.(*ledger.ModelCompleted); ok {
					g.Tokens += p.PromptTokens + p.CompletionTokens
					if !math.IsNaN(p.CostUSD) && !math.IsInf(p.CostUSD, 0) {
						cost += p.CostUSD
					}
				}
			}
		}
		g.Cost = formatCost(cost)
		g.FirstSeq = steps[g.From-1].events[0].Seq
		last := steps[g.To-1].events
		g.LastSeq = last[len(last)-1].Seq
	}
}

// elide keeps at most limit rows of rows (0: all): the first and last
// limit/2, and every row keep asks for with the around rows before and
// after it; each run of rows left out is replaced by one gap row (gapRow,
// given its 1-based position) that count sums up.
func elide[T any](rows []T, limit, around int, keep func(int) bool, gapRow func(n int, g *gapView) T, count func(*gapView, *T)) []T {
	if limit == 0 || len(rows) <= limit {
		return rows
	}
	kept := make([]bool, len(rows))
	head := max(limit/2, 1)
	for i := range rows {
		if i < head || i >= len(rows)-(limit-head) {
			kept[i] = true
		}
		if keep(i) {
			for j := max(i-around, 0); j <= min(i+around, len(rows)-1); j++ {
				kept[j] = true
			}
		}
	}
	var out []T
	var gap *gapView
	for i := range rows {
		if kept[i] {
			gap = nil
			out = append(out, rows[i])
			continue
		}
		if gap == nil {
			gap = &gapView{From: i + 1}
			out = append(out, gapRow(i+1, gap))
		}
		gap.To = i + 1
		gap.Steps++
		count(gap, &rows[i])
	}
	return out
}

// stepGap is the row that stands for the steps left out from step n on.
func stepGap(n int, g *gapView) stepView {
	return stepView{N: n, Kind: "gap", Gap: g, Anchor: fmt.Sprintf("gap-%d", n)}
}

// viewStep renders one step of a run.
func viewStep(n int, s *step, st *ledger.RunStatus) stepView {
	v := stepView{N: n, Anchor: fmt.Sprintf("step-%d", n), Label: s.label}
	first, last := s.events[0], s.events[len(s.events)-1]
	if first.Seq == last.Seq {
		v.Seqs = strconv.FormatInt(first.Seq, 10)
	} else {
		v.Seqs = fmt.Sprintf("%d–%d", first.Seq, last.Seq)
	}
	var c stepCost
	for _, ev := range s.events {
		v.Events = append(v.Events, viewEvent(&ev))
		if st.Seq != 0 && ev.Seq == st.Seq {
			v.Flag = string(st.State)
		}
		v.add(&ev, &c)
	}
	if v.Kind == "tool" && len(s.events) == 1 {
		if _, ok := first.Payload.(*ledger.ToolRequested); ok && v.Flag == "" {
			v.Flag = "pending tool: no outcome logged"
		}
	}
	if c.has {
		v.Tokens = strconv.FormatInt(c.tokens, 10)
		v.Cost = formatCost(c.usd)
	}
	if len(s.events) > 1 && !first.Timestamp.IsZero() && !last.Timestamp.IsZero() {
		v.Latency = formatLatency(last.Timestamp.Sub(first.Timestamp))
	}
	v.Open = v.Flag != ""
	return v
}

// stepCost sums the tokens and cost of a step's model calls.
type stepCost struct {
	tokens int64
	usd    float64
	has    bool // a model call was logged
}

// add describes the step's event ev in v: its kind, summary, messages,
// calls and flag. c sums the model calls' usage.
func (v *stepView) add(ev *ledger.Event, c *stepCost) {
	switch p := ev.Payload.(type) {
	case *ledger.RunStarted:
		v.Kind, v.Summary = "start", "run started"
	case *ledger.ResumeRequested:
		v.Kind, v.Summary = "resume", "resumed"
		if p.HumanInputJSON != nil {
			v.Summary += " with " + shorten(*p.HumanInputJSON, 80)
		}
	case *ledger.PauseRequested:
		v.Kind, v.Summary = "pause", "paused: "+shorten(p.Reason, 100)
	case *ledger.ModelRequested:
		v.addModelRequest(p)
	case *ledger.ModelCompleted:
		v.addModelAnswer(p, c)
	case *ledger.ToolRequested:
		v.Kind, v.Summary = "tool", p.ToolName+" "+shorten(p.ArgumentsJSON, 80)
	case *ledger.ToolCompleted:
		v.addToolOutcome(p, ev.Seq)
	case *ledger.WorkflowStepRequested:
		v.Kind, v.Summary = "workflow", fmt.Sprintf("%d %s", p.StepIndex, p.StepName)
	case *ledger.WorkflowStepCompleted:
		v.Kind = "workflow"
		v.Summary += " → " + shorten(p.ResultJSON, 80)
	case *ledger.ReplayedWithDrift:
		v.addDrift(p)
	default:
		v.Kind, v.Summary = "other", string(ev.Type)
		if strings.Contains(string(ev.Type), "drift") {
			v.Kind = "drift"
			if v.Flag == "" {
				v.Flag = "replayed with drift"
			}
		}
	}
}

// addModelRequest shows a model_requested: the model, and the messages
// sent (the prompt alone when no message was logged).
func (v *stepView) addModelRequest(p *ledger.ModelRequested) {
	v.Kind, v.Summary = "model", p.Model
	for _, m := range p.Messages {
		mv := messageView{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, c := range m.ToolCalls {
			mv.Calls = append(mv.Calls, shownCall{ID: c.ID, Tool: c.ToolName, Arguments: c.ArgumentsJSON})
		}
		v.Messages = append(v.Messages, mv)
	}
	if len(p.Messages) == 0 && p.Prompt != "" {
		v.Messages = append(v.Messages, messageView{Role: "prompt", Content: p.Prompt})
	}
}

// addModelAnswer shows a model_completed: its tool calls or its output,
// and its usage in c.
func (v *stepView) addModelAnswer(p *ledger.ModelCompleted, c *stepCost) {
	v.Kind = "model"
	c.tokens += p.PromptTokens + p.CompletionTokens
	c.usd += p.CostUSD
	c.has = true
	for _, tc := range p.ToolCalls {
		v.Calls = append(v.Calls, shownCall{ID: tc.ID, Tool: tc.ToolName, Arguments: tc.ArgumentsJSON})
	}
	if v.Summary == "" {
		v.Summary = p.Model
	}
	if len(p.ToolCalls) > 0 {
		v.Summary += " → " + plural(int64(len(p.ToolCalls)), "tool call")
	} else {
		v.Summary += " → " + shorten(p.OutputJSON, 80)
	}
}

// addToolOutcome shows the tool_completed at seq: its outcome and result
// or error, flagging an unknown outcome and its reconciliation.
func (v *stepView) addToolOutcome(p *ledger.ToolCompleted, seq int64) {
	v.Kind = "tool"
	v.Summary += " → " + string(p.Outcome)
	switch {
	case p.Outcome == ledger.OutcomeUnknown && v.Flag == "":
		v.Flag = "unknown outcome"
	case p.Outcome != ledger.OutcomeUnknown && v.Flag == "unknown outcome":
		v.Flag = fmt.Sprintf("unknown outcome, reconciled at seq %d", seq)
	}
	if p.ErrorMessage != nil {
		v.Summary += ": " + shorten(*p.ErrorMessage, 60)
	} else {
		v.Summary += " " + shorten(p.ResultJSON, 60)
	}
}

// addDrift shows a replayed_with_drift, flagged with what drifted, the
// answer reused and the fork.
func (v *stepView) addDrift(p *ledger.ReplayedWithDrift) {
	v.Kind = "drift"
	v.Summary = fmt.Sprintf("%s replayed under %s although %s drifted", p.Model, p.Policy, strings.Join(p.DriftFields, ", "))
	if p.StepKey != nil {
		v.Summary = fmt.Sprintf("step %q: %s", *p.StepKey, v.Summary)
	}
	v.Flag = "replayed with drift in " + strings.Join(p.DriftFields, ", ")
	if p.SourceTerminalSeq != nil {
		v.Flag += fmt.Sprintf("; answer reused from seq %d", *p.SourceTerminalSeq)
	}
	if p.ForkRunID != nil {
		v.Flag += "; forked into run " + *p.ForkRunID
	}
}

// formatLatency prints a duration between two events of a step.
func formatLatency(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + formatLatency(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// viewEvent renders one event with its payload as indented JSON.
func viewEvent(ev *ledger.Event) eventView {
	v := eventView{Seq: ev.Seq, Type: string(ev.Type), Time: formatTime(ev.Timestamp), Hash: ev.Hash}
	if ev.Payload != nil {
		raw := ledger.CanonicalForm.Encode(ev.Payload)
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") == nil {
			v.Payload = b.String()
		} else {
			v.Payload = string(raw)
		}
	}
	return v
}

// newChart draws cumulative tokens and cost (one value per point) as two
// polylines, each scaled to its own maximum, at most 400 points.
func newChart(tokens, costs []float64, unit string) *chartView {
	if len(tokens) == 0 {
		return nil
	}
	c := &chartView{W: 600, H: 120, Steps: len(tokens), ViewBox: "-4 -6 608 132"}
	maxT, maxC := tokens[len(tokens)-1], costs[len(costs)-1]
	if maxT == 0 && maxC == 0 {
		return nil
	}
	c.MaxTokens = strconv.FormatFloat(maxT, 'f', 0, 64)
	c.MaxCost = formatCost(maxC)
	points := func(vals []float64, top float64) string {
		var b strings.Builder
		n := len(vals)
		stride := max(n/400, 1)
		for i := 0; i < n; i += stride {
			j := i
			if i+stride >= n {
				j = n - 1
			}
			x := 0.0
			if n > 1 {
				x = float64(j) / float64(n-1) * float64(c.W)
			}
			y := float64(c.H)
			if top > 0 {
				y = float64(c.H) - vals[j]/top*float64(c.H)
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		return strings.TrimSpace(b.String())
	}
	c.Tokens, c.Cost = points(tokens, maxT), points(costs, maxC)
	c.Axis = fmt.Sprintf("%s 1 to %d", unit, len(tokens))
	c.Title = fmt.Sprintf("Cumulative tokens (to %s) and cost (to %s) over %s", c.MaxTokens, c.MaxCost, plural(int64(len(tokens)), unit))
	return c
}

// interactionsReport renders an interactions cassette: one step per
// recorded interaction.
func interactionsReport(ctx context.Context, src *source, o htmlOptions) (*htmlReport, error) {
	f := src.files[0]
	v := &runView{Source: src.path, Kind: src.kind, Interactions: true, Chain: chainView{OK: true}, Status: interactionsHeading(f)}
	var views []stepView
	var tokens, costs []float64
	var tok int64
	var cost float64
	err := readInteractions(ctx, f.path, func(in interaction) error {
		n := len(views) + 1
		s := stepView{N: n, Anchor: fmt.Sprintf("step-%d", n), Seqs: "line " + strconv.Itoa(in.Line), Label: in.Type}
		payload, _ := json.MarshalIndent(in, "", "  ")
		s.Events = []eventView{{Seq: int64(in.Line), Type: in.Type, Payload: string(payload)}}
		if in.Tool != "" {
			s.Kind, s.Summary = "tool", in.Tool+" "+shorten(in.Arguments, 80)
			if in.Outcome != "" {
				s.Summary += " → " + in.Outcome
			}
			if in.Outcome == string(ledger.OutcomeUnknown) {
				s.Flag = "unknown outcome"
			}
			v.Tools++
		} else {
			s.Kind, s.Summary = "interaction", in.Model
			if in.StepKey != "" {
				s.Label += " " + strconv.Quote(in.StepKey)
			}
			if in.Streamed {
				s.Summary += fmt.Sprintf(" (streamed, %s)", plural(int64(in.Deltas), "delta"))
			}
			s.Tokens = strconv.FormatInt(in.PromptTokens+in.CompletionTokens, 10)
			s.Cost = formatCost(float64(in.CostUSD))
			v.Models++
			v.PromptTokens += in.PromptTokens
			v.CompletionTokens += in.CompletionTokens
			tok += in.PromptTokens + in.CompletionTokens
			cost += float64(in.CostUSD)
		}
		if in.Error != "" {
			s.Summary += " error: " + shorten(in.Error, 80)
		}
		s.Open = s.Flag != ""
		if s.Flag != "" {
			v.Attention++
		}
		tokens, costs = append(tokens, float64(tok)), append(costs, cost)
		views = append(views, s)
		v.Events++
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.StepCount = len(views)
	v.Cost = formatCost(cost)
	v.Chart = newChart(tokens, costs, "interaction")
	v.Steps = elide(views, o.limit, 1, func(i int) bool { return views[i].Flag != "" }, stepGap, func(g *gapView, s *stepView) {
		if s.Kind == "tool" {
			g.Tools++
		} else {
			g.Models++
		}
	})
	for _, s := range v.Steps {
		if s.Gap == nil {
			v.Shown++
		}
	}
	v.Chain.Checked = v.Events
	return &htmlReport{Title: "interactions — " + src.path, Run: v, Limit: o.limit}, nil
}

// diffReport aligns two runs as diff does and renders them side by side.
func diffReport(ctx context.Context, e *env, argA, argB string, o htmlOptions) (*htmlReport, error) {
	refA, a, chainA, err := loadDiffSide(ctx, e, argA)
	if err != nil {
		return nil, err
	}
	refB, b, chainB, err := loadDiffSide(ctx, e, argB)
	if err != nil {
		return nil, err
	}
	al := alignRuns(a, b, o.strict)
	v := &diffView{A: refA, B: refB, AChain: chainA, BChain: chainB, Strict: o.strict,
		Equivalent: len(al.divs) == 0, Divergences: len(al.divs), Pairs: len(al.pairs)}
	// The steps hold the events diff compared (tool call ids renamed
	// without --strict); the report shows the events as logged.
	sides := diffSides{bySeqA: indexBySeq(a), bySeqB: indexBySeq(b), stA: ledger.StatusOf(a), stB: ledger.StatusOf(b)}
	divsOf := map[string][]divergence{}
	for _, d := range al.divs {
		divsOf[d.Step] = append(divsOf[d.Step], d)
	}
	var first string
	if len(al.divs) > 0 {
		v.First = &al.divs[0]
		first = al.divs[0].Step
		d := al.divs[0]
		v.FirstText = fmt.Sprintf("%s at A seq %s, B seq %s", d.Step, seqOrNone(d.ASeq, d.AType), seqOrNone(d.BSeq, d.BType))
	}
	rows := make([]diffRow, len(al.pairs))
	for i, p := range al.pairs {
		r := sides.row(i+1, p, divsOf)
		if first != "" && r.Label == first {
			r.First, r.Anchor, first = true, "first-divergence", ""
		}
		rows[i] = r
	}
	v.Rows = elideDiff(rows, o.limit)
	for _, r := range v.Rows {
		if r.Gap == nil {
			v.Shown++
		}
	}
	title := "diff " + refA.String() + " " + refB.String()
	return &htmlReport{Title: title, Diff: v, Limit: o.limit}, nil
}

// loadDiffSide reads and checks the run arg names (path#run, or the one
// run of path) for one side of a diff.
func loadDiffSide(ctx context.Context, e *env, arg string) (runRef, []ledger.Event, chainView, error) {
	path, run := splitRunRef(arg)
	src, err := openSource(ctx, path)
	if err != nil {
		return runRef{}, nil, chainView{}, err
	}
	defer src.Close()
	if err := src.runsOnly("html compares runs (give one source to render it)"); err != nil {
		return runRef{}, nil, chainView{}, err
	}
	if run, err = pickRun(ctx, e, src, run); err != nil {
		return runRef{}, nil, chainView{}, err
	}
	evs, chain, err := readChecked(ctx, src, run)
	if err != nil {
		return runRef{}, nil, chainView{}, err
	}
	return runRef{Path: src.path, RunID: run, Events: len(evs)}, evs, chain, nil
}

// diffSides holds, for each side of a diff, its events as logged by seq
// and its run's status.
type diffSides struct {
	bySeqA, bySeqB map[int64]*ledger.Event
	stA, stB       ledger.RunStatus
}

// row renders the n-th aligned pair of steps: each side as logged, and the
// kind and fields of the divergences divsOf records for its step.
func (d *diffSides) row(n int, p stepPair, divsOf map[string][]divergence) diffRow {
	r := diffRow{N: n, Anchor: fmt.Sprintf("row-%d", n), State: "same"}
	var label string
	if p.a != nil {
		label = p.a.label
		sv := viewStep(n, original(p.a, d.bySeqA), &d.stA)
		sv.Anchor = fmt.Sprintf("a-%d", n)
		r.A = &sv
	}
	if p.b != nil {
		if label == "" {
			label = p.b.label
		}
		sv := viewStep(n, original(p.b, d.bySeqB), &d.stB)
		sv.Anchor = fmt.Sprintf("b-%d", n)
		r.B = &sv
	}
	r.Label = label
	switch {
	case p.a == nil:
		r.State = "only_in_b"
	case p.b == nil:
		r.State = "only_in_a"
	}
	for _, dv := range divsOf[label] {
		if r.State == "same" {
			r.State = dv.Kind
		}
		r.Fields = append(r.Fields, dv.Fields...)
	}
	return r
}

func indexBySeq(evs []ledger.Event) map[int64]*ledger.Event {
	m := make(map[int64]*ledger.Event, len(evs))
	for i := range evs {
		m[evs[i].Seq] = &evs[i]
	}
	return m
}

// original returns s with its events as logged.
func original(s *step, bySeq map[int64]*ledger.Event) *step {
	c := &step{key: s.key, label: s.label, events: make([]ledger.Event, len(s.events))}
	for i, ev := range s.events {
		if o := bySeq[ev.Seq]; o != nil {
			ev = *o
		}
		c.events[i] = ev
	}
	return c
}

// elideDiff keeps at most limit rows (0: all): the first and last, every
// row that differs and the two rows on either side; the others are summed
// up.
func elideDiff(rows []diffRow, limit int) []diffRow {
	differs := func(i int) bool { return rows[i].State != "same" }
	gapRow := func(n int, g *gapView) diffRow {
		return diffRow{N: n, Anchor: fmt.Sprintf("gap-%d", n), State: "gap", Gap: g}
	}
	return elide(rows, limit, 2, differs, gapRow, func(g *gapView, r *diffRow) {
		if r.A != nil && r.A.Kind == "model" {
			g.Models++
		}
		if r.A != nil && r.A.Kind == "tool" {
			g.Tools++
		}
	})
}

//go:embed report.html.tmpl
var reportHTML string

//go:embed report.js
var reportJS string

// reportTemplate is the page; its one script is allowed by its hash in the
// page's Content-Security-Policy, which also forbids every request.
var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"script": func() template.JS { return template.JS(reportJS) },
	"csp": func() string {
		sum := sha256.Sum256([]byte(reportJS))
		return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
			base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
	},
	"commas": func(n any) string {
		var s string
		switch n := n.(type) {
		case int:
			s = strconv.Itoa(n)
		case int64:
			s = strconv.FormatInt(n, 10)
		}
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		if neg {
			s = "-" + s
		}
		return s
	},
	"add": func(a, b int64) int64 { return a + b },
}).Parse(reportHTML))
