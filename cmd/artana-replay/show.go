package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/artana-go/go-artana/artana/ledger"
)

func showCommand() *command {
	return withSwitch(command{
		name:    "show",
		usage:   "[--json] [--full] PATH [RUN]",
		summary: "print a run's timeline, one line per event (RUN may be left out when PATH holds one run)",
	}, "full", "print every event's payload (of an interactions cassette: every delta of its streamed interactions)", runShow)
}

// eventLine is what show prints of one event.
type eventLine struct {
	Seq              int64           `json:"seq"`
	ID               string          `json:"event_id"`
	Time             string          `json:"timestamp"`
	Type             string          `json:"event_type"`
	StepKey          string          `json:"step_key,omitempty"`
	Model            string          `json:"model,omitempty"`
	Tool             string          `json:"tool,omitempty"`
	Outcome          string          `json:"outcome,omitempty"`
	PromptTokens     int64           `json:"prompt_tokens,omitempty"`
	CompletionTokens int64           `json:"completion_tokens,omitempty"`
	CostUSD          *jsonFloat      `json:"cost_usd,omitempty"`
	Hash             string          `json:"event_hash"`
	PrevHash         string          `json:"prev_event_hash"`
	Payload          json.RawMessage `json:"payload,omitempty"`
	// ToolCalls are the calls a model_completed asked for; ToolMessages
	// the tool results a model_requested sends back (the tool messages
	// after its last assistant message).
	ToolCalls    []shownCall    `json:"tool_calls,omitempty"`
	ToolMessages []shownMessage `json:"tool_messages,omitempty"`
	// Drift is what a replayed_with_drift event says.
	Drift *shownDrift `json:"drift,omitempty"`
}

// shownDrift is a replayed_with_drift event: the request fields that
// drifted, the policy, the completion reused and the fork.
type shownDrift struct {
	Fields    []string `json:"drift_fields"`
	Policy    string   `json:"replay_policy"`
	SourceID  string   `json:"source_requested_event_id"`
	ReusedSeq *int64   `json:"source_terminal_seq"`
	ForkRunID string   `json:"fork_run_id,omitempty"`
}

type shownCall struct {
	ID        string `json:"id,omitempty"`
	Tool      string `json:"tool"`
	Arguments string `json:"arguments"`
}

type shownMessage struct {
	ToolCallID string `json:"tool_call_id"`
	Content    string `json:"content"`
}

// toolLines renders the tool calls and tool messages of l, one line each.
func (l *eventLine) toolLines() []string {
	var out []string
	for _, c := range l.ToolCalls {
		s := "↳ calls " + c.Tool + " " + shorten(c.Arguments, 60)
		if c.ID != "" {
			s += "  (" + c.ID + ")"
		}
		out = append(out, s)
	}
	for _, m := range l.ToolMessages {
		out = append(out, "↳ answers "+m.ToolCallID+": "+shorten(m.Content, 70))
	}
	if d := l.Drift; d != nil {
		s := "↳ drifted in " + strings.Join(d.Fields, ", ")
		if len(d.Fields) == 0 {
			s = "↳ drifted"
		}
		switch {
		case d.ForkRunID != "":
			s += "; forked into run " + d.ForkRunID
		case d.ReusedSeq != nil:
			s += fmt.Sprintf("; answer reused from seq %d", *d.ReusedSeq)
		}
		out = append(out, s+" ("+d.Policy+")")
	}
	return out
}

// shorten puts s on one line of at most n runes.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ansiCodes matches the color codes of a painted line.
var ansiCodes = regexp.MustCompile("\x1b\\[[0-9;]*m")

// lastToolMessages returns the tool messages after the last assistant
// message of msgs: the results a request sends back.
func lastToolMessages(msgs []ledger.ChatMessage) []shownMessage {
	var out []shownMessage
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role == "tool"; i-- {
		out = append(out, shownMessage{ToolCallID: msgs[i].ToolCallID, Content: msgs[i].Content})
	}
	slices.Reverse(out)
	return out
}

