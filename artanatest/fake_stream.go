package artanatest

import (
	"context"

	"github.com/artana-go/go-artana/artana/llm"
)

// Stream answers req as Complete does, delivering the reply's Deltas to
// yield first (or, without Deltas, the response as one delta), so that a
// streamed step can be scripted: the next queued reply, or CompleteFn
// (whose answer is delivered as one delta).
func (m *FakeModel) Stream(ctx context.Context, req llm.Request, yield func(llm.Delta) error) (llm.Response, error) {
	r, fn, n, err := m.next(req)
	if err != nil {
		return llm.Response{}, err
	}
	if r == nil {
		resp, err := fn(ctx, req)
		if err != nil {
			return resp, err
		}
		if err := yield(resp.Delta()); err != nil {
			return llm.Response{}, err
		}
		return resp, nil
	}
	for _, d := range r.Deltas {
		if err := yield(d.Clone()); err != nil {
			return llm.Response{}, err
		}
	}
	resp, err := r.response(n)
	if err != nil || len(r.Deltas) > 0 {
		return resp, err
	}
	if err := yield(resp.Delta()); err != nil {
		return llm.Response{}, err
	}
	return resp, nil
}
