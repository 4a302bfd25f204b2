package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/internal/fielddiff"
	"github.com/artana-go/go-artana/internal/pyjson"
	"github.com/artana-go/go-artana/internal/secrets"
)

// toolRecordType is the cassette record type of a tool execution.
const toolRecordType = "tool"

// A ToolInteraction is one recorded tool execution: the tool, its
// arguments and how it ended.
type ToolInteraction struct {
	Tool          string
	ArgumentsJSON string             // canonical JSON, as the kernel logs it
	Outcome       ledger.ToolOutcome // success, transient_error, permanent_error or unknown_outcome
	ResultJSON    string             // the result, on success
	ErrorMessage  string             // the error's text on failure, a note the tool set on success
	EffectID      string             // the effect id the tool set, if any
	// ReceivedIdempotencyKey is the key the tool said its provider
	// acknowledged (ToolExecution.SetReceivedIdempotencyKey), "" if none.
	// A request id the tool set is not recorded: it names an event of the
	// recorded run.
	ReceivedIdempotencyKey string
	Latency                time.Duration // how long the tool ran; replay does not wait
}

type wireTool struct {
	Tool          string             `json:"tool"`
	ArgumentsJSON string             `json:"arguments_json"`
	Outcome       ledger.ToolOutcome `json:"outcome"`
	ResultJSON    string             `json:"result_json,omitempty"`
	ErrorMessage  string             `json:"error_message,omitempty"`
	EffectID      string             `json:"effect_id,omitempty"`
	ReceivedKey   string             `json:"received_idempotency_key,omitempty"`
	Latency       string             `json:"latency"`
}

func encodeTool(t *ToolInteraction) ([]byte, error) {
	return pyjson.Marshal(wireTool{Tool: t.Tool, ArgumentsJSON: t.ArgumentsJSON, Outcome: t.Outcome,
		ResultJSON: t.ResultJSON, ErrorMessage: t.ErrorMessage, EffectID: t.EffectID,
		ReceivedKey: t.ReceivedIdempotencyKey, Latency: t.Latency.String()})
}

func decodeTool(body []byte) (ToolInteraction, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var w wireTool
	if err := dec.Decode(&w); err != nil {
		return ToolInteraction{}, fmt.Errorf("bad tool record: %w", err)
	}
	t := ToolInteraction{Tool: w.Tool, ArgumentsJSON: w.ArgumentsJSON, Outcome: w.Outcome,
		ResultJSON: w.ResultJSON, ErrorMessage: w.ErrorMessage, EffectID: w.EffectID,
		ReceivedIdempotencyKey: w.ReceivedKey}
	var err error
	if t.Latency, err = time.ParseDuration(w.Latency); err != nil {
		return ToolInteraction{}, fmt.Errorf("bad tool record latency %q: %w", w.Latency, err)
	}
	switch {
	case t.Tool == "":
		return ToolInteraction{}, errors.New("tool record names no tool")
	case t.Outcome == ledger.OutcomeSuccess:
		if !json.Valid([]byte(t.ResultJSON)) {
			return ToolInteraction{}, fmt.Errorf("tool record of %q: result_json %q is not JSON", t.Tool, t.ResultJSON)
		}
	case t.Outcome == ledger.OutcomeTransientError || t.Outcome == ledger.OutcomePermanentError || t.Outcome == ledger.OutcomeUnknown:
	default:
		return ToolInteraction{}, fmt.Errorf("tool record of %q: unknown outcome %q (want success, transient_error, permanent_error or unknown_outcome)", t.Tool, t.Outcome)
	}
	return t, nil
}

// scrubTool redacts secrets from what a tool record keeps.
func scrubTool(t *ToolInteraction) {
	t.ArgumentsJSON = secrets.Redact(t.ArgumentsJSON)
	t.ResultJSON = secrets.Redact(t.ResultJSON)
	t.ErrorMessage = secrets.Redact(t.ErrorMessage)
}

