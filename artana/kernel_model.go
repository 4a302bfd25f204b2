package artana

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/internal/pyjson"
	"github.com/artana-go/go-artana/internal/schema"
)

// ModelStep is one model call of a run.
type ModelStep struct {
	Model string // model name, required
	// Prompt is the prompt as logged. With no Messages, the model is sent
	// one user message holding it. With Messages and no Prompt, the prompt
	// is the content of the last user message (or, without one, every
	// message as "role: content" lines), as in the Python original.
	Prompt   string
	Messages []ledger.ChatMessage
	// StepKey names the step for replay; "" for none. Two steps with the
	// same model, prompt and messages need different keys to both run live.
	StepKey string
	// Tools names the registered tools offered in this step, in the order
	// given; nil offers every registered tool, an empty non-nil slice none.
	// Tools the tenant lacks the capability for are never offered.
	Tools   []string
	Options llm.Options // sampling and tool-choice options; not part of replay matching
	// OnDelta, if set, streams the step: it is called with each piece of
	// the answer as it arrives (see llm.Delta), before model_completed is
	// logged. A model that is not an llm.StreamingModel delivers its answer as
	// one delta (llm.Response.Delta); a step answered from the log delivers the
	// logged output as one delta, once, before returning. Streaming
	// changes delivery only: the step logs exactly what it logs without
	// OnDelta, and OnDelta is not part of replay matching. If OnDelta
	// returns an error, the step stops and returns it, and nothing is
	// logged as completed.
	OnDelta func(llm.Delta) error
	// ReplayPolicy says what the step does when the log holds a request of
	// its step key that differs from it (see ReplayPolicy); "" uses the
	// kernel's (WithReplayPolicy). Without a step key a step never drifts.
	ReplayPolicy ReplayPolicy
}

// ModelResult is the outcome of a model step.
type ModelResult[T any] struct {
	RunID      string
	Seq        int64 // seq of the model_completed event
	Output     T
	OutputJSON string // the output as logged
	Usage      llm.Usage
	ToolCalls  []ledger.ToolCall
	FromLog    bool // true if the result came from the log, not the model
	// Drift is set when the step's request drifted from the logged one and
	// its replay policy allowed it. When the step forked, RunID is the
	// fork's id: later steps belong to that run.
	Drift *Drift
}

// StepModel runs a model step whose output is decoded into T. The JSON
// Schema of T is sent as llm.Request.OutputSchema, T's name as
// OutputName: objects for structs, properties named by json tags, fields
// without omitempty required, no additional properties, and the
// jsonschema tag as a property description. T may also be json.RawMessage, to keep the model's
// bytes as they came, or any: then no schema is sent (OutputSchema is nil)
// and any JSON document is an output.
//
// The output is logged as the Python original logs the output validated
// into its pydantic model (see "Values in the log" in the package
// documentation): a struct field by field, by its Go types; a
// json.RawMessage or any output as the JSON the model wrote, rewritten
// with its keys in the order written.
//
// If the log holds a model_requested with the same model, prompt, messages
// and step key, followed by its model_completed, the step replays: the
// logged output is returned and nothing is appended. If the request is
// logged but the tools offered differ, the step fails with
// ErrReplayMismatch. Otherwise model_requested is logged (unless a pending
// one matches), the model is called, its output decoded strictly into T
// (an *OutputError, matching ErrInvalidOutput, if it does not fit; nothing
// is logged then) and model_completed is logged.
//
// Under ReplayAllowPromptDrift or ReplayForkOnDrift (ModelStep.ReplayPolicy,
// WithReplayPolicy), a step whose step key names a logged request that
// differs only in prompt or messages is answered from the log, or forked,
// instead; Drift says so (see ReplayPolicy).
//
// A turn in which the model only asks for tool calls (no output at all)
// is logged with an empty output_json; its Output is the zero T and the
// calls are in ToolCalls.
//
// Tools whose capability the tenant lacks are never offered.
func StepModel[T any](ctx context.Context, k *Kernel, run Run, step ModelStep) (ModelResult[T], error) {
	var res ModelResult[T]
	codec, err := outputCodecs.Get(reflect.TypeFor[T]())
	if err != nil {
		return res, &Error{Op: "step model", RunID: run.ID, Kind: ErrInvalidInput, Err: err}
	}
	decode := func(raw string, replayed bool) (string, error) {
		var out T
		if !codec.FastDecode(raw, &out) {
			if err := codec.Decode([]byte(raw), &out, false); err != nil {
				return "", &OutputError{Type: codec.Type.String(), Raw: raw, Err: err}
			}
		}
		if replayed {
			res.Output = out
			return raw, nil // the log holds it already
		}
		logged, err := loggedOutput(codec, raw, &out)
		if err != nil {
			return "", &OutputError{Type: codec.Type.String(), Raw: raw, Err: err}
		}
		res.Output = out
		return logged, nil
	}
	r, err := k.stepModel(ctx, run, step, codec, decode)
	if err != nil {
		return res, err
	}
	res.RunID, res.Seq, res.OutputJSON, res.Usage, res.ToolCalls, res.FromLog, res.Drift =
		run.ID, r.seq, r.outputJSON, r.usage, r.toolCalls, r.replayed, r.drift
	if r.runID != "" {
		res.RunID = r.runID
	}
	return res, nil
}

