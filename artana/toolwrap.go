package artana

import "context"

// A ToolHandler runs one call of a registered tool: tool is its name,
// argsJSON the canonical JSON of the arguments, and the result is the JSON
// that is logged. Its errors follow ToolFunc's rules: TransientToolError
// and PermanentToolError set the outcome, any other error is logged as
// unknown_outcome. Inside it, ToolExecutionFrom(ctx) gives the call's run,
// idempotency key and effect id.
type ToolHandler func(ctx context.Context, tool, argsJSON string) (resultJSON string, err error)

// Wrap returns a new registry with t's tools (names, schemas, options and
// order), whose calls go through wrap: wrap receives the handler that
// decodes the arguments and runs the tool, and returns the handler the
// kernel calls instead. A wrapper may answer without calling next, as
// recorder's cassette replay of tools does. Tools registered in t later
// are not in the new registry.
func (t *Tools) Wrap(wrap func(next ToolHandler) ToolHandler) *Tools {
	t.mu.RLock()
	defer t.mu.RUnlock()
	w := NewTools()
	for _, rt := range t.order {
		c := *rt
		call := rt.call
		next := func(ctx context.Context, _ string, argsJSON string) (string, error) { return call(ctx, argsJSON) }
		h := wrap(next)
		name := rt.def.Name
		c.call = func(ctx context.Context, argsJSON string) (string, error) { return h(ctx, name, argsJSON) }
		w.byName[name] = &c
		w.order = append(w.order, &c)
	}
	return w
}
