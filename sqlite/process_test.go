package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
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
	"github.com/artana-go/go-artana/sqlite"
)

// helperCmd runs TestHelperProcess in a child process, in mode, against
// the ledger at path.
func helperCmd(mode, path string) *exec.Cmd { return childtest.Command(mode, path) }

// TestHelperProcess is not a test: it is the child process of the crash
// and multi-process tests.
func TestHelperProcess(t *testing.T) {
	mode, path, ok := childtest.Mode()
	if !ok {
		t.Skip("the child process of TestCrashSafety and TestMultiProcessAppends")
	}
	if err := runHelper(mode, path); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper(mode, path string) error {
	ctx := context.Background()
	if mode == "create" {
		// Create a new ledger and append to it, saying when it starts, so
		// that the parent can kill it in the first milliseconds.
		fmt.Println("start")
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return err
		}
		defer s.Close()
		_, err = s.Append(ctx, "r", "t", &ledger.RunStarted{})
		return err
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	switch mode {
	case "append-loop":
		// Append until killed; report each acknowledged append on stdout.
		out := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			e, err := s.Append(ctx, "crash", "t", &ledger.ModelCompleted{Model: "m",
				OutputJSON: strings.Repeat("x", i%300), PromptTokens: int64(i), CostUSD: 1e-05})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d %s\n", e.Seq, e.Hash)
			if err := out.Flush(); err != nil {
				return err
			}
		}
	case "concurrent":
		const workers, each = 4, 25
		own := fmt.Sprintf("own-%d", os.Getpid())
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					run := "shared"
					if i%2 == 1 {
						run = own
					}
					p := &ledger.WorkflowStepCompleted{StepIndex: int64(i), StepName: fmt.Sprintf("w%d", w), ResultJSON: "{}"}
					if _, err := s.Append(ctx, run, "t", p); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// assertGapless reads the run and checks seqs 1..n without gaps and a
// valid chain; it returns the events. An empty run fails.
func assertGapless(t *testing.T, s *sqlite.Store, run string) []ledger.Event {
	t.Helper()
	events, err := s.Events(context.Background(), run, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatalf("run %q has no events", run)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("run %q: event %d has seq %d", run, i+1, e.Seq)
		}
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Fatalf("run %q: %v", run, err)
	}
	if err := s.Verify(context.Background(), run); err != nil {
		t.Fatalf("run %q: %v", run, err)
	}
	return events
}

// TestCrashSafety SIGKILLs a child process that appends in a loop, many
// times at random moments, and then checks that the ledger is intact and
// holds every append the child saw succeed. With synchronous=NORMAL in WAL
// mode a commit survives the crash of the process (not a power loss, which
// this test does not simulate). ARTANA_SQLITE_CRASH_KILLS sets the number
// of kills (20 by default).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	kills := 20
	if v := os.Getenv("ARTANA_SQLITE_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ARTANA_SQLITE_CRASH_KILLS=%q: %v", v, err)
		}
		kills = n
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := make(map[int64]string)
	for k := range kills {
		killAppender(t, path, k, acked)
	}
	s := openT(t, path)
	events := assertGapless(t, s, "crash")
	for seq, hash := range acked {
		if seq > int64(len(events)) {
			t.Errorf("acknowledged append seq %d is missing: the ledger ends at seq %d", seq, len(events))
			continue
		}
		if events[seq-1].Hash != hash {
			t.Errorf("seq %d: stored hash %s, the child was told %s", seq, events[seq-1].Hash, hash)
		}
	}
	if len(acked) < kills {
		t.Errorf("only %d appends were acknowledged across %d kills", len(acked), kills)
	}
	// The ledger stays usable after the crashes.
	if _, err := s.Append(context.Background(), "crash", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills, %d events, %d acknowledged", kills, len(events), len(acked))
}

// killAppender starts a child that appends to the ledger at path in a
// loop, waits for its first acknowledged append and SIGKILLs it at a
// random moment of its loop (kill k). It records in acked the seq and hash
// of every append the child saw succeed.
func killAppender(t *testing.T, path string, k int, acked map[int64]string) {
	t.Helper()
	cmd := helperCmd("append-loop", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(10 * time.Second)
	killAt := time.Duration(rand.IntN(15000)) * time.Microsecond
	var timer <-chan time.Time
	killed := false
	for line := range lines {
		var seq int64
		var hash string
		if _, err := fmt.Sscanf(line, "%d %s", &seq, &hash); err != nil {
			t.Fatalf("child printed %q: %v", line, err)
		}
		acked[seq] = hash
		if timer == nil {
			timer = time.After(killAt)
		}
		select {
		case <-timer:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			t.Fatalf("kill %d: the child did not append within 10s", k+1)
		default:
		}
		if killed {
			// Drain what the child printed before it died.
			for line := range lines {
				if _, err := fmt.Sscanf(line, "%d %s", &seq, &hash); err == nil {
					acked[seq] = hash
				}
			}
			break
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("kill %d: the child exited by itself: %v\n%s", k+1, err, stderr.String())
	}
}

// TestMultiProcessAppends runs two processes with four goroutines each,
// appending to a shared run and to a run of their own: no append fails (no
// SQLITE_BUSY surfaces), and every run is gapless and valid.
func TestMultiProcessAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	// Create the ledger first so that both children open an existing file.
	openT(t, path).Close()
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := helperCmd("concurrent", path)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i+1, err, outs[i].String())
		}
	}
	s := openT(t, path)
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"shared": 2 * 4 * 13}
	for _, cmd := range cmds {
		want[fmt.Sprintf("own-%d", cmd.Process.Pid)] = 4 * 12
	}
	if len(runs) != len(want) {
		t.Fatalf("Runs = %+v, want %v", runs, want)
	}
	for _, r := range runs {
		if r.Events != want[r.RunID] {
			t.Errorf("run %q has %d events, want %d", r.RunID, r.Events, want[r.RunID])
		}
		assertGapless(t, s, r.RunID)
	}
}

// TestCreateKilled kills a process at random moments in the first
// milliseconds of creating a ledger: every kill leaves no ledger, or one
// that opens read-only and verifies (empty, or with the run appended).
// ARTANA_SQLITE_CREATE_KILLS sets the number of kills (40 by default).
func TestCreateKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	kills := 40
	if v := os.Getenv("ARTANA_SQLITE_CREATE_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ARTANA_SQLITE_CREATE_KILLS=%q: %v", v, err)
		}
		kills = n
	}
	rng := rand.New(rand.NewPCG(22, 1))
	outcomes := map[string]int{}
	for k := range kills {
		dir := t.TempDir()
		path := filepath.Join(dir, "new.db")
		cmd := helperCmd("create", path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := stdout.Read(buf); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(40000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if _, err := os.Stat(path); os.IsNotExist(err) {
			outcomes["no ledger"]++
			continue
		}
		s, err := sqlite.Open(context.Background(), path, sqlite.ReadOnly())
		if err != nil {
			t.Errorf("kill %d: the ledger left behind does not open: %v", k+1, err)
			continue
		}
		runs, err := s.Runs(context.Background())
		if err == nil && len(runs) > 0 {
			err = s.Verify(context.Background(), "r")
			outcomes["ledger with the run"]++
		} else if err == nil {
			outcomes["empty ledger"]++
		}
		if err != nil {
			t.Errorf("kill %d: %v", k+1, err)
		}
		s.Close()
	}
	t.Logf("%d kills: %v", kills, outcomes)
}
