package main

import (
	"context"
	"fmt"
	"sort"
)

func statsCommand() *command {
	return &command{
		name:    "stats",
		usage:   "[--json] PATH",
		summary: "sum tokens and cost by run, by tenant and by model",
		run:     runStats,
	}
}

// statsRow is one line of a stats table.
type statsRow struct {
	Name             string    `json:"name"`
	Runs             int64     `json:"runs,omitempty"`
	Calls            int64     `json:"model_calls"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CostUSD          jsonFloat `json:"cost_usd"`
}

func (r *statsRow) add(u *usageSum) {
	r.Calls += u.Calls
	r.PromptTokens += u.PromptTokens
	r.CompletionTokens += u.CompletionTokens
	r.CostUSD += jsonFloat(u.CostUSD)
}

func runStats(ctx context.Context, e *env, args []string) error {
	src, sums, err := e.summarizeArgs(ctx, args)
	if err != nil {
		return err
	}
	defer src.Close()
	st := newStats()
	for _, s := range sums {
		st.addRun(s)
	}
	for _, f := range src.interactions() {
		if err := readInteractions(ctx, f.path, st.addInteraction); err != nil {
			return err
		}
	}
	if e.json {
		return e.writeJSON(struct {
			Path    string     `json:"path"`
			Runs    []statsRow `json:"runs"`
			Tenants []statsRow `json:"tenants"`
			Models  []statsRow `json:"models"`
			Total   statsRow   `json:"total"`
		}{src.path, st.runs, sortedRows(st.tenants), sortedRows(st.models), st.total})
	}
	if len(st.runs) > 0 {
		e.statsSection("RUN", st.runs)
		fmt.Fprintln(e.stdout)
		e.statsSection("TENANT", sortedRows(st.tenants))
		fmt.Fprintln(e.stdout)
	}
	e.statsSection("MODEL", sortedRows(st.models))
	fmt.Fprintln(e.stdout)
	e.statsSection("TOTAL", []statsRow{st.total})
	for _, f := range src.interactions() {
		fmt.Fprintf(e.stdout, "%s: interactions cassette (model interactions recorded by package recorder), counted under MODEL\n", f.path)
	}
	return nil
}

// stats sums usage per run, tenant and model, and in total.
type stats struct {
	runs            []statsRow
	tenants, models map[string]*statsRow
	total           statsRow
}

func newStats() *stats {
	return &stats{runs: []statsRow{}, tenants: map[string]*statsRow{}, models: map[string]*statsRow{}, total: statsRow{Name: "total"}}
}

// rowOf returns the row of m named name, adding it if missing.
func rowOf(m map[string]*statsRow, name string) *statsRow {
	if m[name] == nil {
		m[name] = &statsRow{Name: name}
	}
	return m[name]
}

// addRun counts the run s and its model calls.
func (st *stats) addRun(s *runSummary) {
	r := statsRow{Name: s.RunID, Runs: 1}
	t := rowOf(st.tenants, s.Tenant)
	t.Runs++
	st.total.Runs++
	for name, u := range s.Models {
		r.add(u)
		t.add(u)
		st.total.add(u)
		rowOf(st.models, name).add(u)
	}
	st.runs = append(st.runs, r)
}

// addInteraction counts a recorded model interaction under its model (a
// tool execution counts nothing).
func (st *stats) addInteraction(in interaction) error {
	if in.Tool != "" {
		return nil // a tool execution: no tokens, no model
	}
	u := &usageSum{Calls: 1, PromptTokens: in.PromptTokens, CompletionTokens: in.CompletionTokens, CostUSD: float64(in.CostUSD)}
	rowOf(st.models, in.Model).add(u)
	st.total.add(u)
	return nil
}

// sortedRows returns the rows of m by name.
func sortedRows(m map[string]*statsRow) []statsRow {
	out := []statsRow{}
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// statsSection prints one table of rows under title.
func (e *env) statsSection(title string, rows []statsRow) {
	tw := e.table()
	fmt.Fprintln(tw, e.paint(colorBold, title+"\tRUNS\tCALLS\tPROMPT\tCOMPLETION\tCOST"))
	for _, r := range rows {
		runsCol := "-"
		if r.Runs > 0 {
			runsCol = fmt.Sprint(r.Runs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", dash(r.Name), runsCol, r.Calls, r.PromptTokens, r.CompletionTokens, formatCost(float64(r.CostUSD)))
	}
	tw.Flush()
}
