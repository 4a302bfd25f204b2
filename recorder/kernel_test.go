package recorder_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/recorder"
	"github.com/sebdah/goldie/v2"
	"github.com/stretchr/testify/require"
)

type verdict struct {
	Label string `json:"label"`
}

const triageSystem = "You triage support tickets. Answer with one label."

// triage is the agent under test: two model steps on one ticket.
func triage(ctx context.Context, k *artana.Kernel, runID, system, ticket string) ([]string, error) {
	run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, runID)
	if err != nil {
		return nil, err
	}
	var labels []string
	for i, q := range []string{"Category of: " + ticket, "Priority of: " + ticket} {
		res, err := artana.StepModel[verdict](ctx, k, run, artana.ModelStep{
			Model:    "fake-1",
			Messages: []ledger.ChatMessage{{Role: "system", Content: system}, {Role: "user", Content: q}},
			StepKey:  fmt.Sprintf("step-%d", i),
			Options:  llm.Options{Temperature: new(0.0)},
		})
		if err != nil {
			return labels, err
		}
		labels = append(labels, res.Output.Label)
	}
	return labels, nil
}

// triageModel is the scripted live model of the triage agent.
func triageModel() *fakeModel {
	return &fakeModel{CompleteFn: func(_ context.Context, req llm.Request) (llm.Response, error) {
		q := req.Messages[len(req.Messages)-1].Content
		label := "refund"
		if strings.HasPrefix(q, "Priority") {
			label = "high"
		}
		return llm.Response{
			OutputJSON: `{"label":"` + label + `"}`,
			Usage:      llm.Usage{PromptTokens: int64(len(q)), CompletionTokens: 4, CostUSD: 0.00025},
		}, nil
	}}
}

func deterministicStore() *ledger.MemStore {
	return ledger.NewMemStore(
		ledger.WithEventClock(artanatest.SteppingClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), time.Second)),
		ledger.WithEventIDs(artanatest.SequentialIDs()))
}

func runEvents(t testing.TB, s ledger.Store, runID string) []ledger.Event {
	t.Helper()
	evs, err := s.Events(ctx, runID, 0)
	require.NoError(t, err)
	return evs
}

func TestKernelRecordThenReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "triage.cassette")
	live := triageModel()
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	require.NoError(t, err)
	recStore := deterministicStore()
	labels, err := triage(ctx, artana.New(recStore, rec), "run-1", triageSystem, "I want my money back")
	require.NoError(t, err)
	require.NoError(t, rec.Close())
	require.Equal(t, []string{"refund", "high"}, labels)
	require.EqualValues(t, 2, live.calls.Load())

	// Replay with the live model disconnected.
	rec, err = recorder.Open(path, disconnected(t))
	require.NoError(t, err)
	repStore := deterministicStore()
	replayed, err := triage(ctx, artana.New(repStore, rec), "run-1", triageSystem, "I want my money back")
	require.NoError(t, err)
	require.NoError(t, rec.Close(), "every interaction was used")
	require.Equal(t, labels, replayed)
	recorded := runEvents(t, recStore, "run-1")
	require.Len(t, recorded, 5)
	require.Equal(t, recorded, runEvents(t, repStore, "run-1"), "identical events, hashes included")

	// A different run id replays the same cassette.
	rec, err = recorder.Open(path, disconnected(t))
	require.NoError(t, err)
	_, err = triage(ctx, artana.New(deterministicStore(), rec), "", triageSystem, "I want my money back")
	require.NoError(t, err)
	require.NoError(t, rec.Close())
}

// TestTriageCassette replays the committed cassette
// testdata/cassettes/TestTriageCassette.cassette. Re-record it with
//
//	go test ./recorder -run '^TestTriageCassette$' -artana.record='^TestTriageCassette$'
func TestTriageCassette(t *testing.T) {
	live := triageModel()
	rec := recorder.New(t, live, recorder.WithClock(artanatest.SteppingClock(time.Unix(0, 0), 250*time.Millisecond)))
	store := deterministicStore()
	labels, err := triage(ctx, artana.New(store, rec), "run-1", triageSystem, "I want my money back")
	require.NoError(t, err)
	require.Equal(t, []string{"refund", "high"}, labels)
	if rec.Mode() == recorder.Replay {
		require.EqualValues(t, 0, live.calls.Load(), "replay never calls the live model")
	}
	evs := runEvents(t, store, "run-1")
	require.Len(t, evs, 5)
	// The events are those of the recording run, to the hash.
	require.Equal(t, "5e6eeb6c4470f76e7f43fe0bbdf74518838ec11810313a925ed008ec9b513b7e", evs[4].Hash)
}

// TestTriageMiss edits one message of the agent and checks the report of
// the miss against testdata/triage_miss.golden (go test -update rewrites
// it).
func TestTriageMiss(t *testing.T) {
	tb := newFakeTB(t, "TestTriageCassette")
	rec := recorder.New(tb, disconnected(t), recorder.WithMode(recorder.Replay))
	require.NotNil(t, rec, tb.errors())
	_, err := triage(ctx, artana.New(deterministicStore(), rec), "run-1",
		"You triage support tickets. Answer with one word.", "I want my money back")
	var miss *recorder.MissError
	require.ErrorAs(t, err, &miss)
	require.ErrorIs(t, err, recorder.ErrNoMatch)
	require.Equal(t, 2, miss.Nearest)
	goldie.New(t).Assert(t, "triage_miss", []byte(miss.Error()+"\n"))

	tb.end()
	require.True(t, tb.Failed())
	require.Contains(t, tb.errors(), "1 request(s) had no recorded interaction")
	require.Contains(t, tb.errors(), "2 of 2 recorded interactions were not used")
}

func TestKernelReplaysRecordedError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.cassette")
	live := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{}, &llm.Error{Class: llm.ClassTransient, StatusCode: 503, Message: "overloaded"}
	}}
	for _, mode := range []recorder.Mode{recorder.Record, recorder.Replay} {
		rec, err := recorder.Open(path, live, recorder.WithMode(mode))
		require.NoError(t, err)
		_, err = triage(ctx, artana.New(deterministicStore(), rec), "run-1", triageSystem, "hello")
		require.ErrorIs(t, err, llm.ErrTransient, mode.String())
		require.ErrorContains(t, err, "model error (transient, HTTP 503): overloaded")
		require.NoError(t, rec.Close())
	}
	require.EqualValues(t, 1, live.calls.Load())
}
