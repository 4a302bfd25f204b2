package artana

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/artana-go/go-artana/artana/ledger"
)

// A runIndex is the kernel's incremental view of one run: everything replay
// needs to answer a step in constant time, built from each event once. It
// reads only events after lastSeq, so appends by other kernels or processes
// on the same store are picked up by the next step.
type runIndex struct {
	mu sync.Mutex // held for a whole step, so steps on one run are serial

	id       string
	tenantID string // tenant of seq 1
	lastSeq  int64
	// tenantErr is set when events of several tenants are found in the run.
	tenantErr error
	// toolErr is set when tool completions do not map to tool requests.
	toolErr error

	spentUSD float64 // sum of cost_usd of the model_completed events

	// chain verifies every event as it is indexed, as the Python original's
	// KernelEvent validator does on load: a run whose log was changed
	// after it was written cannot be replayed or extended.
	chain ledger.ChainVerifier

	models          map[stepKeyHash]*modelEntry // latest model_requested per request
	lastModel       *modelEntry                 // latest model_requested of the run
	modelsByStepKey map[string]*modelEntry      // latest model_requested per step key
	toolsByStepKey  map[string]*toolEntry       // latest tool_requested per step key
	drifts          map[string]*driftEntry      // replayed_with_drift events by driftKey

	tools      map[stepKeyHash]*toolEntry // latest tool_requested per request
	toolsByID  map[string]*toolEntry      // tool_requested event id -> entry
	toolOrder  []*toolEntry               // tool requests in seq order, for legacy completions
	legacyNext int                        // next toolOrder entry a legacy completion may take

	// Workflow steps by step index, the latest event winning as in the
	// Python original's WorkflowContext.
	wfRequested map[int64]wfRequest
	wfCompleted map[int64]wfEntry

	pauses        map[string]*pauseEntry // latest pause_requested per step key
	pendingPauses []*pauseEntry          // pauses no resume_requested has followed
}

type wfRequest struct {
	seq int64
	p   *ledger.WorkflowStepRequested
}

type wfEntry struct {
	seq int64
	p   *ledger.WorkflowStepCompleted
}

type pauseEntry struct {
	ticket PauseTicket
	resume *ledger.ResumeRequested // the first resume_requested after the pause, or nil
}

type stepKeyHash [sha256.Size]byte

type modelEntry struct {
	eventID   string
	prevHash  string // the hash of the event before the request
	seq       int64
	req       *ledger.ModelRequested
	completed *ledger.ModelCompleted
	doneSeq   int64
}

type toolEntry struct {
	eventID    string
	prevHash   string // the hash of the event before the request
	seq        int64
	req        *ledger.ToolRequested
	completion *ledger.ToolCompleted // the latest completion, nil while pending
	doneSeq    int64
}

func newRunIndex(id string) *runIndex {
	return &runIndex{
		id:        id,
		models:    make(map[stepKeyHash]*modelEntry),
		tools:     make(map[stepKeyHash]*toolEntry),
		toolsByID: make(map[string]*toolEntry),

		modelsByStepKey: make(map[string]*modelEntry),
		toolsByStepKey:  make(map[string]*toolEntry),
		drifts:          make(map[string]*driftEntry),

		wfRequested: make(map[int64]wfRequest),
		wfCompleted: make(map[int64]wfEntry),
		pauses:      make(map[string]*pauseEntry),
	}
}

// sync reads the events appended since the last one seen.
func (x *runIndex) sync(ctx context.Context, s ledger.Store) error {
	events, err := s.Events(ctx, x.id, x.lastSeq)
	if err != nil {
		return err
	}
	for i := range events {
		if err := x.add(&events[i], false); err != nil {
			return err
		}
	}
	return nil
}

// appended adds e, just appended by this kernel, or syncs if other events
// came in between. The store computed e's hash from the payload the kernel
// gave it, so only its links are checked, not its hash again.
func (x *runIndex) appended(ctx context.Context, s ledger.Store, e *ledger.Event) error {
	if e.Seq == x.lastSeq+1 {
		return x.add(e, true)
	}
	return x.sync(ctx, s)
}

