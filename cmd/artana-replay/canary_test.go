package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/artanatest"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/postgres"
	"github.com/artana-go/go-artana/recorder"
	"github.com/artana-go/go-artana/sqlite"
	"github.com/openai/openai-go/v3/option"
)

// The canaries: an API key shaped like a real one, and the value of an
// extra header the caller set. Neither may reach any byte written or any
// error, log line or output.
const (
	canaryKey   = "sk-proj-CanaryKey0123456789abcdefGHIJKLmnop/qrs"
	canaryExtra = "org-canary-extra-header-0123456789"
)

// echoServer answers every request with the secrets the request carried
// (the Authorization value, the bare key, the extra header) echoed into
// every field of its body, in turn: a success, a permanent error, a
// transient error (retried, so logged), then a success again.
func echoServer(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		auth := r.Header.Get("Authorization")
		key := strings.TrimPrefix(auth, "Bearer ")
		extra := r.Header.Get("X-Org-Token")
		// Every way the secrets might appear in a JSON string: raw, with
		// '/' escaped as some encoders write it, and together.
		all := fmt.Sprintf("%s | %s | %s | %s", auth, key, strings.ReplaceAll(key, "/", `\/`), extra)
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		stream := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
		switch {
		case stream:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"id\":%q,\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"system_fingerprint\":%q,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":%q},\"finish_reason\":null}]}\n\n",
				key, all, extra, `{"label":"`+strings.ReplaceAll(all, `\`, `\\`)+`"}`)
			fmt.Fprintf(w, "data: {\"id\":%q,\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n", key, key)
			fmt.Fprint(w, "data: [DONE]\n\n")
		case i%4 == 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"code":%q,"param":%q}}`, all+": Invalid header value", key, auth, extra)
		case i%4 == 2:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"code":%q,"param":%q}}`, "overloaded: "+all, extra, key, auth)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":%q,"object":"chat.completion","created":1,"model":%q,"system_fingerprint":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
				key, all, extra, `{"label":"`+strings.ReplaceAll(all, `\`, `\\`)+`"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

type canaryVerdict struct {
	Label string `json:"label"`
}

// TestSecretCanary echoes a fake key and an extra header's value in every
// field of success and error answers, and drives them through the openai
// model, the recorder, the kernel into a SQLite ledger and a cassette
// store, a golden log and the CLI: the secrets appear in no byte written,
// no error string, no log line and no output.
func TestSecretCanary(t *testing.T) {
	dir := t.TempDir()
	secretCanary(t, dir, filepath.Join(dir, "ledger.db"), filepath.Join(dir, "runs"))
}

// TestSecretCanaryPostgres is TestSecretCanary with a PostgreSQL ledger
// beside the others (ARTANA_POSTGRES_URL; skipped without it).
func TestSecretCanaryPostgres(t *testing.T) {
	pgURL := pgSchema(t)
	dir := t.TempDir()
	secretCanary(t, dir, filepath.Join(dir, "ledger.db"), filepath.Join(dir, "runs"), pgURL)
}

// secretCanary runs the canary flow with files under dir and the SQLite
// ledger (dbPath), cassette directory and other ledgers (PostgreSQL URLs) given.
func secretCanary(t *testing.T, dir, dbPath, cdir string, others ...string) {
	t.Setenv("OPENAI_API_KEY", "")
	srv := echoServer(t)
	var logs bytes.Buffer
	m, err := openai.New(openai.WithAPIKey(canaryKey), openai.WithBaseURL(srv.URL+"/v1/"),
		openai.WithRequestOptions(option.WithHeader("X-Org-Token", canaryExtra)),
		openai.WithRetries(2, time.Millisecond, time.Millisecond),
		openai.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	var said sayings
	ctx := context.Background()

	// The model alone, streamed.
	resp, err := m.Stream(ctx, llm.Request{Model: "gpt-4o-mini", Prompt: "hi"}, func(d llm.Delta) error {
		said.note(d.Text)
		return nil
	})
	said.note(resp.OutputJSON, err)

	cassette := filepath.Join(dir, "interactions.cassette")
	said.recordCanaryRuns(t, m, cassette, dir, dbPath, cdir, others)
	said.replayCanary(t, cassette)
	said.runCanaryCLI(t, dir, dbPath, cdir, cassette, others)

	if len(said) < 20 {
		t.Fatalf("only %d outputs and errors seen: %q", len(said), said)
	}
	checkNoSecret(t, dir, append(said, logs.String()))
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry was logged: %s", logs.String())
	}
	if !strings.Contains(strings.Join(said, "\n"), "[REDACTED]") {
		t.Errorf("no [REDACTED] in any output: the echo did not reach them")
	}
}

// sayings are every error string and output the canary flow saw.
type sayings []string

func (s *sayings) note(v ...any) {
	for _, x := range v {
		if x != nil {
			*s = append(*s, fmt.Sprintf("%v", x))
		}
	}
}

// recordCanaryRuns runs three model steps (a success; a permanent error; a
// transient error, retried, then a success) through a recorder writing
// cassette, in a run of each ledger: SQLite at dbPath, cassettes in cdir,
// PostgreSQL at each of others. Each run's golden text is written in dir.
func (s *sayings) recordCanaryRuns(t *testing.T, m *openai.Model, cassette, dir, dbPath, cdir string, others []string) {
	t.Helper()
	ctx := context.Background()
	rec, err := recorder.Open(cassette, m, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cassettes.OpenStore(cdir)
	if err != nil {
		t.Fatal(err)
	}
	stores := []ledger.Store{db, cs}
	for _, u := range others {
		pg, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		stores = append(stores, pg)
	}
	for i, store := range stores {
		k := artana.New(store, rec)
		run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, "canary")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			res, err := artana.StepModel[canaryVerdict](ctx, k, run, artana.ModelStep{Model: "gpt-4o-mini",
				Prompt: fmt.Sprintf("classify %d", i), StepKey: fmt.Sprintf("s%d", i)})
			s.note(res.Output.Label, err)
		}
		events, err := store.Events(ctx, "canary", 0)
		if err != nil {
			t.Fatal(err)
		}
		golden, err := artanatest.EventsText(events)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("store%d.golden", i)), golden, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.note(rec.Close(), db.Close(), cs.Close())
}

