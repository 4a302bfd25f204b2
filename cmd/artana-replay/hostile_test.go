//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"

	"github.com/artana-go/go-artana/cassettes"
)

// runCLI runs the command with a deadline: a command that blocks fails the
// test instead of hanging it.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("artana-replay %s did not return within 10s", strings.Join(args, " "))
	}
	return out.String(), errOut.String(), err
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// Every command refuses a named pipe at once, saying what it is, alone or
// in a directory of cassettes (where it is reported, not skipped).
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "f.db")
	mkfifo(t, fifo)
	cdir := filepath.Join(dir, "cassettes")
	if err := os.Mkdir(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyTo(t, filepath.Join("testdata", "triage.cassette"), filepath.Join(cdir, "triage.cassette"))
	mkfifo(t, filepath.Join(cdir, "run-2.jsonl"))
	sock := filepath.Join(dir, "s.jsonl")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", fifo}, "f.db is a named pipe (FIFO)"},
		{[]string{"ls", fifo}, "f.db is a named pipe (FIFO)"},
		{[]string{"show", fifo}, "f.db is a named pipe (FIFO)"},
		{[]string{"stats", fifo}, "f.db is a named pipe (FIFO)"},
		{[]string{"diff", fifo, fifo}, "is a named pipe (FIFO)"},
		{[]string{"reseal", fifo}, "f.db is a named pipe (FIFO)"},
		{[]string{"export", fifo, filepath.Join(dir, "out")}, "f.db is a named pipe (FIFO)"},
		{[]string{"import", filepath.Join("testdata", "chat_replay.db"), fifo}, "named pipe (FIFO)"},
		{[]string{"verify", cdir}, "run-2.jsonl is a named pipe (FIFO)"},
		{[]string{"ls", cdir}, "run-2.jsonl is a named pipe (FIFO)"},
		{[]string{"verify", sock}, "s.jsonl is a socket"},
		{[]string{"verify", "/dev/null"}, "/dev/null is a character device"},
	} {
		_, stderr, err := runCLI(t, c.args...)
		msg := stderr
		if err != nil {
			msg += err.Error()
		}
		if err == nil || !strings.Contains(msg, c.want) {
			t.Errorf("artana-replay %s: err = %v, output %q; want a refusal saying %q", strings.Join(c.args, " "), err, stderr, c.want)
		}
	}
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// verify on a cassette directory that is being written reads each file
// under the writers' lock, so it never reports damage that is not there.
func TestVerifyDuringWrites(t *testing.T) {
	dir := t.TempDir()
	s, err := cassettes.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "run-0", "t", &ledger.RunStarted{}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			run := fmt.Sprintf("run-%d", i%5)
			if i%40 == 39 {
				run = fmt.Sprintf("new-%d", i) // a run created while verify reads
			}
			// Long enough lines that appends cross pages (and go through
			// a redo record) now and then.
			p := &ledger.WorkflowStepCompleted{StepIndex: int64(i), StepName: "s", ResultJSON: `"` + strings.Repeat("x", i%3000) + `"`}
			if _, err := s.Append(ctx, run, "t", p); err != nil {
				done <- err
				return
			}
		}
	}()
	for i := range 100 {
		time.Sleep(2 * time.Millisecond)
		stdout, stderr, err := runCLI(t, "verify", dir)
		if err != nil {
			t.Errorf("verify %d during writes: %v\n%s%s", i+1, err, stdout, stderr)
			break
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An append that a killed writer left half done (its redo record on disk)
// is finished by the reader, not reported as tampering.
func TestVerifyFinishesInterruptedAppend(t *testing.T) {
	dir := t.TempDir()
	s, err := cassettes.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if _, err := s.Append(ctx, "r", "t", &ledger.WorkflowStepRequested{StepIndex: int64(i), StepName: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	path := s.Path("r")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	big := &ledger.WorkflowStepCompleted{StepIndex: 3, StepName: "s", ResultJSON: `"` + strings.Repeat("y", 9000) + `"`}
	if _, err := s.Append(ctx, "r", "t", big); err != nil {
		t.Fatal(err)
	}
	s.Close()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Put the file back as a writer killed after 5000 bytes of the append
	// leaves it, with the redo record it wrote first.
	off := bytes.LastIndex(before[:len(before)-1], []byte("\n")) + 1
	data := after[off:]
	rec := binary.BigEndian.AppendUint64(nil, uint64(off))
	rec = binary.BigEndian.AppendUint64(rec, uint64(len(data)))
	sum := sha256.Sum256(data)
	rec = append(append(rec, sum[:]...), data...)
	if err := os.WriteFile(path+".redo", rec, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, after[:off+5000], 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCLI(t, "verify", dir)
	if err != nil || !strings.Contains(stdout, "ok    r  4 events") {
		t.Errorf("verify: %v\n%s%s; want the append finished and 4 events", err, stdout, stderr)
	}
	if _, err := os.Stat(path + ".redo"); !os.IsNotExist(err) {
		t.Errorf("the redo record is still there: %v", err)
	}
}

// A ledger that fails SQLite's check is refused at once by every command,
// saying it is damaged and what to do.
func TestDamagedLedgerRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.db")
	copyTo(t, filepath.Join("testdata", "chat_replay.db"), path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := 4096
	if len(data) < 2*page || (data[page] != 0x0d && data[page] != 0x05) {
		t.Skipf("page 2 of the fixture is not a table b-tree page")
	}
	data[page+3], data[page+4] = 0x0f, 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"verify", "ls", "show"} {
		_, stderr, err := runCLI(t, cmd, path)
		msg := stderr
		if err != nil {
			msg += err.Error()
		}
		if err == nil || !strings.Contains(msg, "ledger file damaged: ") || !strings.Contains(msg, "restore it from a backup") {
			t.Errorf("%s: %v %s, want the damage and what to do", cmd, err, stderr)
		}
	}
}
