package recorder_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/recorder"
)

// TestTransportGoldenRunLog is an agent that never touches the kernel: a
// tool loop over plain HTTP. Its calls replay from
// testdata/cassettes/TestTransportGoldenRunLog.cassette and LogRun gives it
// a run log, compared with testdata/TestTransportGoldenRunLog.golden. One
// switch re-records both, against a local server serving real wire bodies:
//
//	go test ./recorder -run '^TestTransportGoldenRunLog$' -artana.record='^TestTransportGoldenRunLog$'
func TestTransportGoldenRunLog(t *testing.T) {
	srv := wireServer(t, "openai-chat-tool-loop-turn1.json", "openai-chat-tool-loop-turn2.json")
	clock := artanatest.SteppingClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), time.Second)
	store := ledger.NewMemStore(ledger.WithEventClock(clock), ledger.WithEventIDs(artanatest.SequentialIDs()))
	run := artana.Run{ID: "agent-7", Tenant: artana.Tenant{ID: "acme"}}
	tr := recorder.NewTransport(t, nil, recorder.LogRun(store, run), recorder.WithClock(func() time.Time { return time.Unix(0, 0) }))
	if tr.Mode() == recorder.Replay {
		srv.Close() // replay needs no endpoint
	}
	agent(t, tr.Client(), srv.URL)
	artanatest.AssertGoldenEvents(t, store, run.ID)
}

// agent is the agent under test: two calls with its own HTTP client.
func agent(t *testing.T, client *http.Client, baseURL string) {
	for _, req := range []string{"openai-chat-tool-loop-turn1.request.json", "openai-chat-tool-loop-turn2.request.json"} {
		resp, _, err := post(t, client, baseURL+"/v1/chat/completions", wire(t, req))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", req, resp.StatusCode)
		}
	}
}