// outputCodecs holds the strict codec of every output type, shared by all
// kernels: a codec (the type's JSON Schema, derived and resolved) depends
// on the type alone, so a test that makes a kernel per run derives it once.
var outputCodecs schema.Cache

// loggedOutput returns the output_json of a model output raw that decodes
// into T (codec.Decode has just accepted it, into *decoded): what the
// Python original logs, pydantic's model_dump_json of the output validated
// into its model. A struct is written field by field by its Go types (a
// float64 holding 100 as 100.0, an int as 100), numbers in its interface
// fields keeping their kind as the model wrote them; a json.RawMessage or
// any output is raw rewritten (pyjson.CanonicalizeModel), keys in the
// order the model wrote them.
func loggedOutput[T any](codec *schema.Codec, raw string, decoded *T) (string, error) {
	var b []byte
	var err error
	switch {
	case codec.Raw():
		b, err = pyjson.CanonicalizeModel([]byte(raw))
	case codec.NumbersAlike:
		// Nothing in T holds an interface value: decoding again with
		// json.Number would give *decoded.
		b, err = pyjson.ModelDumpJSON(*decoded)
	default:
		// Decoded again with json.Number in interface values, so that 3
		// stays an integer and 3.0 a float.
		var exact T
		if err = codec.DecodeValid([]byte(raw), &exact, true); err == nil {
			b, err = pyjson.ModelDumpJSON(exact)
		}
	}
	return string(b), err
}

// toolCallsOnly reports whether a model turn only asked for tool calls:
// no output at all, and at least one call. Such a turn is logged with an
// empty output_json and yields the zero output value.
func toolCallsOnly(outputJSON string, calls int) bool { return outputJSON == "" && calls > 0 }

type modelResult struct {
	seq        int64
	outputJSON string
	usage      llm.Usage
	toolCalls  []ledger.ToolCall
	replayed   bool
	drift      *Drift
	runID      string // the fork the step ran in, "" for the step's run
}

