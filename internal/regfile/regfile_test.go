//go:build unix

package regfile_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/artana-go/go-artana/internal/regfile"
)

func TestOpenRefusesSpecialFilesAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "f.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	defer l.Close()
	reg := filepath.Join(dir, "r")
	if err := os.WriteFile(reg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "named pipe (FIFO)"}, {sock, "socket"}, {"/dev/null", "character device"}, {dir, "directory"},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := regfile.Open(c.path)
			if f != nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("Open(%s) = %v, want an error naming the path and %q", c.path, err, c.want)
			}
			if c.want != "directory" && !errors.Is(err, regfile.ErrNotRegular) {
				t.Errorf("Open(%s) = %v, want ErrNotRegular", c.path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) blocked", c.path)
		}
	}
	f, err := regfile.Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
