package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/artana-go/go-artana/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on stderr, unless it was already reported, and
// returns the process's exit status: 0 for nil, 2 for bad usage, 1 for any
// other failure.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "artana-replay: %v\n", err)
		if ue.usage != "" {
			fmt.Fprintf(stderr, "usage: %s\nRun 'artana-replay %s -h' for details.\n", ue.usage, ue.cmd)
		} else {
			fmt.Fprintln(stderr, "Run 'artana-replay -h' for the list of commands.")
		}
		return 2
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "artana-replay: %v\n", err)
	}
	return 1
}

// errReported is a failure whose details are already printed (a failed
// verification, runs that differ): the exit status is 1 and nothing more is
// said.
var errReported = errors.New("failure already reported")

// A usageError is a command line that cannot be run.
type usageError struct {
	cmd   string // the subcommand, or ""
	usage string // its usage line, or ""
	msg   string
}

func (e *usageError) Error() string { return e.msg }

// A command is one subcommand of artana-replay.
type command struct {
	name    string
	usage   string // arguments, after the command name
	summary string
	run     func(ctx context.Context, env *env, args []string) error
	flags   func(fs *flag.FlagSet, env *env) // defines the command's own flags
}

func commands() []*command {
	return []*command{
		lsCommand(), showCommand(), verifyCommand(), diffCommand(),
		exportCommand(), importCommand(), statsCommand(), resealCommand(), htmlCommand(),
	}
}

const topUsage = `artana-replay inspects, verifies, compares and converts recorded artana runs:
SQLite ledgers, cassette files, directories of cassettes and PostgreSQL ledgers
(postgres://user:password@host/db URLs; the password is never printed).

usage: artana-replay COMMAND [flags] ARGS

Commands:
%s
Every command but html takes --json (JSON output); every one takes -h (its usage). Exit status:
0 success, 1 failure (a failed verification, runs that differ), 2 bad usage.
`

func printTopUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, topUsage, b.String())
}

// env is what every command gets: its output streams and common flags.
type env struct {
	stdout, stderr io.Writer
	json           bool
	color          bool
	cmd            *command
}

// run runs the artana-replay command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printTopUsage(stderr)
		return &usageError{msg: "no command given"}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		printTopUsage(stdout)
		return nil
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = c
		}
	}
	if cmd == nil {
		return &usageError{msg: fmt.Sprintf("unknown command %q", name)}
	}
	e := &env{stdout: stdout, stderr: stderr, cmd: cmd}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&e.json, "json", false, "print JSON instead of text")
	if cmd.flags != nil {
		cmd.flags(fs, e)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(stdout, cmd, fs)
		return nil
	}
	if err != nil {
		return e.usagef("%v", err)
	}
	e.color = !e.json && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	return cmd.run(ctx, e, pos)
}

// parseInterspersed parses flags that may appear before, between and after
// the positional arguments, as in "show ledger.db run --full". A "--" ends
// the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func printCommandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: artana-replay %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// usagef returns a usage error of the current command.
func (e *env) usagef(format string, args ...any) error {
	return &usageError{cmd: e.cmd.name, usage: "artana-replay " + e.cmd.name + " " + e.cmd.usage,
		msg: e.cmd.name + ": " + fmt.Sprintf(format, args...)}
}

// nargs checks the number of positional arguments.
func (e *env) nargs(args []string, min, max int) error {
	if len(args) < min {
		return e.usagef("missing arguments (got %d, want at least %d)", len(args), min)
	}
	if max >= 0 && len(args) > max {
		extra := make([]string, 0, len(args)-max)
		for _, a := range args[max:] {
			if postgres.IsURL(a) {
				a = postgres.Redact(a)
			}
			extra = append(extra, a)
		}
		return e.usagef("too many arguments (got %d, want at most %d): %q", len(args), max, extra)
	}
	return nil
}