// stepModel is StepModel without the type parameter. decode checks a raw
// output, keeps the decoded value and returns the form to log; for an
// output replayed from the log (replayed), it returns raw unchanged.
func (k *Kernel) stepModel(ctx context.Context, run Run, step ModelStep, codec *schema.Codec,
	decode func(raw string, replayed bool) (string, error)) (modelResult, error) {
	ms := &modelStep{k: k, ctx: ctx, run: run, step: step, codec: codec, decode: decode}
	prompt, messages, err := normalizeModelInput(step)
	if err != nil {
		return ms.fail(0, ErrInvalidInput, err.Error(), nil)
	}
	policy, err := k.policyFor(step.ReplayPolicy)
	if err != nil {
		return ms.fail(0, ErrInvalidInput, err.Error(), nil)
	}
	if err := ledger.CheckConversation(messages); err != nil {
		return ms.fail(0, ErrInvalidInput, "nothing logged", err)
	}
	offered, kind, err := k.offeredTools(step.Tools)
	if err != nil {
		return ms.fail(0, kind, err.Error(), nil)
	}
	if ms.x, err = k.lockRun(ctx, modelOp, run); err != nil {
		return modelResult{}, err
	}
	defer ms.x.mu.Unlock()
	if res, err := ms.prepare(prompt, messages, offered); err != nil {
		return res, err
	}
	m := ms.x.findModel(ms.inv.Model, ms.inv.Prompt, ms.inv.Messages, ms.stepKey)
	if m != nil && !slices.Equal(m.req.AllowedTools, ms.allowed) {
		return ms.fail(m.seq, ErrReplayMismatch, "cannot resume run with changed allowed tools for the same model request: logged "+
			quoteList(m.req.AllowedTools)+", now "+quoteList(ms.allowed)+"; use a new step key or run id", nil)
	}
	if m != nil && m.completed != nil {
		return ms.fromLog(m)
	}
	if m == nil && policy != ReplayStrict {
		if res, handled, err := ms.drifted(policy); handled {
			return res, err
		}
	}
	return ms.live(m)
}

const modelOp = "step model"

// A modelStep is one model step in progress, with the run locked.
type modelStep struct {
	k      *Kernel
	ctx    context.Context
	run    Run
	step   ModelStep
	codec  *schema.Codec
	decode func(raw string, replayed bool) (string, error)

	x        *runIndex
	inv      ModelCall // the call as the middleware left it
	allowed  []string  // names of the tools offered
	stepKey  *string
	redacted int // spans the middleware redacted; see redactionNote
}

func (ms *modelStep) fail(seq int64, kind error, msg string, err error) (modelResult, error) {
	return modelResult{}, &Error{Op: modelOp, RunID: ms.run.ID, Seq: seq, Kind: kind, Msg: msg + redactionNote(ms.redacted), Err: err}
}

// mwFail fails the step with a middleware's error: a middleware's own
// *Error already says what and where, and is kept as it is (a copy gets
// the seq, so that an error value the middleware shares is not changed);
// others are wrapped.
func (ms *modelStep) mwFail(seq int64, err error) (modelResult, error) {
	var e *Error
	if errors.As(err, &e) && e == err {
		c := *e
		if c.Seq == 0 {
			c.Seq = seq
		}
		return modelResult{}, &c
	}
	return ms.fail(seq, nil, "", err)
}

// prepare runs the PrepareModel hooks and applies the tenant's capability
// scope, whatever the middleware did, and checks the tool choice.
func (ms *modelStep) prepare(prompt string, messages []ledger.ChatMessage, offered []llm.ToolDefinition) (modelResult, error) {
	inv := ModelCall{
		Run: ms.run, Model: ms.step.Model, Prompt: prompt, Messages: messages,
		Tools: offered, ToolCapabilities: ms.k.tools.Capabilities(),
		StepKey: ms.step.StepKey, SpentUSD: ms.x.spentUSD,
	}
	var err error
	for _, m := range ms.k.middleware {
		if h, ok := m.(PrepareModelHook); ok {
			if inv, err = h.PrepareModel(ms.ctx, inv); err != nil {
				return ms.mwFail(0, err)
			}
		}
	}
	ms.redacted = redactionMarkers(inv.Prompt, inv.Messages) - redactionMarkers(prompt, messages)
	inv.Tools = slices.DeleteFunc(slices.Clone(inv.Tools), func(d llm.ToolDefinition) bool {
		return !ms.run.Tenant.Can(inv.ToolCapabilities[d.Name])
	})
	ms.allowed = make([]string, len(inv.Tools))
	for i, d := range inv.Tools {
		ms.allowed[i] = d.Name
	}
	if c := ms.step.Options.ToolChoice; c != "" && c != llm.ToolChoiceAuto && c != llm.ToolChoiceNone && c != llm.ToolChoiceRequired &&
		!slices.Contains(ms.allowed, c) {
		return ms.fail(0, ErrInvalidInput, fmt.Sprintf("tool choice %q names no tool offered in this step (offered: %s); nothing logged", c, quoteList(ms.allowed)), nil)
	}
	ms.inv, ms.stepKey = inv, optString(inv.StepKey)
	return modelResult{}, nil
}

