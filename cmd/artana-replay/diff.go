package main

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/artana-go/go-artana/internal/fielddiff"
	"github.com/artana-go/go-artana/internal/pyjson"
)

func diffCommand() *command {
	return withSwitch(command{
		name:    "diff",
		usage:   "[--json] [--strict] A B",
		summary: "align two runs (each PATH or PATH#RUN) by step and report the first divergence; exit 1 when they differ",
	}, "strict", "also compare ids, run ids, seqs, timestamps, hashes, idempotency keys, request ids and tool call ids", runDiff)
}

// A runRef is one side of a diff: a run of a ledger.
type runRef struct {
	Path   string `json:"path"`
	RunID  string `json:"run_id"`
	Events int    `json:"events"`
}

func (r runRef) String() string { return r.Path + "#" + r.RunID }

// splitRunRef splits "PATH#RUN" into its parts. A PATH that exists as
// given wins, so paths containing '#' work; otherwise the first '#' whose
// prefix exists splits it.
func splitRunRef(arg string) (path, run string) {
	if _, err := os.Stat(arg); err == nil {
		return arg, ""
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] != '#' {
			continue
		}
		if _, err := os.Stat(arg[:i]); err == nil {
			return arg[:i], arg[i+1:]
		}
	}
	if i := strings.IndexByte(arg, '#'); i >= 0 {
		return arg[:i], arg[i+1:]
	}
	return arg, ""
}

// loadSide opens one side of a diff and reads its run.
func loadSide(ctx context.Context, e *env, arg string) (runRef, []ledger.Event, error) {
	path, run := splitRunRef(arg)
	src, err := openSource(ctx, path)
	if err != nil {
		return runRef{}, nil, err
	}
	defer src.Close()
	if err := src.runsOnly("diff compares runs"); err != nil {
		return runRef{}, nil, err
	}
	if run, err = pickRun(ctx, e, src, run); err != nil {
		return runRef{}, nil, err
	}
	evs, err := src.readRun(ctx, run)
	if err != nil {
		return runRef{}, nil, fmt.Errorf("read %s run %q: %w", src.path, run, err)
	}
	return runRef{Path: src.path, RunID: run, Events: len(evs)}, evs, nil
}

// A step is a group of events that belong together, and the key that
// aligns it with the same step of another run.
type step struct {
	key    string
	label  string
	events []ledger.Event
}

// stepsOf groups a run's events into steps: a model request and its
// completion, a tool request and its completions, a workflow step's
// request and completion, or a single event.
func stepsOf(evs []ledger.Event) []*step {
	var out []*step
	seen := map[string]int{}
	newStep := func(key, label string, e ledger.Event) *step {
		seen[key]++
		if n := seen[key]; n > 1 {
			key = fmt.Sprintf("%s #%d", key, n)
			label = fmt.Sprintf("%s (occurrence %d)", label, n)
		}
		s := &step{key: key, label: label, events: []ledger.Event{e}}
		out = append(out, s)
		return s
	}
	var openModel *step
	var calls callTracker // the tool calls of the latest model step
	unkeyed, models := 0, 0
	tools := map[string]*step{} // by tool_requested event id
	var toolOrder []*step
	workflows := map[int64]*step{}
	for _, e := range evs {
		switch p := e.Payload.(type) {
		case *ledger.ModelRequested:
			models++
			if p.StepKey != nil && *p.StepKey != "" {
				openModel = newStep("model key "+*p.StepKey, fmt.Sprintf("model step %q", *p.StepKey), e)
			} else {
				unkeyed++
				openModel = newStep(fmt.Sprintf("model #%d", unkeyed), fmt.Sprintf("model step %d (no step key)", models), e)
			}
			continue
		case *ledger.ModelCompleted:
			if openModel != nil {
				openModel.events = append(openModel.events, e)
				calls.set(openModel, p.ToolCalls)
				openModel = nil
				continue
			}
		case *ledger.ToolRequested:
			key, label := "tool "+p.ToolName+" "+p.ArgumentsJSON, fmt.Sprintf("tool step %s %s", p.ToolName, p.ArgumentsJSON)
			if k, l, ok := calls.match(p); ok {
				key, label = k, l
			}
			s := newStep(key, label, e)
			tools[e.ID] = s
			toolOrder = append(toolOrder, s)
			continue
		case *ledger.ToolCompleted:
			if s := toolStepOf(p, tools, toolOrder); s != nil {
				s.events = append(s.events, e)
				continue
			}
		case *ledger.WorkflowStepRequested:
			workflows[p.StepIndex] = newStep(fmt.Sprintf("workflow %d", p.StepIndex),
				fmt.Sprintf("workflow step %d %q", p.StepIndex, p.StepName), e)
			continue
		case *ledger.ReplayedWithDrift:
			key := "drift " + string(p.Policy) + " " + p.Model
			if p.StepKey != nil {
				key = "drift " + string(p.Policy) + " key " + *p.StepKey
			}
			newStep(key, fmt.Sprintf("%s of %q (%s drifted)", p.Policy, derefOr(p.StepKey, p.Model), strings.Join(p.DriftFields, ", ")), e)
			continue
		case *ledger.WorkflowStepCompleted:
			if s := workflows[p.StepIndex]; s != nil {
				s.events = append(s.events, e)
				delete(workflows, p.StepIndex)
				continue
			}
		}
		newStep(string(e.Type), string(e.Type), e)
	}
	return out
}