// replayError is the error a recorded failure replays as: the kernel logs
// it with the recorded outcome and message, as it logged the live one.
func (t *ToolInteraction) replayError() error {
	var err error
	if t.ErrorMessage != "" {
		err = errors.New(t.ErrorMessage)
	}
	return &artana.ToolError{Outcome: t.Outcome, Err: err}
}

// Tools returns a registry with the tools of tools whose executions the
// Recorder records into its cassette and replays from it, next to the
// model's interactions, so that a test replaying a cassette needs no tool
// backend. Give it to the kernel with artana.WithTools.
//
// In Record mode each call runs the tool and is recorded: tool, arguments,
// result or failure outcome and message, effect id and received
// idempotency key. In Replay mode a call
// is answered from the first unused recorded execution of the same tool
// with the same arguments, and the tool does not run; the kernel logs the
// recorded result, or the recorded failure with its outcome and message,
// as it logged the live one. A call with no recorded execution fails the
// test (with New) as a model miss does, and is logged as a permanent
// failure. With CheckTools, replay runs the tools as well and reports
// where their results differ from the recording. In RecordMissing mode,
// unmatched calls run and are recorded; in Passthrough mode the tools run
// and nothing is recorded.
//
// Secrets are redacted from a tool record's arguments, result and message
// (as ScrubSecrets does for interactions); the scrubbers of WithScrubbers
// see model interactions only.
func (r *Recorder) Tools(tools *artana.Tools) *artana.Tools {
	return tools.Wrap(func(next artana.ToolHandler) artana.ToolHandler {
		return func(ctx context.Context, tool, argsJSON string) (string, error) {
			return r.callTool(ctx, next, tool, argsJSON)
		}
	})
}

// CheckTools makes replay run the tools live as well (they need their
// backends then), compare each result with the recording and report every
// difference, as a field diff of the result JSON, when the Recorder is
// closed (and as a test failure with New). The recorded result is the one
// returned, so that the model replay goes on as recorded.
func CheckTools() Option { return func(c *config) { c.checkTools = true } }

// A ToolDiffError reports tool executions whose live result differed from
// the recording (see CheckTools).
type ToolDiffError struct {
	Path  string
	Diffs []string // one per execution: "line N: tool T ARGS:\n\tfield:\n\t\t-recorded\n\t\t+live"
}

// Error lists every differing execution.
func (e *ToolDiffError) Error() string {
	return fmt.Sprintf("recorder: %s: %d tool result(s) differ from the recording (-recorded +live):\n%s",
		e.Path, len(e.Diffs), strings.Join(e.Diffs, "\n"))
}

func (r *Recorder) callTool(ctx context.Context, next artana.ToolHandler, tool, argsJSON string) (string, error) {
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.inflight.Add(1)
	}
	r.mu.Unlock()
	if closed {
		return "", artana.PermanentToolError(fmt.Errorf("recorder: %s: %w", r.path, ErrClosed))
	}
	defer r.inflight.Done()
	if r.mode == Passthrough {
		return next(ctx, tool, argsJSON)
	}
	want := secrets.Redact(argsJSON)
	if r.mode == Replay || r.mode == RecordMissing {
		r.mu.Lock()
		var found *entry
		for _, e := range r.entries[:r.loaded] {
			if e.tool != nil && !e.used && e.tool.Tool == tool && e.tool.ArgumentsJSON == want {
				found = e
				break
			}
		}
		if found != nil {
			found.used = true
			r.mu.Unlock()
			rec := found.tool
			if r.cfg.checkTools && r.mode == Replay {
				r.checkTool(ctx, next, found.line, rec, argsJSON)
			}
			if x, ok := artana.ToolExecutionFrom(ctx); ok {
				if rec.EffectID != "" {
					x.SetEffectID(rec.EffectID)
				}
				if rec.ReceivedIdempotencyKey != "" {
					x.SetReceivedIdempotencyKey(rec.ReceivedIdempotencyKey)
				}
				if rec.Outcome == ledger.OutcomeSuccess && rec.ErrorMessage != "" {
					x.SetErrorMessage(rec.ErrorMessage) // a note on a success
				}
			}
			if rec.Outcome != ledger.OutcomeSuccess {
				return "", rec.replayError()
			}
			return rec.ResultJSON, nil
		}
		if r.mode == Replay {
			miss := r.toolMiss(tool, want)
			r.misses++
			if r.firstErr == nil {
				r.firstErr = miss
			}
			r.mu.Unlock()
			return "", artana.PermanentToolError(miss)
		}
		r.mu.Unlock()
	}
	return r.recordTool(ctx, next, tool, argsJSON)
}

