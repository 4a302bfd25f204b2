// Package exampletest holds the tests every example shares: its exit
// status when run as a command, the model its test runs on (the committed
// cassette replayed, or, with the record switch, the live endpoint or the
// local stand-in server recorded), a recording that is then replayed by
// the command, and a recording without a key.
package exampletest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/examples/internal/command"
	"github.com/artana-go/go-artana/examples/internal/standin"
	"github.com/artana-go/go-artana/internal/childtest"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
)

// Run is an example's run function: it runs the example with args,
// printing to stdout and stderr.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Answer answers the example's model calls on the stand-in server.
type Answer = func(standin.Request) (standin.Answer, error)

// standinFlag is -standin, registered only in test binaries.
var standinFlag = func() *bool {
	if testing.Testing() {
		return flag.Bool("standin", false, "with the record switch, record against the local stand-in server")
	}
	return new(bool)
}()

// Standin reports whether the test binary was given -standin: a test
// that records then records against the local stand-in server.
func Standin() bool { return *standinFlag }

// mainMode is the childtest mode in which the test binary runs the
// example's main; the child's argument is the JSON list of main's
// arguments.
const mainMode = "example-main"

// Main is the example's TestMain: it runs the example's main instead of
// the tests when ExitStatus starts the test binary (childtest.Command in
// mode mainMode), with the arguments ExitStatus gave.
func Main(m *testing.M, main func()) {
	if mode, arg, ok := childtest.Mode(); ok && mode == mainMode {
		var args []string
		if err := json.Unmarshal([]byte(arg), &args); err != nil {
			fmt.Fprintf(os.Stderr, "exampletest: the arguments of main %q: %v\n", arg, err)
			os.Exit(2)
		}
		os.Args = append(os.Args[:1], args...)
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
// must exit 1 and say so; with -record it must exit 1 and give the command
// that records; then the more cases.
func ExitStatus(t *testing.T, replayed string, more ...ExitCase) {
	cases := append([]ExitCase{
		{"replay, default cassette", nil, 0, replayed, ""},
		{"no cassette", []string{"-cassette", filepath.Join(t.TempDir(), "missing.cassette")}, 1, "", "cassette does not exist"},
		{"record", []string{"-record"}, 1, "", "this command only replays (it compiles no LLM SDK); record a new cassette with:\n\tOPENAI_API_KEY=sk-... go test github.com/artana-go/go-artana/examples/"},
	}, more...)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			args, err := json.Marshal(tc.Args)
			if err != nil {
				t.Fatal(err)
			}
			cmd := childtest.Command(mainMode, string(args))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
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

// Prove is an example's prove function: it runs the example on model,
// printing to stdout; answeredBy says where the model's answers come from.
type Prove func(ctx context.Context, model llm.Model, answeredBy string, stdout io.Writer) error

// Model returns the model an example's test runs on, and the text saying
// where its answers come from: recorder.New's for t, which replays the
// committed cassette testdata/cassettes/<t.Name()>.cassette or, with the
// record switch (-artana.record, ARTANA_RECORD), records the live
// OpenAI-compatible endpoint of OPENAI_API_KEY and OPENAI_BASE_URL; with
// -args -standin, the local stand-in answering with answer.
func Model(t *testing.T, answer Answer) (llm.Model, string) {
	t.Helper()
	recording, err := recorder.Recording(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	var live llm.Model
	if recording {
		if Standin() {
			standin.Start(t, answer)
		}
		m, err := openai.New()
		if err != nil {
			t.Fatal(err)
		}
		live = m
	}
	rec := recorder.New(t, live)
	return rec, command.AnsweredBy(rec.Path(), recording)
}

// MustProve runs prove on model and returns what it printed; it fails the
// test if prove fails.
func MustProve(t testing.TB, prove Prove, model llm.Model, answeredBy string) string {
	t.Helper()
	var out bytes.Buffer
	if err := prove(t.Context(), model, answeredBy, &out); err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out.String())
	}
	return out.String()
}

// RecordThenReplay records the example (prove) through openai and
// recorder against the stand-in answering with answer, into a temporary
// cassette; then runs the example's command (run) on that cassette with
// the endpoint unreachable. Both must print want in order, the replay also
// fromAnswer; the endpoint must be called once.
func RecordThenReplay(t *testing.T, prove Prove, run Run, answer Answer, want []string, fromAnswer string) {
	s := standin.Start(t, answer)
	path := filepath.Join(t.TempDir(), "example.cassette")
	live, err := openai.New()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	recorded := MustProve(t, prove, rec, command.AnsweredBy(path, true))
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	WantInOrder(t, recorded, want...)
	WantInOrder(t, recorded, "the live endpoint (recording into "+path+")")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/unreachable/")
	replay, _ := MustRun(t, run, "-cassette", path)
	WantInOrder(t, replay, want...)
	WantInOrder(t, replay, fromAnswer)
	if s.Calls() != 1 {
		t.Errorf("the endpoint was called %d times, want 1", s.Calls())
	}
}

// RecordWithoutKey runs the test binary as the record command does for
// the test named test, without OPENAI_API_KEY: the test must fail before
// any network call, naming the key, and leave the committed cassette as it
// was.
func RecordWithoutKey(t *testing.T, test, committed string) {
	if testing.Short() {
		t.Skip("starts the test binary again")
	}
	before, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-artana.record=^"+test+"$")
	cmd.Env = append(os.Environ(), "OPENAI_API_KEY=", "OPENAI_BASE_URL=", "ARTANA_RECORD=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("recording without a key passed:\n%s", out)
	}
	for _, want := range []string{"OPENAI_API_KEY is not set", "nothing was called", "--- FAIL: " + test} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "no such host") {
		t.Errorf("the recording reached the network:\n%s", out)
	}
	if after, err := os.ReadFile(committed); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the committed cassette changed (%v)", err)
	}
}

// ProveFails runs prove on a model that answers every call with
// outputJSON, and checks that the example fails with an error containing
// wantErr rather than claiming success.
func ProveFails(t *testing.T, prove Prove, outputJSON, wantErr string) {
	t.Helper()
	model := llm.ModelFunc(func(context.Context, llm.Request) (llm.Response, error) {
		return llm.Response{OutputJSON: outputJSON}, nil
	})
	var out bytes.Buffer
	err := prove(t.Context(), model, "a test model", &out)
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("the example on a model answering %s: %v, want an error containing %q\noutput:\n%s", outputJSON, err, wantErr, out.String())
	}
}
