package artana

import "context"

// Chat is the Python original's ChatClient.chat: it opens the run runID of tenant,
// starting it if it has no events, and takes one model step whose output
// is decoded into T. Called again with the same arguments, it replays.
//
//	res, err := artana.Chat[Decision](ctx, k, tenant, "run-1", artana.ModelStep{Model: "gpt-4o-mini", Prompt: prompt})
func Chat[T any](ctx context.Context, k *Kernel, tenant Tenant, runID string, step ModelStep) (ModelResult[T], error) {
	run, err := k.LoadOrStartRun(ctx, tenant, runID)
	if err != nil {
		return ModelResult[T]{}, err
	}
	return StepModel[T](ctx, k, run, step)
}
