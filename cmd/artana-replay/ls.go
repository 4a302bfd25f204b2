package main

import (
	"context"
	"fmt"

	"github.com/artana-go/go-artana/artana/ledger"
)

func lsCommand() *command {
	return &command{
		name:    "ls",
		usage:   "[--json] PATH",
		summary: "list the runs of a ledger: tenant, events, first/last time, status, tokens, cost",
		run:     runLs,
	}
}

// lsRun is one run in the JSON output of ls.
type lsRun struct {
	RunID            string    `json:"run_id"`
	ForkOf           string    `json:"fork_of,omitempty"` // the parent of a fork (ReplayForkOnDrift)
	Tenant           string    `json:"tenant_id"`
	Events           int64     `json:"events"`
	First            string    `json:"first"`
	Last             string    `json:"last"`
	Status           string    `json:"status"`
	Waiting          *waiting  `json:"waiting,omitempty"` // the step a run that is not complete waits at
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	CostUSD          jsonFloat `json:"cost_usd"`
}

// lsInteractions is one interactions cassette in the JSON output of ls.
type lsInteractions struct {
	Path         string `json:"path"`
	Kind         string `json:"kind"`
	Interactions int    `json:"interactions"`
	Tools        int    `json:"tool_executions,omitempty"`
}

func runLs(ctx context.Context, e *env, args []string) error {
	src, sums, err := e.summarizeArgs(ctx, args)
	if err != nil {
		return err
	}
	defer src.Close()
	var inter []lsInteractions
	for _, f := range src.interactions() {
		n, tools, err := countInteractions(ctx, f)
		if err != nil {
			return err
		}
		inter = append(inter, lsInteractions{Path: f.path, Kind: string(f.header.Kind), Interactions: n, Tools: tools})
	}
	if e.json {
		out := struct {
			Path         string           `json:"path"`
			Kind         string           `json:"kind"`
			Runs         []lsRun          `json:"runs"`
			Interactions []lsInteractions `json:"interactions,omitempty"`
		}{Path: src.path, Kind: src.kind, Runs: []lsRun{}, Interactions: inter}
		for _, s := range sums {
			parent, _ := ledger.ForkParent(s.RunID)
			out.Runs = append(out.Runs, lsRun{RunID: s.RunID, ForkOf: parent, Tenant: s.Tenant, Events: s.Events,
				First: formatTime(s.First), Last: formatTime(s.Last), Status: s.Status(), Waiting: waitingOf(s.Detail()),
				PromptTokens: s.PromptTokens, CompletionTokens: s.CompletionTokens, CostUSD: jsonFloat(s.CostUSD)})
		}
		return e.writeJSON(out)
	}
	if len(sums) > 0 {
		tw := e.table()
		fmt.Fprintln(tw, e.paint(colorBold, "RUN\tTENANT\tEVENTS\tFIRST\tLAST\tSTATUS\tTOKENS\tCOST"))
		for _, s := range sums {
			name := s.RunID
			if parent, ok := ledger.ForkParent(s.RunID); ok {
				name += " (fork of " + parent + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\n", name, dash(s.Tenant), s.Events,
				formatTime(s.First), formatTime(s.Last), e.paint(statusColor(s.Status()), s.Status()),
				s.Tokens(), formatCost(s.CostUSD))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else if len(inter) == 0 {
		fmt.Fprintf(e.stdout, "%s: no runs\n", src.path)
	}
	for i, in := range inter {
		fmt.Fprintln(e.stdout, interactionsNote(src.interactions()[i], in.Interactions, in.Tools))
	}
	return nil
}
