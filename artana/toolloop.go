package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
)

// defaultMaxTurns is the number of model steps a ToolLoop takes at most
// when ToolLoop.MaxTurns is 0.
const defaultMaxTurns = 10

// ToolLoop is the standard tool-calling agent loop: the model is asked,
// every tool call it makes runs as a tool step, the results go back to it
// as tool messages, and so on until it answers without tool calls.
type ToolLoop struct {
	Model string // model name, required
	// Prompt and Messages start the conversation, as in ModelStep.
	Prompt   string
	Messages []ledger.ChatMessage
	// StepKey names the loop; the keys of its steps derive from it:
	// "KEY/turn-N" for the model step of turn N and "KEY/CALLID" for the
	// tool step of a call, whose idempotency key thus derives from the run
	// and the call id. "" means "tool-loop". Two loops in one run need
	// different keys.
	StepKey string
	// Tools names the registered tools offered, as ModelStep.Tools: nil
	// offers every registered tool.
	Tools []string
	// MaxTurns is the number of model steps the loop takes at most
	// (10 if 0). A model still asking for tools in the last
	// turn ends the loop with a *TurnLimitError; those calls are not run.
	MaxTurns int
	Options  llm.Options // sampling and tool-choice options of every turn
	// OnDelta, if set, streams every turn's model step (ModelStep.OnDelta).
	OnDelta func(llm.Delta) error
	// StopOnToolError ends the loop with the error of the first tool step
	// that fails (transient or permanent outcome, arguments that do not fit
	// the tool, a tool that is not offered). By default the failure goes
	// back to the model as the tool message {"error": ..., "outcome": ...}
	// and the loop goes on.
	StopOnToolError bool
	// ReplayPolicy is the replay policy of the loop's model and tool steps
	// (ModelStep.ReplayPolicy, ToolStep.ReplayPolicy). When a step forks,
	// the loop goes on in the fork: the result's RunID names it.
	ReplayPolicy ReplayPolicy
}

// ToolLoopResult is the outcome of a tool loop.
type ToolLoopResult[T any] struct {
	RunID      string
	Output     T      // the final answer
	OutputJSON string // the final answer as logged
	// Messages is the whole conversation: the starting messages, each
	// tool-calling assistant message followed by its tool messages, and
	// the final assistant message.
	Messages []ledger.ChatMessage
	Turns    int       // model steps taken
	Usage    llm.Usage // summed over the turns
	FromLog  bool      // true if every step was answered from the log
	// Drifts lists the steps answered although they drifted from the log,
	// in order (see ReplayPolicy).
	Drifts []Drift
}

// A TurnLimitError ends a tool loop whose model still asked for tools in
// its last allowed turn. Nothing is logged for those calls.
type TurnLimitError struct {
	RunID   string
	Limit   int               // ToolLoop.MaxTurns, or 10
	Seq     int64             // the model_completed of the last turn
	Pending []ledger.ToolCall // the calls of the last turn, not run
}

// Error names the limit, the run and the calls left.
func (e *TurnLimitError) Error() string {
	names := make([]string, len(e.Pending))
	for i, c := range e.Pending {
		names[i] = c.ToolName
	}
	return fmt.Sprintf("artana: tool loop: run %q seq %d: turn limit %d reached: the model still asked for %d tool call(s) (%s) in turn %d; they were not run; raise ToolLoop.MaxTurns or revise the prompt",
		e.RunID, e.Seq, e.Limit, len(e.Pending), strings.Join(names, ", "), e.Limit)
}

