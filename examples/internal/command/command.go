// Package command holds what an example's main needs and nothing more:
// running it as a command, and finding its committed cassette. It imports
// neither an LLM SDK nor SQLite, so that an example replaying its cassette
// compiles in seconds on a fresh machine.
package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
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
