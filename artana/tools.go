package artana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/internal/pyjson"
	"github.com/artana-go/go-artana/internal/schema"
)

// Tools is a registry of tools a kernel may offer to models and call in
// tool steps. Register tools with RegisterTool. It is safe for concurrent
// use; tools are offered to models in registration order.
type Tools struct {
	mu     sync.RWMutex
	order  []*registeredTool
	byName map[string]*registeredTool
	codecs schema.Cache
}

// NewTools returns an empty registry.
func NewTools() *Tools {
	return &Tools{byName: make(map[string]*registeredTool)}
}

type registeredTool struct {
	def           llm.ToolDefinition
	capability    string // required capability, "" for none
	version       string
	schemaVersion string
	// check decodes the arguments without running the tool.
	check func(argsJSON string) error
	// call decodes the arguments, runs the tool and encodes its result.
	call func(ctx context.Context, argsJSON string) (string, error)
}

// A ToolOption configures a tool at registration.
type ToolOption func(*registeredTool)

// WithDescription sets the description offered to models.
func WithDescription(s string) ToolOption {
	return func(t *registeredTool) { t.def.Description = s }
}

// WithCapability makes the tool require a tenant capability, e.g.
// "finance:write". Tenants without it are never offered the tool and are
// denied when they call it.
func WithCapability(c string) ToolOption {
	return func(t *registeredTool) { t.capability = c }
}

// WithVersions sets the tool_version and schema_version logged with each
// request; an empty one keeps its default (ledger.DefaultToolVersion,
// ledger.DefaultSchemaVersion). A replay policy other than strict answers
// a request logged under other versions from the log (see ReplayPolicy).
func WithVersions(tool, schema string) ToolOption {
	return func(t *registeredTool) {
		if tool != "" {
			t.version = tool
		}
		if schema != "" {
			t.schemaVersion = schema
		}
	}
}

// ToolFunc is the shape of a tool: it receives its decoded arguments and
// returns a result that is logged as JSON. Inside it, ToolExecutionFrom(ctx)
// gives the run, tenant, idempotency key and request event id.
//
// A nil error records the outcome success. Return an error made with
// TransientToolError or PermanentToolError to record those outcomes; any
// other error, and a panic, records unknown_outcome, which halts the step
// until ReconcileTool.
type ToolFunc[A, R any] func(ctx context.Context, args A) (R, error)

var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// RegisterTool registers fn under name. The JSON Schema of A, derived as
// StepModel derives an output's, is offered to models; arguments are
// decoded into A strictly.
// The result R is logged as a Python tool returning model_dump_json() of
// the same value logs it (see "Values in the log" in the package
// documentation); a json.RawMessage result is logged as it is, as a
// Python tool's string. Names must match [A-Za-z0-9_-]{1,64} and be
// unique in the registry.
func RegisterTool[A, R any](t *Tools, name string, fn ToolFunc[A, R], opts ...ToolOption) error {
	fail := func(format string, args ...any) error {
		return &Error{Op: "register tool", Tool: name, Kind: ErrInvalidInput, Msg: fmt.Sprintf(format, args...)}
	}
	if !toolNameRE.MatchString(name) {
		return fail("tool names must match %s", toolNameRE)
	}
	if fn == nil {
		return fail("nil function")
	}
	codec, err := t.codecs.Get(reflect.TypeFor[A]())
	if err != nil {
		return &Error{Op: "register tool", Tool: name, Kind: ErrInvalidInput, Err: err}
	}
	decode := func(argsJSON string) (A, error) {
		var a A
		if err := codec.Decode([]byte(argsJSON), &a, false); err != nil {
			return a, fmt.Errorf("arguments %s do not fit %s: %w", argsJSON, codec.Type, err)
		}
		return a, nil
	}
	rt := &registeredTool{
		def:           llm.ToolDefinition{Name: name, Schema: codec.Schema},
		version:       ledger.DefaultToolVersion,
		schemaVersion: ledger.DefaultSchemaVersion,
		check: func(argsJSON string) error {
			_, err := decode(argsJSON)
			return err
		},
		call: func(ctx context.Context, argsJSON string) (string, error) {
			a, err := decode(argsJSON)
			if err != nil {
				return "", PermanentToolError(err)
			}
			r, err := fn(ctx, a)
			if err != nil {
				return "", err
			}
			if raw, ok := any(r).(json.RawMessage); ok {
				if !json.Valid(raw) {
					return "", PermanentToolError(fmt.Errorf("tool returned invalid JSON %q", raw))
				}
				return string(raw), nil
			}
			out, err := pyjson.ModelDumpJSON(r)
			if err != nil {
				return "", PermanentToolError(fmt.Errorf("encode result: %w", err))
			}
			return string(out), nil
		},
	}
	for _, opt := range opts {
		opt(rt)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.byName[name]; dup {
		return fail("a tool of this name is already registered")
	}
	t.byName[name] = rt
	t.order = append(t.order, rt)
	return nil
}

// Definitions returns the definitions of every registered tool, in
// registration order.
func (t *Tools) Definitions() []llm.ToolDefinition {
	t.mu.RLock()
	defer t.mu.RUnlock()
	defs := make([]llm.ToolDefinition, len(t.order))
	for i, rt := range t.order {
		defs[i] = rt.def
	}
	return defs
}

// Capabilities maps each registered tool to the capability it requires
// ("" for none).
func (t *Tools) Capabilities() map[string]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	m := make(map[string]string, len(t.order))
	for _, rt := range t.order {
		m[rt.def.Name] = rt.capability
	}
	return m
}