// replayCanary replays the three calls from the cassette: the same
// answers and errors.
func (s *sayings) replayCanary(t *testing.T, cassette string) {
	t.Helper()
	rep, err := recorder.Open(cassette, nil, recorder.WithMode(recorder.Replay), recorder.AllowUnused())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		resp, err := rep.Complete(context.Background(), llm.Request{Model: "gpt-4o-mini", Prompt: fmt.Sprintf("classify %d", i)})
		s.note(resp.OutputJSON, err)
	}
	s.note(rep.Close())
}

// runCanaryCLI runs the CLI on all of it; a PostgreSQL ledger is
// exported, so that its rows are looked at as bytes too.
func (s *sayings) runCanaryCLI(t *testing.T, dir, dbPath, cdir, cassette string, others []string) {
	t.Helper()
	cmds := [][]string{
		{"show", "--full", dbPath}, {"show", "--full", "--json", dbPath}, {"verify", dbPath}, {"ls", dbPath},
		{"show", "--full", cdir}, {"verify", cdir}, {"stats", cdir},
		{"ls", cassette}, {"verify", cassette}, {"show", "--full", cassette},
		{"export", dbPath, filepath.Join(dir, "exported")},
	}
	for i, u := range others {
		cmds = append(cmds, []string{"show", "--full", "--json", u}, []string{"verify", u},
			[]string{"export", u, filepath.Join(dir, fmt.Sprintf("exported-%d", i))})
	}
	for _, args := range cmds {
		stdout, stderr, err := runCLI(t, args...)
		s.note(stdout, stderr, err)
	}
}

// checkNoSecret fails the test if a form of the canary key or header value
// appears in any of said or in any file under dir.
func checkNoSecret(t *testing.T, dir string, said []string) {
	t.Helper()
	for _, secret := range []string{canaryKey, strings.ReplaceAll(canaryKey, "/", `\/`), canaryExtra, "CanaryKey0123456789"} {
		for _, s := range said {
			if strings.Contains(s, secret) {
				t.Errorf("%q appears in an output, error or log line: %s", secret, s)
			}
		}
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return nil
			}
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%q is written in %s", secret, path)
			}
			return nil
		})
	}
}