// add indexes the event that follows lastSeq, verifying it (its links
// only, if linksOnly).
func (x *runIndex) add(e *ledger.Event, linksOnly bool) error {
	if e.Seq != x.lastSeq+1 {
		return &Error{Op: "read run", RunID: x.id, Seq: e.Seq, Kind: ErrReplayMismatch,
			Msg: fmt.Sprintf("store returned seq %d after seq %d; the store is broken or the run was rewritten", e.Seq, x.lastSeq)}
	}
	if e.Seq == 1 {
		x.tenantID = e.TenantID
	} else if e.TenantID != x.tenantID && x.tenantErr == nil {
		x.tenantErr = &Error{Op: "read run", RunID: x.id, Seq: e.Seq, Kind: ErrReplayMismatch,
			Msg: fmt.Sprintf("corrupted run: event of tenant %q among events of tenant %q", e.TenantID, x.tenantID)}
	}
	if x.tenantErr == nil { // a run of mixed tenants fails every step with tenantErr
		var err error
		if linksOnly {
			err = x.chain.Link(e)
		} else {
			err = x.chain.Next(e)
		}
		if err != nil {
			return &Error{Op: "read run", RunID: x.id, Seq: e.Seq, Kind: ledger.ErrChainBroken,
				Msg: "the log was changed after it was written; nothing was run or appended; " +
					"inspect the run with artana-replay verify", Err: err}
		}
	}
	x.lastSeq = e.Seq
	switch p := e.Payload.(type) {
	case *ledger.ModelRequested:
		m := &modelEntry{eventID: e.ID, prevHash: e.PrevHash, seq: e.Seq, req: p}
		x.models[modelKey(p.Model, p.Prompt, p.Messages, p.StepKey)] = m
		x.lastModel = m
		if p.StepKey != nil {
			x.modelsByStepKey[*p.StepKey] = m
		}
	case *ledger.ReplayedWithDrift:
		x.drifts[driftKey(p.StepKey, p.SourceRequestedEventID, p.Policy, p.DriftFields, p.ForkRunID)] = &driftEntry{seq: e.Seq, p: p}
	case *ledger.ModelCompleted:
		// The completion belongs to the latest request if no other request
		// came in between (the Python original's find_model_completed_after).
		if m := x.lastModel; m != nil && m.completed == nil {
			m.completed, m.doneSeq = p, e.Seq
		}
		x.spentUSD += p.CostUSD
	case *ledger.ToolRequested:
		t := &toolEntry{eventID: e.ID, prevHash: e.PrevHash, seq: e.Seq, req: p}
		if p.StepKey != nil {
			x.toolsByStepKey[*p.StepKey] = t
		}
		x.tools[toolKey(p.ToolName, p.ArgumentsJSON, p.StepKey)] = t
		x.toolsByID[e.ID] = t
		x.toolOrder = append(x.toolOrder, t)
	case *ledger.ToolCompleted:
		x.addToolCompleted(e.Seq, p)
	case *ledger.WorkflowStepRequested:
		x.wfRequested[p.StepIndex] = wfRequest{seq: e.Seq, p: p}
	case *ledger.WorkflowStepCompleted:
		x.wfCompleted[p.StepIndex] = wfEntry{e.Seq, p}
	case *ledger.PauseRequested:
		pe := &pauseEntry{ticket: PauseTicket{RunID: e.RunID, TicketID: e.ID, Seq: e.Seq, Reason: p.Reason}}
		if p.StepKey != nil {
			x.pauses[*p.StepKey] = pe
		}
		x.pendingPauses = append(x.pendingPauses, pe)
	case *ledger.ResumeRequested:
		for _, pe := range x.pendingPauses {
			pe.resume = p
		}
		x.pendingPauses = x.pendingPauses[:0]
	}
	return nil
}

