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
	var runs []statsRow
	tenants := map[string]*statsRow{}
	models := map[string]*statsRow{}
	total := statsRow{Name: "total"}
	row := func(m map[string]*statsRow, name string) *statsRow {
		if m[name] == nil {
			m[name] = &statsRow{Name: name}
		}
		return m[name]
	}
	for _, s := range sums {
		r := statsRow{Name: s.RunID, Runs: 1}
		t := row(tenants, s.Tenant)
		t.Runs++
		total.Runs++
		for name, u := range s.Models {
			r.add(u)
			t.add(u)
			total.add(u)
			row(models, name).add(u)
		}
		runs = append(runs, r)
	}
	for _, f := range src.interactions() {
		err := readInteractions(ctx, f.path, func(in interaction) error {
			if in.Tool != "" {
				return nil // a tool execution: no tokens, no model
			}
			u := &usageSum{Calls: 1, PromptTokens: in.PromptTokens, CompletionTokens: in.CompletionTokens, CostUSD: float64(in.CostUSD)}
			row(models, in.Model).add(u)
			total.add(u)
			return nil
		})
		if err != nil {
			return err
		}
	}
	sorted := func(m map[string]*statsRow) []statsRow {
		out := []statsRow{}
		for _, r := range m {
			out = append(out, *r)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out
	}
	if runs == nil {
		runs = []statsRow{}
	}
	if e.json {
		return e.writeJSON(struct {
			Path    string     `json:"path"`
			Runs    []statsRow `json:"runs"`
			Tenants []statsRow `json:"tenants"`
			Models  []statsRow `json:"models"`
			Total   statsRow   `json:"total"`
		}{src.path, runs, sorted(tenants), sorted(models), total})
	}
	section := func(title string, rows []statsRow) {
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
	if len(runs) > 0 {
		section("RUN", runs)
		fmt.Fprintln(e.stdout)
		section("TENANT", sorted(tenants))
		fmt.Fprintln(e.stdout)
	}
	section("MODEL", sorted(models))
	fmt.Fprintln(e.stdout)
	section("TOTAL", []statsRow{total})
	for _, f := range src.interactions() {
		fmt.Fprintf(e.stdout, "%s: interactions cassette (model interactions recorded by package recorder), counted under MODEL\n", f.path)
	}
	return nil
}