// RunToolLoop runs loop on run and decodes the final answer into T.
//
// Each turn is a model step (StepModel, with the kernel's middleware:
// budget, capability and PII rules apply to every turn). If the model
// asks for tool calls, each runs in order as a two-phase tool step
// (StepTool) with the step key "KEY/CALLID", and its result, or its
// failure, goes back as the tool message answering the call. A call
// without id (some models give none) gets "call_TURN_N". A turn whose
// calls reuse an id (of an earlier call, or twice in the turn) ends the
// loop with an error matching ErrInvalidInput, holding a *ledger.MessageError,
// before any of its calls runs. The loop ends when the model answers
// without tool calls; that answer is the output.
//
// Everything the loop does is a logged step, so calling it again with the
// same loop on the same run replays it: no model and no tool is called
// and the result is equal. A tool step whose request was logged without a
// completion (the process died while the tool ran) halts the loop with
// ErrUnknownOutcome, as StepTool does, until ReconcileTool resolves it.
func RunToolLoop[T any](ctx context.Context, k *Kernel, run Run, loop ToolLoop) (ToolLoopResult[T], error) {
	res := ToolLoopResult[T]{RunID: run.ID, FromLog: true}
	key := loop.StepKey
	if key == "" {
		key = "tool-loop"
	}
	limit := loop.MaxTurns
	if limit == 0 {
		limit = defaultMaxTurns
	}
	if limit < 0 {
		return res, &Error{Op: "tool loop", RunID: run.ID, Kind: ErrInvalidInput, Msg: fmt.Sprintf("MaxTurns %d is negative", limit)}
	}
	conv := slices.Clone(loop.Messages)
	if len(conv) == 0 && loop.Prompt != "" {
		conv = []ledger.ChatMessage{{Role: "user", Content: loop.Prompt}}
	}
	for turn := 1; ; turn++ {
		step, err := StepModel[T](ctx, k, run, ModelStep{
			Model: loop.Model, Prompt: loop.Prompt, Messages: conv,
			StepKey: fmt.Sprintf("%s/turn-%d", key, turn), Tools: loop.Tools, Options: loop.Options,
			OnDelta: loop.OnDelta, ReplayPolicy: loop.ReplayPolicy,
		})
		if err != nil {
			return res, err
		}
		if step.Drift != nil {
			res.Drifts = append(res.Drifts, *step.Drift)
		}
		if step.RunID != run.ID { // forked: the loop goes on in the fork
			run = Run{ID: step.RunID, Tenant: run.Tenant}
			res.RunID = run.ID
		}
		res.Turns = turn
		res.FromLog = res.FromLog && step.FromLog
		res.Usage.PromptTokens += step.Usage.PromptTokens
		res.Usage.CompletionTokens += step.Usage.CompletionTokens
		res.Usage.CachedPromptTokens += step.Usage.CachedPromptTokens
		res.Usage.CostUSD += step.Usage.CostUSD
		if len(step.ToolCalls) == 0 {
			res.Output, res.OutputJSON = step.Output, step.OutputJSON
			res.Messages = append(conv, ledger.ChatMessage{Role: "assistant", Content: assistantContent(step.Output, step.OutputJSON)})
			return res, nil
		}
		calls := slices.Clone(step.ToolCalls)
		for i := range calls {
			if calls[i].ID == "" {
				calls[i].ID = fmt.Sprintf("call_%d_%d", turn, i+1)
			}
		}
		if turn >= limit {
			return res, &TurnLimitError{RunID: run.ID, Limit: limit, Seq: step.Seq, Pending: calls}
		}
		if err := reusedCallID(conv, calls); err != nil {
			return res, &Error{Op: "tool loop", RunID: run.ID, Seq: step.Seq, Kind: ErrInvalidInput, Err: err,
				Msg: fmt.Sprintf("turn %d: the model reused a tool call id; no call of the turn was run", turn)}
		}
		content := ""
		if step.OutputJSON != "" {
			content = assistantContent(step.Output, step.OutputJSON)
		}
		conv = append(conv, ledger.ChatMessage{Role: "assistant", Content: content, ToolCalls: calls})
		for _, call := range calls {
			out, fromLog, tr, err := k.loopTool(ctx, run, loop, key, call)
			if err != nil {
				return res, err
			}
			if tr.Drift != nil {
				res.Drifts = append(res.Drifts, *tr.Drift)
			}
			if tr.RunID != "" && tr.RunID != run.ID {
				run = Run{ID: tr.RunID, Tenant: run.Tenant}
				res.RunID = run.ID
			}
			res.FromLog = res.FromLog && fromLog
			conv = append(conv, ToolMessage(call, out))
		}
	}
}

