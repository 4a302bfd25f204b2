package livemodel

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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
