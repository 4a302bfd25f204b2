package artanatest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/artanatest"
)

func TestFakeModelStream(t *testing.T) {
	deltas := []llm.Delta{{Text: `{"ok":`}, {Text: `true}`}}
	broken := &llm.Error{Class: llm.ClassTransient, Message: "cut", Partial: deltas[:1]}
	m := artanatest.NewFakeModel(t,
		artanatest.Reply{OutputJSON: `{"ok":true}`, Deltas: deltas},
		artanatest.Reply{OutputJSON: `{"ok":false}`},
		artanatest.Reply{Deltas: deltas[:1], Err: broken},
	)
	ctx := context.Background()
	var got []llm.Delta
	yield := func(d llm.Delta) error { got = append(got, d); return nil }
	resp, err := m.Stream(ctx, llm.Request{Model: "m"}, yield)
	if err != nil {
		t.Fatalf("scripted deltas: %v", err)
	}
	if d := cmp.Diff(streamed{`{"ok":true}`, deltas}, streamed{resp.OutputJSON, got}); d != "" {
		t.Errorf("scripted deltas (-want +got):\n%s", d)
	}
	got = nil
	if _, err := m.Stream(ctx, llm.Request{Model: "m"}, yield); err != nil {
		t.Fatalf("no deltas: %v", err)
	}
	if d := cmp.Diff([]llm.Delta{{Text: `{"ok":false}`}}, got, cmpopts.IgnoreFields(llm.Delta{}, "Usage")); d != "" {
		t.Errorf("no deltas: want one delta of the response (-want +got):\n%s", d)
	}
	got = nil
	if _, err := m.Stream(ctx, llm.Request{Model: "m"}, yield); !errors.Is(err, llm.ErrTransient) {
		t.Errorf("broken stream: %v, want a transient error", err)
	}
	if d := cmp.Diff(deltas[:1], got); d != "" {
		t.Errorf("broken stream: want the delta before the break (-want +got):\n%s", d)
	}
	if m.Calls() != 3 {
		t.Errorf("calls = %d", m.Calls())
	}

	fn := &artanatest.FakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `"hi"`}, nil
	}}
	got = nil
	if _, err := fn.Stream(ctx, llm.Request{}, yield); err != nil {
		t.Fatalf("CompleteFn: %v", err)
	}
	if d := cmp.Diff([]llm.Delta{{Text: "hi"}}, got, cmpopts.IgnoreFields(llm.Delta{}, "Usage")); d != "" {
		t.Errorf("CompleteFn: want one delta of the response (-want +got):\n%s", d)
	}
	var empty artanatest.FakeModel
	if _, err := empty.Stream(ctx, llm.Request{}, yield); !errors.Is(err, artanatest.ErrUnexpectedCall) {
		t.Errorf("no reply: %v", err)
	}
}

// streamed is a streamed call's output and the deltas it delivered.
type streamed struct {
	OutputJSON string
	Deltas     []llm.Delta
}