// fromLog answers the step with the logged completion of m.
func (ms *modelStep) fromLog(m *modelEntry) (modelResult, error) {
	c := m.completed
	if !toolCallsOnly(c.OutputJSON, len(c.ToolCalls)) {
		if _, err := ms.decode(c.OutputJSON, true); err != nil {
			return ms.fail(m.doneSeq, ErrReplayMismatch, "the logged output does not fit the output type", err)
		}
	}
	calls := callsOrNil(c.ToolCalls)
	usage := llm.Usage{PromptTokens: c.PromptTokens, CompletionTokens: c.CompletionTokens, CostUSD: c.CostUSD}
	if ms.step.OnDelta != nil {
		d := llm.Response{OutputJSON: c.OutputJSON, ToolCalls: slices.Clone(calls), Usage: usage}.Delta()
		if err := ms.step.OnDelta(d); err != nil {
			return ms.fail(m.doneSeq, nil, "the step's OnDelta refused the logged answer", err)
		}
	}
	return modelResult{seq: m.doneSeq, outputJSON: c.OutputJSON, toolCalls: calls, replayed: true, usage: usage}, nil
}

// drifted answers a step that matches no logged request under a replay
// policy other than strict: when a logged request differs from it only in
// what the policy allows, the step is answered from that request's
// completion (allow_prompt_drift) or re-run on a fork of the run
// (fork_on_drift), and replayed_with_drift is logged. handled is false
// when no logged request qualifies.
func (ms *modelStep) drifted(policy ReplayPolicy) (res modelResult, handled bool, err error) {
	k, x, inv, run := ms.k, ms.x, ms.inv, ms.run
	c, fields, err := x.modelDriftSource(inv.Model, ms.allowed, ms.stepKey, inv.Prompt, inv.Messages)
	if err != nil {
		return modelResult{}, true, err
	}
	if c == nil || (c.completed == nil && policy != ReplayForkOnDrift) {
		return modelResult{}, false, nil
	}
	d := &ledger.ReplayedWithDrift{StepKey: ms.stepKey, Model: inv.Model, DriftFields: fields,
		SourceRequestedEventID: c.eventID, Policy: string(policy)}
	if c.completed != nil {
		d.SourceTerminalSeq = new(c.doneSeq)
	}
	drift := &Drift{Fields: fields, Policy: policy, SourceSeq: c.seq}
	if policy == ReplayAllowPromptDrift {
		if drift.Seq, err = k.logDrift(ms.ctx, x, run, d); err != nil {
			res, err := ms.fail(c.seq, nil, "log replayed_with_drift", err)
			return res, true, err
		}
		r, err := ms.fromLog(c)
		r.drift = drift
		return r, true, err
	}
	req := &ledger.ModelRequested{Model: inv.Model, Prompt: inv.Prompt, Messages: inv.Messages,
		AllowedTools: ms.allowed, StepKey: ms.stepKey}
	forkID := ledger.ForkRunID(run.ID, c.prevHash, req)
	d.ForkRunID = &forkID
	f, err := k.fork(ms.ctx, run, c.seq-1, forkID)
	if err != nil {
		return modelResult{}, true, err
	}
	if drift.Seq, err = k.logDrift(ms.ctx, x, run, d); err != nil {
		res, err := ms.fail(c.seq, nil, "log replayed_with_drift", err)
		return res, true, err
	}
	drift.ParentRunID, drift.ForkRunID = run.ID, forkID
	sub := ms.step
	sub.ReplayPolicy = ReplayStrict
	r, err := k.stepModel(ms.ctx, f, sub, ms.codec, ms.decode)
	r.drift, r.runID = drift, forkID
	return r, true, err
}