// describe extracts the columns of show from an event.
func describe(e *ledger.Event) eventLine {
	l := eventLine{Seq: e.Seq, ID: e.ID, Time: formatTime(e.Timestamp), Type: string(e.Type),
		Hash: e.Hash, PrevHash: e.PrevHash}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch p := e.Payload.(type) {
	case *ledger.ModelRequested:
		l.Model, l.StepKey = p.Model, deref(p.StepKey)
		l.ToolMessages = lastToolMessages(p.Messages)
	case *ledger.ModelCompleted:
		l.Model = p.Model
		for _, c := range p.ToolCalls {
			l.ToolCalls = append(l.ToolCalls, shownCall{ID: c.ID, Tool: c.ToolName, Arguments: c.ArgumentsJSON})
		}
		l.PromptTokens, l.CompletionTokens = p.PromptTokens, p.CompletionTokens
		c := jsonFloat(p.CostUSD)
		l.CostUSD = &c
	case *ledger.ToolRequested:
		l.Tool, l.StepKey = p.ToolName, deref(p.StepKey)
	case *ledger.ToolCompleted:
		l.Tool, l.Outcome = p.ToolName, string(p.Outcome)
	case *ledger.PauseRequested:
		l.StepKey, l.Outcome = deref(p.StepKey), p.Reason
	case *ledger.WorkflowStepRequested:
		l.StepKey = fmt.Sprintf("%d:%s", p.StepIndex, p.StepName)
	case *ledger.WorkflowStepCompleted:
		l.StepKey = fmt.Sprintf("%d:%s", p.StepIndex, p.StepName)
	case *ledger.ReplayedWithDrift:
		l.StepKey, l.Model = deref(p.StepKey), p.Model
		l.Outcome = string(p.Policy)
		l.Drift = &shownDrift{Fields: p.DriftFields, Policy: string(p.Policy), SourceID: p.SourceRequestedEventID,
			ReusedSeq: p.SourceTerminalSeq, ForkRunID: deref(p.ForkRunID)}
	}
	return l
}

// pickRun returns the one run of src when run is "", or checks that run
// exists.
func pickRun(ctx context.Context, e *env, src *source, run string) (string, error) {
	if run != "" {
		return run, src.checkRuns(ctx, []string{run})
	}
	runs, err := src.runs(ctx)
	if err != nil {
		return "", err
	}
	switch len(runs) {
	case 1:
		return runs[0], nil
	case 0:
		return "", fmt.Errorf("%s holds no runs", src.path)
	}
	return "", e.usagef("%s holds %d runs; name one (list them with: artana-replay ls %s)", src.path, len(runs), src.path)
}

func runShow(ctx context.Context, e *env, args []string, full bool) error {
	src, err := e.openArgs(ctx, args, 1, 2)
	if err != nil {
		return err
	}
	defer src.Close()
	if src.kind == kindInteractions {
		return showInteractions(ctx, e, src.files[0], full)
	}
	run := ""
	if len(args) == 2 {
		run = args[1]
	}
	if run, err = pickRun(ctx, e, src, run); err != nil {
		return err
	}
	if e.json {
		return showRunJSON(ctx, e, src, run, full)
	}
	return showRunTable(ctx, e, src, run, full)
}

// showRunJSON writes the events of run as one JSON document, each with its
// payload when full is set.
func showRunJSON(ctx context.Context, e *env, src *source, run string, full bool) error {
	lines := []eventLine{}
	tenant := ""
	var status ledger.StatusTracker
	err := src.scan(ctx, run, func(ev ledger.Event) error {
		tenant = ev.TenantID
		status.Add(&ev)
		l := describe(&ev)
		if full {
			l.Payload = ledger.CanonicalForm.Encode(ev.Payload)
		}
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		return fmt.Errorf("show %s run %q: %w", src.path, run, err)
	}
	forkOf, _ := ledger.ForkParent(run)
	st := status.Status()
	return e.writeJSON(struct {
		Path    string      `json:"path"`
		RunID   string      `json:"run_id"`
		ForkOf  string      `json:"fork_of,omitempty"`
		Tenant  string      `json:"tenant_id"`
		Status  string      `json:"status"`
		Waiting *waiting    `json:"waiting,omitempty"`
		Events  []eventLine `json:"events"`
	}{src.path, run, forkOf, tenant, string(st.State), waitingOf(st), lines})
}

// showRunTable prints the events of run as a table, one row per event,
// each row followed by its tool lines (and with full, first by its
// payload on an indented line), then the run's status.
func showRunTable(ctx context.Context, e *env, src *source, run string, full bool) error {
	if forkOf, _ := ledger.ForkParent(run); forkOf != "" {
		fmt.Fprintf(e.stdout, "run %s (fork of %s)\n", run, forkOf)
	} else {
		fmt.Fprintf(e.stdout, "run %s\n", run)
	}
	// The rows are aligned first (in table), then printed one by one with
	// what goes under each.
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, e.paint(colorBold, "SEQ\tTIME\tTYPE\tSTEP\tMODEL/TOOL\tOUTCOME\tTOKENS\tCOST"))
	var payloads []json.RawMessage
	var extras [][]string // the tool lines under each row
	var status ledger.StatusTracker
	err := src.scan(ctx, run, func(ev ledger.Event) error {
		status.Add(&ev)
		l := describe(&ev)
		if full {
			l.Payload = ledger.CanonicalForm.Encode(ev.Payload)
		}
		tokens, cost := "-", "-"
		if l.CostUSD != nil {
			tokens = fmt.Sprintf("%d+%d", l.PromptTokens, l.CompletionTokens)
			cost = formatCost(float64(*l.CostUSD))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Seq, l.Time, l.Type, dash(l.StepKey),
			dash(l.Model+l.Tool), dash(oneLine(l.Outcome)), tokens, cost)
		payloads = append(payloads, l.Payload)
		extras = append(extras, l.toolLines())
		return nil
	})
	if err != nil {
		return fmt.Errorf("show %s run %q: %w", src.path, run, err)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := e.writeRows(table.String(), payloads, extras, full); err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "status: %s\n", status.Status())
	return err
}