// runTool runs next and describes how it ended, as the kernel would log it.
// A panic is recovered as the kernel recovers it: unknown_outcome, and
// whatever the tool set on its execution before it panicked is undone (the
// kernel logs none of it after a panic), so that the step logs what its
// replay logs.
func runTool(ctx context.Context, next artana.ToolHandler, tool, argsJSON string) (t ToolInteraction, result string, err error) {
	t = ToolInteraction{Tool: tool, ArgumentsJSON: argsJSON}
	x, hasX := artana.ToolExecutionFrom(ctx)
	var saved artana.ToolExecution
	if hasX {
		saved = *x
	}
	defer func() {
		if p := recover(); p != nil {
			if hasX {
				*x = saved
			}
			err = &artana.ToolError{Outcome: ledger.OutcomeUnknown, Err: fmt.Errorf("tool panicked: %v", p)}
			t.Outcome, t.ResultJSON, t.ErrorMessage = ledger.OutcomeUnknown, "", err.Error()
		}
	}()
	result, err = next(ctx, tool, argsJSON)
	note, noted := "", false
	if hasX {
		t.EffectID, _ = x.EffectID()
		t.ReceivedIdempotencyKey, _ = x.ReceivedIdempotencyKey()
		note, noted = x.ErrorMessage()
	}
	if err == nil {
		t.Outcome, t.ResultJSON, t.ErrorMessage = ledger.OutcomeSuccess, result, note
		return t, result, nil
	}
	t.Outcome = ledger.OutcomeUnknown
	var te *artana.ToolError
	if errors.As(err, &te) && (te.Outcome == ledger.OutcomeTransientError || te.Outcome == ledger.OutcomePermanentError) {
		t.Outcome = te.Outcome
	}
	t.ErrorMessage = err.Error()
	if noted { // the kernel logs the message the tool set
		t.ErrorMessage = note
	}
	return t, result, err
}

func (r *Recorder) recordTool(ctx context.Context, next artana.ToolHandler, tool, argsJSON string) (string, error) {
	e := &entry{used: true}
	r.mu.Lock()
	r.entries = append(r.entries, e) // reserve the slot: arrival order
	r.mu.Unlock()
	start := r.cfg.now()
	t, result, err := runTool(ctx, next, tool, argsJSON)
	t.Latency = r.cfg.now().Sub(start)
	scrubTool(&t)
	body, werr := encodeTool(&t)
	r.mu.Lock()
	defer r.mu.Unlock()
	if werr != nil {
		e.skip = true
		return "", artana.PermanentToolError(fmt.Errorf("recorder: %s: encode tool record: %w (nothing recorded)", r.path, werr))
	}
	if err != nil && (errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled) {
		e.skip = true
		return result, err
	}
	e.tool, e.body, e.done = &t, body, true
	return result, err
}

