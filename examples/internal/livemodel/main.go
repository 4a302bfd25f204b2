package livemodel

import (
	"context"
	"io"

	"github.com/artana-go/go-artana/examples/internal/command"
)

// Main runs an example's run function as its command; see command.Main.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	command.Main(name, run)
}
