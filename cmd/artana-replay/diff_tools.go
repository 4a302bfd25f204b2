package main

import (
	"fmt"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/pyjson"
)

// A callTracker aligns tool steps by tool call: a tool step that runs a
// call of the model step before it is keyed by that model step and the
// call's position, so that the steps of two runs of one agent line up
// even when the provider gave their calls other ids.
type callTracker struct {
	model *step // the model step that made the calls
	calls []ledger.ToolCall
	used  []bool
}

func (c *callTracker) set(model *step, calls []ledger.ToolCall) {
	c.model, c.calls, c.used = model, calls, make([]bool, len(calls))
}

// match finds the call a tool request runs: the unused call whose id ends
// the request's step key (as artana.RunToolLoop keys it), else the first
// unused call of the same tool with the same arguments.
func (c *callTracker) match(p *ledger.ToolRequested) (key, label string, ok bool) {
	i := -1
	for j, call := range c.calls {
		if !c.used[j] && call.ID != "" && p.StepKey != nil && strings.HasSuffix(*p.StepKey, "/"+call.ID) {
			i = j
			break
		}
	}
	for j, call := range c.calls {
		if i >= 0 {
			break
		}
		if !c.used[j] && call.ToolName == p.ToolName && sameJSON(call.ArgumentsJSON, p.ArgumentsJSON) {
			i = j
		}
	}
	if i < 0 {
		return "", "", false
	}
	c.used[i] = true
	return fmt.Sprintf("%s, call %d", c.model.key, i+1),
		fmt.Sprintf("tool call %d (%s) of %s", i+1, p.ToolName, c.model.label), true
}

// sameJSON reports whether two JSON texts are the same document.
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	ca, err1 := pyjson.Canonicalize([]byte(a))
	cb, err2 := pyjson.Canonicalize([]byte(b))
	return err1 == nil && err2 == nil && string(ca) == string(cb)
}

// normalizeCallIDs returns the events with every tool call id replaced by
// "call-N", N counting the run's distinct ids in order of appearance: in
// tool calls, tool messages and the step keys of tool requests. Without
// --strict, call ids are compared like event ids: not at all.
func normalizeCallIDs(evs []ledger.Event) []ledger.Event {
	ids := map[string]string{}
	name := func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := ids[id]; ok {
			return n
		}
		n := fmt.Sprintf("call-%d", len(ids)+1)
		ids[id] = n
		return n
	}
	out := make([]ledger.Event, len(evs))
	for i, e := range evs {
		switch p := e.Payload.(type) {
		case *ledger.ModelCompleted:
			c := *p
			c.ToolCalls = make([]ledger.ToolCall, len(p.ToolCalls))
			for j, tc := range p.ToolCalls {
				tc.ID = name(tc.ID)
				c.ToolCalls[j] = tc
			}
			e.Payload = &c
		case *ledger.ModelRequested:
			c := *p
			c.Messages = make([]ledger.ChatMessage, len(p.Messages))
			for j, m := range p.Messages {
				m.ToolCallID = name(m.ToolCallID)
				if m.ToolCalls != nil {
					tcs := make([]ledger.ToolCall, len(m.ToolCalls))
					for k, tc := range m.ToolCalls {
						tc.ID = name(tc.ID)
						tcs[k] = tc
					}
					m.ToolCalls = tcs
				}
				c.Messages[j] = m
			}
			e.Payload = &c
		case *ledger.ToolRequested:
			if p.StepKey != nil {
				c := *p
				key, best := *p.StepKey, ""
				for id := range ids { // the longest id ending the key
					if strings.HasSuffix(key, "/"+id) && len(id) > len(best) {
						best = id
					}
				}
				if best != "" {
					key = strings.TrimSuffix(key, best) + ids[best]
				}
				c.StepKey = &key
				e.Payload = &c
			}
		}
		out[i] = e
	}
	return out
}