// toolStepOf finds the tool step a tool_completed belongs to.
func toolStepOf(p *ledger.ToolCompleted, byID map[string]*step, order []*step) *step {
	if p.RequestID != nil {
		if s := byID[*p.RequestID]; s != nil {
			return s
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		req := order[i].events[0].Payload.(*ledger.ToolRequested)
		if p.ReceivedIdempotencyKey != nil && req.IdempotencyKey == *p.ReceivedIdempotencyKey {
			return order[i]
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		if order[i].events[0].Payload.(*ledger.ToolRequested).ToolName == p.ToolName {
			return order[i]
		}
	}
	return nil
}

// A divergence is one step that differs between the two runs.
type divergence struct {
	Step   string      `json:"step"`
	Kind   string      `json:"kind"` // "differs", "only_in_a", "only_in_b", "order"
	ASeq   int64       `json:"a_seq,omitempty"`
	BSeq   int64       `json:"b_seq,omitempty"`
	AType  string      `json:"a_type,omitempty"`
	BType  string      `json:"b_type,omitempty"`
	Fields []fieldDiff `json:"fields,omitempty"`
}

// pos orders divergences: by A's seq, else B's.
func (d divergence) pos() int64 {
	if d.ASeq > 0 {
		return d.ASeq
	}
	return d.BSeq
}

// A fieldDiff is one field that differs between two events.
type fieldDiff struct {
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
}

// diffOptions are the cmp options of a diff: by default ids, run ids,
// seqs, timestamps, hashes and the ids derived from them are ignored.
func diffOptions(strict bool) cmp.Options {
	if strict {
		return nil
	}
	return cmp.Options{
		cmpopts.IgnoreFields(ledger.Event{}, "ID", "RunID", "Seq", "PrevHash", "Hash", "Timestamp"),
		cmpopts.IgnoreFields(ledger.ToolRequested{}, "IdempotencyKey"),
		cmpopts.IgnoreFields(ledger.ToolCompleted{}, "ReceivedIdempotencyKey", "RequestID"),
	}
}

// diffRuns aligns the runs a and b by step and returns every divergence,
// the first one first.
func diffRuns(a, b []ledger.Event, strict bool) []divergence {
	return alignRuns(a, b, strict).divs
}

// An alignment is two runs aligned by step: the pairs of steps in the
// order of A, each step of B found in A beside it, and each step of only
// one run on its own, a step only in B placed after the B step before it.
type alignment struct {
	pairs []stepPair
	divs  []divergence // every divergence, the first one first
}

// A stepPair is one step of A (or nil) and the same step of B (or nil).
type stepPair struct {
	a, b *step
}

// alignRuns aligns the runs a and b by step, as diff reports them.
func alignRuns(a, b []ledger.Event, strict bool) alignment {
	opts := diffOptions(strict)
	if !strict {
		a, b = normalizeCallIDs(a), normalizeCallIDs(b)
	}
	as, bs := stepsOf(a), stepsOf(b)
	bIndex := make(map[string]int, len(bs))
	for i, s := range bs {
		bIndex[s.key] = i
	}
	used := make([]bool, len(bs))
	var out []divergence
	var pairs []stepPair
	placed := 0 // B steps before this index that no A step matched are placed
	placeB := func(upTo int) {
		for ; placed < upTo; placed++ {
			if !used[placed] {
				pairs = append(pairs, stepPair{b: bs[placed]})
			}
		}
	}
	lastB := -1
	for _, sa := range as {
		i, ok := bIndex[sa.key]
		if !ok {
			pairs = append(pairs, stepPair{a: sa})
			out = append(out, divergence{Step: sa.label, Kind: "only_in_a", ASeq: sa.events[0].Seq, AType: string(sa.events[0].Type)})
			continue
		}
		used[i] = true
		sb := bs[i]
		placeB(i)
		pairs = append(pairs, stepPair{a: sa, b: sb})
		if i < lastB {
			out = append(out, divergence{Step: sa.label, Kind: "order", ASeq: sa.events[0].Seq, BSeq: sb.events[0].Seq,
				AType: string(sa.events[0].Type), BType: string(sb.events[0].Type)})
		}
		lastB = max(lastB, i)
		for j := 0; j < max(len(sa.events), len(sb.events)); j++ {
			d := divergence{Step: sa.label, Kind: "differs"}
			var ea, eb *ledger.Event
			if j < len(sa.events) {
				ea = &sa.events[j]
				d.ASeq, d.AType = ea.Seq, string(ea.Type)
			}
			if j < len(sb.events) {
				eb = &sb.events[j]
				d.BSeq, d.BType = eb.Seq, string(eb.Type)
			}
			if ea == nil || eb == nil {
				d.Kind = "only_in_b"
				if eb == nil {
					d.Kind = "only_in_a"
				}
				out = append(out, d)
				break
			}
			eq, diffs := eventFields.Compare(*ea, *eb, opts...)
			if eq {
				continue
			}
			for _, fd := range diffs {
				d.Fields = append(d.Fields, fieldDiff{Field: fd.Path, A: fd.X, B: fd.Y})
			}
			out = append(out, d)
			break
		}
	}
	placeB(len(bs))
	for i, sb := range bs {
		if !used[i] {
			out = append(out, divergence{Step: sb.label, Kind: "only_in_b", BSeq: sb.events[0].Seq, BType: string(sb.events[0].Type)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].pos() < out[j].pos() })
	return alignment{pairs: pairs, divs: out}
}

// eventFields prints the fields of events that differ: paths in the log's
// own field names (payload.prompt, payload.messages[0].content,
// tenant_id), values with formatValue.
var eventFields = fielddiff.Format{Root: "event", Field: snake, Index: fielddiff.EitherIndex, Value: formatValue}

// snake turns a Go field name into the log's: StepKey → step_key,
// CostUSD → cost_usd, TenantID → tenant_id.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formatValue prints a field value for a diff.
func formatValue(v reflect.Value) string {
	if !v.IsValid() {
		return "(absent)"
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "null"
		}
		if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
			if p, ok := v.Interface().(ledger.Payload); ok {
				return string(p.Kind()) + " " + string(ledger.CanonicalForm.Encode(p))
			}
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Float64, reflect.Float32:
		return pyjson.Float(v.Float())
	}
	if v.CanInterface() {
		return fmt.Sprintf("%v", v.Interface())
	}
	return v.String()
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// A forkRelation says that one side of a diff is a fork of the other.
type forkRelation struct {
	Fork   string `json:"fork"`   // "a" or "b": the side that is the fork
	Parent string `json:"parent"` // the other side
	// PrefixEvents is the number of events the fork copied from its
	// parent; DriftSeq the parent's replayed_with_drift event naming the
	// fork (0 if the parent has none).
	PrefixEvents int64 `json:"prefix_events"`
	DriftSeq     int64 `json:"drift_seq,omitempty"`
}

// forkOf reports whether one of the runs a and b is a fork of the other.
func forkOf(a, b runRef, ea, eb []ledger.Event) *forkRelation {
	rel := &forkRelation{Fork: "b", Parent: "a"}
	parent, fork := ea, b.RunID
	if p, ok := ledger.ForkParent(b.RunID); !ok || p != a.RunID {
		if p, ok := ledger.ForkParent(a.RunID); !ok || p != b.RunID {
			return nil
		}
		rel = &forkRelation{Fork: "a", Parent: "b"}
		parent, fork = eb, a.RunID
	}
	for _, e := range parent {
		if d, ok := e.Payload.(*ledger.ReplayedWithDrift); ok && d.ForkRunID != nil && *d.ForkRunID == fork {
			rel.DriftSeq = e.Seq
			for _, src := range parent {
				if src.ID == d.SourceRequestedEventID {
					rel.PrefixEvents = src.Seq - 1
				}
			}
			break
		}
	}
	return rel
}

func runDiff(ctx context.Context, e *env, args []string, strict bool) error {
	if err := e.nargs(args, 2, 2); err != nil {
		return err
	}
	refA, a, err := loadSide(ctx, e, args[0])
	if err != nil {
		return err
	}
	refB, b, err := loadSide(ctx, e, args[1])
	if err != nil {
		return err
	}
	divs := diffRuns(a, b, strict)
	fork := forkOf(refA, refB, a, b)
	if e.json {
		if divs == nil {
			divs = []divergence{}
		}
		if err := e.writeJSON(struct {
			A           runRef        `json:"a"`
			B           runRef        `json:"b"`
			Fork        *forkRelation `json:"fork,omitempty"`
			Equivalent  bool          `json:"equivalent"`
			Strict      bool          `json:"strict"`
			Divergences []divergence  `json:"divergences"`
		}{refA, refB, fork, len(divs) == 0, strict, divs}); err != nil {
			return err
		}
	} else {
		printDiff(e, refA, refB, divs, strict, len(stepsOf(a)))
		if fork != nil {
			side, other := strings.ToUpper(fork.Fork), strings.ToUpper(fork.Parent)
			fmt.Fprintf(e.stdout, "%s is a fork of %s: it starts with a copy of %s's first %s", side, other, other, plural(fork.PrefixEvents, "event"))
			if fork.DriftSeq > 0 {
				fmt.Fprintf(e.stdout, "; %s seq %d (replayed_with_drift) names the fork", other, fork.DriftSeq)
			}
			fmt.Fprintln(e.stdout)
		}
	}
	if len(divs) > 0 {
		return errReported
	}
	return nil
}

func printDiff(e *env, a, b runRef, divs []divergence, strict bool, steps int) {
	w := e.stdout
	ignored := " (ids, timestamps and hashes ignored; --strict compares them)"
	if strict {
		ignored = ""
	}
	if len(divs) == 0 {
		fmt.Fprintf(w, "%s: %s and %s: %s, %s%s\n", e.paint(colorGreen, "equivalent"), a, b,
			plural(int64(steps), "step"), plural(int64(a.Events), "event"), ignored)
		return
	}
	fmt.Fprintf(w, "%s: %s (%s) and %s (%s)%s\n", e.paint(colorRed, "different"), a,
		plural(int64(a.Events), "event"), b, plural(int64(b.Events), "event"), ignored)
	d := divs[0]
	fmt.Fprintf(w, "first divergence: %s at A seq %s, B seq %s\n", d.Step, seqOrNone(d.ASeq, d.AType), seqOrNone(d.BSeq, d.BType))
	printDivergence(e, d)
	if len(divs) > 1 {
		fmt.Fprintf(w, "%d more:\n", len(divs)-1)
		for _, d := range divs[1:] {
			fmt.Fprintf(w, "  %s at A seq %s, B seq %s\n", d.Step, seqOrNone(d.ASeq, d.AType), seqOrNone(d.BSeq, d.BType))
		}
	}
}

func printDivergence(e *env, d divergence) {
	w := e.stdout
	switch d.Kind {
	case "only_in_a":
		fmt.Fprintf(w, "  only in A: %s\n", d.AType)
	case "only_in_b":
		fmt.Fprintf(w, "  only in B: %s\n", d.BType)
	case "order":
		fmt.Fprintln(w, "  the step is at a different position in the two runs")
	}
	for _, f := range d.Fields {
		fmt.Fprintf(w, "  %s:\n    %s %s\n    %s %s\n", f.Field, e.paint(colorRed, "- A"), f.A, e.paint(colorGreen, "+ B"), f.B)
	}
}

func seqOrNone(seq int64, typ string) string {
	if seq == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%d (%s)", seq, typ)
}
