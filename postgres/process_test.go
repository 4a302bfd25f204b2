package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/internal/childtest"
	"github.com/artana-go/go-artana/postgres"
)

// helperFor is how long a "writers" child writes.
const helperFor = "ARTANA_POSTGRES_HELPER_FOR"

// helperCmd runs TestHelperProcess in a child process (childtest), in
// mode, against the database at u.
func helperCmd(mode, u string, extra ...string) *exec.Cmd {
	return childtest.Command(mode, u, extra...)
}

// TestHelperProcess is not a test: it is the child process of the
// many-writers and crash tests.
func TestHelperProcess(t *testing.T) {
	mode, u, ok := childtest.Mode()
	if !ok {
		t.Skip("the child process of TestManyWriters and TestCrashAndRestart")
	}
	if err := runHelper(mode, u); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// acks prints acknowledged appends, one "run seq hash" line each, flushed
// before the writer goes on.
type acks struct {
	mu  sync.Mutex
	out *bufio.Writer
}

func (a *acks) ack(e ledger.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.out, "%s %d %s\n", e.RunID, e.Seq, e.Hash)
	return a.out.Flush()
}

// Writers per process and shared runs of TestManyWriters.
const (
	writersPerProcess = 8
	sharedRuns        = 4
)

func runHelper(mode, u string) error {
	ctx := context.Background()
	s, err := postgres.Open(ctx, u, postgres.WithMaxConns(writersPerProcess))
	if err != nil {
		return err
	}
	defer s.Close()
	a := &acks{out: bufio.NewWriter(os.Stdout)}
	switch mode {
	case "writers":
		// Model and tool steps (request, then completion) to shared runs
		// until the deadline; any error fails the process.
		d, err := time.ParseDuration(os.Getenv(helperFor))
		if err != nil {
			return err
		}
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		errs := make(chan error, writersPerProcess)
		for w := range writersPerProcess {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					run := fmt.Sprintf("shared-%d", (w+i)%sharedRuns)
					key := fmt.Sprintf("%d-%d-%d", os.Getpid(), w, i)
					var steps []ledger.Payload
					if i%2 == 0 {
						steps = []ledger.Payload{
							&ledger.ModelRequested{Model: "m", Prompt: "step " + key, Messages: []ledger.ChatMessage{{Role: "user", Content: key}}},
							&ledger.ModelCompleted{Model: "m", OutputJSON: `{"ok":true}`, PromptTokens: 10, CompletionTokens: 2, CostUSD: 0.0001},
						}
					} else {
						steps = []ledger.Payload{
							&ledger.ToolRequested{ToolName: "lookup", ArgumentsJSON: `{"k":"` + key + `"}`, IdempotencyKey: key},
							&ledger.ToolCompleted{ToolName: "lookup", ResultJSON: `{}`, Outcome: "success", ReceivedIdempotencyKey: new(key)},
						}
					}
					for _, p := range steps {
						e, err := s.Append(ctx, run, "tenant", p)
						if err != nil {
							errs <- err
							return
						}
						if err := a.ack(e); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	case "append-loop":
		// Append until killed, going on after errors (the server
		// restarts under it).
		for i := 0; ; i++ {
			e, err := s.Append(ctx, "crash", "t", &ledger.ModelCompleted{Model: "m",
				OutputJSON: strings.Repeat("x", i%300), PromptTokens: int64(i), CostUSD: 1e-05})
			if err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err := a.ack(e); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// readAcks parses the children's ack lines into acked[run][seq] = hash.
func readAcks(t *testing.T, r io.Reader, acked map[string]map[int64]string, mu *sync.Mutex, first chan<- struct{}) {
	sc := bufio.NewScanner(r)
	once := sync.Once{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Errorf("child printed %q", sc.Text())
			continue
		}
		seq, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Errorf("child printed %q", sc.Text())
			continue
		}
		mu.Lock()
		if acked[f[0]] == nil {
			acked[f[0]] = make(map[int64]string)
		}
		acked[f[0]][seq] = f[2]
		mu.Unlock()
		if first != nil {
			once.Do(func() { close(first) })
		}
	}
}

// checkAcked checks that every run is gapless and valid and holds every
// acknowledged append with the hash its writer was told.
func checkAcked(t *testing.T, s *postgres.Store, acked map[string]map[int64]string) int {
	total := 0
	for run, seqs := range acked {
		events := assertGapless(t, s, run)
		for seq, hash := range seqs {
			total++
			if seq > int64(len(events)) {
				t.Errorf("run %q: acknowledged append seq %d is missing: the run ends at seq %d", run, seq, len(events))
				continue
			}
			if events[seq-1].Hash != hash {
				t.Errorf("run %q seq %d: stored hash %s, the writer was told %s", run, seq, events[seq-1].Hash, hash)
			}
		}
	}
	return total
}

// TestManyWriters runs 4 processes of 8 goroutines appending model and
// tool steps to 4 shared runs for ARTANA_POSTGRES_WRITERS_FOR (20s by
// default, 2s with -short): no append fails, every run is gapless and
// valid, and every acknowledged append is there.
func TestManyWriters(t *testing.T) {
	u := newURL(t)
	d := 20 * time.Second
	if testing.Short() {
		d = 2 * time.Second
	}
	if v := os.Getenv("ARTANA_POSTGRES_WRITERS_FOR"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ARTANA_POSTGRES_WRITERS_FOR=%q: %v", v, err)
		}
	}
	s := open(t, u) // creates the tables before the children start
	acked := make(map[string]map[int64]string)
	var mu sync.Mutex
	var cmds []*exec.Cmd
	var stderrs []*strings.Builder
	var readers sync.WaitGroup
	for range 4 {
		cmd := helperCmd("writers", u, helperFor+"="+d.String())
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			readAcks(t, stdout, acked, &mu, nil)
		}()
		cmds, stderrs = append(cmds, cmd), append(stderrs, &stderr)
	}
	readers.Wait()
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v\n%s", i+1, err, stderrs[i].String())
		}
	}
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != sharedRuns {
		t.Errorf("%d runs, want %d", len(runs), sharedRuns)
	}
	n := checkAcked(t, s, acked)
	t.Logf("4 processes × %d goroutines for %v: %d acknowledged appends (%.0f/s)", writersPerProcess, d, n, float64(n)/d.Seconds())
}

