package artana

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestToolsWrap(t *testing.T) {
	var runs atomic.Int64
	base := NewTools()
	supportTools(t, base, &runs)
	var seen []string
	wrapped := base.Wrap(func(next ToolHandler) ToolHandler {
		return func(ctx context.Context, tool, args string) (string, error) {
			seen = append(seen, tool+" "+args)
			if tool == "refund" {
				x, _ := ToolExecutionFrom(ctx)
				x.SetEffectID("rf-1")
				return `{"status":"refunded"}`, nil // answered without running the tool
			}
			return next(ctx, tool, args)
		}
	})
	type registry struct {
		Tools        []string
		Capabilities map[string]string
	}
	wantReg := registry{[]string{"lookup_order", "refund"}, map[string]string{"lookup_order": "", "refund": "finance:write"}}
	if d := cmp.Diff(wantReg, registry{toolNames(wrapped.Definitions()), wrapped.Capabilities()}); d != "" {
		t.Fatalf("wrapped registry (-want +got):\n%s", d)
	}
	k, store := newTestKernel(t, nil, WithTools(wrapped))
	run := mustStart(t, k, liveTenant, "wrap")
	if res, err := k.StepTool(tctx, run, ToolStep{Tool: "refund", Args: `{"order": "A-1"}`}); err != nil || res.ResultJSON != `{"status":"refunded"}` {
		t.Fatalf("refund: %+v, %v", res, err)
	}
	if d := cmp.Diff(new("rf-1"), lastCompletion(t, store, run.ID).EffectID); d != "" {
		t.Errorf("effect id (-want +got):\n%s", d)
	}
	if _, err := k.StepTool(tctx, run, ToolStep{Tool: "lookup_order", Args: orderArgs{"A-2"}}); err != nil || runs.Load() != 1 {
		t.Fatalf("lookup: %v, runs %d", err, runs.Load())
	}
	if d := cmp.Diff([]string{`refund {"order":"A-1"}`, `lookup_order {"order":"A-2"}`}, seen); d != "" {
		t.Errorf("the wrapper saw: want the tool names and canonical arguments (-want +got):\n%s", d)
	}
	// Arguments that do not fit are refused before the wrapper is called.
	_, err := k.StepTool(tctx, run, ToolStep{Tool: "lookup_order", Args: `{"order": 1}`})
	if !errors.Is(err, ErrInvalidInput) || len(seen) != 2 {
		t.Errorf("bad arguments: %v, wrapper calls %d", err, len(seen))
	}
}
