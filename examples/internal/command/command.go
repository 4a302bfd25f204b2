// Package command holds what an example's main needs and nothing more:
// running it as a command, its flags, and replaying its committed
// cassette. It imports no LLM SDK: an example's command only replays, and
// its test records, with the one record switch of package recorder, where
// the live model is built.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/recorder"
)

// Main runs an example's run function as its command: with the
// command-line arguments, standard output and error, and a context that
// an interrupt cancels. An error is printed after the example's name and
// exits with status 1.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// DefaultCassette returns where the cassette file (a path relative to the
// example's directory, such as "testdata/NAME.cassette") of the example
// name lives, seen from the repository root (examples/NAME/file) or, when
// run from the example's own directory, file itself.
func DefaultCassette(name, file string) string {
	fromRoot := filepath.Join("examples", name, file)
	if _, err := os.Stat(filepath.Dir(fromRoot)); err != nil {
		if _, err := os.Stat(filepath.Dir(file)); err == nil {
			return file
		}
	}
	return fromRoot
}

// AnsweredBy says where the model's answers come from: the live endpoint
// (recording into the cassette) or the cassette, replayed offline.
func AnsweredBy(cassette string, record bool) string {
	if record {
		return "the live endpoint (recording into " + cassette + ")"
	}
	return "the cassette " + cassette + " (replay, no network)"
}

// RecordCommand is the command that records the cassette of the example
// name, whose test test replays it: the one record switch of package
// recorder. It works from any directory of the module.
func RecordCommand(name, test string) string {
	return "OPENAI_API_KEY=sk-... go test github.com/artana-go/go-artana/examples/" + name +
		" -run '^" + test + "$' -artana.record='^" + test + "$'"
}

// Flags are the flags every example takes: -cassette, the cassette its
// model's answers come from (a replay), and -record, which says how to
// record one. Set is the flag set, for an example's own flags.
type Flags struct {
	Set      *flag.FlagSet
	Cassette string

	record     bool
	name, test string
}

// NewFlags returns the flags of the example name, whose test test replays
// (and, with the record switch, records) the cassette
// testdata/cassettes/<test>.cassette; usage and parse errors go to stderr.
func NewFlags(name, test string, stderr io.Writer) *Flags {
	f := &Flags{Set: flag.NewFlagSet(name, flag.ContinueOnError), name: name, test: test}
	f.Set.SetOutput(stderr)
	f.Set.StringVar(&f.Cassette, "cassette", DefaultCassette(name, filepath.Join("testdata", "cassettes", test+".cassette")),
		"the cassette the model's answers are replayed from")
	f.Set.BoolVar(&f.record, "record", false, "print how to record a new cassette: the example's test does it, where the live model is built")
	return f
}

// Parse parses args, which must hold flags only. It returns false when the
// example has nothing to run: with a nil error after -help printed the
// usage, or with the error that stopped it (-record among them: the
// command only replays, and the error gives the command that records).
func (f *Flags) Parse(args []string) (bool, error) {
	if err := f.Set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, nil // the usage is printed
		}
		return false, err
	}
	if f.Set.NArg() > 0 {
		return false, fmt.Errorf("unexpected arguments %q; see -help", f.Set.Args())
	}
	if f.record {
		return false, errors.New("this command only replays (it compiles no LLM SDK); record a new cassette with:\n\t" + RecordCommand(f.name, f.test))
	}
	return true, nil
}

// Replay runs prove on the model that replays the cassette offline, with
// the text saying so (AnsweredBy). The cassette must hold exactly the
// calls the example makes: a missing or unused interaction fails the run.
func (f *Flags) Replay(prove func(model llm.Model, answeredBy string) error) (err error) {
	rec, err := recorder.Open(f.Cassette, nil)
	if errors.Is(err, recorder.ErrNoCassette) {
		return fmt.Errorf("%s: %w; run the example from the repository root or from its own directory, pass -cassette, or record one with:\n\t%s",
			f.Cassette, recorder.ErrNoCassette, RecordCommand(f.name, f.test))
	}
	if err != nil {
		return err
	}
	defer func() {
		// Close fails if the cassette holds calls that were not made; the
		// run's own error, if any, says more.
		if cerr := rec.Close(); err == nil {
			err = cerr
		}
	}()
	return prove(rec, AnsweredBy(f.Cassette, false))
}