// TestCrashAndRestart SIGKILLs a child that appends in a loop 50 times
// (ARTANA_POSTGRES_CRASH_KILLS) at random moments, and restarts the server
// (pg_ctl restart -m immediate, a crash of the server) once while the
// child appends: the run is gapless and valid and holds every append the
// child saw acknowledged. The server is a cluster of the test's own,
// created with .ci/postgres, so that no other test sees the restart.
func TestCrashAndRestart(t *testing.T) {
	newURL(t) // skips without a server
	if testing.Short() {
		t.Skip("kills processes and restarts a server; skipped with -short")
	}
	kills := 50
	if v := os.Getenv("ARTANA_POSTGRES_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ARTANA_POSTGRES_CRASH_KILLS=%q: %v", v, err)
		}
		kills = n
	}
	cl := startCluster(t)
	u := cl.url
	s := open(t, u)
	acked := make(map[string]map[int64]string)
	var mu sync.Mutex
	restartAt := kills / 2
	for k := range kills {
		cmd := helperCmd("append-loop", u)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		first := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			readAcks(t, stdout, acked, &mu, first)
		}()
		select {
		case <-first:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("kill %d: the child did not append within 20s\n%s", k+1, stderr.String())
		}
		if k == restartAt {
			before := countAcks(acked, &mu)
			cl.restart(t)
			// The child goes on once the server is back.
			deadline := time.Now().Add(30 * time.Second)
			for countAcks(acked, &mu) == before {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("the child did not append after the server restart\n%s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		time.Sleep(time.Duration(rand.IntN(30000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		_ = cmd.Wait()
	}
	n := checkAcked(t, s, acked)
	if n < kills {
		t.Errorf("only %d appends were acknowledged across %d kills", n, kills)
	}
	// The ledger stays usable.
	if _, err := s.Append(context.Background(), "crash", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills and a server restart: %d acknowledged appends, all present", kills, n)
}

func countAcks(acked map[string]map[int64]string, mu *sync.Mutex) int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, m := range acked {
		n += len(m)
	}
	return n
}

// A cluster is a throwaway PostgreSQL server of the test's own.
type cluster struct {
	dir, url, data, bin, runas string
}

// startCluster creates and starts a cluster with .ci/postgres, stopped and
// removed when the test ends.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", ".ci", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "artana-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command(script, "stop", dir).Run()
		_ = os.RemoveAll(dir)
	})
	out, err := exec.Command(script, "start", dir).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf(".ci/postgres start: %v\n%s", err, stderr)
	}
	c := &cluster{dir: dir}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, "'")
		switch k {
		case "ARTANA_POSTGRES_URL":
			c.url = v
		case "ARTANA_POSTGRES_DATA":
			c.data = v
		case "ARTANA_POSTGRES_BIN":
			c.bin = v
		case "ARTANA_POSTGRES_RUNAS":
			c.runas = v
		}
	}
	if c.url == "" || c.data == "" || c.bin == "" {
		t.Fatalf(".ci/postgres start printed %q", out)
	}
	return c
}

// restart stops the server as a crash would (immediate mode: no
// checkpoint, recovery from the WAL at start) and starts it again.
func (c *cluster) restart(t *testing.T) {
	t.Helper()
	args := []string{filepath.Join(c.bin, "pg_ctl"), "-D", c.data, "-l", filepath.Join(c.dir, "server.log"), "-m", "immediate", "-w", "restart"}
	if c.runas != "" {
		args = append([]string{"runuser", "-u", c.runas, "--"}, args...)
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl restart: %v\n%s", err, out)
	}
}