// addToolCompleted pairs a completion with its request as the Python original's
// resolve_tool_resolutions does: by request_id, the latest completion
// winning; completions without request_id (legacy) pair in order with the
// requests that have no completion.
func (x *runIndex) addToolCompleted(seq int64, p *ledger.ToolCompleted) {
	if p.RequestID != nil {
		t := x.toolsByID[*p.RequestID]
		if t == nil {
			if x.toolErr == nil {
				x.toolErr = &Error{Op: "read run", RunID: x.id, Seq: seq, Tool: p.ToolName, Kind: ErrReplayMismatch,
					Msg: fmt.Sprintf("tool_completed names request_id %q, which is no tool_requested event of the run", *p.RequestID)}
			}
			return
		}
		t.completion, t.doneSeq = p, seq
		return
	}
	for x.legacyNext < len(x.toolOrder) && x.toolOrder[x.legacyNext].completion != nil {
		x.legacyNext++
	}
	if x.legacyNext == len(x.toolOrder) {
		if x.toolErr == nil {
			x.toolErr = &Error{Op: "read run", RunID: x.id, Seq: seq, Tool: p.ToolName, Kind: ErrReplayMismatch,
				Msg: "tool_completed without request_id has no tool_requested left to pair with"}
		}
		return
	}
	t := x.toolOrder[x.legacyNext]
	t.completion, t.doneSeq = p, seq
	x.legacyNext++
}

// findModel returns the latest model request with the same model, prompt,
// messages and step key, or nil.
func (x *runIndex) findModel(model, prompt string, messages []ledger.ChatMessage, stepKey *string) *modelEntry {
	m := x.models[modelKey(model, prompt, messages, stepKey)]
	if m == nil || m.req.Model != model || m.req.Prompt != prompt ||
		!equalMessages(m.req.Messages, messages) || !equalStepKeys(m.req.StepKey, stepKey) {
		return nil
	}
	return m
}

// findTool returns the latest tool request with the same tool, canonical
// arguments and step key, or nil.
func (x *runIndex) findTool(name, argsJSON string, stepKey *string) *toolEntry {
	t := x.tools[toolKey(name, argsJSON, stepKey)]
	if t == nil || t.req.ToolName != name || t.req.ArgumentsJSON != argsJSON || !equalStepKeys(t.req.StepKey, stepKey) {
		return nil
	}
	return t
}

func equalStepKeys(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// keyHasher builds an unambiguous digest of a list of strings.
type keyHasher struct{ buf []byte }

func (h *keyHasher) str(s string) {
	h.buf = binary.AppendUvarint(h.buf, uint64(len(s)))
	h.buf = append(h.buf, s...)
}

func (h *keyHasher) opt(s *string) {
	if s == nil {
		h.buf = append(h.buf, 0)
		return
	}
	h.buf = append(h.buf, 1)
	h.str(*s)
}

func modelKey(model, prompt string, messages []ledger.ChatMessage, stepKey *string) stepKeyHash {
	size := 64 + len(model) + len(prompt)
	if stepKey != nil {
		size += len(*stepKey)
	}
	for _, m := range messages {
		size += 5*binary.MaxVarintLen64 + len(m.Role) + len(m.Content) + len(m.ToolCallID) + len(m.Name)
		for _, c := range m.ToolCalls {
			size += 3*binary.MaxVarintLen64 + len(c.ID) + len(c.ToolName) + len(c.ArgumentsJSON)
		}
	}
	h := keyHasher{buf: make([]byte, 0, size)} // one allocation, never grown
	h.buf = append(h.buf, 'm')
	h.str(model)
	h.str(prompt)
	h.opt(stepKey)
	h.buf = binary.AppendUvarint(h.buf, uint64(len(messages)))
	for _, m := range messages {
		h.str(m.Role)
		h.str(m.Content)
		h.str(m.ToolCallID)
		h.str(m.Name)
		h.buf = binary.AppendUvarint(h.buf, uint64(len(m.ToolCalls)))
		for _, c := range m.ToolCalls {
			h.str(c.ID)
			h.str(c.ToolName)
			h.str(c.ArgumentsJSON)
		}
	}
	return sha256.Sum256(h.buf)
}

func toolKey(name, argsJSON string, stepKey *string) stepKeyHash {
	h := keyHasher{buf: make([]byte, 0, 64+len(name)+len(argsJSON))}
	h.buf = append(h.buf, 't')
	h.str(name)
	h.str(argsJSON)
	h.opt(stepKey)
	return sha256.Sum256(h.buf)
}

// IdempotencyKey returns the key the Python original derives for a tool request:
// sha256_hex(run_id + ":" + step_key), or, without a step key (""),
// sha256_hex(run_id + ":" + seq) with the seq the tool_requested event gets.
func idempotencyKey(runID, stepKey string, seq int64) string {
	token := fmt.Sprintf("%s:%d", runID, seq)
	if stepKey != "" {
		token = runID + ":" + stepKey
	}
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%x", sum[:])
}
