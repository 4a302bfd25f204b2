// Package exampletest holds the tests every example shares: its exit
// status when run as a command, recording through its -record path against
// the local stand-in server, and what a recording that cannot happen or
// fails leaves behind.
package exampletest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/examples/internal/standin"
)

// Run is an example's run function: it runs the example with args,
// printing to stdout and stderr.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Answer answers the example's model calls on the stand-in server.
type Answer = func(standin.Request) (standin.Answer, error)

// standinFlag is -standin, registered only in test binaries.
var standinFlag = func() *bool {
	if testing.Testing() {
		return flag.Bool("standin", false, "rewrite the example's committed cassette by recording against the local stand-in server")
	}
	return new(bool)
}()

// Standin reports whether the test binary was given -standin: a test
// that records then records against the local stand-in server.
func Standin() bool { return *standinFlag }

// runMainEnv, when set to 1, makes the test binary run the example's main.
const runMainEnv = "ARTANA_EXAMPLE_RUN_MAIN"

// Main is the example's TestMain: it runs the example's main instead of
// the tests when ExitStatus starts the test binary.
func Main(m *testing.M, main func()) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// WantInOrder fails unless every line of want appears in out, in order.
func WantInOrder(t testing.TB, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (after the lines before it); output:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

// MustRun runs the example with args and returns what it printed; it
// fails the test if the run fails.
func MustRun(t testing.TB, run Run, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("run %q: %v\nstdout:\n%s", args, err, out.String())
	}
	return out.String(), errOut.String()
}

// ExitCase is a run of the example as a command: its arguments, and the
// exit status and the text on stdout and stderr it must end with.
type ExitCase struct {
	Name       string
	Args       []string
	Code       int
	WantStdout string
	WantStderr string
}

// ExitStatus runs main itself, as go run does, in the test binary that
// Main set up: with no arguments, replaying the committed cassette, it
// must exit 0 and print replayed; with a cassette that does not exist it
// must exit 1 and say so; then the more cases.
func ExitStatus(t *testing.T, replayed string, more ...ExitCase) {
	cases := append([]ExitCase{
		{"replay, default cassette", nil, 0, replayed, ""},
		{"no cassette", []string{"-cassette", filepath.Join(t.TempDir(), "missing.cassette")}, 1, "", "cassette does not exist"},
	}, more...)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.Args...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.Code || !strings.Contains(stdout.String(), tc.WantStdout) || !strings.Contains(stderr.String(), tc.WantStderr) {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant stdout %q, stderr %q",
					code, tc.Code, stdout.String(), stderr.String(), tc.WantStdout, tc.WantStderr)
			}
		})
	}
}

// RecordWithoutKey checks that -record without OPENAI_API_KEY fails,
// naming the variable, and writes no cassette.
func RecordWithoutKey(t *testing.T, run Run) {
	t.Setenv("OPENAI_API_KEY", "")
	path := filepath.Join(t.TempDir(), "example.cassette")
	err := run(context.Background(), []string{"-record", "-cassette", path}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "needs OPENAI_API_KEY") {
		t.Fatalf("run -record without a key: %v, want an error naming OPENAI_API_KEY", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cassette was written: %v", err)
	}
}

// RecordThenReplay records through the example's own -record path
// against the stand-in answering with answer, then replays the new
// cassette offline, with the endpoint unreachable. Both runs must print
// want in order, the replay also fromAnswer; the endpoint must be called
// once.
func RecordThenReplay(t *testing.T, run Run, answer Answer, want []string, fromAnswer string) {
	s := standin.Start(t, answer)
	path := filepath.Join(t.TempDir(), "example.cassette")
	live, _ := MustRun(t, run, "-record", "-cassette", path)
	WantInOrder(t, live, want...)
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/unreachable/")
	replay, _ := MustRun(t, run, "-cassette", path)
	WantInOrder(t, replay, want...)
	WantInOrder(t, replay, fromAnswer)
	if s.Calls() != 1 {
		t.Errorf("the endpoint was called %d times, want 1", s.Calls())
	}
}

// FailedRecordingKeepsCassette records over a copy of the committed
// cassette against the stand-in answering with answer, under which the
// run must fail with an error containing wantErr. The copy must be left as
// it was, with no partial recording beside it.
func FailedRecordingKeepsCassette(t *testing.T, run Run, committed string, answer Answer, wantErr string) {
	standin.Start(t, answer)
	before, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(committed))
	if err := os.WriteFile(path, before, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"-record", "-cassette", path}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), "is unchanged") {
		t.Fatalf("run -record with a failing run: %v, want an error containing %q and saying the cassette is unchanged", err, wantErr)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the cassette changed (%v)", err)
	}
	if _, err := os.Stat(path + ".recording"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial recording was left behind: %v", err)
	}
}

// RecordAgainstStandIn rewrites the committed cassette through the
// example's -record path against the local stand-in server answering with
// answer. It runs only when the test binary is given -standin:
//
//	go test ./examples/NAME -run TestRecordAgainstStandIn -args -standin
func RecordAgainstStandIn(t *testing.T, run Run, committed string, answer Answer) {
	if !*standinFlag {
		t.Skip("rewrites " + committed + "; run with -args -standin")
	}
	standin.Start(t, answer)
	out, _ := MustRun(t, run, "-record", "-cassette", committed)
	t.Logf("recorded %s:\n%s", committed, out)
}
