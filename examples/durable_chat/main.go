// Command durable_chat is the Go port of the Python original's
// 01_durable_chat_replay.py: a durable chat whose every step is logged in a
// SQLite ledger and is answered, after a restart, from that ledger.
//
// It shows:
//   - a tenant with a capability (finance:write) and a budget, and the
//     middleware chain PIIScrubber, Quota, CapabilityGuard: the e-mail
//     address in the prompt is redacted before the log, the matching of
//     logged steps or the model ever see it;
//   - a tool (submit_transfer) that requires that capability, run when the
//     model asks for it;
//   - answers from the log: the same chat on the same run id, after the
//     kernel and the ledger are closed and opened again as a restarted
//     process would, returns the logged answer and the logged tool result
//     without calling the model or the tool, and appends nothing.
//
// Unlike the Python original, whose ChatClient returns the model's tool calls without
// running them, the example runs the requested tool with StepTool, so the
// answer from the log covers the tool too. If an invariant fails the command says which
// and exits with status 1.
//
// Run it offline, from the repository root; the model's answer comes from
// the committed cassette testdata/cassettes/TestDurableChat.cassette (a replay):
//
//	go run ./examples/durable_chat
//
// The command only replays. Recording lives in the example's test, where
// the live model is built; record a fresh cassette against a real
// OpenAI-compatible endpoint (OPENAI_BASE_URL selects one other than
// OpenAI's) with the one record switch:
//
//	OPENAI_API_KEY=sk-... go test ./examples/durable_chat -run '^TestDurableChat$' -artana.record='^TestDurableChat$'
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
	"strings"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/examples/internal/command"
	"github.com/artana-go/go-artana/sqlite"
)

// TransferDecision is the structured output asked of the model.
type TransferDecision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
}

// TransferArgs are the arguments of the submit_transfer tool.
type TransferArgs struct {
	AccountID string `json:"account_id"`
	Amount    string `json:"amount"`
}

const (
	runID  = "example_run_1"
	prompt = "Transfer 10 from acc_1. My email is user@example.com"
)

var tenant = artana.Tenant{ID: "org_demo", Capabilities: []string{"finance:write"}, BudgetUSD: 1.0}

func main() { command.Main("durable_chat", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := command.NewFlags("durable_chat", "TestDurableChat", stderr)
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
	counted := &countingModel{Model: model}

	dir, err := os.MkdirTemp("", "artana-durable-chat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "ledger.db")

	c := &chat{model: counted}
	first, err := c.session(ctx, dbPath)
	if err != nil {
		return err
	}
	// The same chat again, as a restarted process would run it: a new
	// kernel on the ledger opened again.
	second, err := c.session(ctx, dbPath)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "Model answered by:", answeredBy)
	fmt.Fprintln(stdout, "First chat answered from the log:", first.fromLog)
	fmt.Fprintln(stdout, "Second chat answered from the log:", second.fromLog)
	fmt.Fprintln(stdout, "Model calls:", counted.calls)
	fmt.Fprintln(stdout, "Tool calls:", c.toolCalls)
	fmt.Fprintln(stdout, "Decision:", first.decision)
	fmt.Fprintln(stdout, "Tool results:", first.toolResults)
	fmt.Fprintln(stdout, "Logged prompt:", second.loggedPrompt)
	fmt.Fprintln(stdout, "Event types:", second.eventTypes)

	switch {
	case !second.fromLog || counted.calls != 1:
		return fmt.Errorf("the second chat was not answered from the log (from_log=%v, %d model calls)", second.fromLog, counted.calls)
	case second.decision != first.decision || strings.Join(second.toolResults, "\n") != strings.Join(first.toolResults, "\n"):
		return fmt.Errorf("the chat answered from the log differs: %s %v, first %s %v", second.decision, second.toolResults, first.decision, first.toolResults)
	case c.toolCalls != len(first.toolResults):
		return fmt.Errorf("the tool ran %d times for %d tool calls; replay must not run it", c.toolCalls, len(first.toolResults))
	case len(second.eventTypes) != len(first.eventTypes):
		return fmt.Errorf("replay appended events: %d, then %d", len(first.eventTypes), len(second.eventTypes))
	case strings.Contains(second.loggedPrompt, "user@example.com"):
		return errors.New("the e-mail address reached the log")
	}
	return nil
}

// chat runs the example's chat on its run.
type chat struct {
	model     llm.Model
	toolCalls int // times submit_transfer ran
}

type sessionResult struct {
	fromLog      bool
	decision     string
	toolResults  []string
	loggedPrompt string
	eventTypes   []ledger.EventType
}

// session opens the ledger, sends the prompt on the run runID (starting
// it if it has no events), runs the tools the model asked for, and closes
// the ledger.
func (c *chat) session(ctx context.Context, dbPath string) (sessionResult, error) {
	var res sessionResult
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return res, err
	}
	k := artana.New(store, c.model, artana.WithMiddleware(
		artana.PIIScrubber{}, artana.Quota{}, artana.CapabilityGuard{}))
	defer k.Close() // closes the store
	err = artana.RegisterTool(k.Tools(), "submit_transfer", c.submitTransfer,
		artana.WithCapability("finance:write"),
		artana.WithDescription("Submit a money transfer from an account."))
	if err != nil {
		return res, err
	}

	answer, err := artana.Chat[TransferDecision](ctx, k, tenant, runID, artana.ModelStep{Model: "gpt-4o-mini", Prompt: prompt})
	if err != nil {
		return res, err
	}
	res.fromLog, res.decision = answer.FromLog, answer.OutputJSON

	run, err := k.LoadRun(ctx, tenant, runID)
	if err != nil {
		return res, err
	}
	for i, call := range answer.ToolCalls {
		r, err := k.StepTool(ctx, run, artana.ToolStep{Tool: call.ToolName, Args: call.ArgumentsJSON, StepKey: fmt.Sprintf("tool-%d", i)})
		if err != nil {
			return res, err
		}
		res.toolResults = append(res.toolResults, r.ResultJSON)
	}

	events, err := store.Events(ctx, runID, 0)
	if err != nil {
		return res, err
	}
	for _, e := range events {
		res.eventTypes = append(res.eventTypes, e.Type)
		if p, ok := e.Payload.(*ledger.ModelRequested); ok {
			res.loggedPrompt = p.Prompt
		}
	}
	return res, nil
}

// submitTransfer is the tool; it counts its calls.
func (c *chat) submitTransfer(ctx context.Context, a TransferArgs) (map[string]string, error) {
	c.toolCalls++
	return map[string]string{"status": "submitted", "account_id": a.AccountID, "amount": a.Amount}, nil
}

// countingModel counts the calls that reach the model.
type countingModel struct {
	llm.Model
	calls int
}

func (m *countingModel) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	m.calls++
	return m.Model.Complete(ctx, req)
}