// live calls the model: model_requested is logged (unless m, a pending
// request, matches), the BeforeModel hooks run, the model is called, its
// output decoded, model_completed logged and the AfterModel hooks run.
func (ms *modelStep) live(m *modelEntry) (modelResult, error) {
	inv := ms.inv
	if ms.k.model == nil {
		msg := fmt.Sprintf("no logged result for model %q, step key %q, prompt %q, and the kernel has no model to call", inv.Model, inv.StepKey, truncateText(inv.Prompt, 80))
		if m := ms.x.lastModel; m != nil {
			msg += fmt.Sprintf("; the latest logged request (seq %d) has model %q, step key %q, prompt %q", m.seq, m.req.Model, derefOr(m.req.StepKey, ""), truncateText(m.req.Prompt, 80))
		}
		return ms.fail(0, ErrReplayMismatch, msg+"; if the prompt or step key changed on purpose, run the step with a live (or recording) model", nil)
	}
	var reqSeq int64 // the model_requested this call answers
	if m != nil {
		reqSeq = m.seq
	} else {
		req := &ledger.ModelRequested{Model: inv.Model, Prompt: inv.Prompt, Messages: inv.Messages,
			AllowedTools: ms.allowed, StepKey: ms.stepKey}
		e, err := ms.k.append(ms.ctx, ms.x, ms.run, req)
		if err != nil {
			return ms.fail(0, nil, "log model_requested", err)
		}
		reqSeq = e.Seq
	}
	for _, mw := range ms.k.middleware {
		if h, ok := mw.(BeforeModelHook); ok {
			if err := h.BeforeModel(ms.ctx, inv); err != nil {
				return ms.mwFail(reqSeq, err)
			}
		}
	}
	resp, outputJSON, res, err := ms.call(reqSeq)
	if err != nil {
		return res, err
	}
	records := slices.Clone(resp.ToolCalls)
	if records == nil {
		records = []ledger.ToolCall{}
	}
	e, err := ms.k.append(ms.ctx, ms.x, ms.run, &ledger.ModelCompleted{
		Model: inv.Model, OutputJSON: outputJSON,
		PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens,
		CostUSD: resp.Usage.CostUSD, ToolCalls: records,
	})
	if err != nil {
		return ms.fail(0, nil, "log model_completed", err)
	}
	for _, mw := range ms.k.middleware {
		if h, ok := mw.(AfterModelHook); ok {
			if err := h.AfterModel(ms.ctx, inv, resp.Usage); err != nil {
				return ms.mwFail(e.Seq, err)
			}
		}
	}
	return modelResult{seq: e.Seq, outputJSON: outputJSON, usage: resp.Usage,
		toolCalls: callsOrNil(resp.ToolCalls)}, nil
}

// callsOrNil returns a copy of calls, nil when there are none: a step's
// result reads the same live (a model may answer with an empty list) and
// from the log (a logged model_completed decodes with an empty list).
func callsOrNil(calls []ledger.ToolCall) []ledger.ToolCall {
	if len(calls) == 0 {
		return nil
	}
	return slices.Clone(calls)
}

