// Command fact_extraction is the Go port of the Python original's
// 03_fact_extraction_triplets.py: single-step fact extraction from an
// article as subject–predicate–object triplets. One model call takes the
// article and the extraction instructions and returns structured output
// (ExtractedFacts, a list of Triplet), decoded strictly into Go types. The
// step is logged and replay-safe like any other: the kernel runs under
// the enforced policy with the default middleware stack.
//
// Run it offline, from the repository root; the model's answer comes from
// the committed cassette testdata/cassettes/TestFactExtraction.cassette (a replay):
//
//	go run ./examples/fact_extraction
//
// The command only replays. Recording lives in the example's test, where
// the live model is built; record a fresh cassette against a real
// OpenAI-compatible endpoint (OPENAI_BASE_URL selects one other than
// OpenAI's) with the one record switch:
//
//	OPENAI_API_KEY=sk-... go test ./examples/fact_extraction -run '^TestFactExtraction$' -artana.record='^TestFactExtraction$'
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

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/examples/internal/command"
	"github.com/artana-go/go-artana/sqlite"
)

// Triplet is a single fact: subject – predicate – object (e.g. A is
// connected to B).
type Triplet struct {
	Subject   string `json:"subject"`
	Predicate string `json:"predicate"`
	Object    string `json:"object"`
}

// ExtractedFacts is the structured output: the triplets extracted from the
// article.
type ExtractedFacts struct {
	Triplets []Triplet `json:"triplets"`
}

const extractionInstructions = `Extract factual triplets from the article below.
Each triplet has:
- subject: the entity or concept that the fact is about
- predicate: a short verb phrase describing the relation (e.g. "is connected to", "works at", "located in")
- object: the other entity or value

Output only valid facts that are explicitly stated or clearly implied. One triplet per fact.
`

const sampleArticle = `
Berlin is the capital of Germany. The city was divided during the Cold War; the Berlin Wall
fell in 1989. Angela Merkel grew up in East Germany and later became Chancellor of Germany.
She studied physics at the University of Leipzig. The European Union has its roots in the
European Coal and Steel Community, founded in 1951. Brussels serves as the de facto capital
of the European Union.
`

// prompt is the Python original's prompt, byte for byte.
var prompt = extractionInstructions + "\n\n---\n\nArticle:\n" + strings.TrimSpace(sampleArticle)

func main() { command.Main("fact_extraction", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := command.NewFlags("fact_extraction", "TestFactExtraction", stderr)
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

	dir, err := os.MkdirTemp("", "artana-fact-extraction-")
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

	tenant := artana.Tenant{ID: "org_fact_extraction", BudgetUSD: 0.20}
	run, err := k.StartRun(ctx, tenant, "")
	if err != nil {
		return err
	}
	result, err := artana.Chat[ExtractedFacts](ctx, k, tenant, run.ID,
		artana.ModelStep{Model: "gpt-4o-mini", Prompt: prompt, StepKey: "extract_facts"})
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "Model answered by:", answeredBy)
	fmt.Fprintln(stdout, "Run id:", run.ID)
	fmt.Fprintln(stdout, "Extracted triplets:")
	for i, t := range result.Output.Triplets {
		fmt.Fprintf(stdout, "  %d. (%q -- %q --> %q)\n", i+1, t.Subject, t.Predicate, t.Object)
	}
	fmt.Fprintf(stdout, "Usage: prompt_tokens=%d completion_tokens=%d cost_usd=%g\n",
		result.Usage.PromptTokens, result.Usage.CompletionTokens, result.Usage.CostUSD)

	if len(result.Output.Triplets) == 0 {
		return errors.New("the model extracted no triplets")
	}
	for i, t := range result.Output.Triplets {
		if t.Subject == "" || t.Predicate == "" || t.Object == "" {
			return fmt.Errorf("triplet %d has an empty field: %+v", i+1, t)
		}
	}
	return nil
}
