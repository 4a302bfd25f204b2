// Command real_chat is the Go port of the Python original's
// 02_real_litellm_chat.py: one chat with a real OpenAI-compatible model,
// through a kernel under the enforced policy with the default middleware
// stack, on a run whose id the kernel issues. Asked the same question
// again on the same run, the kernel answers from its log: no
// model call, no event appended, the same output. If that does not hold
// the command says so and exits with status 1.
//
// Run it offline, from the repository root; the model's answer comes from
// the committed cassette testdata/cassettes/TestRealChat.cassette (a replay):
//
//	go run ./examples/real_chat
//
// The command only replays. Recording lives in the example's test, where
// the live model is built; record a fresh cassette against a real
// OpenAI-compatible endpoint (OPENAI_BASE_URL selects one other than
// OpenAI's) with the one record switch:
//
//	OPENAI_API_KEY=sk-... go test ./examples/real_chat -run '^TestRealChat$' -artana.record='^TestRealChat$'
//
// The committed cassette was recorded that way against a local stand-in
// OpenAI-compatible server (add -args -standin to the command above) that
// answers with Chat Completions bodies shaped like OpenAI's; no real model
// produced it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/examples/internal/command"
	"github.com/artana-go/go-artana/sqlite"
)

// Decision is the structured output asked of the model.
type Decision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

const prompt = "Respond only as JSON for schema {approved:boolean,reason:string}. Approve this request and give a short reason."

func main() { command.Main("real_chat", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := command.NewFlags("real_chat", "TestRealChat", stderr)
	if ok, err := flags.Parse(args); !ok {
		return err
	}
	return flags.Replay(func(model llm.Model, answeredBy string) error {
		return prove(ctx, model, answeredBy, stdout)
	})
}

// prove runs the example on model; answeredBy says where the model's
// answers come from. A nil error means every check held.
func prove(ctx context.Context, model llm.Model, answeredBy string, stdout io.Writer) error {

	dir, err := os.MkdirTemp("", "artana-real-chat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		return err
	}
	k := artana.NewEnforced(store, model)
	defer k.Close() // closes the store

	tenant := artana.Tenant{ID: "org_live", BudgetUSD: 0.20}
	run, err := k.StartRun(ctx, tenant, "") // the kernel issues the run id
	if err != nil {
		return err
	}
	step := artana.ModelStep{Model: "gpt-4o-mini", Prompt: prompt}

	first, err := artana.Chat[Decision](ctx, k, tenant, run.ID, step)
	if err != nil {
		return err
	}
	afterFirst, err := store.Events(ctx, run.ID, 0)
	if err != nil {
		return err
	}
	second, err := artana.Chat[Decision](ctx, k, tenant, run.ID, step)
	if err != nil {
		return err
	}
	afterSecond, err := store.Events(ctx, run.ID, 0)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "Model answered by:", answeredBy)
	fmt.Fprintln(stdout, "Run id:", run.ID)
	fmt.Fprintln(stdout, "Live model response:", first.OutputJSON)
	fmt.Fprintf(stdout, "Usage: prompt_tokens=%d completion_tokens=%d cost_usd=%g\n",
		first.Usage.PromptTokens, first.Usage.CompletionTokens, first.Usage.CostUSD)
	fmt.Fprintln(stdout, "First answered from the log:", first.FromLog)
	fmt.Fprintln(stdout, "Second answered from the log:", second.FromLog)
	fmt.Fprintln(stdout, "Event types after first:", eventTypes(afterFirst))
	fmt.Fprintln(stdout, "Event types after second:", eventTypes(afterSecond))

	switch {
	case !second.FromLog:
		return errors.New("expected the second call to be answered from the event log")
	case len(afterFirst) != len(afterSecond):
		return fmt.Errorf("answering from the log appended events: %d after the first call, %d after the second", len(afterFirst), len(afterSecond))
	case first.Output != second.Output:
		return fmt.Errorf("the output answered from the log %+v differs from the first %+v", second.Output, first.Output)
	}
	return nil
}

func eventTypes(events []ledger.Event) []ledger.EventType {
	types := make([]ledger.EventType, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	return types
}