// call sends the request to the model, streaming when the step has
// OnDelta, and decodes the output.
func (ms *modelStep) call(reqSeq int64) (llm.Response, string, modelResult, error) {
	inv := ms.inv
	mreq := llm.Request{
		RunID: ms.run.ID, Model: inv.Model, Prompt: inv.Prompt, Messages: inv.Messages,
		OutputName: ms.codec.Name, OutputSchema: ms.codec.Schema, Tools: inv.Tools,
		Options: ms.step.Options, StepKey: inv.StepKey,
	}
	var resp llm.Response
	var err error
	if ms.step.OnDelta != nil {
		resp, err = llm.Stream(ms.ctx, ms.k.model, mreq, ms.step.OnDelta)
	} else {
		resp, err = ms.k.model.Complete(ms.ctx, mreq)
	}
	if err != nil {
		res, err := ms.fail(reqSeq, nil, "model "+inv.Model+" (the request is logged; the next step calls the model again)", err)
		return resp, "", res, err
	}
	outputJSON := ""
	if !toolCallsOnly(resp.OutputJSON, len(resp.ToolCalls)) {
		outputJSON, err = ms.decode(resp.OutputJSON, false)
	}
	if err != nil {
		res, err := ms.fail(reqSeq, nil, "model "+inv.Model+" (no answer logged; the next step calls the model again)", err)
		return resp, "", res, err
	}
	return resp, outputJSON, modelResult{}, nil
}

// offeredTools returns the definitions of the named registered tools, or
// of all of them when names is nil.
func (k *Kernel) offeredTools(names []string) ([]llm.ToolDefinition, error, error) {
	if names == nil {
		return k.tools.Definitions(), nil, nil
	}
	defs := make([]llm.ToolDefinition, 0, len(names))
	for i, name := range names {
		rt := k.tools.lookup(name)
		if rt == nil {
			return nil, ErrToolNotFound, fmt.Errorf("ModelStep.Tools[%d] names tool %q, which is not registered; register it with RegisterTool; nothing logged", i, name)
		}
		if slices.Contains(names[:i], name) {
			return nil, ErrInvalidInput, fmt.Errorf("ModelStep.Tools[%d] names tool %q twice; nothing logged", i, name)
		}
		defs = append(defs, rt.def)
	}
	return defs, nil, nil
}

// normalizeModelInput returns the prompt and messages of a step, as the
// Python original's _normalize_model_input does.
func normalizeModelInput(step ModelStep) (string, []ledger.ChatMessage, error) {
	switch {
	case step.Model == "":
		return "", nil, errorString("empty model name")
	case len(step.Messages) == 0 && step.Prompt == "":
		return "", nil, errorString("a model step needs a prompt or messages")
	case len(step.Messages) == 0:
		return step.Prompt, []ledger.ChatMessage{{Role: "user", Content: step.Prompt}}, nil
	case step.Prompt != "":
		return step.Prompt, slices.Clone(step.Messages), nil
	}
	for i := len(step.Messages) - 1; i >= 0; i-- {
		if step.Messages[i].Role == "user" {
			return step.Messages[i].Content, slices.Clone(step.Messages), nil
		}
	}
	lines := make([]string, len(step.Messages))
	for i, m := range step.Messages {
		lines[i] = m.Role + ": " + m.Content
	}
	return strings.Join(lines, "\n"), slices.Clone(step.Messages), nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "[]"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// truncateText shortens s to at most n bytes (on a rune boundary) for an
// error message.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// redactionMarkers counts the "[REDACTED_" markers (a PIIScrubber's
// [REDACTED_EMAIL], [REDACTED_PHONE], [REDACTED_SSN]) in a prompt and the
// content of messages.
func redactionMarkers(prompt string, messages []ledger.ChatMessage) int {
	n := strings.Count(prompt, "[REDACTED_")
	for _, m := range messages {
		n += strings.Count(m.Content, "[REDACTED_")
	}
	return n
}

// redactionNote says, in a step's error, that middleware redacted n spans
// of the request before it was logged and sent: a request that no longer
// matches the log or a cassette may differ from the text as written only
// by them.
func redactionNote(n int) string {
	if n <= 0 {
		return ""
	}
	spans := "1 span"
	if n > 1 {
		spans = fmt.Sprintf("%d spans", n)
	}
	return "; note: middleware (a PIIScrubber) redacted " + spans + " of the prompt and messages before the request was logged and sent ([REDACTED_...] markers)"
}