func (t *Tools) lookup(name string) *registeredTool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.byName[name]
}

// A ToolError is a tool failure with the outcome it should be logged with.
//
// The error of a failed tool step holds one in its chain (errors.As), made
// from the logged completion: its Outcome, and an Err whose text is the
// logged error message. It is built the same way when the step fails live
// and when the failure is replayed from the log, so both read the same; the
// error value the tool returned is not kept, only its text.
type ToolError struct {
	Outcome ledger.ToolOutcome // ledger.OutcomeTransientError, OutcomePermanentError or OutcomeUnknown
	Err     error
}

// Error returns the outcome and the tool's error.
func (e *ToolError) Error() string {
	if e.Err == nil {
		return string(e.Outcome)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ToolError) Unwrap() error { return e.Err }

// TransientToolError marks err as a failure that a retry might fix: it is
// logged with the outcome transient_error (the Python original's ToolTransientError).
func TransientToolError(err error) error {
	return &ToolError{Outcome: ledger.OutcomeTransientError, Err: err}
}

// PermanentToolError marks err as a failure that a retry will not fix: it
// is logged with the outcome permanent_error (the Python original's ToolPermanentError).
func PermanentToolError(err error) error {
	return &ToolError{Outcome: ledger.OutcomePermanentError, Err: err}
}

// ToolExecution is what a running tool knows about its call.
type ToolExecution struct {
	RunID          string
	Tenant         Tenant
	ToolName       string
	IdempotencyKey string // the same on every attempt of one tool request
	RequestEventID string // id of the tool_requested event
	ToolVersion    string
	SchemaVersion  string

	effectID     *string
	receivedKey  *string
	requestID    *string
	errorMessage *string
}

// The completion fields a tool may set, as a Python tool sets them in the
// ToolExecutionResult it returns. They are logged whatever the outcome,
// except after a panic.

// SetEffectID records an id for the effect the tool produced (a payment id,
// a message id), logged as the tool_completed effect_id.
func (x *ToolExecution) SetEffectID(id string) { x.effectID = &id }

// EffectID returns the id set with SetEffectID, and whether one was set.
func (x *ToolExecution) EffectID() (string, bool) {
	if x.effectID == nil {
		return "", false
	}
	return *x.effectID, true
}

// SetReceivedIdempotencyKey records the idempotency key the tool's
// provider acknowledged, logged as received_idempotency_key instead of
// IdempotencyKey.
func (x *ToolExecution) SetReceivedIdempotencyKey(key string) { x.receivedKey = &key }

// ReceivedIdempotencyKey returns the key set with
// SetReceivedIdempotencyKey, and whether one was set.
func (x *ToolExecution) ReceivedIdempotencyKey() (string, bool) {
	if x.receivedKey == nil {
		return "", false
	}
	return *x.receivedKey, true
}

// SetRequestID records the request_id of the completion instead of
// RequestEventID. Replay pairs a completion with the tool_requested event
// its request_id names: an id that names none makes every later step of
// the run fail, in the Python original as here, so set it only to an id
// of this run's tool_requested events.
func (x *ToolExecution) SetRequestID(id string) { x.requestID = &id }

// SetErrorMessage records the error_message of the completion: a note on
// a success, or a message other than the returned error's text on a
// failure.
func (x *ToolExecution) SetErrorMessage(msg string) { x.errorMessage = &msg }

// ErrorMessage returns the message set with SetErrorMessage, and whether
// one was set.
func (x *ToolExecution) ErrorMessage() (string, bool) {
	if x.errorMessage == nil {
		return "", false
	}
	return *x.errorMessage, true
}

type toolExecutionKey struct{}

// ToolExecutionFrom returns the execution of the tool running with ctx, or
// false outside a tool.
func ToolExecutionFrom(ctx context.Context) (*ToolExecution, bool) {
	x, ok := ctx.Value(toolExecutionKey{}).(*ToolExecution)
	return x, ok
}

// runTool runs rt and returns the tool_completed payload describing how it
// ended. A panic is recovered and recorded as unknown_outcome.
func runTool(ctx context.Context, rt *registeredTool, x *ToolExecution, argsJSON string) (p *ledger.ToolCompleted) {
	p = &ledger.ToolCompleted{
		ToolName:               rt.def.Name,
		ReceivedIdempotencyKey: new(x.IdempotencyKey),
		RequestID:              new(x.RequestEventID),
	}
	defer func() {
		if r := recover(); r != nil {
			p.Outcome = ledger.OutcomeUnknown
			p.ResultJSON = ""
			// The panic value only: a stack trace would put goroutine ids
			// and local paths into a hashed, committed log.
			p.ErrorMessage = new(fmt.Sprintf("tool panicked: %v", r))
		}
	}()
	result, err := rt.call(context.WithValue(ctx, toolExecutionKey{}, x), argsJSON)
	p.EffectID = x.effectID
	if x.receivedKey != nil {
		p.ReceivedIdempotencyKey = x.receivedKey
	}
	if x.requestID != nil {
		p.RequestID = x.requestID
	}
	if err == nil {
		p.Outcome, p.ResultJSON, p.ErrorMessage = ledger.OutcomeSuccess, result, x.errorMessage
		return p
	}
	p.Outcome = ledger.OutcomeUnknown
	var te *ToolError
	if errors.As(err, &te) && (te.Outcome == ledger.OutcomeTransientError || te.Outcome == ledger.OutcomePermanentError) {
		p.Outcome = te.Outcome
	}
	p.ErrorMessage = new(err.Error())
	if x.errorMessage != nil {
		p.ErrorMessage = x.errorMessage
	}
	return p
}
