package artanatest_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

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
	if resp, err := m.Stream(ctx, llm.Request{Model: "m"}, yield); err != nil || resp.OutputJSON != `{"ok":true}` || !reflect.DeepEqual(got, deltas) {
		t.Errorf("scripted deltas: %+v, %v, %+v", resp, err, got)
	}
	got = nil
	if _, err := m.Stream(ctx, llm.Request{Model: "m"}, yield); err != nil || len(got) != 1 || got[0].Text != `{"ok":false}` {
		t.Errorf("no deltas: one delta of the response: %v, %+v", err, got)
	}
	got = nil
	if _, err := m.Stream(ctx, llm.Request{Model: "m"}, yield); !errors.Is(err, llm.ErrTransient) || len(got) != 1 {
		t.Errorf("broken stream: %v, %+v", err, got)
	}
	if m.Calls() != 3 {
		t.Errorf("calls = %d", m.Calls())
	}

	fn := &artanatest.FakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: `"hi"`}, nil
	}}
	got = nil
	if _, err := fn.Stream(ctx, llm.Request{}, yield); err != nil || len(got) != 1 || got[0].Text != "hi" {
		t.Errorf("CompleteFn: %v, %+v", err, got)
	}
	var empty artanatest.FakeModel
	if _, err := empty.Stream(ctx, llm.Request{}, yield); !errors.Is(err, artanatest.ErrUnexpectedCall) {
		t.Errorf("no reply: %v", err)
	}
}