// checkTool runs the tool live and keeps a diff if its result differs
// from the recording. What the live tool sets on its execution (effect
// id, message) is undone: the step logs the recording.
func (r *Recorder) checkTool(ctx context.Context, next artana.ToolHandler, line int, rec *ToolInteraction, argsJSON string) {
	if x, ok := artana.ToolExecutionFrom(ctx); ok {
		saved := *x
		defer func() { *x = saved }()
	}
	live, _, _ := runTool(ctx, next, rec.Tool, argsJSON)
	scrubTool(&live)
	diffs := toolDiff(rec, &live)
	if len(diffs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.toolDiffs = append(r.toolDiffs, fmt.Sprintf("line %d: tool %s %s:\n%s", line, rec.Tool, rec.ArgumentsJSON, strings.Join(diffs, "")))
}

// toolResult is a tool execution as compared: the result JSON decoded, so
// that the diff names the fields that changed.
type toolResult struct {
	Outcome      ledger.ToolOutcome
	Result       any
	ErrorMessage string
	EffectID     string
}

func decodedResult(t *ToolInteraction) toolResult {
	r := toolResult{Outcome: t.Outcome, ErrorMessage: t.ErrorMessage, EffectID: t.EffectID}
	if t.ResultJSON != "" {
		dec := json.NewDecoder(strings.NewReader(t.ResultJSON))
		dec.UseNumber()
		if dec.Decode(&r.Result) != nil {
			r.Result = t.ResultJSON
		}
	}
	return r
}

var toolFields = fielddiff.Format{Root: "tool", Value: formatValue}

func toolDiff(recorded, live *ToolInteraction) []string {
	_, diffs := toolFields.Compare(decodedResult(recorded), decodedResult(live))
	out := make([]string, len(diffs))
	for i, d := range diffs {
		out[i] = fmt.Sprintf("\t%s:\n\t\t-%s\n\t\t+%s\n", d.Path, d.X, d.Y)
	}
	return out
}

// A ToolMissError reports a tool call that no unused recorded execution
// answers. It matches ErrNoMatch.
type ToolMissError struct {
	Path          string
	Tool          string
	ArgumentsJSON string
	// Nearest is the line of the unused recorded execution of the same tool
	// nearest in arguments, 0 if none; Diff says how its arguments differ.
	Nearest  int
	Diff     string
	Rerecord string
}

// Error names the cassette, the call, the nearest recorded execution and
// the command that re-records.
func (e *ToolMissError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recorder: %s: no recorded execution of tool %q with arguments %s", e.Path, e.Tool, e.ArgumentsJSON)
	if e.Nearest > 0 {
		fmt.Fprintf(&b, "; nearest unused one: line %d; differences (-recorded +got):\n%s", e.Nearest, e.Diff)
	} else {
		b.WriteString("; no unused recorded execution of that tool\n")
	}
	fmt.Fprintf(&b, "re-record with:\n\t%s", e.Rerecord)
	return b.String()
}

// Is reports whether target is ErrNoMatch.
func (e *ToolMissError) Is(target error) bool { return target == ErrNoMatch }

// toolMiss builds the miss report of a tool call. r.mu is held.
func (r *Recorder) toolMiss(tool, argsJSON string) *ToolMissError {
	m := &ToolMissError{Path: r.path, Tool: tool, ArgumentsJSON: argsJSON, Rerecord: r.howToRecord()}
	best := -1
	for _, e := range r.entries[:r.loaded] {
		if e.tool == nil || e.used || e.tool.Tool != tool {
			continue
		}
		var x, y any
		_ = json.Unmarshal([]byte(e.tool.ArgumentsJSON), &x)
		_ = json.Unmarshal([]byte(argsJSON), &y)
		_, diffs := toolFields.Compare(x, y)
		if best < 0 || len(diffs) < best {
			best = len(diffs)
			m.Nearest = e.line
			var lines []string
			for _, d := range diffs {
				lines = append(lines, fmt.Sprintf("\targuments%s:\n\t\t-%s\n\t\t+%s\n", strings.TrimPrefix(d.Path, "tool"), d.X, d.Y))
			}
			m.Diff = strings.Join(lines, "")
		}
	}
	return m
}
