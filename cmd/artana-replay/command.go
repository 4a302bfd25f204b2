package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/artana-go/go-artana/cassettes"
)

// withSwitch gives c one boolean flag of its own, false unless given, and
// makes run, which receives its value, the command's run.
func withSwitch(c command, name, usage string, run func(ctx context.Context, e *env, args []string, on bool) error) *command {
	var on bool
	c.flags = func(fs *flag.FlagSet, _ *env) { fs.BoolVar(&on, name, false, usage) }
	c.run = func(ctx context.Context, e *env, args []string) error { return run(ctx, e, args, on) }
	return &c
}

// openArgs checks that args holds min to max positional arguments (max -1:
// no limit) and opens the source the first one names. The caller closes
// it.
func (e *env) openArgs(ctx context.Context, args []string, min, max int) (*source, error) {
	if err := e.nargs(args, min, max); err != nil {
		return nil, err
	}
	return openSource(ctx, args[0])
}

// summarizeArgs opens the one source args names and sums up its runs. The
// caller closes the source.
func (e *env) summarizeArgs(ctx context.Context, args []string) (*source, []*runSummary, error) {
	src, err := e.openArgs(ctx, args, 1, 1)
	if err != nil {
		return nil, nil, err
	}
	sums, err := summarize(ctx, src, nil)
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("%s %s: %w", e.cmd.name, src.path, err)
	}
	return src, sums, nil
}

// runsOnly refuses an interactions cassette, which holds no runs, for a
// command that works on runs; does says what the command does with them
// ("export writes runs").
func (s *source) runsOnly(does string) error {
	if s.kind == kindInteractions {
		return fmt.Errorf("%s is an interactions cassette (model interactions recorded by package recorder), not a run; %s", s.path, does)
	}
	return nil
}

// eachRecord opens the cassette at path and calls fn with each item next
// reads from it, in order, until the end of the file, stopping at the
// first error or when ctx is done.
func eachRecord[T any](ctx context.Context, path string, next func(*cassettes.Reader) (T, error), fn func(T) error) error {
	r, err := cassettes.OpenShared(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		item, err := next(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(item); err != nil {
			return err
		}
	}
}
