//go:build unix

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
