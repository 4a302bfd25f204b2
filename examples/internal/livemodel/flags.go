package livemodel

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/artana-go/go-artana/artana"
)

// Flags are the command-line flags every example takes: -record and
// -cassette. Set is the flag set, for an example's own flags.
type Flags struct {
	Set      *flag.FlagSet
	Record   bool
	Cassette string

	finish func(ok bool) error
}

// NewFlags returns the flags of the example name, printing usage and
// parse errors to stderr; -cassette defaults to DefaultCassette(name).
func NewFlags(name string, stderr io.Writer) *Flags {
	f := &Flags{Set: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.Set.SetOutput(stderr)
	f.Set.BoolVar(&f.Record, "record", false, "call the live endpoint (OPENAI_API_KEY, OPENAI_BASE_URL) and rewrite the cassette")
	f.Set.StringVar(&f.Cassette, "cassette", DefaultCassette(name), "the cassette to replay, or to rewrite with -record")
	return f
}

// Parse parses args, which must hold flags only. It returns false when
// the example has nothing to run: with a nil error after -help printed the
// usage, or with the error that stopped the parse.
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
	return true, nil
}

// Open returns the model the flags choose (see the package function
// Open). Defer Finish with the example's error once it succeeds.
func (f *Flags) Open() (artana.Model, error) {
	model, finish, err := Open(f.Cassette, f.Record)
	if err != nil {
		return nil, err
	}
	f.finish = finish
	return model, nil
}

// Finish finishes with the model Open returned, as the run ended: *err nil
// keeps a recording, non-nil discards it. Its own error joins *err.
func (f *Flags) Finish(err *error) {
	if f.finish != nil {
		*err = errors.Join(*err, f.finish(*err == nil))
	}
}

// AnsweredBy says where the model's answers come from.
func (f *Flags) AnsweredBy() string {
	return AnsweredBy(f.Cassette, f.Record)
}