// reusedCallID reports a call of calls whose id an earlier call of calls
// or of the conversation conv already has: its tool step would have the
// step key of the earlier one, and the conversation would be refused.
// The error is the *ledger.MessageError of the assistant message that would
// hold calls.
func reusedCallID(conv []ledger.ChatMessage, calls []ledger.ToolCall) error {
	seen := map[string]int{}
	for i, m := range conv {
		for _, c := range m.ToolCalls {
			seen[c.ID] = i
		}
	}
	at := len(conv)
	for _, c := range calls {
		if j, ok := seen[c.ID]; ok {
			where := fmt.Sprintf("message %d", j)
			if j == at {
				where = "this message"
			}
			return &ledger.MessageError{Index: at, ToolCallID: c.ID,
				Msg: fmt.Sprintf("tool call id %q is already used by %s; call ids must be unique in a conversation", c.ID, where)}
		}
		seen[c.ID] = at
	}
	return nil
}

// loopTool runs one call of a tool loop and returns the content of the
// tool message that answers it.
func (k *Kernel) loopTool(ctx context.Context, run Run, loop ToolLoop, key string, call ledger.ToolCall) (string, bool, ToolResult, error) {
	if !k.offers(run, loop.Tools, call.ToolName) {
		err := &Error{Op: "tool loop", RunID: run.ID, Tool: call.ToolName, Kind: ErrToolNotFound,
			Msg: fmt.Sprintf("the model called tool %q (call %s), which this loop does not offer", call.ToolName, call.ID)}
		if loop.StopOnToolError {
			return "", false, ToolResult{}, err
		}
		return toolErrorMessage(fmt.Sprintf("tool %q is not available", call.ToolName), ""), true, ToolResult{}, nil
	}
	res, err := k.StepTool(ctx, run, ToolStep{Tool: call.ToolName, Args: call.ArgumentsJSON, StepKey: key + "/" + call.ID, ReplayPolicy: loop.ReplayPolicy})
	if err == nil {
		return res.ResultJSON, res.FromLog, res, nil
	}
	var te *ToolError
	switch {
	case errors.Is(err, ErrUnknownOutcome):
		var e *Error
		seq := int64(0)
		if errors.As(err, &e) {
			seq = e.Seq
		}
		return "", false, res, &Error{Op: "tool loop", RunID: run.ID, Seq: seq, Tool: call.ToolName, Outcome: ledger.OutcomeUnknown,
			Kind: ErrUnknownOutcome, Err: err,
			Msg: fmt.Sprintf("call %s halts the loop; resolve it with ReconcileTool(ctx, run, ToolStep{Tool: %q, Args: %s, StepKey: %q}), then run the loop again",
				call.ID, call.ToolName, call.ArgumentsJSON, key+"/"+call.ID)}
	case loop.StopOnToolError:
		return "", false, res, err
	case errors.Is(err, ErrToolFailed) && errors.As(err, &te):
		msg := ""
		if te.Err != nil {
			msg = te.Err.Error()
		}
		return toolErrorMessage(msg, te.Outcome), true, res, nil
	case errors.Is(err, ErrInvalidInput):
		// The arguments are not a JSON object or do not fit the tool:
		// nothing was logged, and the same check fails the same way on
		// replay.
		var e *Error
		msg := err.Error()
		if errors.As(err, &e) && e.Err != nil {
			msg = e.Err.Error()
		}
		return toolErrorMessage("invalid arguments: "+msg, ""), true, res, nil
	}
	return "", false, res, err
}

// offers reports whether a loop offering names (nil for all) lets the
// tenant of run call tool.
func (k *Kernel) offers(run Run, names []string, tool string) bool {
	rt := k.tools.lookup(tool)
	if rt == nil || (names != nil && !slices.Contains(names, tool)) {
		return false
	}
	return run.Tenant.Can(rt.capability)
}

// toolErrorMessage is the content of the tool message that tells the
// model a call failed.
func toolErrorMessage(msg string, outcome ledger.ToolOutcome) string {
	b, _ := json.Marshal(struct {
		Error   string             `json:"error"`
		Outcome ledger.ToolOutcome `json:"outcome,omitempty"`
	}{msg, outcome})
	return string(b)
}

// assistantContent is the content of the assistant message holding an
// answer: the text of a string output, the JSON of any other.
func assistantContent(output any, outputJSON string) string {
	if s, ok := output.(string); ok {
		return s
	}
	return outputJSON
}
