package cassettes_test

import (
	"bufio"
	"context"
	"errors"
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

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/childtest"
)

// TestHelperProcess is not a test: the tests below run the test binary
// again (childtest.Command), to act as a second process.
func TestHelperProcess(t *testing.T) {
	mode, arg, ok := childtest.Mode()
	if !ok {
		t.Skip("helper process for the multi-process tests")
	}
	ctx := context.Background()
	switch mode {
	case "lock": // hold the lock of cassette arg until stdin closes
		a, err := cassettes.OpenAppender(ctx, arg, cassettes.Header{Kind: cassettes.KindInteractions})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		a.Close()
	case "append": // append to run "crash" of store arg forever, acknowledging each seq
		s, err := cassettes.OpenStore(arg)
		if err != nil {
			os.Exit(1)
		}
		for i := 0; ; i++ {
			e, err := s.Append(ctx, "crash", "t", &ledger.WorkflowStepCompleted{StepIndex: int64(i), StepName: "s", ResultJSON: `"x"`})
			if err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			fmt.Printf("ok %d\n", e.Seq)
		}
	case "appendN": // append N events to run "shared" of store arg
		dir, n, _ := strings.Cut(arg, "|")
		count, _ := strconv.Atoi(n)
		s, err := cassettes.OpenStore(dir)
		if err != nil {
			os.Exit(1)
		}
		for i := range count {
			if _, err := s.Append(ctx, "shared", "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "p"}); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
		}
	}
	os.Exit(0)
}

func helper(t *testing.T, mode, arg string) *exec.Cmd {
	t.Helper()
	return childtest.Command(mode, arg)
}

func TestLockContentionBetweenProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.jsonl")
	if err := cassettes.WriteFile(ctx, path, cassettes.Header{Kind: cassettes.KindInteractions}, interactions()); err != nil {
		t.Fatal(err)
	}
	cmd := helper(t, "lock", path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}

	short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	_, err := cassettes.OpenAppender(short, path, cassettes.Header{Kind: cassettes.KindInteractions})
	var ce *cassettes.Error
	if !errors.Is(err, cassettes.ErrLocked) || !errors.As(err, &ce) || ce.Path != path {
		t.Fatalf("OpenAppender while another process holds the lock: %v, want ErrLocked naming %s", err, path)
	}
	if !strings.Contains(err.Error(), "another process") {
		t.Errorf("message %q does not say what to do", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel2()
	if err := cassettes.WriteFile(short2, path, cassettes.Header{Kind: cassettes.KindInteractions}, nil); !errors.Is(err, cassettes.ErrLocked) {
		t.Errorf("WriteFile while locked: %v, want ErrLocked", err)
	}

	// A writer that waits gets the lock once the other process lets go.
	done, started := make(chan error, 1), make(chan struct{})
	go func() {
		close(started)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		a, err := cassettes.OpenAppender(wctx, path, cassettes.Header{Kind: cassettes.KindInteractions})
		if err == nil {
			err = a.Append(cassettes.Record{Type: "interaction", Body: []byte(`{"n":3}`)})
			a.Close()
		}
		done <- err
	}()
	<-started
	select {
	case err := <-done:
		t.Fatalf("the waiting writer returned %v while the other process held the lock", err)
	default:
	}
	stdin.Close()
	if err := <-done; err != nil {
		t.Fatalf("waiting writer: %v", err)
	}
	if _, recs, err := cassettes.ReadAll(path); err != nil || len(recs) != 3 {
		t.Errorf("after both writers: %d records, %v", len(recs), err)
	}
}

func TestTwoProcessesAppendToOneRun(t *testing.T) {
	dir := t.TempDir()
	const each = 40
	var cmds []*exec.Cmd
	for range 2 {
		cmd := helper(t, "appendN", dir+"|"+strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	// And this process too, through its own store.
	s, err := cassettes.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range each {
		if _, err := s.Append(context.Background(), "shared", "t", &ledger.RunStarted{}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	events, err := s.Events(context.Background(), "shared", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3*each {
		t.Errorf("%d events, want %d", len(events), 3*each)
	}
	if err := ledger.VerifyChain(events); err != nil {
		t.Error(err)
	}
}

// TestCrashSafety kills a process appending in a loop at random moments,
// many times, and checks after each kill that the run reads back with a
// valid, gapless chain holding every acknowledged append.
func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	acked := int64(0)
	for round := range rounds {
		cmd := helper(t, "append", dir)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var lastErr string
		readDone := make(chan struct{})
		first := make(chan struct{})
		var once sync.Once
		go func() {
			defer close(readDone)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var seq int64
				if _, err := fmt.Sscanf(sc.Text(), "ok %d", &seq); err == nil {
					mu.Lock()
					acked = max(acked, seq)
					mu.Unlock()
					once.Do(func() { close(first) })
				} else {
					lastErr = sc.Text()
				}
			}
		}()
		select { // kill it while it appends
		case <-first:
		case <-readDone:
		}
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		<-readDone
		cmd.Wait()
		if lastErr != "" {
			t.Fatalf("round %d: appender failed: %s", round, lastErr)
		}
		s, err := cassettes.OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		events, err := s.Events(context.Background(), "crash", 0)
		if err != nil {
			t.Fatalf("round %d: after kill: %v", round, err)
		}
		if err := ledger.VerifyChain(events); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if int64(len(events)) < acked {
			t.Fatalf("round %d: %d events on disk, but %d were acknowledged", round, len(events), acked)
		}
		s.Close()
	}
	if acked == 0 {
		t.Errorf("no append was acknowledged in %d rounds", rounds)
	}
}