// writeRows prints the aligned table row by row: after each event's row,
// its payload (with full) and its tool lines.
func (e *env) writeRows(table string, payloads []json.RawMessage, extras [][]string, full bool) error {
	rows := strings.SplitAfter(table, "\n")
	// Tool lines start under the TYPE column (under the payload with --full).
	indent := "    "
	if i := strings.Index(ansiCodes.ReplaceAllString(rows[0], ""), "TYPE"); i > 0 && !full {
		indent = strings.Repeat(" ", i)
	}
	for i, row := range rows {
		if _, err := io.WriteString(e.stdout, row); err != nil {
			return err
		}
		if i < 1 || i > len(payloads) { // row 0 is the heading
			continue
		}
		if full {
			if _, err := fmt.Fprintf(e.stdout, "    payload: %s\n", payloads[i-1]); err != nil {
				return err
			}
		}
		for _, t := range extras[i-1] {
			if _, err := fmt.Fprintf(e.stdout, "%s%s\n", indent, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// oneLine shortens s to one line of at most 40 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// showInteractions prints an interactions cassette, one line per
// interaction; a streamed one is marked with its number of deltas, and
// with full each of its deltas follows on an indented line.
func showInteractions(ctx context.Context, e *env, f cassetteFile, full bool) error {
	var all []interaction
	tw := e.table()
	var table bytes.Buffer
	var streams [][]json.RawMessage
	if full && !e.json {
		tw = tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	}
	if !e.json {
		fmt.Fprintln(e.stdout, interactionsHeading(f))
		fmt.Fprintln(tw, e.paint(colorBold, "LINE\tTYPE\tMODEL\tSTEP\tTOKENS\tCOST\tERROR"))
	}
	err := readInteractions(ctx, f.path, func(in interaction) error {
		if e.json {
			if !full {
				in.Stream = nil
			}
			all = append(all, in)
			return nil
		}
		if in.Tool != "" { // a tool execution: the tool, its arguments, its outcome
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t-\t-\t%s\n", in.Line, in.Type, in.Tool, shorten(in.Arguments, 40),
				dash(oneLine(in.Error)))
			streams = append(streams, nil)
			return nil
		}
		typ := in.Type
		if in.Streamed {
			typ += fmt.Sprintf(" (streamed, %s)", plural(int64(in.Deltas), "delta"))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d+%d\t%s\t%s\n", in.Line, typ, dash(in.Model), dash(in.StepKey),
			in.PromptTokens, in.CompletionTokens, formatCost(float64(in.CostUSD)), dash(oneLine(in.Error)))
		streams = append(streams, in.Stream)
		return nil
	})
	if err != nil {
		tw.Flush()
		return err
	}
	if e.json {
		if all == nil {
			all = []interaction{}
		}
		return e.writeJSON(struct {
			Path         string        `json:"path"`
			Kind         string        `json:"kind"`
			Interactions []interaction `json:"interactions"`
		}{f.path, string(f.header.Kind), all})
	}
	if err := tw.Flush(); err != nil || !full {
		return err
	}
	rows := strings.SplitAfter(strings.TrimSuffix(table.String(), "\n"), "\n")
	for i, row := range rows {
		if _, err := io.WriteString(e.stdout, strings.TrimSuffix(row, "\n")+"\n"); err != nil {
			return err
		}
		if i < 1 || i > len(streams) { // row 0 is the heading
			continue
		}
		for j, d := range streams[i-1] {
			if _, err := fmt.Fprintf(e.stdout, "    delta %d: %s\n", j+1, d); err != nil {
				return err
			}
		}
	}
	return nil
}
